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
#include "base/status.h"

namespace cluedrop {

// Returns the grpc::Status with the same canonical code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Returns the absl::Status with the same canonical code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Converts the torch-core Status (base/status.h; same code numbering).
absl::Status ToAbslStatus(const Status& status);
// And back, for torch-free code that hands absl errors to the core.
Status FromAbslStatus(const absl::Status& status);

// Returns `status` with "context: " prepended to its message (code kept).
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace cluedrop

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
// For StatusOr use CLUEDROP_ASSIGN_OR_RETURN (base/status.h), which works
// with absl::StatusOr too.
#define CLUEDROP_RETURN_IF_ABSL_ERROR(expr)                        \
  do {                                                             \
    ::absl::Status cluedrop_absl_status_ = (expr);                 \
    if (!cluedrop_absl_status_.ok()) return cluedrop_absl_status_; \
  } while (0)

#endif  // CLUEDROP_SERVICES_COMMON_STATUS_ADAPTER_H_
