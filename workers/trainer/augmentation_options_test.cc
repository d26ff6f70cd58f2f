#include "workers/trainer/augmentation_options.h"

#include <gtest/gtest.h>

#include <cmath>

namespace cluedrop {
namespace {

TEST(AugmentationOptionsTest, DefaultsAreThePapers) {
  AugmentationOptions o;
  EXPECT_EQ(o.mode, AugmentMode::kContrast);
  EXPECT_DOUBLE_EQ(o.alpha, 0.7);
  EXPECT_DOUBLE_EQ(o.beta, 0.05);
  EXPECT_EQ(o.copies, 10u);
  EXPECT_TRUE(o.keep_original);
  EXPECT_EQ(o.form, DropForm::kBlank);
  EXPECT_EQ(o.resample, Resample::kEpoch);
  EXPECT_EQ(o.protected_tokens, (std::vector<std::string>{",", "."}));
  EXPECT_TRUE(ValidateAugmentationOptions(o).ok());
}

TEST(AugmentationOptionsTest, ValidationNamesTheField) {
  AugmentationOptions o;
  o.alpha = 1.5;
  EXPECT_NE(ValidateAugmentationOptions(o).message().find("alpha"), std::string::npos);
  o.alpha = std::nan("");
  EXPECT_EQ(ValidateAugmentationOptions(o).code(), StatusCode::kInvalidArgument);
  o = AugmentationOptions();
  o.beta = -0.1;
  EXPECT_NE(ValidateAugmentationOptions(o).message().find("beta"), std::string::npos);
  o.beta = INFINITY;
  EXPECT_EQ(ValidateAugmentationOptions(o).code(), StatusCode::kInvalidArgument);
  o = AugmentationOptions();
  o.copies = 0;
  o.keep_original = false;
  EXPECT_NE(ValidateAugmentationOptions(o).message().find("copies"), std::string::npos);
  o.mode = AugmentMode::kNone;  // none always yields the original
  EXPECT_TRUE(ValidateAugmentationOptions(o).ok());
}

TEST(AugmentationOptionsTest, NamesRoundTrip) {
  for (AugmentMode m : {AugmentMode::kNone, AugmentMode::kRandom, AugmentMode::kLarge,
                        AugmentMode::kSmall, AugmentMode::kContrast, AugmentMode::kPosition}) {
    StatusOr<AugmentMode> parsed = ParseAugmentMode(AugmentModeName(m));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, m);
  }
  EXPECT_EQ(*ParseDropForm("delete"), DropForm::kDelete);
  EXPECT_EQ(*ParseDropForm("blank"), DropForm::kBlank);
  EXPECT_EQ(*ParseResample("fixed"), Resample::kFixed);
  EXPECT_EQ(*ParseResample("epoch"), Resample::kEpoch);
  Status bad = ParseAugmentMode("attention").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("contrast"), std::string::npos) << bad;  // lists the choices
  EXPECT_FALSE(ParseDropForm("Blank").ok());
  EXPECT_FALSE(ParseResample("").ok());
}

}  // namespace
}  // namespace cluedrop
