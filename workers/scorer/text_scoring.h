// Scoring texts end to end with a reference pair: the one piece shared by
// `cluedrop score` (score_job.h) and the scorer daemon (engine_shard_scorer.h).
//
//   LoadReferenceTokenizer   both checkpoints must carry the same
//                            tokenizer.json (byte for byte); it encodes the
//                            texts for both models
//   LoadScoringModel         a checkpoint on a device in a dtype
//   EncodeDocuments          reference token ids + UTF-8 byte offsets
//   ScoreEncodedDocuments    Scorer::Score in chunks of documents, then the
//                            optional projection onto a target tokenizer
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(auto tokenizer, LoadReferenceTokenizer(large_dir, small_dir));
//   CLUEDROP_ASSIGN_OR_RETURN(auto large, LoadScoringModel(large_dir, "cpu", ""));
//   CLUEDROP_ASSIGN_OR_RETURN(auto small, LoadScoringModel(small_dir, "cpu", ""));
//   CLUEDROP_ASSIGN_OR_RETURN(auto encodings, EncodeDocuments(*tokenizer, docs));
//   CLUEDROP_RETURN_IF_ERROR(ScoreEncodedDocuments(
//       *large, *small, /*target=*/nullptr, docs, encodings, {},
//       [&](size_t first, std::vector<ScoredText>& chunk) { ...; return OkStatus(); }));
//
// Torch-free header (models are forward-declared); the body runs libtorch.
// The functions keep no state; a model must not be used by two scoring calls
// at once.
#ifndef CLUEDROP_WORKERS_SCORER_TEXT_SCORING_H_
#define CLUEDROP_WORKERS_SCORER_TEXT_SCORING_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/encoding.h"
#include "workers/model/tokenizer/tokenizer.h"
#include "workers/scorer/scored_text.h"
#include "workers/scorer/scorer.h"

namespace cluedrop::scorer {

// A document to score; the strings must outlive the call.
struct TextDocument {
  std::string_view id;
  std::string_view text;
};

struct TextScoringOptions {
  ScoreOptions score;
  // A chunk (one Scorer::Score call, then one sink call) ends after this
  // many documents...
  int64_t chunk_documents = 64;
  // ...or once it holds at least this many reference tokens (0: no limit).
  int64_t chunk_tokens = 0;
};

// Receives the scores of documents [first, first + chunk.size()) in input
// order; may move out of `chunk`. A non-OK return stops scoring and is
// returned by ScoreEncodedDocuments (e.g. CANCELLED to abort).
using ScoredChunkSink = std::function<Status(size_t first, std::vector<ScoredText>& chunk)>;

// The tokenizer of large_dir/tokenizer.json after checking that
// small_dir/tokenizer.json has the same bytes. INVALID_ARGUMENT naming both
// files when they differ; the read/parse error (naming the file) otherwise.
StatusOr<std::unique_ptr<model::Tokenizer>> LoadReferenceTokenizer(const std::string& large_dir,
                                                                   const std::string& small_dir);

// Loads the checkpoint in `dir` onto `device` ("cpu", "cuda", "cuda:N") in
// `dtype` ("float32", "bfloat16", "float16"; "" = float32 on the CPU and
// bfloat16 on CUDA). INVALID_ARGUMENT / FAILED_PRECONDITION for a bad
// device or dtype; the loader's error (NOT_FOUND, INVALID_ARGUMENT,
// DATA_LOSS, ... naming the file) for a bad checkpoint; RESOURCE_EXHAUSTED
// when the device runs out of memory.
StatusOr<std::shared_ptr<model::CausalLM>> LoadScoringModel(const std::string& dir,
                                                            const std::string& device,
                                                            const std::string& dtype);

// Encodes each text with `tokenizer` (special tokens added). Errors name the
// document ("document '<id>': ...").
StatusOr<std::vector<model::Encoding>> EncodeDocuments(const model::Tokenizer& tokenizer,
                                                       const std::vector<TextDocument>& docs);

// Scores `encodings` (EncodeDocuments of `docs`) with both models, chunk by
// chunk, projecting onto `target` (nullable) through byte offsets. Documents
// without tokens get empty vectors. Errors: Scorer::Score's (INVALID_ARGUMENT
// for bad options or ids, INTERNAL / RESOURCE_EXHAUSTED when torch fails),
// the target tokenizer's naming the document, or the sink's.
Status ScoreEncodedDocuments(model::CausalLM& large, model::CausalLM& small,
                             const model::Tokenizer* target, const std::vector<TextDocument>& docs,
                             const std::vector<model::Encoding>& encodings,
                             const TextScoringOptions& options, const ScoredChunkSink& sink);

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_TEXT_SCORING_H_
