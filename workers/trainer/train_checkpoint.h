// Training checkpoints: everything a rank needs to continue a run exactly
// where it stopped (the resume-equivalence property: train to step n, or
// train to k < n, checkpoint, restart in a fresh process from k and train to
// n -- the parameters are bitwise identical).
//
// Layout under `root` (a directory every rank can reach):
//   step-00000012/
//     model.safetensors     trainable parameters under their HF names
//                           (frozen ones, e.g. a LoRA base, come from the
//                           job's base checkpoint), written by rank 0
//     optimizer.pt          AdamW state and parameter groups (torch::save), rank 0
//     rank-00000.pt ...     per rank: the torch CPU generator state, the CUDA
//                           generator states of the model's devices, the
//                           std::mt19937_64 state if any, the data cursor
//     trainer_state.json    {"format": "cluedrop-train-checkpoint-v1",
//                            "step": 12, "world_size": 2, "trainable": [names]}
//   latest                  "step-00000012\n", replaced last (temp + rename)
//
// Atomicity: files go to root/.tmp-step-00000012/, which rank 0 renames
// onto step-00000012/ (atomically swapping out an older one of the same
// step) after every rank reported success, then fsyncs and only then points
// `latest` at it. A crash at any moment leaves `latest` naming a complete
// checkpoint (or no `latest`).
//
// Example (every rank):
//   CLUEDROP_RETURN_IF_ERROR(SaveTrainCheckpoint(root, *step, cursor, collectives));
//   ...
//   CLUEDROP_ASSIGN_OR_RETURN(std::string dir, LatestCheckpoint(root));  // NOT_FOUND: fresh run
//   CLUEDROP_ASSIGN_OR_RETURN(DataCursor cursor, LoadTrainCheckpoint(dir, *step, rank));
//
// Thread-safety: one call at a time per TrainStep; Save is a collective
// (every rank calls it, in the same order as other collectives).
#ifndef CLUEDROP_WORKERS_TRAINER_TRAIN_CHECKPOINT_H_
#define CLUEDROP_WORKERS_TRAINER_TRAIN_CHECKPOINT_H_

#include <cstdint>
#include <random>
#include <string>

#include "base/status.h"
#include "workers/trainer/process_group.h"
#include "workers/trainer/train_step.h"

namespace cluedrop::trainer {

// Where a rank is in its data: the next example of `epoch` is `position`
// (in whatever order the data loader defines; the loader's order must be a
// pure function of the job seed and the epoch).
struct DataCursor {
  int64_t epoch = 0;
  int64_t position = 0;
};

inline bool operator==(const DataCursor& a, const DataCursor& b) {
  return a.epoch == b.epoch && a.position == b.position;
}

// "step-00000012".
std::string CheckpointDirName(int64_t step);

// Saves `step`'s model, optimizer and schedule position (step.step()), this
// rank's cursor and RNG states (torch's CPU default generator, the CUDA
// default generators of the model's devices, and
// `std_rng` when given) under `root`. Collective when `collectives` is
// non-null (null: a single process). Errors (on every rank when one rank
// fails): file system errors naming the path (PERMISSION_DENIED,
// RESOURCE_EXHAUSTED, ...), INTERNAL from torch, and collective errors.
Status SaveTrainCheckpoint(const std::string& root, TrainStep& step, const DataCursor& cursor,
                           Collectives* collectives, const std::mt19937_64* std_rng = nullptr);

// The directory `root/latest` names. NOT_FOUND when there is no `latest`
// (nothing saved yet); DATA_LOSS when it names a missing or incomplete
// checkpoint.
StatusOr<std::string> LatestCheckpoint(const std::string& root);

// Restores `dir` (from LatestCheckpoint) into `step` -- trainable parameters,
// optimizer state, step counter -- and this rank's RNG states (and
// `std_rng` when given); returns the rank's data cursor. FAILED_PRECONDITION
// when the checkpoint's trainable parameters (names, shapes, dtypes) differ
// from the model's, or it has no file for `rank` (another world size);
// DATA_LOSS for unreadable or inconsistent files.
StatusOr<DataCursor> LoadTrainCheckpoint(const std::string& dir, TrainStep& step, int rank,
                                         std::mt19937_64* std_rng = nullptr);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_TRAIN_CHECKPOINT_H_
