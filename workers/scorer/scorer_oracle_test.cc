// The scorer against transformers: tests/oracle/make_score_fixtures.py (the
// ctest fixture step oracle.score_fixtures) runs every window of every
// document through transformers' eager attention with output_attentions and
// applies the design formula in float64. Our received_large, received_small
// and contrast must agree within 1e-5 (float32) in every case (with and
// without include_self, default and small windows, layer subsets), with the
// documents batched and right-padded (several token budgets, tile sizes and
// the fused kernel's host emulation),
// and also through a left-padded batch fed to the accumulator directly. The
// cross-tokenizer case projects our scores through byte offsets and compares
// with an independent Python projection. A missing fixture fails.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "workers/model/model_loader.h"
#include "workers/scorer/projection.h"
#include "workers/scorer/received_attention.h"
#include "workers/scorer/score_expectations.h"
#include "workers/scorer/scorer.h"

namespace cluedrop::scorer {
namespace {

using nlohmann::json;
constexpr double kTolerance = 1e-5;

std::string FixtureDir() { return OracleFixtureDir("scores"); }

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return json();
  return json::parse(in);
}

std::shared_ptr<model::CausalLM> Load(const std::string& dir) {
  auto m = model::LoadCausalLM(dir, {});
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : nullptr;
}

// Compares one score vector; null in the fixture means NaN. Returns max |diff|.
double Compare(const std::vector<float>& got, const json& want, const std::string& what) {
  return ExpectScoresNear(got, want, kTolerance, what);
}

struct MaxErrors {
  double large = 0, small = 0, contrast = 0;
  void Print(const std::string& what) const {
    std::cout << what << ": max |err| received_large " << large << ", received_small " << small
              << ", contrast " << contrast << "\n";
  }
};

ScoreOptions OptionsFor(const json& c) {
  ScoreOptions o;
  o.include_self = c["include_self"].get<bool>();
  o.window_tokens = c["window_tokens"].get<int64_t>();
  o.layers = c["layers"].get<std::vector<int64_t>>();
  return o;
}

class ScorerOracleTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = FixtureDir() + "/" + GetParam();
    ASSERT_TRUE(std::filesystem::exists(dir_ + "/expected.json"))
        << dir_
        << "/expected.json: missing fixture (tests/oracle/make_score_fixtures.py did not run?)";
    expected_ = ReadJson(dir_ + "/expected.json");
    ASSERT_TRUE(expected_.contains("cases")) << dir_ << "/expected.json: unreadable";
    docs_ = expected_["docs"].get<std::vector<std::vector<int32_t>>>();
    large_ = Load(dir_ + "/large");
    small_ = Load(dir_ + "/small");
    ASSERT_TRUE(large_ && small_);
  }

  std::string dir_;
  json expected_;
  std::vector<std::vector<int32_t>> docs_;
  std::shared_ptr<model::CausalLM> large_, small_;
};

TEST_P(ScorerOracleTest, BatchedPaddedScoresMatchTransformers) {
  MaxErrors all;
  for (const json& c : expected_["cases"]) {
    for (int64_t batch_tokens : {1, 100, 8192}) {
      // The tiles at two sizes, and the fused kernel (its host emulation).
      for (auto [kernel, tile] : {std::pair{AttentionKernel::kTiled, int64_t{5}},
                                  std::pair{AttentionKernel::kTiled, int64_t{128}},
                                  std::pair{AttentionKernel::kFused, int64_t{0}}}) {
        ScoreOptions o = OptionsFor(c);
        o.batch_tokens = batch_tokens;
        o.tile = tile;
        o.kernel = kernel;
        const std::string what =
            std::string(GetParam()) + " include_self=" + (o.include_self ? "true" : "false") +
            " window=" + std::to_string(o.window_tokens) + " layers=" + c["layers"].dump() +
            " batch_tokens=" + std::to_string(batch_tokens) +
            " kernel=" + AttentionKernelName(kernel) + " tile=" + std::to_string(tile);
        auto scores = Scorer(o).Score(*large_, *small_, docs_);
        ASSERT_TRUE(scores.ok()) << what << ": " << scores.status();
        ASSERT_EQ(scores->size(), docs_.size());
        for (size_t d = 0; d < docs_.size(); ++d) {
          const std::string w = what + " doc " + std::to_string(d);
          all.large = std::max(all.large, Compare((*scores)[d].received_large,
                                                  c["received_large"][d], w + " large"));
          all.small = std::max(all.small, Compare((*scores)[d].received_small,
                                                  c["received_small"][d], w + " small"));
          all.contrast = std::max(
              all.contrast, Compare((*scores)[d].contrast, c["contrast"][d], w + " contrast"));
        }
      }
    }
  }
  all.Print(std::string("[") + GetParam() + "] all cases, batched and right-padded");
  RecordProperty("max_err_contrast", std::to_string(all.contrast));
}

// The accumulator on a left-padded batch (the model derives positions from
// the mask) gives the same numbers.
TEST_P(ScorerOracleTest, LeftPaddedBatchMatchesTransformers) {
  const json& c = expected_["cases"][0];  // include_self, default window, all layers
  ASSERT_TRUE(c["include_self"].get<bool>() && c["window_tokens"].get<int64_t>() == 0);
  const int64_t context = expected_["max_position_embeddings"].get<int64_t>();
  std::vector<size_t> picked;
  int64_t width = 0;
  for (size_t d = 0; d < docs_.size(); ++d) {
    const int64_t n = static_cast<int64_t>(docs_[d].size());
    if (n <= context) picked.push_back(d), width = std::max(width, n);
  }
  const int64_t rows = static_cast<int64_t>(picked.size());
  torch::Tensor ids = torch::zeros({rows, width}, torch::kLong);
  torch::Tensor mask = torch::zeros({rows, width}, torch::kLong);
  auto id_acc = ids.accessor<int64_t, 2>();
  auto mask_acc = mask.accessor<int64_t, 2>();
  for (int64_t r = 0; r < rows; ++r) {
    const auto& doc = docs_[picked[r]];
    const int64_t n = static_cast<int64_t>(doc.size()), pad = width - n;
    for (int64_t i = 0; i < n; ++i) {
      id_acc[r][pad + i] = doc[i];
      mask_acc[r][pad + i] = 1;
    }
  }
  MaxErrors errors;
  for (auto [m, key, err] : {std::tuple{large_.get(), "received_large", &errors.large},
                             std::tuple{small_.get(), "received_small", &errors.small}}) {
    c10::InferenceMode inference;
    ReceivedAttentionAccumulator acc({true, {}, 7});
    model::ForwardOptions options;
    options.attention_mask = mask;
    options.observer = &acc;
    options.skip_lm_head = true;
    m->Forward(ids, options);
    torch::Tensor received = acc.Result();
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = static_cast<int64_t>(docs_[picked[r]].size());
      torch::Tensor row = received[r].narrow(0, width - n, n).contiguous();
      std::vector<float> got(row.data_ptr<float>(), row.data_ptr<float>() + n);
      *err = std::max(*err,
                      Compare(got, c[key][picked[r]],
                              std::string(key) + " left-padded doc " + std::to_string(picked[r])));
    }
  }
  std::cout << "[" << GetParam() << "] left-padded batch: max |err| received_large " << errors.large
            << ", received_small " << errors.small << "\n";
}

INSTANTIATE_TEST_SUITE_P(Pairs, ScorerOracleTest,
                         ::testing::Values("llama_gemma2", "llama_mistral", "gpt2"));

TEST(ScorerCrossTokenizerOracleTest, ProjectedScoresMatchPython) {
  const std::string dir = FixtureDir();
  ASSERT_TRUE(std::filesystem::exists(dir + "/cross/expected.json"))
      << dir
      << "/cross/expected.json: missing fixture (tests/oracle/make_score_fixtures.py did not run?)";
  json expected = ReadJson(dir + "/cross/expected.json");
  const std::string pair = expected["models"].get<std::string>();
  auto large = Load(dir + "/" + pair + "/large");
  auto small = Load(dir + "/" + pair + "/small");
  ASSERT_TRUE(large && small);
  MaxErrors all;
  for (const json& item : expected["items"]) {
    auto ids = item["reference_ids"].get<std::vector<int32_t>>();
    auto ref_offsets = item["reference_offsets"].get<std::vector<ByteSpan>>();
    auto target_offsets = item["target_offsets"].get<std::vector<ByteSpan>>();
    for (const json& c : item["cases"]) {
      ScoreOptions o;
      o.include_self = c["include_self"].get<bool>();
      o.window_tokens = expected["window_tokens"].get<int64_t>();
      auto scores = Scorer(o).Score(*large, *small, {ids});
      ASSERT_TRUE(scores.ok()) << scores.status();
      const DocumentScores& s = (*scores)[0];
      const std::string what = item["text"].get<std::string>() + (o.include_self ? " (self)" : "");
      auto project = [&](const std::vector<float>& v) {
        auto p = ProjectScores(ref_offsets, v, target_offsets);
        EXPECT_TRUE(p.ok()) << p.status();
        return p.ok() ? *p : std::vector<float>{};
      };
      all.large = std::max(
          all.large, Compare(project(s.received_large), c["received_large"], what + " large"));
      all.small = std::max(
          all.small, Compare(project(s.received_small), c["received_small"], what + " small"));
      all.contrast =
          std::max(all.contrast, Compare(project(s.contrast), c["contrast"], what + " contrast"));
    }
  }
  all.Print("cross-tokenizer projection");
}

}  // namespace
}  // namespace cluedrop::scorer
