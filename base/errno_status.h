// Maps an errno value from a failed system call to a Status whose code says
// what the caller can do about it, with "what: strerror" as the message.
//
// Example:
//   if (fd < 0) return ErrnoStatus(errno, path + ": open");
#ifndef CLUEDROP_BASE_ERRNO_STATUS_H_
#define CLUEDROP_BASE_ERRNO_STATUS_H_

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "base/status.h"

namespace cluedrop {

// NOT_FOUND (ENOENT, ENOTDIR), PERMISSION_DENIED (EACCES, EPERM, EROFS),
// RESOURCE_EXHAUSTED (ENOSPC, EDQUOT, EFBIG, ENOMEM, EMFILE, ENFILE),
// UNAVAILABLE (EIO), else INTERNAL.
inline Status ErrnoStatus(int err, const std::string& what) {
  std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status(StatusCode::kPermissionDenied, std::move(message));
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      return ResourceExhaustedError(std::move(message));
    case EIO:
      return UnavailableError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

}  // namespace cluedrop

#endif  // CLUEDROP_BASE_ERRNO_STATUS_H_
