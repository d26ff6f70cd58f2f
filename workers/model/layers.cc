#include "workers/model/layers.h"

#include <cmath>

namespace cluedrop::model {

namespace F = torch::nn::functional;

namespace {
thread_local bool skip_init = false;

torch::Tensor Dequantize(const torch::Tensor& q, const torch::Tensor& scale,
                         torch::ScalarType dtype) {
  return q.to(dtype) * scale.to(dtype).unsqueeze(1);
}

// y = x W^T with W = q * scale (frozen): autograd keeps the int8 values and
// scales, not the dequantized float weight (which a plain linear would save
// for the input's gradient, as large as the float model), and dequantizes
// again in backward, as bitsandbytes' 8-bit matmul does.
class Int8Linear : public torch::autograd::Function<Int8Linear> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& q, const torch::Tensor& scale) {
    ctx->save_for_backward({q, scale});
    return F::linear(x, Dequantize(q, scale, x.scalar_type()));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& g = grads[0];
    return {torch::matmul(g, Dequantize(saved[0], saved[1], g.scalar_type())), torch::Tensor(),
            torch::Tensor()};
  }
};
}  // namespace

ScopedSkipInit::ScopedSkipInit() : previous_(skip_init) { skip_init = true; }
ScopedSkipInit::~ScopedSkipInit() { skip_init = previous_; }

Linear::Linear(int64_t in, int64_t out, bool with_bias, bool transposed) : transposed_(transposed) {
  weight =
      register_parameter("weight", transposed ? torch::empty({in, out}) : torch::empty({out, in}));
  if (!skip_init) torch::nn::init::normal_(weight, 0.0, 0.02);
  if (with_bias)
    bias = register_parameter("bias", skip_init ? torch::empty({out}) : torch::zeros({out}));
}

torch::Tensor Linear::forward(const torch::Tensor& x) {
  torch::Tensor y;
  if (weight_int8_.defined()) {
    y = Int8Linear::apply(x, weight_int8_, weight_scale_);
  } else {
    y = transposed_ ? torch::matmul(x, weight) : F::linear(x, weight);
  }
  if (bias.defined()) y = y + bias;
  if (lora_a_.defined()) y = y + lora_scaling_ * F::linear(F::linear(x, lora_a_), lora_b_);
  return y;
}

void Linear::QuantizeInt8() {
  if (weight_int8_.defined()) return;
  torch::NoGradGuard no_grad;
  // Per output channel, in float32 whatever the model's dtype.
  const torch::Tensor w = (transposed_ ? weight.t() : weight).to(torch::kFloat);
  torch::Tensor absmax = w.abs().amax(1);
  torch::Tensor scale = torch::where(absmax > 0, absmax / 127.0, torch::ones_like(absmax));
  torch::Tensor q = torch::round(w / scale.unsqueeze(1)).clamp(-127, 127).to(torch::kInt8);
  weight_int8_ = register_buffer("weight_int8", q.contiguous());
  weight_scale_ = register_buffer("weight_scale", scale);
  compute_dtype_ = weight.scalar_type();
  parameters_.erase("weight");
  weight = torch::Tensor();
  transposed_ = false;  // weight_int8_ is [out, in] either way
}

void Linear::to(torch::Device device, torch::Dtype dtype, bool non_blocking) {
  if (!weight_int8_.defined()) return torch::nn::Module::to(device, dtype, non_blocking);
  weight_int8_.set_data(weight_int8_.to(device, non_blocking));
  weight_scale_.set_data(weight_scale_.to(device, non_blocking));
  for (auto& p : named_parameters(/*recurse=*/false))
    p->set_data(p->to(device, dtype, non_blocking));
  compute_dtype_ = dtype;
}

void Linear::to(torch::Dtype dtype, bool non_blocking) {
  to(weight_int8_.defined() ? weight_int8_.device() : weight.device(), dtype, non_blocking);
}

void Linear::EnableLora(int64_t rank, double alpha) {
  const int64_t in = weight_int8_.defined() ? weight_int8_.size(1)
                     : transposed_          ? weight.size(0)
                                            : weight.size(1);
  const int64_t out = weight_int8_.defined() ? weight_int8_.size(0)
                      : transposed_          ? weight.size(1)
                                             : weight.size(0);
  auto options =
      weight_int8_.defined() ? weight_int8_.options().dtype(compute_dtype_) : weight.options();
  // Initialised on the CPU generator whatever the layer's device, so that a
  // seeded run starts from the same adapters on any placement.
  torch::Tensor a = torch::empty({rank, in}, torch::kFloat);
  torch::nn::init::kaiming_uniform_(a, std::sqrt(5.0));
  lora_a_ = register_parameter("lora_A", a.to(options));
  lora_b_ = register_parameter("lora_B", torch::zeros({out, rank}, options));
  lora_alpha_ = alpha;
  lora_scaling_ = alpha / static_cast<double>(rank);
}

RmsNorm::RmsNorm(int64_t dim, double eps, bool gemma_style) : eps_(eps), gemma_(gemma_style) {
  weight = register_parameter("weight", gemma_style ? torch::zeros({dim}) : torch::ones({dim}));
}

torch::Tensor RmsNorm::forward(const torch::Tensor& x) {
  torch::Tensor h = x.to(torch::kFloat);
  h = h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  if (gemma_) return (h * (1.0 + weight.to(torch::kFloat))).to(x.scalar_type());
  return weight * h.to(x.scalar_type());
}

LayerNorm::LayerNorm(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
  bias = register_parameter("bias", torch::zeros({dim}));
}

torch::Tensor LayerNorm::forward(const torch::Tensor& x) {
  return torch::layer_norm(x, {x.size(-1)}, weight, bias, eps_);
}

Embedding::Embedding(int64_t num, int64_t dim) {
  weight = register_parameter("weight", torch::empty({num, dim}));
  if (!skip_init) torch::nn::init::normal_(weight, 0.0, 0.02);
}

torch::Tensor Embedding::forward(const torch::Tensor& ids) { return F::embedding(ids, weight); }

torch::Tensor Activation(const std::string& name, const torch::Tensor& x) {
  if (name == "silu") return F::silu(x);
  if (name == "gelu") return torch::gelu(x);
  // gelu_pytorch_tanh, gelu_new and gelu_fast are the tanh approximation.
  return torch::gelu(x, "tanh");
}

}  // namespace cluedrop::model
