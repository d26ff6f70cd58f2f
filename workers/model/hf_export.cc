#include "workers/model/hf_export.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "workers/model/checkpoint/atomic_file.h"
#include "workers/model/checkpoint/safetensors_writer.h"
#include "workers/model/layers.h"
#include "workers/model/torch_dtype.h"
#include "workers/model/torch_status.h"

namespace cluedrop::model {
namespace {

namespace fs = std::filesystem;

StatusOr<DType> ToDType(torch::ScalarType type) {
  if (!torch::isFloatingType(type)) {
    return InvalidArgumentError("export dtype must be float32, bfloat16 or float16");
  }
  return DTypeOf(type);
}

const char* DtypeConfigName(torch::ScalarType type) {
  switch (type) {
    case torch::kBFloat16:
      return "bfloat16";
    case torch::kHalf:
      return "float16";
    case torch::kDouble:
      return "float64";
    default:
      return "float32";
  }
}

// CPU, contiguous copies of `tensors` in `dtype`, kept alive for the writer.
StatusOr<std::vector<WriterEntry>> ToEntries(
    const std::vector<std::pair<std::string, torch::Tensor>>& tensors, torch::ScalarType dtype,
    std::vector<torch::Tensor>* keep) {
  CLUEDROP_ASSIGN_OR_RETURN(DType dt, ToDType(dtype));
  std::vector<WriterEntry> entries;
  CLUEDROP_RETURN_IF_ERROR(TorchCall("export: copying tensors to host", [&] {
    for (const auto& [name, tensor] : tensors) {
      torch::Tensor host = tensor.detach().to(torch::kCPU, dtype).contiguous();
      keep->push_back(host);
      entries.push_back(WriterEntry{name, dt, host.sizes().vec(), host.data_ptr(),
                                    static_cast<size_t>(host.nbytes())});
    }
  }));
  return entries;
}

}  // namespace

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  CLUEDROP_ASSIGN_OR_RETURN(auto out, AtomicFileWriter::Create(path));
  CLUEDROP_RETURN_IF_ERROR(out->Append(text));
  return out->Commit();
}

Status SaveHfModel(CausalLM& model, const std::string& dir, const ExportOptions& options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InternalError(dir + ": cannot create directory: " + ec.message());
  std::vector<torch::Tensor> keep;
  CLUEDROP_ASSIGN_OR_RETURN(auto entries, ToEntries(model.HfTensors(), options.dtype, &keep));
  CLUEDROP_RETURN_IF_ERROR(WriteCheckpoint(dir, entries, options.max_shard_bytes));
  ModelConfig config = model.config();
  config.torch_dtype = DtypeConfigName(options.dtype);
  CLUEDROP_RETURN_IF_ERROR(WriteFileAtomically((fs::path(dir) / "config.json").string(),
                                               ModelConfigToJson(config) + "\n"));
  if (!options.tokenizer_dir.empty()) {
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                             "generation_config.json"}) {
      fs::path src = fs::path(options.tokenizer_dir) / name;
      if (!fs::exists(src)) continue;
      if (fs::equivalent(src.parent_path(), fs::path(dir), ec)) continue;
      fs::copy_file(src, fs::path(dir) / name, fs::copy_options::overwrite_existing, ec);
      if (ec) return InternalError(src.string() + ": cannot copy: " + ec.message());
    }
  }
  return OkStatus();
}

Status SaveLoraAdapter(CausalLM& model, const std::string& dir, const std::string& base_model) {
  auto tensors = model.PeftTensors();
  if (tensors.empty())
    return FailedPreconditionError("export: the model has no LoRA layers enabled");
  std::set<std::string> targets;
  int64_t rank = 0;
  double alpha = 0;
  for (const auto& item : model.named_modules("", false)) {
    auto linear = std::dynamic_pointer_cast<Linear>(item.value());
    if (!linear || !linear->has_lora()) continue;
    targets.insert(item.key().substr(item.key().rfind('.') + 1));
    if (rank != 0 && (rank != linear->lora_rank() || alpha != linear->lora_alpha())) {
      return UnimplementedError("export: LoRA layers with different ranks or alphas");
    }
    rank = linear->lora_rank();
    alpha = linear->lora_alpha();
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InternalError(dir + ": cannot create directory: " + ec.message());
  std::vector<torch::Tensor> keep;
  // PEFT keeps adapters in float32 unless asked otherwise.
  CLUEDROP_ASSIGN_OR_RETURN(auto entries, ToEntries(tensors, torch::kFloat, &keep));
  SafetensorsWriter writer;
  for (const WriterEntry& e : entries) {
    CLUEDROP_RETURN_IF_ERROR(writer.Add(e.name, e.dtype, e.shape, e.data, e.nbytes));
  }
  CLUEDROP_RETURN_IF_ERROR(writer.Write((fs::path(dir) / "adapter_model.safetensors").string()));
  nlohmann::json config = {
      {"peft_type", "LORA"},
      {"task_type", "CAUSAL_LM"},
      {"base_model_name_or_path", base_model},
      {"r", rank},
      {"lora_alpha", alpha},
      {"lora_dropout", 0.0},
      {"target_modules", std::vector<std::string>(targets.begin(), targets.end())},
      {"bias", "none"},
      {"fan_in_fan_out", model.config().family == ModelFamily::kGpt2},
      {"inference_mode", true},
      {"use_rslora", false},
      {"use_dora", false},
      {"modules_to_save", nullptr},
      {"init_lora_weights", true},
  };
  return WriteFileAtomically((fs::path(dir) / "adapter_config.json").string(),
                             config.dump(2) + "\n");
}

}  // namespace cluedrop::model
