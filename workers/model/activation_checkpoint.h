// Activation checkpointing: runs a piece of a model (a decoder layer)
// without keeping its intermediate activations, and recomputes them in the
// backward pass (the "reentrant" scheme of torch.utils.checkpoint): the
// forward runs under NoGrad and keeps only its input; the backward re-runs
// it with grad enabled and back-propagates through the recomputation, which
// accumulates the parameters' gradients as the plain run would. The pieces
// must be deterministic (no dropout, no RNG): cluedrop's layers are.
//
// Example:
//   h = Checkpointed(h, [&](const torch::Tensor& x) { return layer->forward(x, ...); });
#ifndef CLUEDROP_WORKERS_MODEL_ACTIVATION_CHECKPOINT_H_
#define CLUEDROP_WORKERS_MODEL_ACTIVATION_CHECKPOINT_H_

#include <torch/torch.h>

#include <functional>

namespace cluedrop::model {

using TensorFn = std::function<torch::Tensor(const torch::Tensor&)>;

// fn(x), recomputed in backward instead of stored. When grad mode is off,
// plainly fn(x). The output requires grad whenever grad mode is on (so that
// frozen-embedding LoRA training still reaches the layer's adapters).
torch::Tensor Checkpointed(const torch::Tensor& x, TensorFn fn);

// Whether layer `i` runs checkpointed with `every` (0: none; k: layers 0, k,
// 2k, ...).
inline bool CheckpointsLayer(int64_t every, int64_t i) { return every > 0 && i % every == 0; }

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_ACTIVATION_CHECKPOINT_H_
