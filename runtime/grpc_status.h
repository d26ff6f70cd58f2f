// Converts between absl::Status (used everywhere inside cluedrop) and
// grpc::Status (used only at the RPC edge). Codes map one to one; the message
// is kept verbatim. The absl <-> core-Status bridge and the absl macros are
// in base/absl_status.h (gRPC-free), re-exported here for the edge's use.
//
// Example:
//   grpc::Status SubmitJob(...) override {
//     return ToGrpcStatus(service_.Submit(request, response));
//   }
#ifndef CLUEDROP_RUNTIME_GRPC_STATUS_H_
#define CLUEDROP_RUNTIME_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "base/absl_status.h"

namespace cluedrop {

// Returns the grpc::Status with the same canonical code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Returns the absl::Status with the same canonical code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_GRPC_STATUS_H_
