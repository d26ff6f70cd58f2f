// A compiled PCRE2 regular expression that matches like the Oniguruma
// (`SysRegex`) patterns of Hugging Face `tokenizers`.
//
// Patterns from tokenizer.json are written for Oniguruma (Ruby syntax):
// Unicode-aware `\s`/`\w`, and `^`/`$` at line boundaries. Compile() rewrites
// `\s`, `\S` and `\w` (and `\W` outside brackets) to the Unicode property
// classes Oniguruma uses, then compiles with PCRE2_UTF | PCRE2_UCP |
// PCRE2_MULTILINE (JIT when available).
//
// Thread-safety: a Regex is immutable after Compile() and FindAll() may be
// called from many threads at once.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_REGEX_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_REGEX_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cluedrop::model::tokenizer {

class Regex {
 public:
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Compiles an Oniguruma-style pattern. Returns INVALID_ARGUMENT with PCRE2's
  // message and offset when it does not compile.
  static StatusOr<std::unique_ptr<Regex>> Compile(std::string_view pattern);
  // A pattern that matches `literal` exactly (Split/Replace "String" patterns).
  static StatusOr<std::unique_ptr<Regex>> Literal(std::string_view literal);

  // All non-overlapping matches in `text` (valid UTF-8), left to right, as
  // byte ranges [begin, end). Like onig's find_iter, an empty match right
  // where the previous match ended is skipped. Returns RESOURCE_EXHAUSTED if
  // PCRE2 gives up (match/depth limit), INVALID_ARGUMENT on invalid UTF-8.
  StatusOr<std::vector<std::pair<size_t, size_t>>> FindAll(std::string_view text) const;

  // True when the whole of `text` matches (anchored at both ends).
  bool FullMatch(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;
  static StatusOr<std::unique_ptr<Regex>> CompilePcre2(std::string_view onig_pattern,
                                                       std::string pcre2_pattern);

  std::string pattern_;   // as given
  void* code_ = nullptr;  // pcre2_code_8*
};

// Rewrites Oniguruma's Unicode `\s`, `\S`, `\w`, `\W` into explicit PCRE2
// property classes; everything else is copied as is.
std::string OnigToPcre2(std::string_view pattern);

// Escapes `literal` so that it matches itself in a PCRE2 pattern.
std::string EscapeRegexLiteral(std::string_view literal);

// Unicode "word" character, as Oniguruma's and Rust regex's Unicode `\w`:
// Alphabetic, Mark, Decimal_Number, Connector_Punctuation, Join_Control.
bool IsWordChar(char32_t c);

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_REGEX_H_
