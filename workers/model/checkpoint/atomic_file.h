// Writes a file so that readers see either the old file or the complete new
// one: bytes go to "<path>.tmp", which Commit() fsyncs and renames onto
// `path`, then fsyncs the directory. Destroying an uncommitted writer (or a
// failed Commit) removes the .tmp file.
//
//   CLUEDROP_ASSIGN_OR_RETURN(auto out, AtomicFileWriter::Create(path));
//   CLUEDROP_RETURN_IF_ERROR(out->Append(bytes, n));
//   CLUEDROP_RETURN_IF_ERROR(out->Commit());
//
// Not thread-safe; one writer per path at a time (two writers of the same
// path would share the .tmp name).
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_ATOMIC_FILE_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_ATOMIC_FILE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cluedrop::model {

class AtomicFileWriter {
 public:
  // Creates (truncating) "<path>.tmp" with mode 0644 (less umask). Errors
  // (NOT_FOUND for a missing directory, PERMISSION_DENIED, ...) name the file.
  static StatusOr<std::unique_ptr<AtomicFileWriter>> Create(const std::string& path);

  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  // Appends bytes (buffered). Errors name the .tmp file (e.g.
  // RESOURCE_EXHAUSTED when the disk is full).
  Status Append(const void* data, size_t size);
  Status Append(std::string_view bytes) { return Append(bytes.data(), bytes.size()); }

  // Flushes, fsyncs, closes and renames onto the final path; afterwards the
  // writer accepts nothing more. On error the .tmp file is removed and the
  // old file at `path`, if any, is left as it was.
  Status Commit();

 private:
  AtomicFileWriter(std::string path, int fd);
  Status Flush();

  std::string path_;
  std::string tmp_path_;
  int fd_ = -1;
  std::string buffer_;
  bool committed_ = false;
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CHECKPOINT_ATOMIC_FILE_H_
