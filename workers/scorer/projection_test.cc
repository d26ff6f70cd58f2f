// ProjectScores: max over overlapping reference byte spans, empty spans and
// NaN scores ignored, argument errors.
#include "workers/scorer/projection.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cluedrop::scorer {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

std::vector<float> Project(const std::vector<ByteSpan>& ref, const std::vector<float>& scores,
                           const std::vector<ByteSpan>& target) {
  auto out = ProjectScores(ref, scores, target);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : std::vector<float>{};
}

TEST(ProjectScoresTest, TargetTakesMaxOfOverlappingReferenceTokens) {
  // Text "Hello world": reference "Hel" "lo" " wor" "ld"; target "Hello" " world".
  std::vector<ByteSpan> ref = {{0, 3}, {3, 5}, {5, 9}, {9, 11}};
  std::vector<float> scores = {0.1f, 0.7f, 0.2f, 0.4f};
  auto out = Project(ref, scores, {{0, 5}, {5, 11}, {2, 4}, {4, 6}});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_FLOAT_EQ(out[0], 0.7f);
  EXPECT_FLOAT_EQ(out[1], 0.4f);
  EXPECT_FLOAT_EQ(out[2], 0.7f);  // bytes 2..3 touch "Hel" and "lo"
  EXPECT_FLOAT_EQ(out[3], 0.7f);  // byte 4 in "lo", byte 5 in " wor"
}

TEST(ProjectScoresTest, HalfOpenSpansThatOnlyTouchDoNotOverlap) {
  auto out = Project({{0, 3}, {3, 6}}, {1.0f, 2.0f}, {{3, 3}, {0, 3}, {3, 4}, {6, 8}});
  EXPECT_TRUE(std::isnan(out[0]));  // empty target span
  EXPECT_FLOAT_EQ(out[1], 1.0f);
  EXPECT_FLOAT_EQ(out[2], 2.0f);
  EXPECT_TRUE(std::isnan(out[3]));  // past the reference text
}

TEST(ProjectScoresTest, EmptyReferenceSpansAndNanScoresAreIgnored) {
  // BOS (0,0) with a large score, a NaN-scored token (the last one without
  // include_self), a multi-byte character split over two reference tokens
  // that share its span.
  std::vector<ByteSpan> ref = {{0, 0}, {0, 2}, {2, 4}, {2, 4}, {4, 6}};
  std::vector<float> scores = {9.0f, 0.5f, 0.25f, 0.75f, kNan};
  auto out = Project(ref, scores, {{0, 0}, {0, 1}, {2, 4}, {4, 6}, {1, 6}});
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_FLOAT_EQ(out[1], 0.5f);
  EXPECT_FLOAT_EQ(out[2], 0.75f);
  EXPECT_TRUE(std::isnan(out[3]));  // only a NaN reference overlaps
  EXPECT_FLOAT_EQ(out[4], 0.75f);
}

TEST(ProjectScoresTest, UnsortedAndOverlappingReferences) {
  std::vector<ByteSpan> ref = {{10, 20}, {0, 4}, {3, 12}, {18, 19}};
  std::vector<float> scores = {-1.0f, -3.0f, -2.0f, 5.0f};
  auto out = Project(ref, scores, {{0, 1}, {4, 10}, {11, 12}, {12, 18}, {15, 25}});
  EXPECT_FLOAT_EQ(out[0], -3.0f);
  EXPECT_FLOAT_EQ(out[1], -2.0f);
  EXPECT_FLOAT_EQ(out[2], -1.0f);
  EXPECT_FLOAT_EQ(out[3], -1.0f);
  EXPECT_FLOAT_EQ(out[4], 5.0f);
}

TEST(ProjectScoresTest, SameTokenizationIsIdentity) {
  std::vector<ByteSpan> spans = {{0, 1}, {1, 4}, {4, 5}};
  auto out = Project(spans, {0.3f, kNan, -0.2f}, spans);
  EXPECT_FLOAT_EQ(out[0], 0.3f);
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_FLOAT_EQ(out[2], -0.2f);
  EXPECT_TRUE(Project({}, {}, {}).empty());
}

TEST(ProjectScoresTest, RejectsMismatchedOrInvertedSpans) {
  EXPECT_EQ(ProjectScores({{0, 1}}, {}, {}).status().code(), StatusCode::kInvalidArgument);
  auto s = ProjectScores({{3, 1}}, {1.0f}, {}).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("reference_offsets[0]"), std::string::npos) << s;
  EXPECT_EQ(ProjectScores({}, {}, {{2, 1}}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cluedrop::scorer
