// The JSONL files of scored documents and of augmented samples.
//
// Input, one object per line, as `cluedrop score` and `cluedrop results`
// write it (other keys, e.g. qa_items, are ignored; blank lines skipped):
//   {"id": "bio-1" | 7, "text": "...", "tokens": [ids], "offsets": [[b, e], ...],
//    "received_large": [x | null, ...], "received_small": [...], "contrast": [...]}
// id, text, tokens and offsets are required; a missing score vector is
// empty (modes that rank by it then fail), a present one has one entry per
// token; null is NaN. Ids must be unique (they key the masks).
//
// Output, one object per sample (`cluedrop augment`):
//   {"id": "bio-1", "copy": 0 | -1 (original), "text": "...", "tokens": [ids],
//    "dropped": [positions in the input tokens]}
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(std::vector<ScoredRecord> records,
//                             ParseScoredJsonl(content, "scores.jsonl"));
//   out += AugmentedSampleJsonLine(records[0].document.id, sample);
#ifndef CLUEDROP_WORKERS_TRAINER_SCORED_JSONL_H_
#define CLUEDROP_WORKERS_TRAINER_SCORED_JSONL_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "workers/trainer/augmenter.h"

namespace cluedrop {

struct ScoredRecord {
  ScoredDocument document;  // `special` left empty
  size_t line = 0;          // 1-based line of the input
};

// Parses `content`; `path` names the input in errors, which are
// INVALID_ARGUMENT "path:LINE: what" (bad JSON, a missing or mistyped field,
// a length mismatch, a duplicate id), or "path: no documents".
StatusOr<std::vector<ScoredRecord>> ParseScoredJsonl(std::string_view content,
                                                     const std::string& path);

// One output line (with the trailing newline). Invalid UTF-8 in the text is
// replaced by U+FFFD.
std::string AugmentedSampleJsonLine(const std::string& id, const AugmentedSample& sample);

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_TRAINER_SCORED_JSONL_H_
