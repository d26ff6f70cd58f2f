#include "workers/trainer/dropout_mask.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace cluedrop {
namespace {

using ::testing::ElementsAre;

TEST(DropProbabilityTest, MatchesTheFormulaByHand) {
  DropoutParams params{.alpha = 0.7, .beta = 0.05};
  EXPECT_DOUBLE_EQ(DropProbability(0, params), 0.0);
  // r = 20: 0.7 * (1 - e^-1) = 0.4424857...
  EXPECT_NEAR(DropProbability(20, params), 0.7 * (1 - 0.36787944117144233), 1e-12);
  // Far tail approaches alpha.
  EXPECT_NEAR(DropProbability(1000, params), 0.7, 1e-12);
  EXPECT_DOUBLE_EQ(DropProbability(7, {.alpha = 0.0, .beta = 0.05}), 0.0);
}

TEST(RankPositionsTest, DescendingScoreTiesByEarlierPositionSkipsProtected) {
  const std::vector<float> scores = {0.1f, 0.9f, 0.5f, 0.9f, 0.3f};
  const std::vector<bool> droppable = {true, true, false, true, true};
  // Droppable by score: pos1 (0.9), pos3 (0.9, later tie), pos4 (0.3), pos0 (0.1).
  EXPECT_THAT(RankPositions(scores, droppable), ElementsAre(3, 0, -1, 1, 2));
}

TEST(RankPositionsTest, NanScoresRankLastInPositionOrder) {
  const float nan = std::nanf("");
  const std::vector<float> scores = {nan, 0.2f, -INFINITY, nan, 0.9f, 0.2f};
  const std::vector<bool> droppable(scores.size(), true);
  // 0.9 (pos4), 0.2 (pos1), 0.2 (pos5), -inf (pos2), NaN (pos0), NaN (pos3).
  EXPECT_THAT(RankPositions(scores, droppable), ElementsAre(4, 1, 3, 5, 0, 2));
}

TEST(SampleDropMaskTest, PureFunctionOfSeedDocumentEpochCopy) {
  const std::vector<float> scores(64, 0.0f);
  const std::vector<bool> droppable(64, true);
  DropoutParams params{.alpha = 0.5, .beta = 0.05};
  MaskKey key{.seed = 7, .document_id = "bio-1", .epoch = 2, .copy = 3};
  const auto mask = SampleDropMask(AugmentMode::kRandom, scores, droppable, params, key);
  EXPECT_EQ(mask, SampleDropMask(AugmentMode::kRandom, scores, droppable, params, key));
  for (MaskKey other : {MaskKey{8, "bio-1", 2, 3}, MaskKey{7, "bio-2", 2, 3},
                        MaskKey{7, "bio-1", 3, 3}, MaskKey{7, "bio-1", 2, 4}}) {
    EXPECT_NE(mask, SampleDropMask(AugmentMode::kRandom, scores, droppable, params, other));
  }
}

TEST(SampleDropMaskTest, NoneDropsNothingAndProtectedNeverDrop) {
  std::vector<float> scores(200);
  std::vector<bool> droppable(200);
  for (size_t i = 0; i < 200; ++i) {
    scores[i] = static_cast<float>((i * 37) % 101);
    droppable[i] = i % 5 != 0;
  }
  DropoutParams params{.alpha = 1.0, .beta = 10.0};  // every unprotected non-top token drops
  for (uint32_t copy = 0; copy < 50; ++copy) {
    MaskKey key{.seed = 1, .document_id = "d", .epoch = 0, .copy = copy};
    for (AugmentMode mode :
         {AugmentMode::kRandom, AugmentMode::kContrast, AugmentMode::kPosition}) {
      auto mask = SampleDropMask(mode, scores, droppable, params, key);
      for (size_t i = 0; i < 200; i += 5) EXPECT_FALSE(mask[i]) << "protected position " << i;
    }
    auto none = SampleDropMask(AugmentMode::kNone, scores, droppable, params, key);
    EXPECT_EQ(std::count(none.begin(), none.end(), true), 0);
  }
}

// Empirical drop frequency per rank over N independent copies must match p(r)
// within 5 standard errors (sqrt(p(1-p)/N)); with 40 ranks x 3 modes the chance
// of a false failure is below 1e-4. The seed is fixed, so the test is
// deterministic.
void ExpectFrequenciesMatch(AugmentMode mode, const std::vector<float>& scores,
                            const std::vector<bool>& droppable, const DropoutParams& params,
                            const std::vector<int32_t>& expected_rank) {
  constexpr int kDraws = 20000;
  std::vector<int> drops(scores.size(), 0);
  for (int draw = 0; draw < kDraws; ++draw) {
    MaskKey key{
        .seed = 12345, .document_id = "bio", .epoch = 0, .copy = static_cast<uint32_t>(draw)};
    auto mask = SampleDropMask(mode, scores, droppable, params, key);
    for (size_t i = 0; i < mask.size(); ++i) drops[i] += mask[i];
  }
  for (size_t i = 0; i < scores.size(); ++i) {
    const double p = expected_rank[i] < 0 ? 0.0
                     : mode == AugmentMode::kRandom
                         ? params.alpha
                         : DropProbability(static_cast<size_t>(expected_rank[i]), params);
    const double observed = static_cast<double>(drops[i]) / kDraws;
    const double bound = 5 * std::sqrt(std::max(p * (1 - p), 1e-12) / kDraws) + 1e-12;
    EXPECT_NEAR(observed, p, bound) << "position " << i << " rank " << expected_rank[i];
  }
}

TEST(SampleDropMaskTest, EmpiricalFrequencyMatchesPOfRankForEveryMode) {
  const size_t n = 40;
  std::vector<float> scores(n);
  std::vector<bool> droppable(n, true);
  droppable[3] = droppable[17] = false;
  for (size_t i = 0; i < n; ++i) scores[i] = std::sin(static_cast<float>(i) * 1.7f);
  DropoutParams params{.alpha = 0.7, .beta = 0.1};

  ExpectFrequenciesMatch(AugmentMode::kContrast, scores, droppable, params,
                         RankPositions(scores, droppable));
  std::vector<int32_t> by_position(n, -1);
  for (int32_t i = 0, r = 0; i < static_cast<int32_t>(n); ++i) {
    if (droppable[i]) by_position[i] = r++;
  }
  ExpectFrequenciesMatch(AugmentMode::kPosition, scores, droppable, params, by_position);
  std::vector<int32_t> all_droppable(n, 0);
  for (size_t i = 0; i < n; ++i) all_droppable[i] = droppable[i] ? 0 : -1;
  ExpectFrequenciesMatch(AugmentMode::kRandom, scores, droppable, params, all_droppable);
}

TEST(MaskUniformTest, LooksUniform) {
  // Mean 1/2 and variance 1/12 within 5 standard errors over 100k draws.
  constexpr int kDraws = 100000;
  double sum = 0, sum_sq = 0;
  MaskKey key{.seed = 99, .document_id = "x", .epoch = 1, .copy = 0};
  for (int i = 0; i < kDraws; ++i) {
    const double u = MaskUniform(key, i);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum_sq += u * u;
  }
  const double mean = sum / kDraws;
  EXPECT_NEAR(mean, 0.5, 5 * std::sqrt(1.0 / 12 / kDraws));
  EXPECT_NEAR(sum_sq / kDraws - mean * mean, 1.0 / 12, 0.002);
}

}  // namespace
}  // namespace cluedrop
