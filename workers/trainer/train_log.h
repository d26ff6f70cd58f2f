// <output_dir>/train_log.jsonl, written by rank 0: one JSON object per
// optimizer step (step, total_steps, epoch, loss, learning_rate, grad_norm,
// tokens, tokens_per_second, step_seconds, dropout_rate), appended and
// flushed as the step ends. A resumed run appends the steps after its
// checkpoint again: readers keep the last line of each step.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(auto log, TrainLog::Open("/runs/1"));
//   log->Append(progress);
//
// Not thread-safe. Torch-free.
#ifndef CLUEDROP_WORKERS_TRAINER_TRAIN_LOG_H_
#define CLUEDROP_WORKERS_TRAINER_TRAIN_LOG_H_

#include <cstdio>
#include <memory>
#include <string>

#include "base/status.h"
#include "workers/trainer/train_run_options.h"

namespace cluedrop::trainer {

class TrainLog {
 public:
  // Creates output_dir when missing; INTERNAL when the file cannot be opened.
  static StatusOr<std::unique_ptr<TrainLog>> Open(const std::string& output_dir);
  ~TrainLog();
  TrainLog(const TrainLog&) = delete;
  TrainLog& operator=(const TrainLog&) = delete;

  void Append(const TrainProgress& p);

 private:
  explicit TrainLog(std::FILE* file) : file_(file) {}
  std::FILE* file_;
};

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_TRAIN_LOG_H_
