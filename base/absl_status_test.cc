#include "base/absl_status.h"

#include <gtest/gtest.h>

namespace cluedrop {
namespace {

TEST(AbslStatusTest, AnnotatePrefixesContextAndKeepsCode) {
  absl::Status annotated = Annotate(absl::NotFoundError("no such file"), "corpus.paths[0]");
  EXPECT_EQ(annotated.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(annotated.message(), "corpus.paths[0]: no such file");
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x").ok());
}

TEST(AbslStatusTest, CoreStatusRoundTripsThroughAbsl) {
  const Status core(StatusCode::kNotFound, "config.json: missing");
  const absl::Status absl_status = ToAbslStatus(core);
  EXPECT_EQ(absl_status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(absl_status.message(), "config.json: missing");
  const Status back = FromAbslStatus(absl::ResourceExhaustedError("oom"));
  EXPECT_EQ(back.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(back.message(), "oom");
  EXPECT_TRUE(ToAbslStatus(Status()).ok());
  EXPECT_TRUE(FromAbslStatus(absl::OkStatus()).ok());
}

absl::Status FailsEarly(bool fail, int* reached) {
  CLUEDROP_RETURN_IF_ABSL_ERROR(fail ? absl::AbortedError("stop") : absl::OkStatus());
  ++*reached;
  return absl::OkStatus();
}

TEST(AbslStatusTest, ReturnIfAbslErrorReturnsTheError) {
  int reached = 0;
  EXPECT_EQ(FailsEarly(true, &reached).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(FailsEarly(false, &reached).ok());
  EXPECT_EQ(reached, 1);
}

}  // namespace
}  // namespace cluedrop
