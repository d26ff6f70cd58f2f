#include "jobspec/augment_mode_proto.h"

#include <array>
#include <utility>

namespace cluedrop::jobspec {
namespace {

constexpr std::array<std::pair<v1::AugmentationMode, AugmentMode>, 6> kPairs = {{
    {v1::AUGMENTATION_MODE_NONE, AugmentMode::kNone},
    {v1::AUGMENTATION_MODE_RANDOM, AugmentMode::kRandom},
    {v1::AUGMENTATION_MODE_LARGE, AugmentMode::kLarge},
    {v1::AUGMENTATION_MODE_SMALL, AugmentMode::kSmall},
    {v1::AUGMENTATION_MODE_CONTRAST, AugmentMode::kContrast},
    {v1::AUGMENTATION_MODE_POSITION, AugmentMode::kPosition},
}};

}  // namespace

AugmentMode AugmentModeFromProto(v1::AugmentationMode mode) {
  for (const auto& [wire, core] : kPairs) {
    if (wire == mode) return core;
  }
  return AugmentMode::kContrast;
}

v1::AugmentationMode AugmentModeToProto(AugmentMode mode) {
  for (const auto& [wire, core] : kPairs) {
    if (core == mode) return wire;
  }
  return v1::AUGMENTATION_MODE_CONTRAST;
}

}  // namespace cluedrop::jobspec
