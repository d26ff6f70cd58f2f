// Measures the CPU tensor memory of training steps (the memory planner's
// ground truth; issue 19): builds a random-init model from a config, applies
// the large-target settings, and runs TrainStep::Run on random ids under a
// CpuMemoryMeter (exact bytes from the CPU allocator).
//
// Example:
//   StepMemoryOptions o;  o.batch_size = 2;  o.seq_len = 256;  o.lora_rank = 8;
//   StatusOr<StepMemory> m = MeasureStepMemory(config, o);   // m->peak_bytes
#ifndef CLUEDROP_WORKERS_TRAINER_STEP_MEMORY_H_
#define CLUEDROP_WORKERS_TRAINER_STEP_MEMORY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "modelspec/memory_plan.h"
#include "modelspec/model_config.h"

namespace cluedrop::trainer {

struct StepMemoryOptions {
  int64_t batch_size = 2;
  int64_t seq_len = 128;
  int64_t lora_rank = 0;
  std::vector<std::string> lora_targets;  // empty: q_proj, v_proj
  bool int8_base = false;
  int64_t checkpoint_every = 0;
  int64_t split = 1;  // CPU "devices"
  int steps = 1;
  // Called around the steps (the bench resets and reads peak RSS there).
  std::function<void()> before_steps, after_steps;
};

struct StepMemory {
  int64_t weights_bytes = 0;     // the model as placed (adapters included)
  int64_t before_run_bytes = 0;  // + the train step's buckets, before the first step
  int64_t peak_bytes = 0;        // the highest total during the steps
  int64_t after_run_bytes = 0;   // + gradients and optimizer state
  double seconds = 0;            // the steps after the first (all when steps == 1)
  double loss = 0;
};

// The planner's input for the same step. Without a split: the CPU "devices"
// of a split share one allocator, so a measured peak is the whole rank's
// (per-device peaks are for GPUs, each with its own memory).
model::TrainMemoryInput PlanInputFor(const StepMemoryOptions& options);

// All byte counts are above what was allocated before the call.
StatusOr<StepMemory> MeasureStepMemory(const model::ModelConfig& config,
                                       const StepMemoryOptions& options);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_STEP_MEMORY_H_
