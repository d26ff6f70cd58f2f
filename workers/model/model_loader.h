// Loads a Hugging Face checkpoint directory (config.json + safetensors,
// single file or sharded) into a CausalLM on the chosen device(s) and dtype.
//
// Example:
//   LoadOptions options;
//   options.devices = {torch::Device("cuda:0"), torch::Device("cuda:1")};  // split layers
//   options.dtype = torch::kBFloat16;
//   CLUEDROP_ASSIGN_OR_RETURN(auto model, LoadCausalLM("/models/llama-3-8b", options));
#ifndef CLUEDROP_WORKERS_MODEL_MODEL_LOADER_H_
#define CLUEDROP_WORKERS_MODEL_MODEL_LOADER_H_

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/model/causal_lm.h"
#include "workers/model/checkpoint/checkpoint_reader.h"

namespace cluedrop::model {

struct LoadOptions {
  // Devices to spread the layers over (DeviceMap::Even). Empty: CPU.
  std::vector<torch::Device> devices;
  // Weights are converted to this dtype (CPU: float32 or bfloat16; CUDA:
  // bfloat16 or float16 usually).
  torch::ScalarType dtype = torch::kFloat;
};

// Reads dir/config.json and the weights. Fails with a message naming the
// file and tensor on a missing tensor, a shape mismatch, an unexpected
// tensor, an unsupported architecture or an unreadable file.
StatusOr<std::shared_ptr<CausalLM>> LoadCausalLM(const std::string& dir,
                                                 const LoadOptions& options);

// Copies every base-model parameter of `model` from `reader` (shapes must
// match exactly; dtypes are converted). `display_name` names the checkpoint
// in errors.
Status LoadWeights(CausalLM& model, const CheckpointReader& reader,
                   const std::string& display_name);

// Copies LoRA matrices from a PEFT adapter_model.safetensors into `model`,
// which must have LoRA enabled on the same modules with the same rank.
Status LoadLoraWeights(CausalLM& model, const CheckpointReader& reader,
                       const std::string& display_name);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_MODEL_LOADER_H_
