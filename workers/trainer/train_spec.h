// JobSpec (proto) -> TrainRunOptions: the one mapping of a job's
// target_model / augmentation / training / evaluation onto the training
// runner, shared by `cluedrop train --local` and the trainer daemon.
// The spec gets the coordinator's defaults first (jobspec::
// ApplyJobSpecDefaults, idempotent), so a raw spec file and a stored job map
// to the same options, bit for bit.
//
// Example:
//   absl::StatusOr<TrainRunOptions> options = TrainRunOptionsFromSpec(spec);
//   options->device = "cuda:0";
//
// Thread-safe (pure function).
#ifndef CLUEDROP_WORKERS_TRAINER_TRAIN_SPEC_H_
#define CLUEDROP_WORKERS_TRAINER_TRAIN_SPEC_H_

#include "absl/status/statusor.h"
#include "cluedrop/v1/job.pb.h"
#include "workers/trainer/train_runner.h"

namespace cluedrop::trainer {

// INVALID_ARGUMENT naming the spec field: no target_model, lora.dropout != 0
// (not implemented), or any ValidateTrainRunOptions error. Checkpoints go to
// <output_dir>/checkpoints (interval training.checkpoint_interval_steps),
// the final model to <output_dir>/final. Evaluation questions are not built
// here (they need the corpus' QA items): eval options only.
absl::StatusOr<TrainRunOptions> TrainRunOptionsFromSpec(const v1::JobSpec& spec);

// The evaluation questions: the QA items of the spec's corpus files (field
// tags) with its prompt table and few-shot pool; empty without an
// evaluation section. Errors name the file and line.
StatusOr<std::vector<QaQuestion>> EvaluationQuestionsFromSpec(const v1::JobSpec& spec,
                                                              const QaEvalOptions& eval);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_TRAIN_SPEC_H_
