// What one rank of a training run is told (TrainRunOptions, RendezvousSpec,
// TrainCallbacks), what it reports per step (TrainProgress) and at the end
// (TrainRunResult); see train_runner.h for the run itself. Torch-free.
// A job spec maps onto these in one place, train_spec.h.
#ifndef CLUEDROP_WORKERS_TRAINER_TRAIN_RUN_OPTIONS_H_
#define CLUEDROP_WORKERS_TRAINER_TRAIN_RUN_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/trainer/augmentation_options.h"
#include "workers/trainer/qa_evaluation.h"

namespace cluedrop::trainer {

// How this rank joins the others.
struct RendezvousSpec {
  int rank = 0;
  // 1: no process group (a single process; FakeCollectives).
  int world_size = 1;
  // Rank 0 hosts the c10d TCPStore on store_port (0: any free port); the
  // others connect to store_host:store_port.
  std::string store_host = "127.0.0.1";
  int store_port = 0;
  // Rank 0 listens on this address only ("": every interface).
  std::string store_bind_host;
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
  // Weight-only int8 for the frozen base (needs lora_rank > 0).
  bool quantize_int8 = false;
  // The rank's model over several local devices: layer_split[k] layers on
  // the k-th device of the rank's kind (cuda:k; on the CPU, the CPU each
  // time). Empty: one device. Must sum to the model's layer count.
  std::vector<int64_t> layer_split;
  // Recompute every k-th decoder layer in backward (0: off).
  int64_t activation_checkpointing = 0;

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

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_TRAIN_RUN_OPTIONS_H_
