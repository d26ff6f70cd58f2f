// Which parameters a training run updates: all of them (full fine-tuning),
// or only LoRA adapters with the base model frozen.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(int64_t adapted,
//                             EnableLoraTraining(*model, {"q_proj", "v_proj"}, 8, 16.0));
//   std::vector<NamedParameter> trainable = TrainableParameters(*model);  // LoRA A/B only
//
// Not thread-safe: call before training starts, one thread per model.
#ifndef CLUEDROP_WORKERS_TRAINER_TRAIN_PARAMS_H_
#define CLUEDROP_WORKERS_TRAINER_TRAIN_PARAMS_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/model/causal_lm.h"

namespace cluedrop::trainer {

struct NamedParameter {
  std::string name;  // the Hugging Face name, e.g. model.layers.0.self_attn.q_proj.lora_A
  torch::Tensor tensor;
};

// Parameters with requires_grad, in model (registration) order.
std::vector<NamedParameter> TrainableParameters(torch::nn::Module& model);

// The tensors of `params`, same order.
std::vector<torch::Tensor> Tensors(const std::vector<NamedParameter>& params);

// Adds LoRA (rank, alpha) to the linear layers named in `targets` (empty:
// q_proj and v_proj) and freezes every other parameter. Returns the number
// of adapted layers. INVALID_ARGUMENT for rank <= 0, alpha <= 0 or a target
// that matches nothing (CausalLM::EnableLora).
StatusOr<int64_t> EnableLoraTraining(model::CausalLM& model, std::vector<std::string> targets,
                                     int64_t rank, double alpha);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_TRAIN_PARAMS_H_
