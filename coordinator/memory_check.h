// The submit-time memory check (issue 19): when the spec gives a device
// memory (target_model / reference_models.large .device_map.memory_gib), plan
// a scorer or a trainer rank
// (modelspec/memory_plan.h) from the target's config.json and refuse a job
// that cannot fit, with INVALID_ARGUMENT naming the field to change:
//   "target_model.device_map.layer_split: cuda:0 needs 91.2 GiB, has 80.0 GiB"
// The config file obeys the job's path policy like any input it reads.
#ifndef CLUEDROP_COORDINATOR_MEMORY_CHECK_H_
#define CLUEDROP_COORDINATOR_MEMORY_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cluedrop/v1/job.pb.h"
#include "coordinator/path_policy.h"
#include "modelspec/memory_plan.h"

namespace cluedrop::coordinator {

// The planner's inputs for a job's trainer rank and its scorers (`spec` with
// defaults applied); `cluedrop plan` uses the same.
model::TrainMemoryInput TrainerPlanInput(const v1::JobSpec& spec);
model::ScorerMemoryInput ScorerPlanInput(const v1::JobSpec& spec);

// GiB as bytes.
int64_t GibBytes(double gib);

// "" when every device of `plan` fits `capacity` bytes; else the refusal
// naming the field to change: `<device_map>.layer_split` when `split`, else
// `<device_map>`, then ": cuda:0 needs X, has Y (<hint>)".
std::string MemoryOverflow(const std::vector<model::DeviceMemory>& plan, int64_t capacity,
                           const std::string& device_map_field, bool split,
                           const std::string& hint);
inline constexpr char kTrainerHint[] =
    "split the layers over more devices, quantize the base to int8, checkpoint activations or "
    "lower training.batch_size";
inline constexpr char kScorerHint[] =
    "split the large model over more devices or lower reference_models.batch_tokens";

// OK when no device memory is given, or the plan fits. `spec` has its
// defaults applied.
absl::Status CheckTrainerMemory(const v1::JobSpec& spec, const PathPolicy& policy);

// The same for a scorer, when reference_models.large.device_map.memory_gib
// is given (both reference models' config.json are read), then the trainer.
absl::Status CheckJobMemory(const v1::JobSpec& spec, const PathPolicy& policy);

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_MEMORY_CHECK_H_
