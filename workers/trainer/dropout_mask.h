// Clue-guided token dropout masks (DESIGN.md section 1), torch-free.
//
// Among the droppable tokens of a document, rank by score descending (ties:
// earlier position first); the token of rank r (0-based) is dropped with
//     p(r) = alpha * (1 - exp(-beta * r)).
// `random` drops every droppable token with probability alpha; `position`
// ranks earlier tokens higher (the published script's effective ranking);
// `none` drops nothing. Every mask is a pure function of (seed, document id,
// epoch, copy): each position draws its own uniform number from a
// counter-based generator keyed by those four values, so a resumed or
// re-sharded run sees identical masks.
//
// Example:
//   DropoutParams params{.alpha = 0.7, .beta = 0.05};
//   MaskKey key{.seed = 17, .document_id = "bio-42", .epoch = 0, .copy = 3};
//   std::vector<bool> drop = SampleDropMask(AugmentMode::kContrast, contrast, droppable,
//                                           params, key);
//
// All functions are pure and thread-safe.
#ifndef CLUEDROP_WORKERS_TRAINER_DROPOUT_MASK_H_
#define CLUEDROP_WORKERS_TRAINER_DROPOUT_MASK_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "jobspec/augment_mode.h"

namespace cluedrop {

struct DropoutParams {
  double alpha = 0.7;  // in [0, 1]
  double beta = 0.05;  // >= 0
};

struct MaskKey {
  uint64_t seed = 0;
  std::string_view document_id;
  uint32_t epoch = 0;
  uint32_t copy = 0;
};

// p(r) = alpha * (1 - exp(-beta * r)).
double DropProbability(size_t rank, const DropoutParams& params);

// Rank of each position among the droppable ones (score descending, ties by
// earlier position; NaN scores rank after every number), or -1 for a position
// that is not droppable.
// `scores` and `droppable` have the same length.
std::vector<int32_t> RankPositions(std::span<const float> scores,
                                   const std::vector<bool>& droppable);

// The uniform number in [0, 1) that position `index` draws under `key`.
double MaskUniform(const MaskKey& key, size_t index);

// The drop mask (true = drop). Never drops a non-droppable position.
// `scores` is ignored for kNone, kRandom and kPosition (it may be empty then).
std::vector<bool> SampleDropMask(AugmentMode mode, std::span<const float> scores,
                                 const std::vector<bool>& droppable, const DropoutParams& params,
                                 const MaskKey& key);

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_TRAINER_DROPOUT_MASK_H_
