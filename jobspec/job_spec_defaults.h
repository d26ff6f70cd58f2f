// The defaults and limits of a job spec (proto/cluedrop/v1/job.proto), in
// one place: ApplyJobSpecDefaults (job_spec_validator.h) writes the defaults
// into a spec, ValidateJobSpec enforces the limits, and the torch-free cores
// that need a default (sharding, the corpus loader, the augmenter's options)
// read it from here. Header-only, no dependencies.
#ifndef CLUEDROP_JOBSPEC_JOB_SPEC_DEFAULTS_H_
#define CLUEDROP_JOBSPEC_JOB_SPEC_DEFAULTS_H_

#include <cstddef>
#include <cstdint>

namespace cluedrop::jobspec {

// corpus
inline constexpr uint32_t kDefaultShardSizeDocs = 1000;
inline constexpr uint32_t kDefaultMaxDocumentBytes = 1 << 20;
// reference_models, augmentation (DESIGN.md 1), evaluation. The proto
// stores alpha and beta as float: ApplyJobSpecDefaults writes float(0.7), and
// every training path of a job (coordinator or `cluedrop train --local`)
// reads that float; tools without a job spec (`cluedrop augment`) use the
// double.
inline constexpr uint32_t kDefaultBatchTokens = 16384;
inline constexpr double kDefaultAlpha = 0.7;
inline constexpr double kDefaultBeta = 0.05;
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
// training.activation_checkpointing: no model has more layers.
inline constexpr uint32_t kMaxCheckpointInterval = 1024;
inline constexpr uint32_t kMaxShots = 64;
inline constexpr uint32_t kMaxNewTokensLimit = 512;
inline constexpr size_t kMaxLabelValueBytes = 256;
// Sizes no real job needs (issue 18: each bounded so a careless or hostile
// spec cannot make a worker allocate or loop without end).
inline constexpr uint32_t kMaxEpochs = 10000;
inline constexpr uint32_t kMaxBatchSize = 1u << 16;
inline constexpr uint32_t kMaxGradAccumulation = 1u << 16;
inline constexpr uint32_t kMaxSeqLen = 1u << 20;
inline constexpr uint32_t kMaxWarmupSteps = 100000000;
inline constexpr size_t kMaxLabels = 64;
inline constexpr int kMaxCorpusPaths = 10000;
inline constexpr size_t kMaxPathBytes = 4096;

}  // namespace cluedrop::jobspec

#endif  // CLUEDROP_JOBSPEC_JOB_SPEC_DEFAULTS_H_
