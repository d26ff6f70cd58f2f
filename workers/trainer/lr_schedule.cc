#include "workers/trainer/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace cluedrop::trainer {

Status ValidateLrSchedule(const LrScheduleOptions& options) {
  if (!(options.peak_lr > 0) || !std::isfinite(options.peak_lr)) {
    return InvalidArgumentError("peak_lr: must be a finite value > 0, got " +
                                std::to_string(options.peak_lr));
  }
  if (options.warmup_steps < 0) {
    return InvalidArgumentError("warmup_steps: must be >= 0, got " +
                                std::to_string(options.warmup_steps));
  }
  if (!(options.min_lr_ratio >= 0 && options.min_lr_ratio <= 1)) {
    return InvalidArgumentError("min_lr_ratio: must be in [0, 1], got " +
                                std::to_string(options.min_lr_ratio));
  }
  if (options.kind != LrScheduleKind::kConstant && options.total_steps <= options.warmup_steps) {
    return InvalidArgumentError("total_steps: a decaying schedule needs total_steps (" +
                                std::to_string(options.total_steps) + ") > warmup_steps (" +
                                std::to_string(options.warmup_steps) + ")");
  }
  return OkStatus();
}

double LearningRate(const LrScheduleOptions& options, int64_t step) {
  const double peak = options.peak_lr;
  step = std::max<int64_t>(step, 0);
  if (step < options.warmup_steps) {
    return peak * static_cast<double>(step + 1) / static_cast<double>(options.warmup_steps);
  }
  if (options.kind == LrScheduleKind::kConstant) return peak;
  const double span =
      static_cast<double>(std::max<int64_t>(1, options.total_steps - options.warmup_steps));
  const double p = std::clamp(static_cast<double>(step - options.warmup_steps) / span, 0.0, 1.0);
  const double m = options.min_lr_ratio;
  if (options.kind == LrScheduleKind::kLinear) return peak * (1.0 - (1.0 - m) * p);
  return peak * (m + (1.0 - m) * 0.5 * (1.0 + std::cos(M_PI * p)));
}

}  // namespace cluedrop::trainer
