// Checks a JobSpec and fills in its documented defaults
// (proto/cluedrop/v1/job.proto; the values are in job_spec_defaults.h). The
// one place that gives a job spec its meaning: the coordinator (at submit)
// and `cluedrop train --local` both validate and default through here, so
// both train on the same values. Torch- and gRPC-free.
//
// ValidateJobSpec accepts a spec both before and after ApplyJobSpecDefaults:
// zero / unset values that have a default are valid. Call it first, so that
// errors describe what the user sent, then apply the defaults and persist.
//
// A spec without target_model, training and evaluation is a score-only job.
// training or evaluation without target_model is an error.
//
// Example:
//   CLUEDROP_RETURN_IF_ABSL_ERROR(ValidateJobSpec(request.spec()));
//   v1::JobSpec spec = request.spec();
//   ApplyJobSpecDefaults(&spec);
#ifndef CLUEDROP_JOBSPEC_JOB_SPEC_VALIDATOR_H_
#define CLUEDROP_JOBSPEC_JOB_SPEC_VALIDATOR_H_

#include "absl/status/status.h"
#include "cluedrop/v1/job.pb.h"
#include "jobspec/job_spec_defaults.h"

namespace cluedrop::jobspec {

// Returns OK, or INVALID_ARGUMENT listing every violation in field order,
// joined by "; ", each as "<field path>: <rule>, got <value>", e.g.
//   "augmentation.alpha: must be in [0, 1], got 1.3; training.epochs: must
//    be >= 1, got 0"
// Unknown numeric enum values and NaN are violations. Checks only the spec
// itself: whether paths exist is the corpus loader's and the workers' job.
struct ValidateOptions {
  // The coordinator scores every job, so a submitted spec must name both
  // reference models. Training in one process on already scored documents
  // (or, mode none, on raw text) needs none: `cluedrop train --local` sets
  // this to false, and then checks reference_models only when it is given.
  bool require_reference_models = true;
};
absl::Status ValidateJobSpec(const v1::JobSpec& spec, const ValidateOptions& options = {});

// Sets every unset or zero field that job.proto gives a default:
// corpus.shard_size_docs 1000, corpus.max_document_bytes 1 MiB,
// reference_models.include_self true, reference_models.batch_tokens 16384,
// augmentation: mode CONTRAST, alpha 0.7, beta 0.05, copies 10,
// keep_original true, form BLANK, resample EPOCH, protected_tokens {",", "."};
// when training is set: world_size 1, grad_accumulation 1; when evaluation is
// set: shots 5, max_new_tokens 10; when target_model.lora.rank > 0 and no
// target modules: q_proj, v_proj. Never creates target_model, training,
// evaluation or lora (their absence has meaning). Dtypes, schedule and
// precision stay UNSPECIFIED (chosen per device at run time). Idempotent.
void ApplyJobSpecDefaults(v1::JobSpec* spec);

}  // namespace cluedrop::jobspec

#endif  // CLUEDROP_JOBSPEC_JOB_SPEC_VALIDATOR_H_
