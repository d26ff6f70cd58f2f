// The training runner: one rank of a data-parallel training run, from
// scored documents to an exported model. Torch-free header (the CLI and the
// daemon, which also include generated protobuf code, include it); the
// implementation (train_runner.cc) is a torch TU.
//
// Per rank:
//   1. Loads the target model (a Hugging Face checkpoint, or a config.json +
//      tokenizer trained from scratch), enables LoRA when asked, joins the
//      process group (RendezvousSpec) and builds a TrainStep.
//   2. Resumes from LatestCheckpoint(checkpoint_root) when there is one.
//   3. Per epoch: for this rank's shards in order (ScoredShardSource), the
//      documents in order, the samples Augmenter::SamplesForEpoch(doc,
//      epoch) in order; micro-batches of batch_size sequences (truncated to
//      max_seq_len), grad_accumulation micro-batches per optimizer step.
//      With shuffle_buffer > 0 the samples pass through a shuffle buffer of
//      that size (each output is a uniformly drawn buffered sample, as
//      tf.data's shuffle), keyed by (seed, epoch, rank).
//      The order is a pure function of (seed, epoch, the rank's partition).
//   4. Equal step counts: before every step the ranks all-reduce
//      [has data, stop]. A rank out of data fills its micro-batches with a
//      one-token padding sequence (no target token: TrainStep weighs every
//      target token of the global batch, so it contributes nothing); the
//      epoch ends when no rank has data. A stop request on any rank stops
//      every rank at the same step (CANCELLED).
//   5. Checkpoints every checkpoint_interval_steps optimizer steps and at
//      each epoch end, with DataCursor {epoch, position = samples this rank
//      consumed in the epoch}. Resuming re-walks the epoch's data and
//      discards `position` samples, so a resumed run continues bitwise.
//   6. Rank 0 exports <output_dir>/final: the full model (SaveHfModel, with
//      the tokenizer files), or the LoRA adapter (PEFT) of the base model.
//   7. Rank 0 optionally runs the QA evaluation with the trained model
//      (greedy generation in memory).
//
// Schedule length (total_steps of decaying schedules): when
// TrainRunOptions::total_steps is 0, every rank asks its source for its
// document count (ScoredShardSource::DocumentCount, which may wait for the
// whole partition), the ranks take the maximum, and
//   total_steps = epochs * ceil(max_rank_docs * samples_per_doc / (batch_size * grad_accumulation))
// which is exact when no sample is empty.
//
// Example (one process, world 1):
//   TrainRunOptions options;
//   options.model_dir = "/models/tiny";
//   options.output_dir = "/runs/1";
//   InMemoryShardSource source({docs});
//   CLUEDROP_ASSIGN_OR_RETURN(TrainRunResult result, RunTraining(options, source, {}));
//
// Thread-safety: RunTraining may run on several threads at once (one per
// rank, each with its own source); callbacks run on the calling thread.
#ifndef CLUEDROP_WORKERS_TRAINER_TRAIN_RUNNER_H_
#define CLUEDROP_WORKERS_TRAINER_TRAIN_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/trainer/shard_source.h"
#include "workers/trainer/train_run_options.h"

namespace cluedrop::trainer {

// Runs this rank's part of the training (see the header comment). Errors:
// ValidateTrainRunOptions's, model and tokenizer loading errors, the
// source's, TrainStep's and the checkpoint's, CANCELLED when stopped.
StatusOr<TrainRunResult> RunTraining(const TrainRunOptions& options, ScoredShardSource& source,
                                     const RendezvousSpec& rendezvous,
                                     const TrainCallbacks& callbacks = {});

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_TRAIN_RUNNER_H_
