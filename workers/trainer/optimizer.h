// AdamW with decoupled weight decay, learning-rate setting and global
// gradient-norm clipping for the data-parallel trainer.
//
// Weight decay applies to matrices (embeddings, projections, LoRA A/B);
// 1-D parameters (norm weights, biases) are not decayed unless
// `decay_1d_parameters` (transformers' Trainer excludes biases and norms
// too). Two parameter groups, in that order: decayed, then not decayed
// (either may be absent when empty).
//
// Example:
//   OptimizerOptions o{.weight_decay = 0.01};
//   CLUEDROP_ASSIGN_OR_RETURN(auto adamw, CreateAdamW(TrainableParameters(*model), o));
//   SetLearningRate(*adamw, LearningRate(schedule, step));
//   CLUEDROP_ASSIGN_OR_RETURN(double norm, ClipGradNorm(Tensors(params), 1.0));
//   adamw->step();
//
// Not thread-safe (like torch::optim).
#ifndef CLUEDROP_WORKERS_TRAINER_OPTIMIZER_H_
#define CLUEDROP_WORKERS_TRAINER_OPTIMIZER_H_

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "base/status.h"
#include "workers/trainer/train_params.h"

namespace cluedrop::trainer {

struct OptimizerOptions {
  // Initial learning rate (the trainer sets each step's from its schedule).
  double learning_rate = 1e-4;
  double weight_decay = 0.0;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  bool decay_1d_parameters = false;
};

// INVALID_ARGUMENT for no parameters, a negative or non-finite learning rate
// or weight decay, betas outside [0, 1) or eps <= 0 (field named).
StatusOr<std::unique_ptr<torch::optim::AdamW>> CreateAdamW(
    const std::vector<NamedParameter>& params, const OptimizerOptions& options);

// Sets the learning rate of every parameter group.
void SetLearningRate(torch::optim::Optimizer& optimizer, double lr);

// The L2 norm of all gradients together (parameters without a gradient are
// skipped), computed in float32 accumulation; when max_norm > 0 and the
// norm exceeds it, scales every gradient by max_norm / (norm + 1e-6) (as
// torch.nn.utils.clip_grad_norm_). Returns the norm before clipping, which
// may be inf/NaN (then nothing is scaled). In data-parallel training call it
// after the all-reduce: every rank then computes the same global norm.
StatusOr<double> ClipGradNorm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_OPTIMIZER_H_
