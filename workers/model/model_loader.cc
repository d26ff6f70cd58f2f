#include "workers/model/model_loader.h"

#include <filesystem>
#include <set>

#include "workers/model/layers.h"
#include "workers/model/torch_dtype.h"
#include "workers/model/torch_status.h"

namespace cluedrop::model {
namespace {

// Tensors a checkpoint may hold that no parameter corresponds to.
bool Ignorable(const std::string& name, const ModelConfig& config) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("rotary_emb.inv_freq") || ends_with(".attn.bias") ||
      ends_with(".attn.masked_bias")) {
    return true;
  }
  return config.tie_word_embeddings && name == "lm_head.weight";
}

// The checkpoint's name for a parameter (GPT-2 checkpoints may lack the
// "transformer." prefix), or "" when absent.
std::string CheckpointName(const CheckpointReader& reader, const std::string& name) {
  if (reader.Has(name)) return name;
  const std::string prefix = "transformer.";
  if (name.rfind(prefix, 0) == 0 && reader.Has(name.substr(prefix.size()))) {
    return name.substr(prefix.size());
  }
  return "";
}

std::string ShapeString(c10::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Status CopyInto(torch::Tensor& param, const TensorView& view, const std::string& what) {
  const TensorInfo& info = *view.info;
  if (c10::IntArrayRef(info.shape) != param.sizes()) {
    return InvalidArgumentError(what + ": shape " + ShapeString(info.shape) +
                                " does not match the " + "model's " + ShapeString(param.sizes()) +
                                " (config.json disagrees?)");
  }
  if (!torch::isFloatingType(TorchDtypeOf(info.dtype))) {
    return InvalidArgumentError(what + ": dtype " + DTypeName(info.dtype) +
                                " is not a floating-point type");
  }
  return TorchCall(what, [&] {
    torch::Tensor src = TensorFromView(view);
    torch::NoGradGuard no_grad;
    param.copy_(src);
  });
}

}  // namespace

Status LoadWeights(CausalLM& model, const CheckpointReader& reader, const std::string& display) {
  std::set<std::string> used;
  for (auto& [name, param] : model.HfTensors()) {
    const std::string stored = CheckpointName(reader, name);
    if (stored.empty()) {
      return InvalidArgumentError(display + ": missing tensor '" + name + "' (architecture " +
                                  model.config().architecture + ")");
    }
    CLUEDROP_ASSIGN_OR_RETURN(TensorView view, reader.Get(stored));
    CLUEDROP_RETURN_IF_ERROR(CopyInto(param, view, display + ": tensor '" + stored + "'"));
    used.insert(stored);
  }
  for (const std::string& name : reader.TensorNames()) {
    if (used.count(name) == 0 && !Ignorable(name, model.config())) {
      return InvalidArgumentError(display + ": unexpected tensor '" + name + "' for architecture " +
                                  model.config().architecture +
                                  " (config.json disagrees with the weights?)");
    }
  }
  return OkStatus();
}

Status LoadLoraWeights(CausalLM& model, const CheckpointReader& reader,
                       const std::string& display) {
  auto tensors = model.PeftTensors();
  if (tensors.empty())
    return FailedPreconditionError(display + ": the model has no LoRA layers enabled");
  for (auto& [name, param] : tensors) {
    if (!reader.Has(name)) return InvalidArgumentError(display + ": missing tensor '" + name + "'");
    CLUEDROP_ASSIGN_OR_RETURN(TensorView view, reader.Get(name));
    CLUEDROP_RETURN_IF_ERROR(CopyInto(param, view, display + ": tensor '" + name + "'"));
  }
  if (reader.TensorNames().size() != tensors.size()) {
    return InvalidArgumentError(display + ": holds " + std::to_string(reader.TensorNames().size()) +
                                " tensors but the model has " + std::to_string(tensors.size()) +
                                " LoRA matrices (target_modules differ?)");
  }
  return OkStatus();
}

StatusOr<std::shared_ptr<CausalLM>> LoadCausalLM(const std::string& dir,
                                                 const LoadOptions& options) {
  const std::string config_path = (std::filesystem::path(dir) / "config.json").string();
  CLUEDROP_ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(config_path));
  CLUEDROP_ASSIGN_OR_RETURN(auto reader, CheckpointReader::Open(dir));
  std::shared_ptr<CausalLM> model;
  {
    ScopedSkipInit skip_init;
    CLUEDROP_ASSIGN_OR_RETURN(model, CreateCausalLM(config));
  }
  std::vector<torch::Device> devices = options.devices;
  if (devices.empty()) devices.push_back(torch::kCPU);
  CLUEDROP_RETURN_IF_ERROR(
      model->Place(DeviceMap::Even(config.num_layers, devices), options.dtype));
  CLUEDROP_RETURN_IF_ERROR(LoadWeights(*model, *reader, dir));
  model->eval();
  return model;
}

}  // namespace cluedrop::model
