// Files that hold credentials (bearer tokens, token tables): read only when
// no "other" user may access them.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(std::string token, ReadSecretFile(path, "--token_file"));
#ifndef CLUEDROP_AUTH_SECRET_FILE_H_
#define CLUEDROP_AUTH_SECRET_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cluedrop::auth {

// The file's bytes. FAILED_PRECONDITION when its mode gives "other" users
// any access (e.g. 0644: "chmod 600" fixes it) or it is not a regular file;
// NOT_FOUND / PERMISSION_DENIED when it cannot be read. Errors start with
// `what` (the flag) and the path; they never contain the file's content.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, absl::string_view what);

// ReadSecretFile, surrounding whitespace removed; INVALID_ARGUMENT when
// nothing is left or it holds whitespace or control characters inside.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path, absl::string_view what);

}  // namespace cluedrop::auth

#endif  // CLUEDROP_AUTH_SECRET_FILE_H_
