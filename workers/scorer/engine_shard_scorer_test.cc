// EngineShardScorer end to end (texts in, target-tokenized scores out)
// against an independent computation: tests/oracle/make_shard_scorer_fixtures.py
// (the ctest fixture step oracle.shard_scorer_fixtures) tokenizes with the
// `tokenizers` library, runs transformers' eager attention window by window,
// applies the design formula in float64 and projects onto a second tokenizer
// with a naive loop. Tokens and byte offsets must match exactly, scores within
// 1e-5. Also: the model cache (reuse, eviction), error classes for bad
// checkpoints and differing tokenizers, and abort through the progress
// callback. A missing fixture fails.
#include "workers/scorer/engine_shard_scorer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "workers/scorer/score_expectations.h"

namespace cluedrop::scorer {
namespace {

using nlohmann::json;
constexpr double kTolerance = 1e-5;

std::string FixtureDir() { return OracleFixtureDir("shard_scorer"); }

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A scratch directory holding one tokenizer.json and nothing else; removed
// with unlink/rmdir (torch-linked binaries must not use
// std::filesystem::remove_all).
class TokenizerOnlyDir {
 public:
  explicit TokenizerOnlyDir(const std::string& tokenizer_json) {
    char pattern[] = "/tmp/cluedrop-engine-test-XXXXXX";
    dir_ = mkdtemp(pattern);
    std::ofstream(dir_ + "/tokenizer.json", std::ios::binary) << tokenizer_json;
  }
  ~TokenizerOnlyDir() {
    unlink((dir_ + "/tokenizer.json").c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

double Compare(const std::vector<float>& got, const json& want, const std::string& what) {
  return ExpectScoresNear(got, want, kTolerance, what);
}

class EngineShardScorerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = FixtureDir() + "/expected.json";
    const std::string text = ReadText(path);
    ASSERT_FALSE(text.empty())
        << path << ": missing fixture (tests/oracle/make_shard_scorer_fixtures.py did not run?)";
    expected_ = json::parse(text);
    for (const json& d : expected_["documents"]) {
      documents_.push_back({d["id"].get<std::string>(), d["text"].get<std::string>()});
    }
  }

  ShardScoringRequest Request(const json& c) const {
    ShardScoringRequest request;
    ShardScoringSettings& s = request.settings;
    s.large_checkpoint_dir = expected_["large_dir"].get<std::string>();
    s.small_checkpoint_dir = expected_["small_dir"].get<std::string>();
    if (c["target"].get<bool>()) s.target_tokenizer_dir = expected_["target_dir"];
    s.include_self = c["include_self"].get<bool>();
    s.layers = c["layers"].get<std::vector<int64_t>>();
    s.batch_tokens = 300;  // several batches and chunks per shard
    request.documents = documents_;
    return request;
  }

  static bool Continue(const ShardProgress&) { return true; }

  json expected_;
  std::vector<ShardDocument> documents_;
};

TEST_F(EngineShardScorerTest, ScoresMatchTransformersAndTheNaiveProjection) {
  EngineShardScorer engine({.device = "cpu", .chunk_documents = 2});
  double worst = 0;
  for (const json& c : expected_["cases"]) {
    const std::string what = "include_self=" + c["include_self"].dump() +
                             " layers=" + c["layers"].dump() + " target=" + c["target"].dump();
    int calls = 0;
    auto result = engine.Score(Request(c), [&](const ShardProgress& p) {
      ++calls;
      EXPECT_EQ(p.documents_total, static_cast<int64_t>(documents_.size()));
      return true;
    });
    ASSERT_TRUE(result.ok()) << what << ": " << result.status();
    EXPECT_GE(calls, 3) << what << ": progress once before and after each chunk";
    ASSERT_EQ(result->documents.size(), documents_.size());
    for (size_t d = 0; d < documents_.size(); ++d) {
      const json& want = c["results"][d];
      const ScoredText& got = result->documents[d];
      const std::string w = what + " doc " + documents_[d].id;
      EXPECT_EQ(got.tokens, want["tokens"].get<std::vector<int32_t>>()) << w;
      std::vector<std::vector<size_t>> offsets;
      for (const auto& [b, e] : got.offsets) offsets.push_back({b, e});
      EXPECT_EQ(offsets, want["offsets"].get<std::vector<std::vector<size_t>>>()) << w;
      EXPECT_EQ(got.reference_tokens, want["reference_tokens"].get<int64_t>()) << w;
      worst = std::max(worst, Compare(got.received_large, want["received_large"], w + " large"));
      worst = std::max(worst, Compare(got.received_small, want["received_small"], w + " small"));
      worst = std::max(worst, Compare(got.contrast, want["contrast"], w + " contrast"));
    }
  }
  std::cout << "max |score - transformers| over all cases: " << worst << "\n";
  // One pair for every case: loaded once.
  EXPECT_EQ(engine.models_loaded(), 2);
  EXPECT_EQ(engine.models_cached(), 2);
}

TEST_F(EngineShardScorerTest, KeepsTheCurrentPairAndEvictsOthers) {
  EngineShardScorer engine({.device = "cpu"});
  ShardScoringRequest request = Request(expected_["cases"][0]);
  request.documents.resize(1);
  auto first = engine.Score(request, Continue);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->model_load_seconds.size(), 2u);
  auto again = engine.Score(request, Continue);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->model_load_seconds.empty());
  EXPECT_EQ(engine.models_loaded(), 2);

  // Another small model (same tokenizer): the large one stays, the old small
  // one goes.
  const std::string models = expected_["large_dir"].get<std::string>() + "/../..";
  request.settings.small_checkpoint_dir = models + "/gpt2/model";
  auto other = engine.Score(request, Continue);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->model_load_seconds.size(), 1u);
  EXPECT_EQ(engine.models_loaded(), 3);
  EXPECT_EQ(engine.models_cached(), 2);

  // Large and small the same checkpoint: one resident model, contrast 0.
  request.settings.small_checkpoint_dir = request.settings.large_checkpoint_dir;
  auto same = engine.Score(request, Continue);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(engine.models_loaded(), 3);
  EXPECT_EQ(engine.models_cached(), 1);
  for (float c : same->documents[0].contrast) EXPECT_EQ(c, 0.0f);

  // Another dtype is another model.
  request.settings.small_dtype = "bfloat16";
  ASSERT_TRUE(engine.Score(request, Continue).ok());
  EXPECT_EQ(engine.models_loaded(), 4);
  EXPECT_EQ(engine.models_cached(), 2);
}

TEST_F(EngineShardScorerTest, BadCheckpointIsNotRetryable) {
  EngineShardScorer engine({.device = "cpu"});
  ShardScoringRequest request = Request(expected_["cases"][0]);
  request.settings.large_checkpoint_dir = "/nonexistent/model";
  auto missing = engine.Score(request, Continue);
  ASSERT_FALSE(missing.ok());
  EXPECT_FALSE(IsRetryableScoringError(missing.status())) << missing.status();
  EXPECT_NE(missing.status().message().find("/nonexistent/model"), std::string::npos);

  // The tokenizer is right, the weights are absent.
  TokenizerOnlyDir no_weights(
      ReadText(expected_["small_dir"].get<std::string>() + "/tokenizer.json"));
  request = Request(expected_["cases"][0]);
  request.settings.small_checkpoint_dir = no_weights.path();
  auto broken = engine.Score(request, Continue);
  ASSERT_FALSE(broken.ok());
  EXPECT_FALSE(IsRetryableScoringError(broken.status())) << broken.status();
  EXPECT_NE(broken.status().message().find("small model"), std::string::npos) << broken.status();
}

TEST_F(EngineShardScorerTest, DifferentReferenceTokenizersAreNotRetryable) {
  EngineShardScorer engine({.device = "cpu"});
  TokenizerOnlyDir other(ReadText(expected_["target_dir"].get<std::string>() + "/tokenizer.json"));
  ShardScoringRequest request = Request(expected_["cases"][0]);
  request.settings.small_checkpoint_dir = other.path();
  auto result = engine.Score(request, Continue);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status();
  EXPECT_FALSE(IsRetryableScoringError(result.status()));
  EXPECT_NE(result.status().message().find("must share a tokenizer"), std::string::npos);
}

TEST_F(EngineShardScorerTest, ProgressReturningFalseAborts) {
  EngineShardScorer engine({.device = "cpu", .chunk_documents = 1});
  int calls = 0;
  auto result = engine.Score(Request(expected_["cases"][0]), [&](const ShardProgress& p) {
    ++calls;
    return p.documents_done == 0;  // stop after the first chunk
  });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace cluedrop::scorer
