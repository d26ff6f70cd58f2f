#include "services/common/status_adapter.h"

#include <gtest/gtest.h>

namespace cluedrop {
namespace {

TEST(StatusAdapterTest, OkMapsToOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(StatusAdapterTest, EveryCanonicalCodeKeepsItsMeaningBothWays) {
  const std::pair<absl::StatusCode, grpc::StatusCode> pairs[] = {
      {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
      {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN},
      {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
      {absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED},
      {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE},
      {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS},
      {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const auto& [absl_code, grpc_code] : pairs) {
    grpc::Status converted = ToGrpcStatus(absl::Status(absl_code, "augmentation.alpha: bad"));
    EXPECT_EQ(converted.error_code(), grpc_code) << absl::StatusCodeToString(absl_code);
    EXPECT_EQ(converted.error_message(), "augmentation.alpha: bad");
    absl::Status back = FromGrpcStatus(grpc::Status(grpc_code, "why"));
    EXPECT_EQ(back.code(), absl_code);
    EXPECT_EQ(back.message(), "why");
  }
}

TEST(StatusAdapterTest, NonCanonicalCodesBecomeUnknown) {
  EXPECT_EQ(ToGrpcStatus(absl::Status(static_cast<absl::StatusCode>(42), "x")).error_code(),
            grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(42), "x")).code(),
            absl::StatusCode::kUnknown);
}

TEST(StatusAdapterTest, AnnotatePrefixesContextAndKeepsCode) {
  absl::Status annotated = Annotate(absl::NotFoundError("no such file"), "corpus.paths[0]");
  EXPECT_EQ(annotated.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(annotated.message(), "corpus.paths[0]: no such file");
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x").ok());
}

TEST(StatusAdapterTest, CoreStatusRoundTripsThroughAbsl) {
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

TEST(StatusAdapterTest, ReturnIfAbslErrorReturnsTheError) {
  int reached = 0;
  EXPECT_EQ(FailsEarly(true, &reached).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(FailsEarly(false, &reached).ok());
  EXPECT_EQ(reached, 1);
}

}  // namespace
}  // namespace cluedrop
