// `cluedrop augment` as a library call: scored documents (JSONL, see
// scored_jsonl.h) in, one JSONL line per sample out, for one epoch.
// Torch-free.
//
// Each document's tokens must equal the tokenizer's encoding of its text
// (with special tokens): the scores, the special flags and the re-encoding
// of blanked text all refer to that tokenization, so scores made with
// another tokenizer are refused rather than silently misapplied.
//
// Example:
//   AugmentJobOptions o;
//   o.scores_path = "scores.jsonl";
//   o.tokenizer_path = "/models/llama3";
//   o.output_path = "augmented.jsonl";
//   o.augmentation.copies = 4;
//   CLUEDROP_ASSIGN_OR_RETURN(AugmentJobSummary summary, RunAugmentJob(o));
#ifndef CLUEDROP_WORKERS_TRAINER_AUGMENT_JOB_H_
#define CLUEDROP_WORKERS_TRAINER_AUGMENT_JOB_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "workers/trainer/augmentation_options.h"

namespace cluedrop {

struct AugmentJobOptions {
  std::string scores_path;     // JSONL of `cluedrop score` / `cluedrop results`
  std::string tokenizer_path;  // the target tokenizer: tokenizer.json or its directory
  std::string output_path;     // written atomically (<path>.tmp, then renamed)
  AugmentationOptions augmentation;
  uint32_t epoch = 0;
};

struct AugmentJobSummary {
  size_t documents = 0;
  size_t samples = 0;  // lines written
  // Mean over the augmented copies (not the originals) of dropped/droppable.
  double mean_dropout_rate = 0.0;
};

// Runs the job. Errors: INVALID_ARGUMENT for bad options or input, naming
// "scores.jsonl:LINE" for a document's problem; the tokenizer's and file
// system's errors otherwise. On any error no output file is left behind
// (an existing one is untouched).
StatusOr<AugmentJobSummary> RunAugmentJob(const AugmentJobOptions& options);

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_TRAINER_AUGMENT_JOB_H_
