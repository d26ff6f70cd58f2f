// Scorer properties that need no oracle: the batch plan, batching and tiling
// invariance, windows scored as their own sequences, contrast, and errors.
#include "workers/scorer/scorer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "workers/model/causal_lm.h"
#include "workers/scorer/received_attention.h"

namespace cluedrop::scorer {
namespace {

std::shared_ptr<model::CausalLM> TinyModel(const std::string& type, int64_t seed) {
  std::string json =
      type == "gpt2"
          ? R"({"model_type": "gpt2", "vocab_size": 50, "n_embd": 32, "n_layer": 3, "n_head": 4,
               "n_positions": 40})"
          : R"({"model_type": ")" + type + R"(", "vocab_size": 50, "hidden_size": 32,
               "intermediate_size": 48, "num_hidden_layers": 3, "num_attention_heads": 4,
               "num_key_value_heads": 2, "max_position_embeddings": 40, "sliding_window": 5,
               "attn_logit_softcapping": 2.0, "query_pre_attn_scalar": 6})";
  auto config = model::ParseModelConfig(json);
  EXPECT_TRUE(config.ok()) << config.status();
  torch::manual_seed(seed);
  auto m = model::CreateCausalLM(*config);
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

std::vector<std::vector<int32_t>> RandomDocs(const std::vector<int64_t>& lengths) {
  std::vector<std::vector<int32_t>> docs;
  uint32_t x = 12345;
  for (int64_t n : lengths) {
    docs.emplace_back();
    for (int64_t i = 0; i < n; ++i) {
      x = x * 1103515245u + 12345u;
      docs.back().push_back(3 + static_cast<int32_t>((x >> 16) % 47));
    }
  }
  return docs;
}

void ExpectSame(const std::vector<float>& a, const std::vector<float>& b, double tol,
                const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(b[i])) {
      EXPECT_TRUE(std::isnan(a[i])) << what << " [" << i << "]";
    } else {
      EXPECT_NEAR(a[i], b[i], tol) << what << " [" << i << "]";
    }
  }
}

TEST(PlanBatchesTest, WindowsLongestFirstUnderBudget) {
  auto batches = PlanBatches({10, 0, 3, 25, 7}, /*window=*/8, /*batch_tokens=*/16);
  // Segments: doc0 8+2, doc2 3, doc3 8+8+8+1, doc4 7.
  std::vector<std::vector<std::tuple<int64_t, int64_t, int64_t>>> got;
  int64_t total = 0;
  for (const Batch& b : batches) {
    got.emplace_back();
    EXPECT_LE(static_cast<int64_t>(b.rows.size()) * b.max_length, 16);
    for (const Segment& s : b.rows) {
      got.back().emplace_back(s.doc, s.begin, s.length);
      EXPECT_LE(s.length, b.max_length);
      total += s.length;
    }
  }
  EXPECT_EQ(total, 10 + 3 + 25 + 7);
  using T = std::tuple<int64_t, int64_t, int64_t>;
  std::vector<std::vector<T>> want = {{T{0, 0, 8}, T{3, 0, 8}},
                                      {T{3, 8, 8}, T{3, 16, 8}},
                                      {T{4, 0, 7}, T{2, 0, 3}},
                                      {T{0, 8, 2}, T{3, 24, 1}}};
  EXPECT_EQ(got, want);
  // A segment over the budget gets a batch of its own.
  auto big = PlanBatches({30, 30}, 100, 10);
  ASSERT_EQ(big.size(), 2u);
  EXPECT_EQ(big[0].rows.size(), 1u);
}

class ScorerFamilyTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ScorerFamilyTest, BatchingAndTilingDoNotChangeScores) {
  auto large = TinyModel(GetParam(), 1), small = TinyModel(GetParam(), 2);
  auto docs = RandomDocs({17, 3, 1, 0, 40, 9, 55});
  ScoreOptions one_by_one;
  one_by_one.batch_tokens = 1;  // every segment alone, no padding
  auto want = Scorer(one_by_one).Score(*large, *small, docs);
  ASSERT_TRUE(want.ok()) << want.status();
  for (int64_t tile : {1, 7, 128}) {
    ScoreOptions batched;
    batched.batch_tokens = 100;
    batched.tile = tile;
    auto got = Scorer(batched).Score(*large, *small, docs);
    ASSERT_TRUE(got.ok()) << got.status();
    for (size_t d = 0; d < docs.size(); ++d) {
      ExpectSame((*got)[d].received_large, (*want)[d].received_large, 1e-5, "large");
      ExpectSame((*got)[d].received_small, (*want)[d].received_small, 1e-5, "small");
      ExpectSame((*got)[d].contrast, (*want)[d].contrast, 2e-5, "contrast");
    }
  }
  const DocumentScores& s = (*want)[0];
  for (size_t i = 0; i < s.contrast.size(); ++i) {
    EXPECT_FLOAT_EQ(s.contrast[i], s.received_large[i] - s.received_small[i]);
  }
  EXPECT_TRUE((*want)[3].contrast.empty());
}

TEST_P(ScorerFamilyTest, LongDocumentsAreScoredWindowByWindow) {
  auto m = TinyModel(GetParam(), 3);
  auto docs = RandomDocs({23});
  std::vector<std::vector<int32_t>> pieces = {{docs[0].begin(), docs[0].begin() + 10},
                                              {docs[0].begin() + 10, docs[0].begin() + 20},
                                              {docs[0].begin() + 20, docs[0].end()}};
  for (bool include_self : {true, false}) {
    ScoreOptions options;
    options.window_tokens = 10;
    options.include_self = include_self;
    auto whole = Scorer(options).Received(*m, docs);
    auto parts = Scorer(options).Received(*m, pieces);
    ASSERT_TRUE(whole.ok() && parts.ok());
    std::vector<float> joined;
    for (const auto& p : *parts) joined.insert(joined.end(), p.begin(), p.end());
    ExpectSame((*whole)[0], joined, 1e-6, "windows");
    // Without include_self the last token of each window has no score.
    for (int64_t i : {9, 19, 22}) EXPECT_EQ(std::isnan((*whole)[0][i]), !include_self) << i;
  }
}

// The fused kernel (its host emulation on the CPU) gives the tiles' scores
// through the whole scorer: every family's masks (Mistral/Gemma-2 sliding
// windows, Gemma-2 soft-capping, GPT-2), batched and padded.
TEST_P(ScorerFamilyTest, FusedKernelGivesTheTiledScores) {
  auto large = TinyModel(GetParam(), 1), small = TinyModel(GetParam(), 2);
  auto docs = RandomDocs({17, 3, 1, 0, 40, 9, 55});
  for (bool include_self : {true, false}) {
    ScoreOptions tiled, fused;
    tiled.batch_tokens = fused.batch_tokens = 100;
    tiled.include_self = fused.include_self = include_self;
    tiled.kernel = AttentionKernel::kTiled;
    fused.kernel = AttentionKernel::kFused;
    auto want = Scorer(tiled).Score(*large, *small, docs);
    auto got = Scorer(fused).Score(*large, *small, docs);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(got.ok()) << got.status();
    for (size_t d = 0; d < docs.size(); ++d) {
      ExpectSame((*got)[d].received_large, (*want)[d].received_large, 1e-6, "large");
      ExpectSame((*got)[d].received_small, (*want)[d].received_small, 1e-6, "small");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ScorerFamilyTest,
                         ::testing::Values("llama", "mistral", "gemma2", "gpt2"));

TEST(ScorerTest, ReportsBadInputs) {
  auto large = TinyModel("llama", 1), small = TinyModel("gpt2", 2);
  auto docs = RandomDocs({5});
  auto code = [&](ScoreOptions o, std::vector<std::vector<int32_t>> d) {
    return Scorer(o).Score(*large, *small, d).status();
  };
  ScoreOptions o;
  EXPECT_TRUE(code(o, docs).ok());
  auto bad = docs;
  bad[0][2] = 50;
  Status s = code(o, bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("docs[0][2]"), std::string::npos) << s;
  o.layers = {-3, 2};
  EXPECT_TRUE(code(o, docs).ok());
  o.layers = {3};
  s = code(o, docs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("layers: 3"), std::string::npos) << s;
  o = {};
  o.window_tokens = 41;
  EXPECT_EQ(code(o, docs).code(), StatusCode::kInvalidArgument);
  o = {};
  o.batch_tokens = 0;
  EXPECT_EQ(code(o, docs).code(), StatusCode::kInvalidArgument);
  o = {};
  o.tile = -1;
  EXPECT_EQ(code(o, docs).code(), StatusCode::kInvalidArgument);
  // The fused kernel's CPU form is float32 only: a bfloat16 model is refused
  // up front, naming the option.
  o = {};
  o.kernel = AttentionKernel::kFused;
  ASSERT_TRUE(small->Place(model::DeviceMap::Even(3, {torch::kCPU}), torch::kBFloat16).ok());
  s = code(o, docs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("kernel: fused"), std::string::npos) << s;
}

}  // namespace
}  // namespace cluedrop::scorer
