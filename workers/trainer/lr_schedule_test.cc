// Schedules against hand-computed closed-form values (not against the code's
// own earlier output).
#include "workers/trainer/lr_schedule.h"

#include <gtest/gtest.h>

namespace cluedrop::trainer {
namespace {

LrScheduleOptions Options(LrScheduleKind kind) {
  LrScheduleOptions o;
  o.kind = kind;
  o.peak_lr = 1e-3;
  o.warmup_steps = 10;
  o.total_steps = 110;  // 100 decay steps
  o.min_lr_ratio = 0.1;
  return o;
}

TEST(LrScheduleTest, WarmupIsLinearFromPeakOverWarmupToPeak) {
  for (auto kind : {LrScheduleKind::kConstant, LrScheduleKind::kLinear, LrScheduleKind::kCosine}) {
    auto o = Options(kind);
    EXPECT_DOUBLE_EQ(LearningRate(o, 0), 1e-4);
    EXPECT_DOUBLE_EQ(LearningRate(o, 4), 5e-4);
    EXPECT_DOUBLE_EQ(LearningRate(o, 9), 1e-3);
    EXPECT_DOUBLE_EQ(LearningRate(o, 10), 1e-3);  // decay progress 0
  }
}

TEST(LrScheduleTest, ConstantStaysAtPeak) {
  auto o = Options(LrScheduleKind::kConstant);
  EXPECT_DOUBLE_EQ(LearningRate(o, 60), 1e-3);
  EXPECT_DOUBLE_EQ(LearningRate(o, 100000), 1e-3);
}

TEST(LrScheduleTest, LinearDecayMatchesClosedForm) {
  auto o = Options(LrScheduleKind::kLinear);
  // p = 0.25: 1e-3 * (1 - 0.9 * 0.25) = 7.75e-4
  EXPECT_NEAR(LearningRate(o, 35), 7.75e-4, 1e-15);
  // p = 0.5: 1e-3 * (1 - 0.45) = 5.5e-4
  EXPECT_NEAR(LearningRate(o, 60), 5.5e-4, 1e-15);
  EXPECT_NEAR(LearningRate(o, 110), 1e-4, 1e-15);
  EXPECT_NEAR(LearningRate(o, 500), 1e-4, 1e-15);  // held at the floor
}

TEST(LrScheduleTest, CosineDecayMatchesClosedForm) {
  auto o = Options(LrScheduleKind::kCosine);
  // p = 0.25: (1 + cos(pi/4)) / 2 = 0.853553390593; 0.1 + 0.9 * that.
  EXPECT_NEAR(LearningRate(o, 35), 1e-3 * 0.868198051534, 1e-14);
  // p = 0.5: cos(pi/2) = 0 -> 0.1 + 0.45.
  EXPECT_NEAR(LearningRate(o, 60), 5.5e-4, 1e-15);
  // p = 0.75: (1 - cos(pi/4)) / 2 = 0.146446609407.
  EXPECT_NEAR(LearningRate(o, 85), 1e-3 * (0.1 + 0.9 * 0.146446609407), 1e-14);
  EXPECT_NEAR(LearningRate(o, 110), 1e-4, 1e-15);
  EXPECT_NEAR(LearningRate(o, 111), 1e-4, 1e-15);
}

TEST(LrScheduleTest, NoWarmupStartsAtPeakAndDecaysToZero) {
  LrScheduleOptions o;
  o.kind = LrScheduleKind::kLinear;
  o.peak_lr = 2.0;
  o.total_steps = 4;
  EXPECT_DOUBLE_EQ(LearningRate(o, 0), 2.0);
  EXPECT_DOUBLE_EQ(LearningRate(o, 1), 1.5);
  EXPECT_DOUBLE_EQ(LearningRate(o, 2), 1.0);
  EXPECT_DOUBLE_EQ(LearningRate(o, 4), 0.0);
}

TEST(LrScheduleTest, ValidationNamesTheField) {
  auto o = Options(LrScheduleKind::kCosine);
  EXPECT_TRUE(ValidateLrSchedule(o).ok());
  o.total_steps = 10;
  Status s = ValidateLrSchedule(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("total_steps"), std::string::npos) << s;
  o = Options(LrScheduleKind::kConstant);
  o.total_steps = 0;  // constant needs no total
  EXPECT_TRUE(ValidateLrSchedule(o).ok());
  o.peak_lr = 0;
  EXPECT_NE(ValidateLrSchedule(o).message().find("peak_lr"), std::string::npos);
  o = Options(LrScheduleKind::kLinear);
  o.min_lr_ratio = 1.5;
  EXPECT_NE(ValidateLrSchedule(o).message().find("min_lr_ratio"), std::string::npos);
  o = Options(LrScheduleKind::kLinear);
  o.warmup_steps = -1;
  EXPECT_NE(ValidateLrSchedule(o).message().find("warmup_steps"), std::string::npos);
}

}  // namespace
}  // namespace cluedrop::trainer
