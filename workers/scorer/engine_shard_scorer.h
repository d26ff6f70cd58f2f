// The ShardScorer of the scorer daemon: the scoring engine (text_scoring.h)
// with the reference models kept loaded across shards.
//
// Caching. Models are cached by (checkpoint dir, dtype, device). A shard
// keeps the cached models it needs and drops the others *before* loading
// what is missing, so at most the two models of one pair (one, when large
// and small are the same checkpoint and dtype) stay resident. The reference
// tokenizer (per large/small dir pair) and the target tokenizer (per dir)
// are cached the same way. A checkpoint is identified by its path: files
// rewritten in place are not noticed.
//
// Errors (see IsRetryableScoringError): an unreadable or malformed
// checkpoint or tokenizer, differing reference tokenizers, bad dtypes or
// layers are not retryable; out of memory and other torch errors are.
//
// Example:
//   EngineShardScorer engine({.device = "auto"});
//   StatusOr<ShardScoringResult> result = engine.Score(request, progress);
//
// Torch-free header. Not thread-safe: one Score at a time.
#ifndef CLUEDROP_WORKERS_SCORER_ENGINE_SHARD_SCORER_H_
#define CLUEDROP_WORKERS_SCORER_ENGINE_SHARD_SCORER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "workers/scorer/attention_kernel.h"
#include "workers/scorer/shard_scorer.h"

namespace cluedrop::scorer {

struct EngineShardScorerOptions {
  // "auto" (CUDA when usable, else CPU), "cpu", "cuda" or "cuda:N".
  std::string device = "auto";
  // Scoring chunks (the abort and progress granularity): at most this many
  // documents, ending once a chunk holds 2 * batch_tokens reference tokens.
  int64_t chunk_documents = 256;
  // Window length (0: the models' context) and tile rows (0: by device);
  // see ScoreOptions.
  int64_t window_tokens = 0;
  int64_t tile = 0;
  // Received-attention computation (attention_kernel.h).
  AttentionKernel kernel = AttentionKernel::kAuto;
};

class EngineShardScorer : public ShardScorer {
 public:
  explicit EngineShardScorer(EngineShardScorerOptions options);
  ~EngineShardScorer() override;
  EngineShardScorer(const EngineShardScorer&) = delete;
  EngineShardScorer& operator=(const EngineShardScorer&) = delete;

  StatusOr<ShardScoringResult> Score(const ShardScoringRequest& request,
                                     const ShardProgressFn& progress) override;

  // Models loaded since construction (cache misses).
  int64_t models_loaded() const;
  // Models resident now.
  int64_t models_cached() const;

 private:
  struct Cache;
  EngineShardScorerOptions options_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_ENGINE_SHARD_SCORER_H_
