// Writes a whole Hugging Face checkpoint directory the way transformers'
// save_pretrained lays it out (safetensors format):
//   model.safetensors                                  if one shard suffices
//   model-00001-of-0000N.safetensors ... +
//   model.safetensors.index.json                       otherwise
// The index is {"metadata": {"total_size": <bytes>}, "weight_map": {name: file}},
// written as json.dumps(index, indent=2, sort_keys=True) + "\n" would.
//
// Thread-safe only in the sense that it has no shared state; do not write
// the same directory from two threads or processes at once.
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_WRITER_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/model/checkpoint/dtype.h"

namespace cluedrop::model {

// One tensor to write; `data` is borrowed (not copied) and must stay valid
// until WriteCheckpoint returns. nbytes must equal numel(shape) * DTypeSize.
struct WriterEntry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;
};

// The file names WriteCheckpoint would use: for each entry, in entry order,
// the file that holds it. Shards are filled in entry order exactly as
// huggingface_hub.split_torch_state_dict_into_shards does: a tensor that
// would push the current shard over max_shard_bytes starts a new one, and a
// tensor larger than max_shard_bytes gets a shard of its own.
// max_shard_bytes == 0 means unlimited (always "model.safetensors").
std::vector<std::string> PlanCheckpointShards(const std::vector<WriterEntry>& entries,
                                              uint64_t max_shard_bytes);

// Writes `entries` into `dir` (created if missing), each shard atomically
// (see SafetensorsWriter::Write), the index last. Afterwards removes weight
// files of an earlier save that the new checkpoint does not use (a stale
// model.safetensors, model.safetensors.index.json or
// model-NNNNN-of-NNNNN.safetensors), as save_pretrained does, so readers
// never pick up a mix. Entries are validated before anything is written:
// INVALID_ARGUMENT for duplicate names or any SafetensorsWriter::Add error.
// File system errors name the file.
Status WriteCheckpoint(const std::string& dir, const std::vector<WriterEntry>& entries,
                       uint64_t max_shard_bytes);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_WRITER_H_
