#include "workers/scorer/text_scoring.h"

#include <torch/torch.h>

#include <algorithm>

#include "base/file.h"
#include "workers/model/model_loader.h"
#include "workers/scorer/projection.h"

namespace cluedrop::scorer {

StatusOr<std::unique_ptr<model::Tokenizer>> LoadReferenceTokenizer(const std::string& large_dir,
                                                                   const std::string& small_dir) {
  const std::string large_path = large_dir + "/tokenizer.json";
  const std::string small_path = small_dir + "/tokenizer.json";
  CLUEDROP_ASSIGN_OR_RETURN(std::string large_json, ReadFile(large_path));
  CLUEDROP_ASSIGN_OR_RETURN(std::string small_json, ReadFile(small_path));
  if (large_json != small_json) {
    return InvalidArgumentError(small_path + " differs from " + large_path +
                                "; the reference models must share a tokenizer (the target "
                                "model's tokenizer may differ)");
  }
  return model::Tokenizer::FromJson(large_json, large_path);
}

StatusOr<std::shared_ptr<model::CausalLM>> LoadScoringModel(const std::string& dir,
                                                            const std::string& device,
                                                            const std::string& dtype) {
  CLUEDROP_ASSIGN_OR_RETURN(torch::Device torch_device, model::ParseTorchDevice(device));
  std::string dtype_name = dtype;
  if (dtype_name.empty()) dtype_name = torch_device.is_cuda() ? "bfloat16" : "float32";
  CLUEDROP_ASSIGN_OR_RETURN(torch::ScalarType torch_dtype, model::ParseTorchDtype(dtype_name));
  model::LoadOptions load{{torch_device}, torch_dtype};
  return model::LoadCausalLM(dir, load);
}

StatusOr<std::vector<model::Encoding>> EncodeDocuments(const model::Tokenizer& tokenizer,
                                                       const std::vector<TextDocument>& docs) {
  std::vector<model::Encoding> encodings;
  encodings.reserve(docs.size());
  for (const TextDocument& d : docs) {
    auto e = tokenizer.Encode(d.text, /*add_special_tokens=*/true);
    if (!e.ok()) return e.status().Annotated("document '" + std::string(d.id) + "'");
    encodings.push_back(std::move(*e));
  }
  return encodings;
}

namespace {

// Moves the reference scores into `out`, projected onto `target` if set.
Status Finish(const model::Tokenizer* target, const TextDocument& doc,
              const model::Encoding& reference, DocumentScores& scores, ScoredText& out) {
  out.reference_tokens = static_cast<int64_t>(reference.ids.size());
  out.received_large = std::move(scores.received_large);
  out.received_small = std::move(scores.received_small);
  out.contrast = std::move(scores.contrast);
  if (target == nullptr) {
    out.tokens = reference.ids;
    out.offsets = reference.offsets;
    return OkStatus();
  }
  auto e = target->Encode(doc.text, /*add_special_tokens=*/true);
  if (!e.ok()) {
    return e.status().Annotated("target tokenizer: document '" + std::string(doc.id) + "'");
  }
  for (std::vector<float>* v : {&out.received_large, &out.received_small, &out.contrast}) {
    CLUEDROP_ASSIGN_OR_RETURN(*v, ProjectScores(reference.offsets, *v, e->offsets));
  }
  out.tokens = std::move(e->ids);
  out.offsets = std::move(e->offsets);
  return OkStatus();
}

}  // namespace

Status ScoreEncodedDocuments(model::CausalLM& large, model::CausalLM& small,
                             const model::Tokenizer* target, const std::vector<TextDocument>& docs,
                             const std::vector<model::Encoding>& encodings,
                             const TextScoringOptions& options, const ScoredChunkSink& sink) {
  if (docs.size() != encodings.size()) {
    return InvalidArgumentError("ScoreEncodedDocuments: " + std::to_string(docs.size()) +
                                " documents but " + std::to_string(encodings.size()) +
                                " encodings");
  }
  const Scorer scorer(options.score);
  const size_t max_docs = static_cast<size_t>(std::max<int64_t>(1, options.chunk_documents));
  size_t first = 0;
  while (first < docs.size()) {
    size_t last = first;
    int64_t chunk_tokens = 0;
    std::vector<std::vector<int32_t>> ids;
    while (last < docs.size() && last - first < max_docs &&
           (options.chunk_tokens <= 0 || chunk_tokens < options.chunk_tokens)) {
      ids.push_back(encodings[last].ids);
      chunk_tokens += static_cast<int64_t>(encodings[last].ids.size());
      ++last;
    }
    CLUEDROP_ASSIGN_OR_RETURN(std::vector<DocumentScores> scores, scorer.Score(large, small, ids));
    std::vector<ScoredText> chunk(last - first);
    for (size_t i = first; i < last; ++i) {
      CLUEDROP_RETURN_IF_ERROR(
          Finish(target, docs[i], encodings[i], scores[i - first], chunk[i - first]));
    }
    CLUEDROP_RETURN_IF_ERROR(sink(first, chunk));
    first = last;
  }
  return OkStatus();
}

}  // namespace cluedrop::scorer
