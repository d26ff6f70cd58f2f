// The tiled received-attention accumulator against the explicit O(T^2)
// reference (model::AttentionProbabilities + the design formula in double),
// over GQA, soft-capping, sliding windows, left/right padding and tile sizes;
// plus the closed form of uniform attention and the NaN rules.
#include "workers/scorer/received_attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <vector>

namespace cluedrop::scorer {
namespace {

using model::AttentionMaskSpec;
using model::LayerAttention;

// The design formula from explicit probabilities, in double: [B, T] with NaN
// at padding and where no query is eligible.
torch::Tensor ReferenceReceived(const std::vector<LayerAttention>& layers, bool include_self) {
  const int64_t b = layers[0].query.size(0), t = layers[0].query.size(2);
  torch::Tensor valid = layers[0].mask.key_valid.defined()
                            ? layers[0].mask.key_valid.to(torch::kBool)
                            : torch::ones({b, t}, torch::kBool);
  torch::Tensor out = torch::full({b, t}, std::nan(""), torch::kDouble);
  std::vector<torch::Tensor> probs;
  for (const auto& l : layers) probs.push_back(model::AttentionProbabilities(l).to(torch::kDouble));
  for (int64_t r = 0; r < b; ++r) {
    for (int64_t j = 0; j < t; ++j) {
      if (!valid[r][j].item<bool>()) continue;
      double total = 0;
      int64_t queries = 0;
      for (int64_t i = include_self ? j : j + 1; i < t; ++i) queries += valid[r][i].item<bool>();
      if (queries == 0) continue;
      for (const auto& p : probs) {
        const int64_t heads = p.size(1);
        double col = 0;
        for (int64_t i = include_self ? j : j + 1; i < t; ++i) {
          if (valid[r][i].item<bool>()) col += p[r].select(1, i).select(1, j).sum().item<double>();
        }
        total += col / heads / queries;
      }
      out[r][j] = total / static_cast<double>(probs.size());
    }
  }
  return out;
}

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b);

// Runs both paths and checks they agree (1e-6); returns the recompute path's
// result. Recompute: q.k again from the observed queries and keys. Reuse:
// the layer attends in tiles (model::ObservedAttend, random values) and
// hands its own probabilities over.
torch::Tensor Accumulate(const std::vector<LayerAttention>& layers,
                         ReceivedAttentionOptions options) {
  options.reuse_forward_probabilities = false;
  ReceivedAttentionAccumulator recompute(options);
  for (const auto& l : layers) recompute.OnLayer(l);
  torch::Tensor recomputed = recompute.Result();
  options.reuse_forward_probabilities = true;
  ReceivedAttentionAccumulator reuse(options);
  for (const auto& l : layers) {
    model::ObservedAttend(l.query, l.key, torch::randn_like(l.key), l, &reuse);
  }
  EXPECT_LE(MaxDiff(reuse.Result(), recomputed), 1e-6) << "the two paths disagree";
  return recomputed;
}

// Max |a - b| where both are numbers; fails if their NaN patterns differ.
double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor an = a.isnan(), bn = b.isnan();
  EXPECT_TRUE(an.equal(bn)) << "NaN positions differ:\n" << an << "\n" << bn;
  torch::Tensor d = (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().masked_fill(an, 0);
  return d.max().item<double>();
}

struct Variant {
  const char* name;
  int64_t heads, kv;
  std::optional<double> softcap;
  std::optional<int64_t> window;
  int padding;  // 0 none, 1 right, 2 left
};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }

class ReceivedVsReferenceTest : public ::testing::TestWithParam<Variant> {};

TEST_P(ReceivedVsReferenceTest, MatchesExplicitProbabilities) {
  const Variant v = GetParam();
  torch::manual_seed(7);
  const int64_t b = 3, t = 11, d = 8;
  AttentionMaskSpec spec;
  spec.sliding_window = v.window;
  if (v.padding != 0) {
    const int64_t lengths[] = {11, 7, 2};
    torch::Tensor valid = torch::zeros({b, t}, torch::kBool);
    for (int64_t r = 0; r < b; ++r) {
      if (v.padding == 1)
        valid[r].narrow(0, 0, lengths[r]).fill_(true);
      else
        valid[r].narrow(0, t - lengths[r], lengths[r]).fill_(true);
    }
    spec.key_valid = valid;
  }
  std::vector<LayerAttention> layers;
  for (int64_t l = 0; l < 3; ++l) {
    layers.push_back(LayerAttention{l, 1.5 * torch::randn({b, v.heads, t, d}),
                                    1.5 * torch::randn({b, v.kv, t, d}), 0.35, v.softcap, spec});
  }
  for (bool include_self : {true, false}) {
    torch::Tensor want = ReferenceReceived(layers, include_self);
    for (int64_t tile : {1, 3, 4, 128}) {
      torch::Tensor got = Accumulate(layers, {include_self, {}, tile});
      const double err = MaxDiff(got, want);
      EXPECT_LE(err, 1e-6) << v.name << " include_self=" << include_self << " tile=" << tile;
    }
  }
  // A layer subset averages only those layers.
  torch::Tensor want = ReferenceReceived({layers[0], layers[2]}, true);
  EXPECT_LE(MaxDiff(Accumulate(layers, {true, {0, 2}, 4}), want), 1e-6) << v.name;
}

INSTANTIATE_TEST_SUITE_P(Variants, ReceivedVsReferenceTest,
                         ::testing::Values(Variant{"mha", 4, 4, std::nullopt, std::nullopt, 0},
                                           Variant{"gqa_right", 4, 2, std::nullopt, std::nullopt,
                                                   1},
                                           Variant{"gqa_left", 6, 2, std::nullopt, std::nullopt, 2},
                                           Variant{"softcap_window", 4, 1, 2.0, 3, 0},
                                           Variant{"softcap_window_right", 4, 2, 2.0, 4, 1},
                                           Variant{"window_left", 2, 2, std::nullopt, 3, 2}),
                         [](const auto& info) { return std::string(info.param.name); });

// q = k = 0: every real query spreads 1/(its real keys) uniformly, so with n
// real tokens received(j) = 1/(n-j) * sum_{i=j..n-1} 1/(i+1).
double Uniform(int64_t n, int64_t j, bool include_self) {
  double s = 0;
  for (int64_t i = include_self ? j : j + 1; i < n; ++i) s += 1.0 / static_cast<double>(i + 1);
  const int64_t queries = include_self ? n - j : n - j - 1;
  return queries == 0 ? std::nan("") : s / static_cast<double>(queries);
}

TEST(ReceivedAttentionTest, UniformAttentionClosedFormAndNanRules) {
  const int64_t t = 6;
  AttentionMaskSpec spec;
  torch::Tensor valid = torch::zeros({2, t}, torch::kBool);
  valid[0].narrow(0, 0, 4).fill_(true);  // right-padded, 4 real tokens
  valid[1].narrow(0, 3, 3).fill_(true);  // left-padded, 3 real tokens
  spec.key_valid = valid;
  LayerAttention layer{
      0, torch::zeros({2, 2, t, 4}), torch::zeros({2, 1, t, 4}), 1.0, std::nullopt, spec};
  for (bool include_self : {true, false}) {
    torch::Tensor got = Accumulate({layer}, {include_self, {}, 2});
    for (int64_t j = 0; j < 4; ++j) {
      const double want = Uniform(4, j, include_self);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got[0][j].item<float>())) << "last real token, right padding";
      } else {
        EXPECT_NEAR(got[0][j].item<float>(), want, 1e-6) << j;
      }
    }
    for (int64_t j = 4; j < t; ++j) EXPECT_TRUE(std::isnan(got[0][j].item<float>())) << "pad " << j;
    for (int64_t j = 0; j < 3; ++j) EXPECT_TRUE(std::isnan(got[1][j].item<float>())) << "pad " << j;
    for (int64_t j = 0; j < 3; ++j) {
      const double want = Uniform(3, j, include_self);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got[1][3 + j].item<float>())) << "last real token, left padding";
      } else {
        EXPECT_NEAR(got[1][3 + j].item<float>(), want, 1e-6) << j;
      }
    }
  }
}

TEST(ReceivedAttentionTest, SingleToken) {
  LayerAttention layer{0, torch::randn({1, 2, 1, 4}), torch::randn({1, 2, 1, 4}), 1.0, std::nullopt,
                       {}};
  EXPECT_FLOAT_EQ(Accumulate({layer}, {true, {}, 128})[0][0].item<float>(), 1.0f);
  EXPECT_TRUE(std::isnan(Accumulate({layer}, {false, {}, 128})[0][0].item<float>()));
}

TEST(ReceivedAttentionTest, RejectsWhatItCannotScore) {
  ReceivedAttentionAccumulator acc({});
  EXPECT_THROW(acc.Result(), c10::Error);  // nothing observed
  LayerAttention cached{
      0, torch::randn({1, 2, 1, 4}), torch::randn({1, 2, 5, 4}), 1.0, std::nullopt, {}};
  cached.mask.query_offset = 4;
  EXPECT_THROW(acc.OnLayer(cached), c10::Error);
  acc.OnLayer({0, torch::randn({1, 2, 5, 4}), torch::randn({1, 2, 5, 4}), 1.0, std::nullopt, {}});
  EXPECT_THROW(
      acc.OnLayer(
          {1, torch::randn({2, 2, 5, 4}), torch::randn({2, 2, 5, 4}), 1.0, std::nullopt, {}}),
      c10::Error);
  acc.Reset();
  EXPECT_EQ(acc.layers_used(), 0);
  acc.OnLayer({1, torch::randn({2, 2, 5, 4}), torch::randn({2, 2, 5, 4}), 1.0, std::nullopt, {}});
  EXPECT_EQ(acc.Result().sizes(), (std::vector<int64_t>{2, 5}));
  EXPECT_THROW(ReceivedAttentionAccumulator({true, {}, 0}), c10::Error);
}

}  // namespace
}  // namespace cluedrop::scorer
