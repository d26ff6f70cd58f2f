#include "workers/model/causal_lm.h"

#include <algorithm>
#include <set>

#include "workers/model/decoder_lm.h"
#include "workers/model/gpt2_lm.h"
#include "workers/model/layers.h"
#include "workers/model/torch_status.h"

namespace cluedrop::model {

DeviceMap DeviceMap::Even(int64_t num_layers, const std::vector<torch::Device>& devices) {
  DeviceMap map;
  const int64_t n = std::max<int64_t>(1, static_cast<int64_t>(devices.size()));
  for (int64_t i = 0; i < num_layers; ++i) {
    map.layer_devices.push_back(devices.empty() ? torch::Device(torch::kCPU)
                                                : devices[i * n / num_layers]);
  }
  return map;
}

CausalLM::CausalLM(ModelConfig config) : config_(std::move(config)) {
  layer_devices_.assign(config_.num_layers, torch::Device(torch::kCPU));
}

Status CausalLM::Place(const DeviceMap& map, torch::ScalarType dtype) {
  if (static_cast<int64_t>(map.layer_devices.size()) != config_.num_layers) {
    return InvalidArgumentError("device map: has " + std::to_string(map.layer_devices.size()) +
                                " layer devices for " + std::to_string(config_.num_layers) +
                                " layers");
  }
  return TorchCall("placing the model", [&] {
    const torch::Device first = map.layer_devices.front(), last = map.layer_devices.back();
    for (auto& m : input_modules_) m->to(first, dtype);
    for (int64_t i = 0; i < config_.num_layers; ++i)
      layer_modules_[i]->to(map.layer_devices[i], dtype);
    for (auto& m : output_modules_) m->to(last, dtype);
    layer_devices_ = map.layer_devices;
    input_device_ = first;
    output_device_ = last;
    dtype_ = dtype;
  });
}

CausalLM::Prologue CausalLM::Prepare(const torch::Tensor& input_ids,
                                     const ForwardOptions& options) const {
  TORCH_CHECK(input_ids.dim() == 2, "input_ids must be [batch, tokens], got ", input_ids.sizes());
  const int64_t batch = input_ids.size(0);
  auto device = input_ids.device();
  Prologue p;
  if (options.attention_mask.defined()) {
    TORCH_CHECK(options.attention_mask.sizes() == input_ids.sizes(),
                "attention_mask must match input_ids ", input_ids.sizes(), ", got ",
                options.attention_mask.sizes());
    p.valid = options.attention_mask.to(device).ne(0);
  } else {
    p.valid =
        torch::ones(input_ids.sizes(), torch::TensorOptions().dtype(torch::kBool).device(device));
  }
  torch::Tensor start;
  if (options.cache != nullptr && options.cache->next_position().defined()) {
    start = options.cache->next_position().to(device);
  } else {
    start = torch::zeros({batch}, torch::TensorOptions().dtype(torch::kLong).device(device));
  }
  torch::Tensor counts = p.valid.to(torch::kLong).cumsum(1);
  if (options.position_ids.defined()) {
    TORCH_CHECK(options.position_ids.sizes() == input_ids.sizes(),
                "position_ids must match input_ids ", input_ids.sizes());
    p.position_ids = options.position_ids.to(device, torch::kLong);
  } else {
    p.position_ids = (start.unsqueeze(1) + counts - 1).clamp_min(0);
  }
  p.next_position = start + counts.select(1, counts.size(1) - 1);
  torch::Tensor all_valid = p.valid;
  if (options.cache != nullptr) {
    p.spec.query_offset = options.cache->length();
    if (options.cache->key_valid().defined()) {
      all_valid = torch::cat({options.cache->key_valid().to(device), p.valid}, 1);
    }
  }
  if (!all_valid.all().item<bool>()) p.spec.key_valid = all_valid;
  return p;
}

void CausalLM::FinishStep(const ForwardOptions& options, const Prologue& prologue) {
  if (options.cache != nullptr) options.cache->Commit(prologue.valid, prologue.next_position);
}

std::vector<std::pair<std::string, torch::Tensor>> CausalLM::HfTensors() {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : named_parameters(/*recurse=*/true)) {
    if (item.key().find(".lora_") != std::string::npos) continue;
    out.emplace_back(item.key(), item.value());
  }
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> CausalLM::PeftTensors() {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : named_parameters(/*recurse=*/true)) {
    if (item.key().find(".lora_") == std::string::npos) continue;
    out.emplace_back("base_model.model." + item.key() + ".weight", item.value());
  }
  return out;
}

StatusOr<int64_t> CausalLM::EnableLora(const std::vector<std::string>& targets, int64_t rank,
                                       double alpha) {
  if (rank <= 0) return InvalidArgumentError("lora.rank: must be > 0, got " + std::to_string(rank));
  if (!(alpha > 0)) return InvalidArgumentError("lora.alpha: must be > 0");
  std::set<std::string> unmatched(targets.begin(), targets.end());
  int64_t adapted = 0;
  for (const auto& item : named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    auto linear = std::dynamic_pointer_cast<Linear>(item.value());
    if (!linear) continue;
    const std::string& name = item.key();
    const std::string leaf = name.substr(name.rfind('.') + 1);
    if (std::find(targets.begin(), targets.end(), leaf) == targets.end()) continue;
    if (linear->has_lora()) continue;
    linear->EnableLora(rank, alpha);
    unmatched.erase(leaf);
    ++adapted;
  }
  if (!unmatched.empty()) {
    return InvalidArgumentError("lora.target_modules: '" + *unmatched.begin() +
                                "' matches no linear layer of this " + FamilyName(config_.family) +
                                " model");
  }
  return adapted;
}

StatusOr<int64_t> CausalLM::QuantizeBaseInt8() {
  int64_t quantized = 0;
  Status s = TorchCall("quantizing the base to int8", [&] {
    for (const auto& item : named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
      auto linear = std::dynamic_pointer_cast<Linear>(item.value());
      if (!linear || item.key() == "lm_head") continue;
      linear->QuantizeInt8();
      ++quantized;
    }
  });
  if (!s.ok()) return s;
  return quantized;
}

StatusOr<std::shared_ptr<CausalLM>> CreateCausalLM(const ModelConfig& config) {
  CLUEDROP_RETURN_IF_ERROR(ValidateModelConfig(config, "config"));
  try {
    if (config.family == ModelFamily::kGpt2)
      return std::shared_ptr<CausalLM>(std::make_shared<Gpt2LM>(config));
    return std::shared_ptr<CausalLM>(std::make_shared<DecoderLM>(config));
  } catch (const std::exception& e) {
    return InternalError(std::string("creating the model: ") + e.what());
  }
}

StatusOr<torch::ScalarType> ParseTorchDtype(const std::string& name) {
  if (name == "float32" || name == "f32" || name == "fp32" || name == "float") return torch::kFloat;
  if (name == "bfloat16" || name == "bf16") return torch::kBFloat16;
  if (name == "float16" || name == "f16" || name == "fp16" || name == "half") return torch::kHalf;
  return InvalidArgumentError("dtype: '" + name + "' is not one of float32, bfloat16, float16");
}

StatusOr<torch::Device> ParseTorchDevice(const std::string& name) {
  try {
    torch::Device device(name);
    if (device.is_cuda() && !torch::cuda::is_available()) {
      return FailedPreconditionError("device: '" + name +
                                     "' requested but no CUDA device is usable");
    }
    if (device.is_cuda() && device.has_index() &&
        device.index() >= static_cast<int>(torch::cuda::device_count())) {
      return FailedPreconditionError("device: '" + name + "' does not exist (" +
                                     std::to_string(torch::cuda::device_count()) +
                                     " CUDA devices)");
    }
    if (!device.is_cpu() && !device.is_cuda()) {
      return InvalidArgumentError("device: '" + name + "' is not cpu or cuda[:N]");
    }
    return device;
  } catch (const std::exception&) {
    return InvalidArgumentError("device: '" + name + "' is not cpu or cuda[:N]");
  }
}

}  // namespace cluedrop::model
