// Scores token-id documents with a large and a small reference model
// (docs/design.md section 1): per token the attention it receives in each
// model (received_attention.h) and contrast = received_large - received_small.
//
// Batching. Every document is cut into scoring segments (below); segments are
// sorted by length (longest first, ties by document and position) and packed
// greedily into batches whose rows * longest row <= batch_tokens (a segment
// longer than the budget gets a batch of its own). Rows are right-padded and
// masked; padding never changes a score (positions count real tokens only).
//
// Windows. A document longer than the window (window_tokens, or when 0 the
// smaller max_position_embeddings of the two models) is split into
// consecutive, non-overlapping windows of window_tokens tokens (the last one
// shorter), and each window is scored as a sequence of its own: its first
// token is position 0, and T, i and j of the formula range over the window.
// So without include_self the last token of every window gets NaN.
//
// Both forwards run under torch::InferenceMode with skip_lm_head (no logits)
// and the model's own fast attention path; the scores come from the observer
// hook. The header is torch-free: models are passed by reference to the
// forward-declared model::CausalLM.
//
// Example:
//   ScoreOptions options;
//   options.include_self = false;
//   Scorer scorer(options);
//   CLUEDROP_ASSIGN_OR_RETURN(std::vector<DocumentScores> scores,
//                             scorer.Score(*large, *small, token_ids));
//   float c = scores[0].contrast[5];  // NaN: no score (rank it last)
#ifndef CLUEDROP_WORKERS_SCORER_SCORER_H_
#define CLUEDROP_WORKERS_SCORER_SCORER_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "base/status.h"
#include "workers/scorer/attention_kernel.h"

namespace cluedrop::model {
class CausalLM;
}  // namespace cluedrop::model

namespace cluedrop::scorer {

struct ScoreOptions {
  // Count each token's attention to itself (query i == j).
  bool include_self = true;
  // Layers to average over, applied to both models; negative indices count
  // from the end (-1 = last layer). Empty = all layers.
  std::vector<int64_t> layers;
  // Token budget per batch: rows * longest row (> 0).
  int64_t batch_tokens = 8192;
  // Window length; 0 = the smaller max_position_embeddings of the models.
  // Must not exceed either model's max_position_embeddings.
  int64_t window_tokens = 0;
  // Query rows per tile of the received-attention computation; 0 = by
  // device: 128 on the CPU (cache-sized), 1024 on CUDA (fewer, larger
  // kernels). Peak extra memory is about batch * heads * tile * T * 4 bytes.
  int64_t tile = 0;
  // The received-attention computation (attention_kernel.h); auto = the
  // tiles for now, fused = the fused kernel (CUDA; CPU float32: emulated).
  AttentionKernel kernel = AttentionKernel::kAuto;
};

// One document's scores, one value per token (NaN = no score).
struct DocumentScores {
  std::vector<float> received_large;
  std::vector<float> received_small;
  std::vector<float> contrast;  // received_large - received_small
};

// A piece of a document scored as one sequence.
struct Segment {
  int64_t doc = 0;
  int64_t begin = 0;   // first token of the document in this segment
  int64_t length = 0;  // > 0
};

// The segments of one forward pass, one per row.
struct Batch {
  std::vector<Segment> rows;
  int64_t max_length = 0;
};

// Splits documents of `lengths` tokens into windows of `window` tokens and
// packs them into batches as described above. Empty documents get no
// segment. Pure function (tested on its own).
std::vector<Batch> PlanBatches(const std::vector<int64_t>& lengths, int64_t window,
                               int64_t batch_tokens);

class Scorer {
 public:
  explicit Scorer(ScoreOptions options) : options_(std::move(options)) {}

  // Scores of every document, in input order. INVALID_ARGUMENT for bad
  // options, layer indices outside a model, token ids outside a model's
  // vocabulary or a window longer than a model's context; INTERNAL /
  // RESOURCE_EXHAUSTED when torch fails.
  StatusOr<std::vector<DocumentScores>> Score(model::CausalLM& large, model::CausalLM& small,
                                              const std::vector<std::vector<int32_t>>& docs) const;

  // Received attention of one model (window 0 = that model's context).
  StatusOr<std::vector<std::vector<float>>> Received(
      model::CausalLM& model, const std::vector<std::vector<int32_t>>& docs) const;

  const ScoreOptions& options() const { return options_; }

 private:
  // Received attention with an already resolved window.
  StatusOr<std::vector<std::vector<float>>> ReceivedWithWindow(
      model::CausalLM& model, const char* which, const std::vector<std::vector<int32_t>>& docs,
      int64_t window) const;

  ScoreOptions options_;
};

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_SCORER_H_
