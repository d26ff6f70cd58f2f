// Bridges the torch-core Status (base/status.h) and absl::Status, and the
// absl-status helpers the gRPC-free core uses. abseil only: no gRPC, no torch
// (the coordinator's storage and scheduling core links this, not grpc++).
// The gRPC edge converts with runtime/grpc_status.h.
//
// Example:
//   absl::Status LoadThing(const std::string& path) {
//     StatusOr<std::string> text = ReadFile(path);  // base/file.h
//     if (!text.ok()) return Annotate(ToAbslStatus(text.status()), "thing");
//     CLUEDROP_RETURN_IF_ABSL_ERROR(Parse(*text));
//     return absl::OkStatus();
//   }
#ifndef CLUEDROP_BASE_ABSL_STATUS_H_
#define CLUEDROP_BASE_ABSL_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/status.h"

namespace cluedrop {

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

#endif  // CLUEDROP_BASE_ABSL_STATUS_H_
