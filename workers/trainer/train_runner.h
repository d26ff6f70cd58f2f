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
#include "workers/trainer/augmentation_options.h"
#include "workers/trainer/augmenter.h"
#include "workers/trainer/qa_evaluation.h"

namespace cluedrop::trainer {

// A rank's partition of scored documents, shard by shard.
class ScoredShardSource {
 public:
  virtual ~ScoredShardSource() = default;
  // The documents of the partition's shard `k` (k = 0, 1, ... in order);
  // nullopt past the partition's end. May block (a streaming source waits
  // for the shard to be scored). Must return the same documents for the
  // same k every time (epochs re-read the shards).
  virtual StatusOr<std::optional<std::vector<ScoredDocument>>> Shard(uint64_t k) = 0;
  // Documents in the whole partition. The default walks Shard(0, 1, ...).
  virtual StatusOr<uint64_t> DocumentCount();
};

// Shards held in memory (`cluedrop train --local`, tests).
class InMemoryShardSource : public ScoredShardSource {
 public:
  explicit InMemoryShardSource(std::vector<std::vector<ScoredDocument>> shards)
      : shards_(std::move(shards)) {}
  StatusOr<std::optional<std::vector<ScoredDocument>>> Shard(uint64_t k) override;

 private:
  std::vector<std::vector<ScoredDocument>> shards_;
};

// Splits `documents` into shards of `shard_size` documents and deals them
// round-robin to `world_size` ranks: rank r gets shards r, r + W, ...
// (shard_size 0: one shard per document). The partition of `rank`.
std::vector<std::vector<ScoredDocument>> PartitionDocuments(
    const std::vector<ScoredDocument>& documents, int rank, int world_size, size_t shard_size);

// How this rank joins the others.
struct RendezvousSpec {
  int rank = 0;
  // 1: no process group (a single process; FakeCollectives).
  int world_size = 1;
  // Rank 0 hosts the c10d TCPStore on store_port (0: any free port); the
  // others connect to store_host:store_port.
  std::string store_host = "127.0.0.1";
  int store_port = 0;
  // Rank 0: called with the port the store listens on, before waiting for
  // the other ranks.
  std::function<void(int)> on_store_port;
  int64_t timeout_ms = 300000;
};

enum class TrainPrecision { kAuto, kFp32, kBf16 };  // TrainStep's Precision
enum class TrainSchedule { kConstant, kLinear, kCosine };

struct TrainRunOptions {
  // The target model: a Hugging Face checkpoint directory (config.json,
  // weights, tokenizer.json) ...
  std::string model_dir;
  // ... or a config.json trained from scratch (random init keyed by `seed`)
  // with the tokenizer in tokenizer_dir.
  std::string from_scratch_config;
  std::string tokenizer_dir;

  // LoRA: rank 0 = full fine-tuning. Dropout must be 0 (model::Linear has
  // no adapter dropout): INVALID_ARGUMENT otherwise.
  int64_t lora_rank = 0;
  double lora_alpha = 16;
  double lora_dropout = 0;
  std::vector<std::string> lora_targets;  // empty: q_proj, v_proj

  // Optimisation.
  double learning_rate = 1e-4;
  double weight_decay = 0;
  TrainSchedule schedule = TrainSchedule::kConstant;
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0;
  // 0: computed (see the header comment).
  int64_t total_steps = 0;
  double grad_clip = 0;
  TrainPrecision precision = TrainPrecision::kAuto;
  int64_t grad_accumulation = 1;
  int64_t batch_size = 2;   // sequences per rank per micro-batch
  int64_t max_seq_len = 0;  // 0: the model's max_position_embeddings
  // Samples held by a seeded shuffle buffer over the rank's epoch stream
  // (key: seed, epoch, rank); 0 = the stream's order as is.
  int64_t shuffle_buffer = 0;
  int64_t epochs = 1;
  uint64_t seed = 0;  // from-scratch init and LoRA init (augmentation.seed keys the masks)

  AugmentationOptions augmentation;

  // Checkpoints: "" = none. Interval 0: only at epoch ends.
  std::string checkpoint_root;
  int64_t checkpoint_interval_steps = 0;
  // Receives <output_dir>/final (rank 0). "" = no export.
  std::string output_dir;
  // "cpu" or "cuda:N".
  std::string device = "cpu";
  // The device's dense peak for MFU, FLOP/s; 0 = DevicePeakFlops (a table
  // for known GPUs in bf16, a measured float32 matmul rate on the CPU).
  double peak_flops = 0;

  // The QA evaluation after training (rank 0); empty: none.
  std::vector<QaQuestion> eval_questions;
  QaEvalOptions eval;
};

// One optimizer step, as the progress callback sees it.
struct TrainProgress {
  int64_t epoch = 0;
  int64_t step = 0;         // optimizer steps done
  int64_t total_steps = 0;  // the schedule's (0 = unknown)
  double loss = 0;
  double learning_rate = 0;
  double grad_norm = 0;
  int64_t tokens = 0;  // target tokens of the global batch
  double tokens_per_second = 0;
  double step_seconds = 0;
  // The step's split (this rank): waiting for the gradient all-reduce (what
  // did not overlap backward), everything else in the step, and the time
  // spent before it getting data (waiting for shards, augmenting, batching).
  double allreduce_wait_seconds = 0;
  double compute_seconds = 0;
  double data_seconds = 0;
  // Dropped / droppable tokens of this rank's samples in the step.
  double dropout_rate = 0;
  // 6 * parameters * global tokens / (step time * world size * peak_flops);
  // 0 when the peak is unknown.
  double mfu = 0;
  double peak_flops = 0;      // per device, FLOP/s (see TrainRunOptions)
  bool checkpointed = false;  // a checkpoint was saved after this step
  double checkpoint_seconds = 0;
};

struct TrainCallbacks {
  // After every optimizer step (every rank).
  std::function<void(const TrainProgress&)> on_step;
  // Polled before every step; true on any rank stops all ranks (CANCELLED).
  std::function<bool()> stop;
};

struct TrainRunResult {
  int64_t steps = 0;              // optimizer steps of the whole run
  int64_t resumed_from_step = 0;  // 0: fresh start
  double final_loss = 0;          // of the last step this process ran
  std::string final_model_dir;    // rank 0 with an output_dir
  bool lora = false;
  std::optional<QaEvalResult> evaluation;  // rank 0 with eval_questions
};

// OK, or INVALID_ARGUMENT naming the field (bad sizes, lora_dropout != 0,
// no model, bad augmentation options, ...).
Status ValidateTrainRunOptions(const TrainRunOptions& options);

// Runs this rank's part of the training (see the header comment). Errors:
// ValidateTrainRunOptions's, model and tokenizer loading errors, the
// source's, TrainStep's and the checkpoint's, CANCELLED when stopped.
StatusOr<TrainRunResult> RunTraining(const TrainRunOptions& options, ScoredShardSource& source,
                                     const RendezvousSpec& rendezvous,
                                     const TrainCallbacks& callbacks = {});

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_TRAIN_RUNNER_H_
