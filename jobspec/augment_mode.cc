#include "jobspec/augment_mode.h"

#include <array>
#include <utility>

#include "base/enum_table.h"

namespace cluedrop {
namespace {

constexpr std::array<std::pair<const char*, AugmentMode>, 6> kModes = {{
    {"none", AugmentMode::kNone},
    {"random", AugmentMode::kRandom},
    {"large", AugmentMode::kLarge},
    {"small", AugmentMode::kSmall},
    {"contrast", AugmentMode::kContrast},
    {"position", AugmentMode::kPosition},
}};

}  // namespace

StatusOr<AugmentMode> ParseAugmentMode(std::string_view name) {
  return ParseEnumName("mode", name, kModes);
}

const char* AugmentModeName(AugmentMode mode) { return EnumName(mode, kModes); }

}  // namespace cluedrop
