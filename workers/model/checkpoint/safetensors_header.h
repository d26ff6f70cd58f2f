// Parsing and validation of a safetensors file's header: the 8-byte
// little-endian header length, the JSON header, and every tensor's place in
// the data section. SafetensorsFile builds on this; it is separate so the
// rules live in one small place.
//
// File layout (https://github.com/huggingface/safetensors):
//   [u64 N, little-endian][N bytes of JSON][data section]
// The JSON object maps tensor names to
//   {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
// (offsets relative to the data section) plus an optional "__metadata__"
// object of string -> string.
//
// Thread-safe (no shared state).
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_SAFETENSORS_HEADER_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_SAFETENSORS_HEADER_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "workers/model/checkpoint/tensor_info.h"

namespace cluedrop::model {

// Largest header accepted, as in the reference implementation.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

struct SafetensorsHeader {
  // In the order the JSON object lists them ("__metadata__" excluded).
  std::vector<TensorInfo> tensors;
  // "__metadata__" (empty when absent or null).
  std::map<std::string, std::string> metadata;
  // Where the data section starts in the file (8 + header length) and how
  // many bytes it has (everything after the header).
  uint64_t data_offset = 0;
  uint64_t data_size = 0;
};

// Parses the header of `file` (the complete file contents) and checks that
// every tensor lies inside the data section with the byte count its dtype and
// shape need, and that no two tensors overlap. Gaps between tensors and
// trailing bytes are allowed. Never reads outside `file`.
//
// Every error message starts with "<display_name>: " and names the offending
// tensor and field. Codes:
//   DATA_LOSS: the file is shorter than its own header says (under 8 bytes,
//     header length past the end of file, a tensor's end past the data
//     section): typically a truncated download or write.
//   INVALID_ARGUMENT: the header itself is malformed: length over
//     kMaxSafetensorsHeaderBytes; not JSON or not an object; duplicate keys;
//     an entry that is not an object or lacks dtype/shape/data_offsets or has
//     them with the wrong JSON type; unsupported dtype; negative dimension;
//     element or byte count overflow; data_offsets not [begin, end] with
//     begin <= end; end - begin != numel * dtype size; overlapping tensors;
//     "__metadata__" not an object of strings.
StatusOr<SafetensorsHeader> ParseSafetensorsHeader(std::string_view file,
                                                   const std::string& display_name);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CHECKPOINT_SAFETENSORS_HEADER_H_
