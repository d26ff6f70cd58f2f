// The augmentation mode: which ranking guides token dropout (DESIGN.md 1,
// "Modes"). The one enum the torch-free cores use (the dropout mask, the
// augmenter, the trainer); the wire carries cluedrop.v1.AugmentationMode,
// converted in one place (AugmentModeFromProto, job_spec_modes.h).
// Standard library only, so the core-only GPU build has it too.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(AugmentMode mode, ParseAugmentMode("contrast"));
//   if (RanksByScores(mode)) ... needs the scorer's scores ...
#ifndef CLUEDROP_JOBSPEC_AUGMENT_MODE_H_
#define CLUEDROP_JOBSPEC_AUGMENT_MODE_H_

#include <string_view>

#include "base/status.h"

namespace cluedrop {

enum class AugmentMode {
  kNone,      // no augmentation: the original text only
  kRandom,    // every droppable token dropped with probability alpha
  kLarge,     // rank by received_large
  kSmall,     // rank by received_small
  kContrast,  // rank by contrast = received_large - received_small (the method)
  kPosition,  // earlier tokens ranked higher (the published script's ranking)
};

// True for the modes that rank tokens by a score vector of the scorer
// (large, small, contrast).
constexpr bool RanksByScores(AugmentMode mode) {
  return mode == AugmentMode::kLarge || mode == AugmentMode::kSmall ||
         mode == AugmentMode::kContrast;
}

// "none", "random", "large", "small", "contrast", "position" (the proto enum
// names without the prefix, lowercase). INVALID_ARGUMENT listing the choices.
StatusOr<AugmentMode> ParseAugmentMode(std::string_view name);
const char* AugmentModeName(AugmentMode mode);

}  // namespace cluedrop

#endif  // CLUEDROP_JOBSPEC_AUGMENT_MODE_H_
