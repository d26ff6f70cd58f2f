// Checks a submitted JobSpec and fills in its documented defaults
// (proto/cluedrop/v1/job.proto). Torch-free.
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
#ifndef CLUEDROP_COORDINATOR_JOB_SPEC_VALIDATOR_H_
#define CLUEDROP_COORDINATOR_JOB_SPEC_VALIDATOR_H_

#include <cstdint>

#include "absl/status/status.h"
#include "cluedrop/v1/job.pb.h"

namespace cluedrop::coordinator {

// Defaults of job.proto, set by ApplyJobSpecDefaults (shard_size_docs and
// max_document_bytes: kDefaultShardSizeDocs in sharding.h and
// kDefaultMaxDocumentBytes in corpus_loader.h).
inline constexpr uint32_t kDefaultBatchTokens = 16384;
inline constexpr float kDefaultAlpha = 0.7f;
inline constexpr float kDefaultBeta = 0.05f;
inline constexpr uint32_t kDefaultCopies = 10;
inline constexpr uint32_t kDefaultShots = 5;
inline constexpr uint32_t kDefaultMaxNewTokens = 10;

// Limits ValidateJobSpec enforces.
inline constexpr size_t kMaxNameBytes = 128;
inline constexpr uint32_t kMaxBatchTokens = 1u << 24;
inline constexpr uint32_t kMaxCopies = 1000;
inline constexpr uint32_t kMaxWorldSize = 1024;
// Largest TrainingSpec.shuffle_buffer (samples a trainer rank holds).
inline constexpr uint32_t kMaxShuffleBuffer = 1 << 20;
inline constexpr uint32_t kMaxShots = 64;
inline constexpr uint32_t kMaxNewTokensLimit = 512;
inline constexpr size_t kMaxLabelValueBytes = 256;

// Returns OK, or INVALID_ARGUMENT listing every violation in field order,
// joined by "; ", each as "<field path>: <rule>, got <value>", e.g.
//   "augmentation.alpha: must be in [0, 1], got 1.3; training.epochs: must
//    be >= 1, got 0"
// Unknown numeric enum values and NaN are violations. Checks only the spec
// itself: whether paths exist is the corpus loader's and the workers' job.
absl::Status ValidateJobSpec(const v1::JobSpec& spec);

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

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_JOB_SPEC_VALIDATOR_H_
