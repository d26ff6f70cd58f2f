// One document's attention-contrast scores in its output tokenization (the
// target model's tokenizer, or the reference one's without a target): what
// the text scoring path (text_scoring.h) produces and the scorer daemon
// (shard_scorer.h) sends. Plain data; torch-free.
#ifndef CLUEDROP_WORKERS_SCORER_SCORED_TEXT_H_
#define CLUEDROP_WORKERS_SCORER_SCORED_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace cluedrop::scorer {

// Parallel vectors, one entry per output token; NaN = no score (e.g. a
// window's last token without include_self). A document without tokens has
// empty vectors.
struct ScoredText {
  std::vector<int32_t> tokens;
  std::vector<std::pair<size_t, size_t>> offsets;  // UTF-8 byte spans [begin, end)
  std::vector<float> received_large;
  std::vector<float> received_small;
  std::vector<float> contrast;  // received_large - received_small (before projection)
  // Reference-model tokens scored for this document.
  int64_t reference_tokens = 0;
};

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_SCORED_TEXT_H_
