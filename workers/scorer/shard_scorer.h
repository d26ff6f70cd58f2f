// The scorer daemon's seam to the scoring engine: score one leased shard of
// documents with a job's reference pair. The worker loop (scorer_worker.h)
// talks to the coordinator and calls a ShardScorer; the real one is
// EngineShardScorer (engine_shard_scorer.h), tests use fakes.
//
// Example:
//   ShardScoringRequest request;
//   request.settings.large_checkpoint_dir = "/models/llama-8b";
//   request.settings.small_checkpoint_dir = "/models/llama-1b";
//   request.documents.push_back({"doc-1", "Liam was born in 1990."});
//   StatusOr<ShardScoringResult> result = scorer->Score(
//       request, [&](const ShardProgress& p) { return !abort_requested; });
//
// Torch-, proto- and abseil-free (base/status.h), so both the gRPC worker and
// the torch engine include it.
#ifndef CLUEDROP_WORKERS_SCORER_SHARD_SCORER_H_
#define CLUEDROP_WORKERS_SCORER_SHARD_SCORER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/scorer/scored_text.h"

namespace cluedrop::scorer {

// A job's scoring settings, as its lease carries them.
struct ShardScoringSettings {
  // Hugging Face checkpoint directories; both hold the same tokenizer.json.
  std::string large_checkpoint_dir;
  std::string small_checkpoint_dir;
  // "float32", "bfloat16", "float16"; "" = float32 on the CPU, bfloat16 on
  // CUDA.
  std::string large_dtype;
  std::string small_dtype;
  // Directory with the target model's tokenizer.json; "" = no projection
  // (the reference tokenization is the output).
  std::string target_tokenizer_dir;
  bool include_self = true;
  // Layers averaged over (negative counts from the end); empty = all.
  std::vector<int64_t> layers;
  // Token budget of one forward batch (> 0).
  int64_t batch_tokens = 16384;
};

struct ShardDocument {
  std::string id;
  std::string text;
};

struct ShardScoringRequest {
  ShardScoringSettings settings;
  std::vector<ShardDocument> documents;
};

struct ShardScoringResult {
  // One per request document, in request order.
  std::vector<ScoredText> documents;
  // Seconds spent loading each model this call had to load (empty when the
  // cached models served it).
  std::vector<double> model_load_seconds;

  int64_t reference_tokens() const {
    int64_t total = 0;
    for (const ScoredText& d : documents) total += d.reference_tokens;
    return total;
  }
};

// Progress after each scored chunk of documents.
struct ShardProgress {
  int64_t documents_done = 0;
  int64_t documents_total = 0;
  int64_t reference_tokens_done = 0;
};

// Called between chunks (and once before the first); return false to abort.
using ShardProgressFn = std::function<bool(const ShardProgress&)>;

class ShardScorer {
 public:
  virtual ~ShardScorer() = default;

  // Scores every document of `request`. CANCELLED when `progress` returned
  // false. Other errors follow IsRetryableScoringError: a bad checkpoint,
  // tokenizer or setting is not retryable, a torch failure (out of memory,
  // CUDA error) is. Not required to be thread-safe: one Score at a time.
  virtual StatusOr<ShardScoringResult> Score(const ShardScoringRequest& request,
                                             const ShardProgressFn& progress) = 0;
};

// Whether scoring the shard again (elsewhere or later) may succeed:
// true for RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE, UNKNOWN, ABORTED,
// DEADLINE_EXCEEDED and CANCELLED; false for the input errors
// (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION,
// DATA_LOSS, OUT_OF_RANGE, UNIMPLEMENTED, ...).
inline bool IsRetryableScoringError(const Status& status) {
  switch (status.code()) {
    case StatusCode::kResourceExhausted:
    case StatusCode::kInternal:
    case StatusCode::kUnavailable:
    case StatusCode::kUnknown:
    case StatusCode::kAborted:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_SHARD_SCORER_H_
