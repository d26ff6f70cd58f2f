// Writes one safetensors file that the Python `safetensors` package (and
// SafetensorsFile) reads back.
//
//   SafetensorsWriter writer;
//   CLUEDROP_RETURN_IF_ERROR(writer.Add("w", DType::kF32, {2, 3}, w.data(), 24));
//   CLUEDROP_RETURN_IF_ERROR(writer.Write(dir + "/adapter_model.safetensors"));
//
// Layout: header JSON with "__metadata__" first, then the tensors in name
// order (byte-wise), padded with spaces to a multiple of 8 bytes; the data
// section holds the tensors contiguously in the same name order.
//
// Not thread-safe; a writer is built and written by one thread. For a whole
// (possibly sharded) Hugging Face checkpoint use WriteCheckpoint, declared in
// checkpoint_writer.h and included below.
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_SAFETENSORS_WRITER_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_SAFETENSORS_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/model/checkpoint/checkpoint_writer.h"  // IWYU pragma: export
#include "workers/model/checkpoint/dtype.h"

namespace cluedrop::model {

class SafetensorsWriter {
 public:
  // Sets "__metadata__"[key] = value. The metadata starts as
  // {"format": "pt"} (what transformers requires when loading); setting
  // "format" replaces that value. Keys and values must be valid UTF-8, else
  // Write fails with INVALID_ARGUMENT.
  void SetMetadata(std::string key, std::string value);

  // Adds a tensor of `shape` (row-major, little-endian elements; {} for a
  // scalar). Does not copy: `data` must stay valid and unchanged until Write
  // returns. INVALID_ARGUMENT if `name` is empty, "__metadata__", not valid
  // UTF-8 or already added; a dimension is negative; the element or byte
  // count overflows; nbytes != numel * DTypeSize(dtype); or data is null
  // while nbytes > 0.
  Status Add(std::string name, DType dtype, std::vector<int64_t> shape, const void* data,
             size_t nbytes);

  // Writes path + ".tmp", fsyncs it and renames it onto `path` (atomic: a
  // reader sees the old file or the whole new one; no .tmp is left behind,
  // on success or failure). Errors: INVALID_ARGUMENT for metadata that is not
  // valid UTF-8 or a header over kMaxSafetensorsHeaderBytes; file system
  // errors (NOT_FOUND for a missing directory, PERMISSION_DENIED,
  // RESOURCE_EXHAUSTED for a full disk, ...) naming the file. May be called
  // more than once.
  Status Write(const std::string& path) const;

  // Sum of the added tensors' byte counts (the data section's size).
  uint64_t data_bytes() const { return data_bytes_; }

  // The complete header the next Write would emit: 8-byte little-endian
  // length followed by the padded JSON. Errors as for Write's header checks.
  StatusOr<std::string> SerializeHeader() const;

 private:
  struct Entry {
    DType dtype;
    std::vector<int64_t> shape;
    const void* data;
    size_t nbytes;
  };

  std::map<std::string, std::string> metadata_ = {{"format", "pt"}};
  std::map<std::string, Entry> entries_;  // Name order = file order.
  uint64_t data_bytes_ = 0;
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CHECKPOINT_SAFETENSORS_WRITER_H_
