#include "workers/trainer/optimizer.h"

#include <cmath>
#include <string>
#include <utility>

#include "workers/model/torch_status.h"

namespace cluedrop::trainer {

StatusOr<std::unique_ptr<torch::optim::AdamW>> CreateAdamW(
    const std::vector<NamedParameter>& params, const OptimizerOptions& options) {
  if (params.empty()) return InvalidArgumentError("optimizer: no trainable parameters");
  if (!(options.learning_rate >= 0) || !std::isfinite(options.learning_rate)) {
    return InvalidArgumentError("learning_rate: must be finite and >= 0");
  }
  if (!(options.weight_decay >= 0) || !std::isfinite(options.weight_decay)) {
    return InvalidArgumentError("weight_decay: must be finite and >= 0");
  }
  if (!(options.beta1 >= 0 && options.beta1 < 1)) {
    return InvalidArgumentError("beta1: must be in [0, 1)");
  }
  if (!(options.beta2 >= 0 && options.beta2 < 1)) {
    return InvalidArgumentError("beta2: must be in [0, 1)");
  }
  if (!(options.eps > 0)) return InvalidArgumentError("eps: must be > 0");
  std::unique_ptr<torch::optim::AdamW> adamw;
  Status s = model::TorchCall("creating AdamW", [&] {
    std::vector<torch::Tensor> decay, no_decay;
    for (const NamedParameter& p : params) {
      (p.tensor.dim() >= 2 || options.decay_1d_parameters ? decay : no_decay).push_back(p.tensor);
    }
    auto group_options = [&](double wd) {
      auto o = std::make_unique<torch::optim::AdamWOptions>(options.learning_rate);
      o->betas({options.beta1, options.beta2}).eps(options.eps).weight_decay(wd);
      return o;
    };
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (!decay.empty()) groups.emplace_back(decay, group_options(options.weight_decay));
    if (!no_decay.empty()) groups.emplace_back(no_decay, group_options(0.0));
    adamw = std::make_unique<torch::optim::AdamW>(
        std::move(groups), torch::optim::AdamWOptions(options.learning_rate));
  });
  if (!s.ok()) return s;
  return adamw;
}

void SetLearningRate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

StatusOr<double> ClipGradNorm(const std::vector<torch::Tensor>& params, double max_norm) {
  double norm = 0;
  Status s = model::TorchCall("gradient norm", [&] {
    std::vector<torch::Tensor> grads;
    for (const torch::Tensor& p : params) {
      if (p.grad().defined()) grads.push_back(p.grad());
    }
    if (grads.empty()) return;
    std::vector<torch::Tensor> norms;
    norms.reserve(grads.size());
    for (const torch::Tensor& g : grads) {
      norms.push_back(
          torch::linalg_vector_norm(g, 2, {}, false, torch::kFloat).to(grads[0].device()));
    }
    norm = torch::linalg_vector_norm(torch::stack(norms), 2).item<double>();
    if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
      const double coef = max_norm / (norm + 1e-6);
      for (torch::Tensor& g : grads) g.mul_(coef);
    }
  });
  if (!s.ok()) return s;
  return norm;
}

}  // namespace cluedrop::trainer
