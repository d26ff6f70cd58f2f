#include "workers/model/rope.h"

#include <cmath>

namespace cluedrop::model {

torch::Tensor RopeInverseFrequencies(const ModelConfig& config) {
  const int64_t dim = config.head_dim;
  torch::Tensor exponent =
      torch::arange(0, dim, 2, torch::TensorOptions().dtype(torch::kInt64)).to(torch::kFloat) /
      static_cast<double>(dim);
  torch::Tensor inv_freq = 1.0 / torch::pow(config.rope_theta, exponent);
  const RopeScaling& s = config.rope_scaling;
  if (s.type == "linear") {
    inv_freq = inv_freq / s.factor;
  } else if (s.type == "llama3") {
    const double old_len = static_cast<double>(s.original_max_position_embeddings);
    const double low_wavelen = old_len / s.low_freq_factor;
    const double high_wavelen = old_len / s.high_freq_factor;
    torch::Tensor wavelen = 2 * M_PI / inv_freq;
    torch::Tensor scaled = torch::where(wavelen > low_wavelen, inv_freq / s.factor, inv_freq);
    torch::Tensor smooth =
        (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    torch::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
    torch::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
    inv_freq = torch::where(medium, smoothed, scaled);
  }
  return inv_freq;
}

RopeTables RopeCosSin(const torch::Tensor& inv_freq, const torch::Tensor& position_ids,
                      torch::ScalarType dtype) {
  torch::Tensor inv = inv_freq.to(position_ids.device(), torch::kFloat);
  // [B, T, dim/2] = positions x inverse frequencies, in float32.
  torch::Tensor freqs = position_ids.to(torch::kFloat).unsqueeze(-1) * inv;
  torch::Tensor emb = torch::cat({freqs, freqs}, -1);
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

torch::Tensor ApplyRope(const torch::Tensor& x, const RopeTables& tables) {
  const int64_t half = x.size(-1) / 2;
  torch::Tensor x1 = x.narrow(-1, 0, half);
  torch::Tensor x2 = x.narrow(-1, half, half);
  torch::Tensor rotated = torch::cat({-x2, x1}, -1);
  torch::Tensor cos = tables.cos.unsqueeze(1);
  torch::Tensor sin = tables.sin.unsqueeze(1);
  return x * cos + rotated * sin;
}

}  // namespace cluedrop::model
