// The file names of a Hugging Face safetensors checkpoint directory, shared
// by the reader and the writer: one model.safetensors, or shards
// model-0000i-of-0000n.safetensors listed by model.safetensors.index.json.
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_FILES_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_FILES_H_

namespace cluedrop::model {

inline constexpr char kSingleName[] = "model.safetensors";
inline constexpr char kIndexName[] = "model.safetensors.index.json";

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_FILES_H_
