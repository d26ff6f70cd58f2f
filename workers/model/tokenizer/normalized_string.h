// NormalizedString: a piece of the input text being normalized, with the
// alignment of every normalized byte back to a byte range of the original
// text. A port of `tokenizers`' NormalizedString, quirks included, so that
// token offsets come out identical.
//
// Offsets here are UTF-8 byte offsets. `alignments()[i]` is the original
// range (relative to this piece's original, which starts at original_shift()
// in the whole input) that normalized byte i comes from.
//
// Not thread-safe for mutation; a const NormalizedString may be shared.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_NORMALIZED_STRING_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_NORMALIZED_STRING_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/pattern.h"
#include "workers/model/tokenizer/unicode_normalize.h"

namespace cluedrop::model::tokenizer {

using Offsets = std::pair<size_t, size_t>;

// What Split does with the delimiter (the pattern's matches). With input
// "the-final--countdown" and pattern '-':
//   kRemoved            "the" "final" "countdown"
//   kIsolated           "the" "-" "final" "-" "-" "countdown"
//   kMergedWithPrevious "the-" "final-" "-" "countdown"
//   kMergedWithNext     "the" "-final" "-" "-countdown"
//   kContiguous         "the" "-" "final" "--" "countdown"
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

class NormalizedString {
 public:
  NormalizedString() = default;
  // `original` must be valid UTF-8; every byte is aligned to its whole char.
  explicit NormalizedString(std::string_view original);

  const std::string& get() const { return normalized_; }
  bool empty() const { return normalized_.empty(); }
  size_t size() const { return normalized_.size(); }
  size_t original_shift() const { return original_shift_; }
  size_t original_len() const { return original_len_; }
  const std::vector<Offsets>& alignments() const { return alignments_; }

  // Normalized byte range -> original range (relative to this piece), as
  // tokenizers' convert_offsets(Range::Normalized): an empty range is returned
  // unchanged; nullopt when out of bounds.
  std::optional<Offsets> NormalizedToOriginal(size_t begin, size_t end) const;
  // Original range (relative) -> normalized range, as convert_offsets(Range::Original).
  std::optional<Offsets> OriginalToNormalized(size_t begin, size_t end) const;

  // The sub-piece for normalized bytes [begin, end); nullopt when the range is
  // out of bounds or not on char boundaries.
  std::optional<NormalizedString> Slice(size_t begin, size_t end) const;

  // Replaces normalized bytes [begin, end) by `dest` (see CharChange), having
  // first dropped `initial_offset` chars at the start of the range.
  void TransformRange(size_t begin, size_t end, const std::vector<CharChange>& dest,
                      size_t initial_offset);
  // TransformRange over the whole string.
  void Transform(const std::vector<CharChange>& dest, size_t initial_offset);

  // Prepends `s` (no-op on an empty string); the new chars share the first
  // char's alignment.
  void Prepend(std::string_view s);
  // Replaces every match of `pattern` by `content`.
  Status Replace(const Pattern& pattern, std::string_view content);
  // Splits on `pattern` per `behavior`. Fails only if the pattern fails.
  StatusOr<std::vector<NormalizedString>> Split(const Pattern& pattern,
                                                SplitBehavior behavior) const;
  Status Normalize(NormalizationForm form);
  Status Lowercase();
  // Strips Unicode whitespace on the left and/or right (tokenizers' lrstrip).
  void Strip(bool left, bool right);

 private:
  std::string normalized_;
  std::vector<Offsets> alignments_;
  size_t original_len_ = 0;
  size_t original_shift_ = 0;
};

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_NORMALIZED_STRING_H_
