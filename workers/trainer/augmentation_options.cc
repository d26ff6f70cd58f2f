#include "workers/trainer/augmentation_options.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <utility>

#include "base/enum_table.h"

namespace cluedrop {
namespace {

constexpr std::array<std::pair<const char*, DropForm>, 2> kForms = {{
    {"blank", DropForm::kBlank},
    {"delete", DropForm::kDelete},
}};
constexpr std::array<std::pair<const char*, Resample>, 2> kResamples = {{
    {"epoch", Resample::kEpoch},
    {"fixed", Resample::kFixed},
}};

}  // namespace

Status ValidateAugmentationOptions(const AugmentationOptions& options) {
  if (!(options.alpha >= 0.0 && options.alpha <= 1.0)) {
    return InvalidArgumentError("alpha: must be in [0, 1], got " + std::to_string(options.alpha));
  }
  if (!(options.beta >= 0.0) || !std::isfinite(options.beta)) {
    return InvalidArgumentError("beta: must be finite and >= 0, got " +
                                std::to_string(options.beta));
  }
  if (options.copies > static_cast<uint32_t>(INT32_MAX)) {
    return InvalidArgumentError("copies: at most 2147483647");
  }
  if (options.mode != AugmentMode::kNone && options.copies == 0 && !options.keep_original) {
    return InvalidArgumentError("copies: 0 copies without keep_original leaves no sample");
  }
  return OkStatus();
}

StatusOr<DropForm> ParseDropForm(std::string_view name) {
  return ParseEnumName("form", name, kForms);
}
StatusOr<Resample> ParseResample(std::string_view name) {
  return ParseEnumName("resample", name, kResamples);
}

const char* DropFormName(DropForm form) { return EnumName(form, kForms); }
const char* ResampleName(Resample resample) { return EnumName(resample, kResamples); }

}  // namespace cluedrop
