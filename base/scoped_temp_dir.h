// A fresh, uniquely named directory under $TMPDIR (default /tmp), removed
// with everything in it when the object goes. For tests and tools: two test
// runs on one machine (a developer's and CI's) never share a scratch path,
// and a run leaves nothing behind.
//
// Example:
//   ScopedTempDir dir("export_llama");  // /tmp/export_llama.Xa81Qz
//   WriteCheckpoint(dir.path() + "/model.safetensors");
#ifndef CLUEDROP_BASE_SCOPED_TEMP_DIR_H_
#define CLUEDROP_BASE_SCOPED_TEMP_DIR_H_

#include <ftw.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cluedrop {

class ScopedTempDir {
 public:
  // Throws std::runtime_error when the directory cannot be made (a test
  // cannot go on without it).
  explicit ScopedTempDir(std::string_view prefix = "cluedrop") {
    const char* tmp = getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/" + std::string(prefix) + ".XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    }
    path_ = pattern;
  }
  ~ScopedTempDir() {
    // Not std::filesystem::remove_all: libtorch.so exports a copy of it that
    // crashes (docs/model-runtime.md).
    nftw(
        path_.c_str(),
        [](const char* p, const struct stat*, int, struct FTW*) { return std::remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace cluedrop

#endif  // CLUEDROP_BASE_SCOPED_TEMP_DIR_H_
