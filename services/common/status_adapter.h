// Converts between absl::Status (used everywhere inside cluedrop) and
// grpc::Status (used only at the RPC edge). Codes map one to one; the message
// is kept verbatim.
//
// Example:
//   grpc::Status SubmitJob(...) override {
//     return ToGrpcStatus(service_.Submit(request, response));
//   }
#ifndef CLUEDROP_SERVICES_COMMON_STATUS_ADAPTER_H_
#define CLUEDROP_SERVICES_COMMON_STATUS_ADAPTER_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cluedrop {

// Returns the grpc::Status with the same canonical code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Returns the absl::Status with the same canonical code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Returns `status` with "context: " prepended to its message (code kept).
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace cluedrop

#endif  // CLUEDROP_SERVICES_COMMON_STATUS_ADAPTER_H_
