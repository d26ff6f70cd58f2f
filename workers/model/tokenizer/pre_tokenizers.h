// Pre-tokenizers of tokenizer.json: ByteLevel, Split, Metaspace, Digits,
// Whitespace, WhitespaceSplit, CharDelimiterSplit and Sequence. Each cuts the
// not-yet-tokenized splits of a PreTokenizedString into smaller ones (and
// ByteLevel/Metaspace also rewrite them), keeping alignments.
//
// Thread-safety: immutable after construction; PreTokenize may run
// concurrently.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_PRE_TOKENIZERS_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_PRE_TOKENIZERS_H_

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/json_util.h"
#include "workers/model/tokenizer/normalized_string.h"
#include "workers/model/tokenizer/pre_tokenized_string.h"
#include "workers/model/tokenizer/regex.h"

namespace cluedrop::model::tokenizer {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Fails only on internal errors (a regex giving up).
  virtual Status PreTokenize(PreTokenizedString* s) const = 0;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> items)
      : items_(std::move(items)) {}
  Status PreTokenize(PreTokenizedString* s) const override;

 private:
  std::vector<std::unique_ptr<PreTokenizer>> items_;
};

// GPT-2's byte-level step: optional leading space, optional split with the
// GPT-2 regex, then every byte shown as its ByteLevel alphabet char.
class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex);
  Status PreTokenize(PreTokenizedString* s) const override;
  // The GPT-2 split pattern.
  static const char kGpt2Pattern[];

 private:
  bool add_prefix_space_;
  bool use_regex_;
  const Regex* gpt2_regex_;  // shared, never freed
};

// Splits on a pattern (matches of a regex or a literal string).
class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(std::unique_ptr<Regex> regex, SplitBehavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  Status PreTokenize(PreTokenizedString* s) const override;

 private:
  std::unique_ptr<Regex> regex_;
  SplitBehavior behavior_;
  bool invert_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

// SentencePiece-style: spaces become `replacement`, which is prepended per
// `scheme` and (if `split`) starts every word.
class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split);
  Status PreTokenize(PreTokenizedString* s) const override;

 private:
  char32_t replacement_;
  std::string replacement_utf8_;
  PrependScheme scheme_;
  bool split_;
};

// Splits digits (Unicode \p{N}) from the rest: each digit alone, or runs.
class DigitsPreTokenizer : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual_digits);
  Status PreTokenize(PreTokenizedString* s) const override;

 private:
  bool individual_digits_;
  const Regex* numeric_;  // shared, never freed
};

// Words (\w+) and punctuation runs ([^\w\s]+); whitespace is dropped.
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  WhitespacePreTokenizer();
  Status PreTokenize(PreTokenizedString* s) const override;

 private:
  const Regex* regex_;  // shared, never freed
};

// Splits on (and drops) Unicode whitespace, or on one delimiter char.
class CharSplitPreTokenizer : public PreTokenizer {
 public:
  // delimiter 0: any whitespace.
  explicit CharSplitPreTokenizer(char32_t delimiter) : delimiter_(delimiter) {}
  Status PreTokenize(PreTokenizedString* s) const override;

 private:
  char32_t delimiter_;
};

// Parses "Removed", "Isolated", ... (as in tokenizer.json).
StatusOr<SplitBehavior> SplitBehaviorFromJson(const Json& obj, const JsonPath& path);

// Builds the pre-tokenizer described by `value` (at `path`); JSON null gives
// nullptr. INVALID_ARGUMENT naming the path for unknown types / bad fields.
StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const Json& value,
                                                             const JsonPath& path);

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_PRE_TOKENIZERS_H_
