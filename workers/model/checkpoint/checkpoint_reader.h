// Reads the tensors of a Hugging Face checkpoint, single-file or sharded,
// through one name -> tensor lookup. Open() accepts:
//   * a directory holding model.safetensors (preferred, as transformers
//     does) or else model.safetensors.index.json;
//   * a path to a "*.index.json" file (sharded: "weight_map" maps each
//     tensor name to a shard file relative to the index's directory);
//   * a path to one .safetensors file (e.g. adapter_model.safetensors; or
//     use OpenFile).
// Every file is mapped and fully validated up front (SafetensorsFile).
//
// For a sharded checkpoint the tensors are exactly those the weight_map
// lists; tensors a shard holds but the index does not mention are ignored.
//
// Thread-safety: immutable after Open; all const methods may be called
// concurrently. Pointers and views stay valid for the reader's lifetime.
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_READER_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_READER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "workers/model/checkpoint/safetensors_file.h"
#include "workers/model/checkpoint/tensor_info.h"

namespace cluedrop::model {

class CheckpointReader {
 public:
  // Opens a checkpoint directory, index file or .safetensors file (above).
  // Errors, each naming the checkpoint path:
  //   NOT_FOUND: `path` does not exist; a directory with neither
  //     model.safetensors nor model.safetensors.index.json; a shard the
  //     index lists is missing (names the index and the shard).
  //   INVALID_ARGUMENT: index not JSON / not an object / no "weight_map"
  //     object / a non-string file name / a file name that is absolute or
  //     contains "..".
  //   DATA_LOSS: a tensor in weight_map is absent from its shard (names
  //     both).
  //   Any SafetensorsFile::Open error of a file (DATA_LOSS, INVALID_ARGUMENT,
  //     PERMISSION_DENIED, ...), its message naming that file.
  static StatusOr<std::unique_ptr<CheckpointReader>> Open(const std::string& path);

  // Opens one .safetensors file as a checkpoint (e.g. a LoRA adapter's
  // adapter_model.safetensors), whatever its name.
  static StatusOr<std::unique_ptr<CheckpointReader>> OpenFile(const std::string& path);

  CheckpointReader(const CheckpointReader&) = delete;
  CheckpointReader& operator=(const CheckpointReader&) = delete;
  ~CheckpointReader();

  // The path given to Open / OpenFile.
  const std::string& path() const { return path_; }
  // All tensor names, sorted.
  std::vector<std::string> TensorNames() const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  // The tensor called `name`, or null.
  const TensorInfo* Find(std::string_view name) const;
  // Its bytes; NOT_FOUND "<checkpoint path>: no tensor 'name'".
  StatusOr<TensorView> Get(std::string_view name) const;
  // The path of the .safetensors file holding `name` ("" if none).
  std::string FileOf(std::string_view name) const;
  // The opened files (one for an unsharded checkpoint), in file name order.
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  struct Location {
    const SafetensorsFile* file;
    const TensorInfo* info;
  };

  explicit CheckpointReader(std::string path) : path_(std::move(path)) {}
  static StatusOr<std::unique_ptr<CheckpointReader>> OpenIndex(const std::string& index_path,
                                                               const std::string& display_path);

  std::string path_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Location, std::less<>> tensors_;
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_READER_H_
