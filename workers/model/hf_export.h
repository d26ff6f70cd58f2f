// Saves models in the formats the Hugging Face stack loads unchanged:
// config.json + safetensors (sharded past max_shard_bytes) + tokenizer files,
// and LoRA adapters as PEFT's adapter_config.json + adapter_model.safetensors.
#ifndef CLUEDROP_WORKERS_MODEL_HF_EXPORT_H_
#define CLUEDROP_WORKERS_MODEL_HF_EXPORT_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/model/causal_lm.h"

namespace cluedrop::model {

struct ExportOptions {
  // Dtype of the saved weights (config.json's torch_dtype says the same).
  torch::ScalarType dtype = torch::kFloat;
  // Shards bigger checkpoints (transformers' default is 5 GB).
  uint64_t max_shard_bytes = 5ull << 30;
  // Copies tokenizer.json, tokenizer_config.json, special_tokens_map.json and
  // generation_config.json from here when present ("" = none).
  std::string tokenizer_dir;
};

// Writes the base model (LoRA matrices excluded) into `dir` (created if
// needed). Each file is written atomically (temp file + rename).
Status SaveHfModel(CausalLM& model, const std::string& dir, const ExportOptions& options);

// Writes the model's LoRA matrices as a PEFT adapter in `dir`.
// `base_model_name_or_path` goes into adapter_config.json.
Status SaveLoraAdapter(CausalLM& model, const std::string& dir,
                       const std::string& base_model_name_or_path);

// Writes `text` to `path` through a temp file, fsync and rename.
Status WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_HF_EXPORT_H_
