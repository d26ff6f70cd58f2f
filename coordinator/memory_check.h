// The submit-time memory check (issue 19): when the spec gives a device
// memory (target_model / reference_models.large .device_map.memory_gib), plan
// a scorer or a trainer rank
// (modelspec/memory_plan.h) from the target's config.json and refuse a job
// that cannot fit, with INVALID_ARGUMENT naming the field to change:
//   "target_model.device_map.layer_split: cuda:0 needs 91.2 GiB, has 80.0 GiB"
// The config file obeys the job's path policy like any input it reads.
#ifndef CLUEDROP_COORDINATOR_MEMORY_CHECK_H_
#define CLUEDROP_COORDINATOR_MEMORY_CHECK_H_

#include "absl/status/status.h"
#include "cluedrop/v1/job.pb.h"
#include "coordinator/path_policy.h"

namespace cluedrop::coordinator {

// OK when no device memory is given, or the plan fits. `spec` has its
// defaults applied.
absl::Status CheckTrainerMemory(const v1::JobSpec& spec, const PathPolicy& policy);

// The same for a scorer, when reference_models.large.device_map.memory_gib
// is given (both reference models' config.json are read), then the trainer.
absl::Status CheckJobMemory(const v1::JobSpec& spec, const PathPolicy& policy);

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_MEMORY_CHECK_H_
