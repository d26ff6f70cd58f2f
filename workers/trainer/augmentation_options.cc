#include "workers/trainer/augmentation_options.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <utility>

namespace cluedrop {
namespace {

template <typename Enum, size_t N>
StatusOr<Enum> ParseName(std::string_view what, std::string_view name,
                         const std::array<std::pair<const char*, Enum>, N>& table) {
  std::string choices;
  for (const auto& [text, value] : table) {
    if (name == text) return value;
    choices += choices.empty() ? "" : ", ";
    choices += text;
  }
  return InvalidArgumentError(std::string(what) + ": unknown value '" + std::string(name) +
                              "' (choose " + choices + ")");
}

template <typename Enum, size_t N>
const char* NameOf(Enum value, const std::array<std::pair<const char*, Enum>, N>& table) {
  for (const auto& [text, v] : table) {
    if (v == value) return text;
  }
  return "?";
}

constexpr std::array<std::pair<const char*, AugmentMode>, 6> kModes = {{
    {"none", AugmentMode::kNone},
    {"random", AugmentMode::kRandom},
    {"large", AugmentMode::kLarge},
    {"small", AugmentMode::kSmall},
    {"contrast", AugmentMode::kContrast},
    {"position", AugmentMode::kPosition},
}};
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

StatusOr<AugmentMode> ParseAugmentMode(std::string_view name) {
  return ParseName("mode", name, kModes);
}
StatusOr<DropForm> ParseDropForm(std::string_view name) { return ParseName("form", name, kForms); }
StatusOr<Resample> ParseResample(std::string_view name) {
  return ParseName("resample", name, kResamples);
}

const char* AugmentModeName(AugmentMode mode) { return NameOf(mode, kModes); }
const char* DropFormName(DropForm form) { return NameOf(form, kForms); }
const char* ResampleName(Resample resample) { return NameOf(resample, kResamples); }

}  // namespace cluedrop
