// Learning-rate schedules: linear warm-up, then constant, linear decay or
// cosine decay. Torch-free pure functions of the optimizer step.
//
// For optimizer step s (0-based: s optimizer steps were completed before it)
// with peak learning rate P, warm-up W steps, total T steps and final ratio m:
//   s <  W:  lr = P * (s + 1) / W            (the W-th step reaches P)
//   s >= W:  p  = clamp((s - W) / max(1, T - W), 0, 1)
//            constant: lr = P
//            linear:   lr = P * (1 - (1 - m) * p)
//            cosine:   lr = P * (m + (1 - m) * (1 + cos(pi * p)) / 2)
// Steps past T keep the final value (P * m for linear and cosine).
//
// Example:
//   LrScheduleOptions s{.kind = LrScheduleKind::kCosine, .peak_lr = 3e-4,
//                       .warmup_steps = 100, .total_steps = 1000};
//   CLUEDROP_RETURN_IF_ERROR(ValidateLrSchedule(s));
//   double lr = LearningRate(s, step);
//
// All functions are pure and thread-safe.
#ifndef CLUEDROP_WORKERS_TRAINER_LR_SCHEDULE_H_
#define CLUEDROP_WORKERS_TRAINER_LR_SCHEDULE_H_

#include <cstdint>

#include "base/status.h"

namespace cluedrop::trainer {

enum class LrScheduleKind { kConstant, kLinear, kCosine };

struct LrScheduleOptions {
  LrScheduleKind kind = LrScheduleKind::kConstant;
  // Learning rate at the end of warm-up (> 0).
  double peak_lr = 1e-4;
  // Optimizer steps of linear warm-up (0: start at the peak).
  int64_t warmup_steps = 0;
  // Optimizer steps of the whole run; required (> warmup_steps) for linear
  // and cosine decay, ignored by constant.
  int64_t total_steps = 0;
  // Final learning rate as a fraction of the peak, in [0, 1].
  double min_lr_ratio = 0.0;
};

// INVALID_ARGUMENT naming the field: peak_lr <= 0 or not finite, negative
// warmup_steps, min_lr_ratio outside [0, 1], or a decaying schedule whose
// total_steps <= warmup_steps.
Status ValidateLrSchedule(const LrScheduleOptions& options);

// The learning rate of optimizer step `step` (>= 0; negative steps count as
// 0). Assumes valid options.
double LearningRate(const LrScheduleOptions& options, int64_t step);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_LR_SCHEDULE_H_
