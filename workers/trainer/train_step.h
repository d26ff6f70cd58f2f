// One data-parallel optimizer step of a causal LM: forward, token
// cross-entropy, backward with bucketed gradient all-reduce, clipping,
// AdamW and the learning-rate schedule.
//
// Loss normalisation (data-parallel semantics). The loss of a step is the
// mean token cross-entropy over the *global* batch: every target token of
// every micro-batch on every rank weighs the same,
//     loss = sum_{ranks, micro-batches, tokens} CE / N_global.
// N_global (the number of labels != -100 in the step) is all-reduced before
// the first backward; each rank back-propagates
//     W * sum_{its tokens} CE / N_global
// and the gradient all-reduce averages over the W ranks, which gives exactly
// the gradient of the global loss. So W ranks x B sequences equal 1 rank x
// W*B sequences, and K accumulated micro-batches equal one K-times larger
// batch, whatever the padding or the lengths (a per-rank or per-micro-batch
// mean would weigh a token on a rank with few tokens more).
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(auto step, TrainStep::Create(model, collectives, options));
//   CLUEDROP_ASSIGN_OR_RETURN(MicroBatch mb, MakeMicroBatch(my_sequences, pad_id));
//   CLUEDROP_ASSIGN_OR_RETURN(StepStats stats, step->Run({mb}));
//
// All ranks must call Run the same number of times with the same number of
// micro-batches (checked: a mismatch is FAILED_PRECONDITION on every rank).
// Not thread-safe; owns the optimizer and the gradient hooks of `model`.
#ifndef CLUEDROP_WORKERS_TRAINER_TRAIN_STEP_H_
#define CLUEDROP_WORKERS_TRAINER_TRAIN_STEP_H_

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "workers/model/causal_lm.h"
#include "workers/trainer/grad_bucketer.h"
#include "workers/trainer/lr_schedule.h"
#include "workers/trainer/optimizer.h"
#include "workers/trainer/process_group.h"
#include "workers/trainer/train_params.h"

namespace cluedrop::trainer {

inline constexpr int64_t kIgnoreLabel = -100;

// A padded batch of token sequences.
struct MicroBatch {
  torch::Tensor input_ids;       // [B, T] int64
  torch::Tensor attention_mask;  // [B, T] int64, 1 = real token, 0 = padding
  // [B, T] int64: the token that should follow position t (the inputs
  // shifted left by one); kIgnoreLabel at padding and at each sequence's
  // last token.
  torch::Tensor labels;
};

// Right-pads `sequences` with `pad_id` to the longest one (truncating each
// to `max_len` tokens first when max_len > 0) and builds labels as above.
// INVALID_ARGUMENT for no sequences, an empty sequence or max_len < 0.
StatusOr<MicroBatch> MakeMicroBatch(const std::vector<std::vector<int64_t>>& sequences,
                                    int64_t pad_id, int64_t max_len = 0);

enum class Precision {
  kAuto,  // bf16 autocast on CUDA, float32 on CPU
  kFp32,
  kBf16,  // bf16 autocast (CUDA, or CPU autocast)
};

struct TrainStepOptions {
  OptimizerOptions optimizer;
  LrScheduleOptions schedule;
  // Global gradient-norm clip; 0 disables.
  double grad_clip = 0;
  Precision precision = Precision::kAuto;
  GradBucketerOptions bucketing;
  // Copies rank 0's trainable parameters to every rank at Create (so all
  // ranks start identical, as DDP does).
  bool broadcast_initial_parameters = true;
};

struct StepStats {
  int64_t step = 0;      // optimizer steps completed, this one included
  double loss = 0;       // global token-mean cross-entropy of this step
  double grad_norm = 0;  // global L2 norm after the all-reduce, before clipping
  double learning_rate = 0;
  int64_t tokens = 0;        // target tokens of the global batch
  int64_t local_tokens = 0;  // target tokens of this rank
  bool skipped = false;      // non-finite gradient norm: parameters not updated
  // Host wall time of the step, and its split: waiting for the gradient
  // all-reduce (what did not overlap backward), and everything else.
  double step_seconds = 0;
  double allreduce_wait_seconds = 0;
  double compute_seconds = 0;
};

class TrainStep {
 public:
  // Builds AdamW over the model's trainable parameters (requires_grad; see
  // EnableLoraTraining) and the gradient bucketer, and broadcasts rank 0's
  // parameters. INVALID_ARGUMENT for bad options (field named), parameters
  // not on collectives->device(), or no trainable parameters.
  static StatusOr<std::unique_ptr<TrainStep>> Create(std::shared_ptr<model::CausalLM> model,
                                                     Collectives* collectives,
                                                     const TrainStepOptions& options);

  // One optimizer step over this rank's micro-batches (gradient
  // accumulation = micro_batches.size()). Errors: INVALID_ARGUMENT for a
  // malformed micro-batch or a global batch without target tokens, and
  // FAILED_PRECONDITION when ranks disagree on the micro-batch count (both
  // detected on every rank before any compute, parameters untouched);
  // UNAVAILABLE / INTERNAL from collectives and torch (a rank that fails
  // mid-step leaves the others waiting until the collective timeout: restart
  // every rank from the last checkpoint).
  StatusOr<StepStats> Run(const std::vector<MicroBatch>& micro_batches);

  // Optimizer steps completed (the schedule's position); set on resume.
  int64_t step() const { return step_; }
  void set_step(int64_t step) { step_ = step; }

  model::CausalLM& model() { return *model_; }
  torch::optim::AdamW& optimizer() { return *optimizer_; }
  const std::vector<NamedParameter>& trainable() const { return trainable_; }
  const GradBucketer& bucketer() const { return *bucketer_; }

 private:
  TrainStep() = default;

  std::shared_ptr<model::CausalLM> model_;
  Collectives* collectives_ = nullptr;
  TrainStepOptions options_;
  std::vector<NamedParameter> trainable_;
  std::vector<torch::Tensor> trainable_tensors_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::unique_ptr<GradBucketer> bucketer_;
  int64_t step_ = 0;
};

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_TRAIN_STEP_H_
