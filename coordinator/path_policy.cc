#include "coordinator/path_policy.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cluedrop::coordinator {
namespace {

namespace fs = std::filesystem;

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// The canonical path (symlinks and ".." resolved) of an existing path.
std::optional<std::string> RealPath(const std::string& path) {
  char* resolved = realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return std::nullopt;
  std::string out(resolved);
  std::free(resolved);
  return out;
}

// True when canonical `path` is `root` or below it.
bool Under(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

// Canonical roots (a root that does not exist matches nothing).
std::vector<std::string> Canonical(const std::vector<std::string>& roots) {
  std::vector<std::string> out;
  for (const std::string& root : roots) {
    if (std::optional<std::string> real = RealPath(root)) out.push_back(*real);
  }
  return out;
}

absl::Status OpenError(int error, const std::string& field, const std::string& path) {
  const std::string message = absl::StrCat(field, ": ", path, ": ", std::strerror(error));
  if (error == ENOENT || error == ENOTDIR) return absl::NotFoundError(message);
  if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
  return absl::InvalidArgumentError(message);
}

// Checks one input file; adds its size to `*bytes`.
absl::Status CheckInput(const std::string& field, const std::string& path,
                        const std::vector<std::string>& roots,
                        const std::vector<std::string>& forbidden,
                        const std::vector<std::string>& configured_roots, uint64_t* bytes) {
  if (!roots.empty() || !configured_roots.empty()) {
    if (path.empty() || path[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", path, " must be an absolute path (the coordinator confines inputs to ",
          "--corpus_root ", absl::StrJoin(configured_roots, ","), ")"));
    }
  }
  // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: a
  // terminal device never becomes the controlling one.
  Fd file{open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (file.fd < 0) return OpenError(errno, field, path);
  struct stat st;
  if (fstat(file.fd, &st) != 0) return OpenError(errno, field, path);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", path, " is not a regular file"));
  }
  struct statfs sfs;
  if (fstatfs(file.fd, &sfs) == 0 &&
      (sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC || sfs.f_type == DEBUGFS_MAGIC ||
       sfs.f_type == SECURITYFS_MAGIC)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", path, " is a kernel file (/proc, /sys), not a corpus"));
  }
  const std::optional<std::string> real = RealPath(path);
  if (!real.has_value()) return OpenError(errno, field, path);
  for (const std::string& secret : forbidden) {
    if (Under(*real, secret)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", path, " is one of the coordinator's own files"));
    }
  }
  if (!configured_roots.empty()) {
    bool inside = false;
    for (const std::string& root : roots) inside = inside || Under(*real, root);
    if (!inside) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", path, " is outside --corpus_root ", absl::StrJoin(configured_roots, ",")));
    }
  }
  *bytes += static_cast<uint64_t>(st.st_size);
  return absl::OkStatus();
}

absl::Status CheckOutput(const std::string& dir, const std::vector<std::string>& roots,
                         const std::vector<std::string>& configured_roots) {
  if (dir.empty() || configured_roots.empty()) return absl::OkStatus();
  const std::string where = absl::StrCat("output_dir: ", dir, " is outside --output_root ",
                                         absl::StrJoin(configured_roots, ","));
  if (dir[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("output_dir: ", dir,
                                                   " must be an absolute path under --output_root ",
                                                   absl::StrJoin(configured_roots, ",")));
  }
  const fs::path normal = fs::path(dir).lexically_normal();
  // The deepest existing ancestor, canonical: a symlink inside a root must
  // not lead out of it.
  fs::path existing = normal;
  while (!existing.empty() && existing != existing.root_path() && !fs::exists(existing)) {
    existing = existing.parent_path();
  }
  const std::optional<std::string> real = RealPath(existing.string());
  if (!real.has_value()) return absl::InvalidArgumentError(where);
  const fs::path rest = normal.lexically_relative(existing);
  const std::string resolved =
      rest.empty() || rest == "." ? *real : (fs::path(*real) / rest).lexically_normal().string();
  for (const std::string& root : roots) {
    if (Under(resolved, root)) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(where);
}

}  // namespace

absl::Status CheckJobPaths(const v1::JobSpec& spec, const PathPolicy& policy) {
  const std::vector<std::string> input_roots = Canonical(policy.input_roots);
  const std::vector<std::string> output_roots = Canonical(policy.output_roots);
  std::vector<std::string> forbidden;
  for (const std::string& f : policy.forbidden) {
    if (std::optional<std::string> real = RealPath(f)) forbidden.push_back(*real);
  }
  uint64_t bytes = 0;
  for (int i = 0; i < spec.corpus().paths_size(); ++i) {
    if (absl::Status s = CheckInput(absl::StrCat("corpus.paths[", i, "]"), spec.corpus().paths(i),
                                    input_roots, forbidden, policy.input_roots, &bytes);
        !s.ok()) {
      return s;
    }
  }
  if (bytes > policy.max_corpus_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "corpus.paths: ", bytes, " bytes, more than --max_corpus_bytes=", policy.max_corpus_bytes));
  }
  uint64_t ignored = 0;
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string*>{"evaluation.prompt_table",
                                                   &spec.evaluation().prompt_table()},
        {"evaluation.fewshot_pool", &spec.evaluation().fewshot_pool()}}) {
    if (value->empty()) continue;
    if (absl::Status s =
            CheckInput(field, *value, input_roots, forbidden, policy.input_roots, &ignored);
        !s.ok()) {
      return s;
    }
  }
  return CheckOutput(spec.output_dir(), output_roots, policy.output_roots);
}

absl::Status CheckInputFile(const std::string& field, const std::string& path,
                            const PathPolicy& policy) {
  std::vector<std::string> forbidden;
  for (const std::string& f : policy.forbidden) {
    if (std::optional<std::string> real = RealPath(f)) forbidden.push_back(*real);
  }
  uint64_t ignored = 0;
  return CheckInput(field, path, Canonical(policy.input_roots), forbidden, policy.input_roots,
                    &ignored);
}

}  // namespace cluedrop::coordinator
