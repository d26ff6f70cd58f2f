#include "workers/trainer/train_params.h"

#include <utility>

#include "workers/model/torch_status.h"

namespace cluedrop::trainer {

std::vector<NamedParameter> TrainableParameters(torch::nn::Module& model) {
  std::vector<NamedParameter> out;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    if (item.value().requires_grad()) out.push_back({item.key(), item.value()});
  }
  return out;
}

std::vector<torch::Tensor> Tensors(const std::vector<NamedParameter>& params) {
  std::vector<torch::Tensor> out;
  out.reserve(params.size());
  for (const NamedParameter& p : params) out.push_back(p.tensor);
  return out;
}

StatusOr<int64_t> EnableLoraTraining(model::CausalLM& model, std::vector<std::string> targets,
                                     int64_t rank, double alpha) {
  if (rank <= 0) return InvalidArgumentError("lora.rank: must be > 0, got " + std::to_string(rank));
  if (!(alpha > 0)) {
    return InvalidArgumentError("lora.alpha: must be > 0, got " + std::to_string(alpha));
  }
  if (targets.empty()) targets = {"q_proj", "v_proj"};
  CLUEDROP_ASSIGN_OR_RETURN(int64_t adapted, model.EnableLora(targets, rank, alpha));
  Status s = model::TorchCall("freezing the base model", [&] {
    for (auto& item : model.named_parameters(/*recurse=*/true)) {
      const std::string& name = item.key();
      const bool lora = name.size() >= 7 && (name.compare(name.size() - 7, 7, ".lora_A") == 0 ||
                                             name.compare(name.size() - 7, 7, ".lora_B") == 0);
      item.value().set_requires_grad(lora);
    }
  });
  if (!s.ok()) return s;
  return adapted;
}

}  // namespace cluedrop::trainer
