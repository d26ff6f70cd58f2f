// Building blocks of the model families, as torch::nn::Modules whose
// parameter names are the Hugging Face tensor names ("weight", "bias",
// LoRA's "lora_A" / "lora_B"), so a model's named_parameters() are its
// checkpoint's keys.
#ifndef CLUEDROP_WORKERS_MODEL_LAYERS_H_
#define CLUEDROP_WORKERS_MODEL_LAYERS_H_

#include <torch/torch.h>

#include <memory>
#include <string>

namespace cluedrop::model {

// y = x W^T + b, optionally plus a LoRA update (alpha / r) * B(A(x)).
// `transposed` stores W as [in, out] (GPT-2's Conv1D layout).
class Linear : public torch::nn::Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias, bool transposed = false);
  torch::Tensor forward(const torch::Tensor& x);

  // Adds LoRA matrices A [r, in] (Kaiming-uniform, as PEFT) and B [out, r]
  // (zeros): the layer's output is unchanged until B is trained.
  void EnableLora(int64_t rank, double alpha);
  bool has_lora() const { return lora_a_.defined(); }

  // Weight-only int8 (a frozen base under LoRA): the weight becomes int8
  // values with one float32 scale per output channel, scale = absmax / 127,
  // q = round(w / scale) (half to even), clamped to [-127, 127]; forward
  // dequantizes (q * scale, in the input's dtype) on the fly. The weight
  // parameter is dropped (buffers "weight_int8" [out, in] and "weight_scale"
  // [out]), so the base is never exported from int8. A zero row keeps scale 1.
  void QuantizeInt8();
  bool quantized() const { return weight_int8_.defined(); }

  // Moving a quantized layer keeps its int8 values and float32 scales; the
  // bias and LoRA matrices take `dtype`, which forward then computes in.
  using torch::nn::Module::to;
  void to(torch::Device device, torch::Dtype dtype, bool non_blocking = false) override;
  void to(torch::Dtype dtype, bool non_blocking = false) override;
  int64_t lora_rank() const { return lora_a_.defined() ? lora_a_.size(0) : 0; }
  double lora_alpha() const { return lora_alpha_; }

  torch::Tensor weight;
  torch::Tensor bias;  // undefined without bias

 private:
  bool transposed_;
  torch::Tensor weight_int8_, weight_scale_;         // QuantizeInt8: [out, in] int8, [out] float
  torch::ScalarType compute_dtype_ = torch::kFloat;  // the weight's dtype before QuantizeInt8
  torch::Tensor lora_a_, lora_b_;
  double lora_alpha_ = 0, lora_scaling_ = 0;
};

// RMSNorm computed in float32. Gemma-2 scales by (1 + weight) and casts
// after scaling; Llama scales by weight after casting back.
class RmsNorm : public torch::nn::Module {
 public:
  RmsNorm(int64_t dim, double eps, bool gemma_style);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  double eps_;
  bool gemma_;
};

class LayerNorm : public torch::nn::Module {
 public:
  LayerNorm(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;

 private:
  double eps_;
};

class Embedding : public torch::nn::Module {
 public:
  Embedding(int64_t num, int64_t dim);
  torch::Tensor forward(const torch::Tensor& ids);
  torch::Tensor weight;
};

// While alive on this thread, new layers skip random initialisation (their
// parameters stay uninitialised until a checkpoint is copied in), so loading
// a model never pays for, or touches the memory of, a throwaway init.
class ScopedSkipInit {
 public:
  ScopedSkipInit();
  ~ScopedSkipInit();
  ScopedSkipInit(const ScopedSkipInit&) = delete;
  ScopedSkipInit& operator=(const ScopedSkipInit&) = delete;

 private:
  bool previous_;
};

// Applies a config.json activation name ("silu", "gelu_pytorch_tanh",
// "gelu_new", "gelu_fast", "gelu").
torch::Tensor Activation(const std::string& name, const torch::Tensor& x);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_LAYERS_H_
