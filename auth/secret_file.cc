#include "auth/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cluedrop::auth {
namespace {

absl::Status OpenError(int error, absl::string_view what, const std::string& path) {
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
  return absl::FailedPreconditionError(message);
}

// Closes the descriptor on every path.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Secrets are small; a bigger file is not a token file.
constexpr off_t kMaxSecretBytes = 1 << 20;

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, absl::string_view what) {
  // O_NONBLOCK: a FIFO planted at the path must not block the open.
  Fd file{open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (file.fd < 0) return OpenError(errno, what, path);
  struct stat st;
  if (fstat(file.fd, &st) != 0) return OpenError(errno, what, path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, ": not a regular file"));
  }
  if ((st.st_mode & S_IRWXO) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s %s: mode %04o lets every local user read it; restrict it (chmod 600, or 640 for a "
        "group) and retry",
        what, path, st.st_mode & 07777));
  }
  if (st.st_size > kMaxSecretBytes) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, ": ", st.st_size,
                                                      " bytes; a credential file is at most ",
                                                      kMaxSecretBytes));
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = read(file.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return OpenError(errno, what, path);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path, absl::string_view what) {
  absl::StatusOr<std::string> bytes = ReadSecretFile(path, what);
  if (!bytes.ok()) return bytes.status();
  std::string token(absl::StripAsciiWhitespace(*bytes));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", path, ": empty"));
  }
  for (char c : token) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " ", path, ": a token is one line of printable characters without spaces"));
    }
  }
  return token;
}

}  // namespace cluedrop::auth
