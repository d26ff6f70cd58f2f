#include "runtime/grpc_status.h"

#include <string>

namespace cluedrop {
namespace {

// absl::StatusCode and grpc::StatusCode both number the 17 canonical codes
// 0..16 the same way (google.rpc.Code); anything else is UNKNOWN.
constexpr int kMaxCanonicalCode = 16;
static_assert(static_cast<int>(absl::StatusCode::kUnauthenticated) == kMaxCanonicalCode);
static_assert(grpc::StatusCode::UNAUTHENTICATED == kMaxCanonicalCode);
static_assert(static_cast<int>(absl::StatusCode::kInvalidArgument) ==
              grpc::StatusCode::INVALID_ARGUMENT);
static_assert(static_cast<int>(absl::StatusCode::kUnavailable) == grpc::StatusCode::UNAVAILABLE);

bool IsCanonical(int code) { return code >= 0 && code <= kMaxCanonicalCode; }

grpc::StatusCode ToGrpcCode(absl::StatusCode code) {
  const int value = static_cast<int>(code);
  return IsCanonical(value) ? static_cast<grpc::StatusCode>(value) : grpc::StatusCode::UNKNOWN;
}

absl::StatusCode FromGrpcCode(grpc::StatusCode code) {
  const int value = static_cast<int>(code);
  return IsCanonical(value) ? static_cast<absl::StatusCode>(value) : absl::StatusCode::kUnknown;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(ToGrpcCode(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(FromGrpcCode(status.error_code()), status.error_message());
}

}  // namespace cluedrop
