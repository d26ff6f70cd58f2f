#include "jobspec/augment_mode.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "jobspec/augment_mode_proto.h"

namespace cluedrop::jobspec {
namespace {

TEST(AugmentModeTest, EveryWireValueMapsToItsNamesakeAndBack) {
  const v1::AugmentationMode first = v1::AUGMENTATION_MODE_NONE;
  int mapped = 0;
  for (int i = first; v1::AugmentationMode_IsValid(i); ++i) {
    const auto wire = static_cast<v1::AugmentationMode>(i);
    const AugmentMode core = AugmentModeFromProto(wire);
    EXPECT_EQ(AugmentModeToProto(core), wire) << v1::AugmentationMode_Name(wire);
    // AUGMENTATION_MODE_CONTRAST <-> "contrast": the names agree.
    std::string upper;
    for (const char* c = AugmentModeName(core); *c != 0; ++c) {
      upper += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
    }
    EXPECT_EQ("AUGMENTATION_MODE_" + upper, v1::AugmentationMode_Name(wire));
    ++mapped;
  }
  EXPECT_EQ(mapped, 6);
  EXPECT_EQ(AugmentModeFromProto(v1::AUGMENTATION_MODE_UNSPECIFIED), AugmentMode::kContrast);
}

TEST(AugmentModeTest, ParseAndNameRoundTripAndUnknownNamesListTheChoices) {
  for (const char* name : {"none", "random", "large", "small", "contrast", "position"}) {
    StatusOr<AugmentMode> mode = ParseAugmentMode(name);
    ASSERT_TRUE(mode.ok()) << name;
    EXPECT_STREQ(AugmentModeName(*mode), name);
  }
  StatusOr<AugmentMode> bad = ParseAugmentMode("clues");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "mode: unknown value 'clues' (choose none, random, large, small, contrast, position)");
  EXPECT_TRUE(RanksByScores(AugmentMode::kContrast));
  EXPECT_TRUE(RanksByScores(AugmentMode::kLarge));
  EXPECT_FALSE(RanksByScores(AugmentMode::kRandom));
  EXPECT_FALSE(RanksByScores(AugmentMode::kPosition));
}

}  // namespace
}  // namespace cluedrop::jobspec
