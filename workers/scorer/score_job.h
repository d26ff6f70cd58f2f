// `cluedrop score` as a library call: reads documents, tokenizes them with
// the reference models' tokenizer, scores them with the large and small
// models, maps the scores to the target tokenizer when one is given, and
// writes one JSON object per document:
//   {"id", "text", "tokens" (target ids), "offsets" (UTF-8 byte spans),
//    "received_large", "received_small", "contrast"}    (NaN -> null)
// The output file appears atomically when every document is scored.
// Torch-free header (the CLI includes it next to protobuf code).
#ifndef CLUEDROP_WORKERS_SCORER_SCORE_JOB_H_
#define CLUEDROP_WORKERS_SCORER_SCORE_JOB_H_

#include <iosfwd>
#include <string>

#include "base/status.h"
#include "workers/scorer/scorer.h"

namespace cluedrop::scorer {

struct ScoreJobOptions {
  std::string large_dir;             // checkpoint + tokenizer.json
  std::string small_dir;             // checkpoint; its tokenizer.json must equal the large one's
  std::string target_tokenizer_dir;  // "" = the reference tokenizer
  std::string input;                 // .jsonl, .csv or plain text (document_reader.h)
  std::string output;                // .jsonl
  std::string device = "cpu";
  std::string dtype = "float32";
  ScoreOptions score;
  // Documents per scoring call (progress granularity).
  int64_t chunk_documents = 64;
};

// Runs the job; progress lines go to `progress` (may be null). Errors name
// the file or flag at fault; nothing is written on error.
Status RunScoreJob(const ScoreJobOptions& options, std::ostream* progress);

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_SCORE_JOB_H_
