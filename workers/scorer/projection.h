// Cross-tokenizer projection of per-token scores (docs/design.md 1.1): when
// the reference models tokenize a text differently from the target model,
// each target token takes the maximum score of the reference tokens whose
// UTF-8 byte spans overlap its own.
//
// Spans are half-open [begin, end) byte offsets into the same text. Two spans
// overlap when they share at least one byte (a.begin < b.end and
// b.begin < a.end), so an empty span (special tokens, begin == end) overlaps
// nothing. NaN reference scores are ignored; a target token that overlaps no
// scored reference token gets NaN. Each of received_large, received_small and
// contrast is projected on its own (the projected contrast is the max of the
// reference contrasts, not a difference of projected maxima).
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(std::vector<float> target_contrast,
//                             ProjectScores(ref.offsets, scores.contrast, target.offsets));
//
// Torch-free.
#ifndef CLUEDROP_WORKERS_SCORER_PROJECTION_H_
#define CLUEDROP_WORKERS_SCORER_PROJECTION_H_

#include <cstddef>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cluedrop::scorer {

// [begin, end) in UTF-8 bytes, as tokenizer Encoding::offsets.
using ByteSpan = std::pair<size_t, size_t>;

// One score per target span. INVALID_ARGUMENT when reference_offsets and
// reference_scores differ in length or a span has begin > end. Spans need not
// be sorted or disjoint. O((R + T) log R) for spans of bounded length.
StatusOr<std::vector<float>> ProjectScores(const std::vector<ByteSpan>& reference_offsets,
                                           const std::vector<float>& reference_scores,
                                           const std::vector<ByteSpan>& target_offsets);

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_PROJECTION_H_
