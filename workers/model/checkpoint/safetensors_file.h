// One safetensors file, validated and ready to read tensors from without
// copying: Open() maps the file, FromBuffer() wraps bytes the caller owns.
//
//   CLUEDROP_ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(path));
//   CLUEDROP_ASSIGN_OR_RETURN(TensorView w, file->Get("lm_head.weight"));
//   // w.data: w.nbytes little-endian bytes of w.info->dtype, row-major.
//
// Everything is validated up front (see ParseSafetensorsHeader in
// safetensors_header.h for the rules and error codes), so Get never fails
// for a tensor that tensors() lists, and no view ever reaches past the file.
//
// Thread-safety: immutable after Open/FromBuffer; all const methods may be
// called concurrently. Views and TensorInfo pointers stay valid for the
// object's lifetime.
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_SAFETENSORS_FILE_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_SAFETENSORS_FILE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "workers/model/checkpoint/dtype.h"
#include "workers/model/checkpoint/tensor_info.h"

namespace cluedrop::model {

class MappedFile;

class SafetensorsFile {
 public:
  // Maps `path` read-only (MAP_PRIVATE) and validates it. Errors: those of
  // MappedFile::Open (NOT_FOUND, PERMISSION_DENIED, ...) and of
  // ParseSafetensorsHeader (DATA_LOSS, INVALID_ARGUMENT), messages starting
  // with the path.
  static StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);

  // Validates `bytes` as a whole safetensors file without copying: the
  // caller keeps `bytes` alive and unchanged for the returned object's
  // lifetime. `display_name` stands in for the path in messages and path().
  static StatusOr<std::unique_ptr<SafetensorsFile>> FromBuffer(std::string_view bytes,
                                                               std::string display_name);

  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile();

  // The path given to Open, or FromBuffer's display name.
  const std::string& path() const { return path_; }
  // All tensors, in the order the header's JSON object lists them.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // The header's "__metadata__" (empty if absent), e.g. {"format": "pt"}.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // The tensor called `name`, or null.
  const TensorInfo* Find(std::string_view name) const;
  // The bytes of tensor `name`; NOT_FOUND "<path>: no tensor 'name'".
  StatusOr<TensorView> Get(std::string_view name) const;
  // The bytes of `info`, which must be an element of this file's tensors()
  // (no lookup; for iterating over all tensors).
  TensorView View(const TensorInfo& info) const;

 private:
  SafetensorsFile() = default;
  static StatusOr<std::unique_ptr<SafetensorsFile>> Build(std::string_view bytes,
                                                          std::string display_name,
                                                          std::unique_ptr<MappedFile> mapping);

  std::string path_;
  std::unique_ptr<MappedFile> mapping_;  // Null for FromBuffer.
  const uint8_t* data_section_ = nullptr;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, size_t, std::less<>> by_name_;  // Index into tensors_.
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CHECKPOINT_SAFETENSORS_FILE_H_
