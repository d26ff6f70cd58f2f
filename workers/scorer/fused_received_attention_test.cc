// The fused received-attention kernel's block code, run by its host
// emulation (every build): against the closed form of uniform attention,
// computed here in double, and against the tiled path (itself checked
// against explicit probabilities in received_attention_test.cc) on shapes
// that cross the kernel's 64-slot tiles and 32-wide head-dim chunks, with
// GQA, soft-capping, sliding windows and left/right padding.
#include "workers/scorer/fused_received_attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <ostream>
#include <vector>

#include "workers/scorer/received_attention.h"
#include "workers/scorer/received_attention_launch.h"

namespace cluedrop::scorer {
namespace {

using model::AttentionMaskSpec;
using model::LayerAttention;

// Per-row real-token flags: row r has lengths[r] real tokens, at the start
// (right padding) or at the end (left padding).
std::vector<std::vector<uint8_t>> RealFlags(int64_t t, const std::vector<int64_t>& lengths,
                                            bool left) {
  std::vector<std::vector<uint8_t>> real(lengths.size(), std::vector<uint8_t>(t, 0));
  for (size_t r = 0; r < lengths.size(); ++r) {
    for (int64_t i = 0; i < lengths[r]; ++i) real[r][left ? t - lengths[r] + i : i] = 1;
  }
  return real;
}

// q = k = 0: a real query i spreads 1 evenly over the real keys it sees.
// Returns sum_{h} 1/H sum_{real i >= j, visible} 1/visible(i), in double.
std::vector<double> UniformColumnSums(const std::vector<uint8_t>& real, int64_t window,
                                      bool include_self) {
  const int64_t t = static_cast<int64_t>(real.size());
  std::vector<double> out(t, 0.0);
  for (int64_t i = 0; i < t; ++i) {
    if (!real[i]) continue;
    std::vector<int64_t> seen;
    for (int64_t j = 0; j <= i; ++j) {
      if (real[j] && (window <= 0 || i - j < window)) seen.push_back(j);
    }
    for (int64_t j : seen) {
      if (include_self || j != i) out[j] += 1.0 / static_cast<double>(seen.size());
    }
  }
  return out;
}

TEST(FusedKernelEmulationTest, UniformAttentionMatchesClosedForm) {
  const int t = 150, heads = 4, kv = 2, d = 40;  // 3 tiles; 2 head-dim chunks
  const std::vector<int64_t> lengths = {150, 97, 5};
  for (bool left : {false, true}) {
    const auto real = RealFlags(t, lengths, left);
    std::vector<uint8_t> valid;
    for (const auto& row : real) valid.insert(valid.end(), row.begin(), row.end());
    for (int64_t window : {0, 50, 70}) {
      for (bool include_self : {true, false}) {
        const int b = static_cast<int>(lengths.size());
        std::vector<float> q(size_t(b) * heads * t * d, 0.0f), k(size_t(b) * kv * t * d, 0.0f);
        std::vector<float> lse(size_t(b) * heads * t), sums(size_t(b) * t, 0.0f);
        kernel::Problem p;
        p.batch = b;
        p.heads = heads;
        p.kv_heads = kv;
        p.tokens = t;
        p.head_dim = d;
        p.q_stride_t = d;
        p.q_stride_h = int64_t(t) * d;
        p.q_stride_b = int64_t(heads) * t * d;
        p.k_stride_t = d;
        p.k_stride_h = int64_t(t) * d;
        p.k_stride_b = int64_t(kv) * t * d;
        p.query = q.data();
        p.key = k.data();
        p.key_valid = valid.data();
        p.window = window;
        p.include_self = include_self;
        p.column_weight = 1.0f / heads;
        p.row_lse = lse.data();
        p.column_sum = sums.data();
        kernel::EmulateReceivedAttention(p);
        for (int r = 0; r < b; ++r) {
          const std::vector<double> want = UniformColumnSums(real[r], window, include_self);
          for (int j = 0; j < t; ++j) {
            // Each head adds the same column sum times 1/H: the total is the sum.
            ASSERT_NEAR(sums[size_t(r) * t + j], want[j], 2e-5 * (1.0 + want[j]))
                << "row " << r << " slot " << j << " left=" << left << " window=" << window
                << " include_self=" << include_self;
          }
        }
      }
    }
  }
}

struct Shape {
  const char* name;
  int64_t heads, kv, d;
  std::optional<double> softcap;
  std::optional<int64_t> window;
  int padding;  // 0 none, 1 right, 2 left
};

void PrintTo(const Shape& s, std::ostream* os) { *os << s.name; }

class FusedVsTiledTest : public ::testing::TestWithParam<Shape> {};

// Max |a - b| over slots where both are numbers; the NaN patterns must match.
double MaxAbsDifference(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_TRUE(a.isnan().equal(b.isnan())) << "NaN positions differ";
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().nan_to_num(0.0).max().item<double>();
}

TEST_P(FusedVsTiledTest, SameScores) {
  const Shape s = GetParam();
  torch::manual_seed(11);
  const int64_t b = 3, t = 150;
  AttentionMaskSpec spec;
  spec.sliding_window = s.window;
  if (s.padding != 0) {
    const auto flags = RealFlags(t, {150, 97, 5}, s.padding == 2);
    torch::Tensor valid = torch::zeros({b, t}, torch::kBool);
    for (int64_t r = 0; r < b; ++r) {
      for (int64_t i = 0; i < t; ++i) valid[r][i] = static_cast<bool>(flags[r][i]);
    }
    spec.key_valid = valid;
  }
  std::vector<LayerAttention> layers;
  for (int64_t l = 0; l < 2; ++l) {
    // Queries as a model makes them: [B, T, H, D] transposed (strided heads).
    torch::Tensor q = 1.5 * torch::randn({b, t, s.heads, s.d}).transpose(1, 2);
    torch::Tensor k = 1.5 * torch::randn({b, s.kv, t, s.d});
    layers.push_back(LayerAttention{l, q, k, 1.0 / std::sqrt(double(s.d)), s.softcap, spec});
  }
  for (bool include_self : {true, false}) {
    ReceivedAttentionOptions tiled{include_self, {}, 64, false, AttentionKernel::kTiled};
    ReceivedAttentionOptions fused{include_self, {}, 64, false, AttentionKernel::kFused};
    ReceivedAttentionAccumulator want_acc(tiled), got_acc(fused);
    for (const auto& l : layers) {
      want_acc.OnLayer(l);
      got_acc.OnLayer(l);
    }
    ASSERT_TRUE(got_acc.UsesFusedKernel(layers[0]));
    torch::Tensor want = want_acc.Result(), got = got_acc.Result();
    const double scale = want.abs().nan_to_num(0.0).max().item<double>();
    EXPECT_LE(MaxAbsDifference(got, want), 1e-5 * scale)
        << s.name << " include_self=" << include_self << " (max |received| " << scale << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FusedVsTiledTest,
    ::testing::Values(Shape{"mha_d8", 4, 4, 8, std::nullopt, std::nullopt, 0},
                      Shape{"gqa_d40_right", 4, 2, 40, std::nullopt, std::nullopt, 1},
                      Shape{"gqa_d80_left", 6, 2, 80, std::nullopt, std::nullopt, 2},
                      Shape{"softcap_window70", 4, 1, 32, 2.0, 70, 0},
                      Shape{"softcap_window50_right", 4, 2, 64, 2.0, 50, 1},
                      Shape{"window3_left", 2, 2, 16, std::nullopt, 3, 2}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(FusedKernelEmulationTest, RejectsWhatItCannotRun) {
  LayerAttention layer{0,
                       torch::randn({1, 2, 5, 4}, torch::kBFloat16),
                       torch::randn({1, 2, 5, 4}, torch::kBFloat16),
                       1.0,
                       std::nullopt,
                       {}};
  ReceivedAttentionAccumulator acc({true, {}, 64, true, AttentionKernel::kFused});
  try {
    acc.OnLayer(layer);
    ADD_FAILURE() << "a bfloat16 CPU layer went through the float32 emulation";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("CPU float32"), std::string::npos) << e.what();
  }
  // auto keeps CPU tensors on the tiles.
  ReceivedAttentionAccumulator automatic({true, {}, 64, true, AttentionKernel::kAuto});
  EXPECT_FALSE(automatic.UsesFusedKernel(layer));
}

}  // namespace
}  // namespace cluedrop::scorer
