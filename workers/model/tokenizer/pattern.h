// Patterns that cut a string into matching and non-matching pieces, as
// `tokenizers`' Pattern trait: a char predicate, a regex, or an inverted one.
//
// Thread-safety: patterns are immutable; FindMatches may run concurrently.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_PATTERN_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_PATTERN_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/regex.h"

namespace cluedrop::model::tokenizer {

// A byte range of the searched string and whether it is a match.
struct PatternPiece {
  size_t begin = 0;
  size_t end = 0;
  bool is_match = false;
  bool operator==(const PatternPiece&) const = default;
};

class Pattern {
 public:
  virtual ~Pattern() = default;
  // Contiguous, ordered pieces covering all of `text` (valid UTF-8). An empty
  // `text` gives one non-matching piece [0, 0).
  virtual StatusOr<std::vector<PatternPiece>> FindMatches(std::string_view text) const = 0;
};

// Every char for which `predicate` holds is its own match.
class CharPredicatePattern : public Pattern {
 public:
  explicit CharPredicatePattern(std::function<bool(char32_t)> predicate)
      : predicate_(std::move(predicate)) {}
  StatusOr<std::vector<PatternPiece>> FindMatches(std::string_view text) const override;

 private:
  std::function<bool(char32_t)> predicate_;
};

// Matches of a regex (not owned; must outlive the pattern).
class RegexPattern : public Pattern {
 public:
  explicit RegexPattern(const Regex* regex) : regex_(regex) {}
  StatusOr<std::vector<PatternPiece>> FindMatches(std::string_view text) const override;

 private:
  const Regex* regex_;
};

// Flips is_match of another pattern (not owned).
class InvertPattern : public Pattern {
 public:
  explicit InvertPattern(const Pattern* inner) : inner_(inner) {}
  StatusOr<std::vector<PatternPiece>> FindMatches(std::string_view text) const override;

 private:
  const Pattern* inner_;
};

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_PATTERN_H_
