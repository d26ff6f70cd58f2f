// A whole file mapped read-only into memory (mmap PROT_READ, MAP_PRIVATE).
//
// The bytes stay valid until the MappedFile is destroyed. If another process
// truncates the file while it is mapped, touching the lost pages raises
// SIGBUS: checkpoints must not be rewritten in place (SafetensorsWriter
// replaces files by rename, which is safe).
//
// Immutable after Open; bytes() is safe to call from any thread.
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_MAPPED_FILE_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_MAPPED_FILE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cluedrop::model {

class MappedFile {
 public:
  // Maps the regular file at `path`. NOT_FOUND if it does not exist,
  // PERMISSION_DENIED if it cannot be read, INVALID_ARGUMENT if it is not a
  // regular file, UNAVAILABLE/INTERNAL for other system errors; every
  // message names the path and the errno text. An empty file maps to an
  // empty view.
  static StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // The file's bytes as they were when mapped.
  std::string_view bytes() const { return {static_cast<const char*>(addr_), size_}; }

 private:
  MappedFile(void* addr, size_t size) : addr_(addr), size_(size) {}

  void* addr_ = nullptr;  // Null for an empty file.
  size_t size_ = 0;
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CHECKPOINT_MAPPED_FILE_H_
