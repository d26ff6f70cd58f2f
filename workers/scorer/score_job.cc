#include "workers/scorer/score_job.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "base/file.h"
#include "workers/model/checkpoint/atomic_file.h"
#include "workers/model/model_loader.h"
#include "workers/model/tokenizer/tokenizer.h"
#include "corpus/document_reader.h"
#include "workers/scorer/projection.h"

namespace cluedrop::scorer {
namespace {
using corpus::Document;
using corpus::ReadDocuments;

nlohmann::json Scores(const std::vector<float>& v) {
  nlohmann::json out = nlohmann::json::array();
  for (float x : v) out.push_back(std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x));
  return out;
}

std::string Eta(double seconds) {
  if (!std::isfinite(seconds)) return "?";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(seconds) / 60,
                static_cast<int>(seconds) % 60);
  return buf;
}

}  // namespace

Status RunScoreJob(const ScoreJobOptions& o, std::ostream* progress) {
  if (o.output.empty()) return InvalidArgumentError("--output: required");
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<Document> docs, ReadDocuments(o.input));
  CLUEDROP_ASSIGN_OR_RETURN(std::string large_tok, ReadFile(o.large_dir + "/tokenizer.json"));
  CLUEDROP_ASSIGN_OR_RETURN(std::string small_tok, ReadFile(o.small_dir + "/tokenizer.json"));
  if (large_tok != small_tok) {
    return InvalidArgumentError(
        "--small: " + o.small_dir +
        "/tokenizer.json differs from the large model's; the reference models "
        "must share a tokenizer (use --target-tokenizer for the target's)");
  }
  CLUEDROP_ASSIGN_OR_RETURN(auto reference,
                            model::Tokenizer::FromJson(large_tok, o.large_dir + "/tokenizer.json"));
  std::unique_ptr<model::Tokenizer> target;
  if (!o.target_tokenizer_dir.empty()) {
    CLUEDROP_ASSIGN_OR_RETURN(target, model::Tokenizer::FromDirectory(o.target_tokenizer_dir));
  }
  CLUEDROP_ASSIGN_OR_RETURN(torch::Device device, model::ParseTorchDevice(o.device));
  CLUEDROP_ASSIGN_OR_RETURN(torch::ScalarType dtype, model::ParseTorchDtype(o.dtype));
  model::LoadOptions load{{device}, dtype};
  CLUEDROP_ASSIGN_OR_RETURN(auto large, model::LoadCausalLM(o.large_dir, load));
  CLUEDROP_ASSIGN_OR_RETURN(auto small, model::LoadCausalLM(o.small_dir, load));

  std::vector<model::Encoding> encodings;
  int64_t total_tokens = 0;
  for (const Document& d : docs) {
    auto e = reference->Encode(d.text, /*add_special_tokens=*/true);
    if (!e.ok()) return e.status().Annotated(o.input + ": document '" + d.id + "'");
    if (e->ids.empty())
      return InvalidArgumentError(o.input + ": document '" + d.id + "' has no tokens");
    total_tokens += static_cast<int64_t>(e->ids.size());
    encodings.push_back(std::move(*e));
  }
  Scorer scorer(o.score);
  std::string out_text;
  const auto start = std::chrono::steady_clock::now();
  int64_t done_tokens = 0;
  const int64_t chunk = std::max<int64_t>(1, o.chunk_documents);
  for (size_t first = 0; first < docs.size(); first += chunk) {
    const size_t last = std::min(docs.size(), first + static_cast<size_t>(chunk));
    std::vector<std::vector<int32_t>> ids;
    for (size_t i = first; i < last; ++i) ids.push_back(encodings[i].ids);
    CLUEDROP_ASSIGN_OR_RETURN(auto scores, scorer.Score(*large, *small, ids));
    for (size_t i = first; i < last; ++i) {
      DocumentScores& s = scores[i - first];
      const model::Encoding* out_enc = &encodings[i];
      model::Encoding target_enc;
      if (target) {
        auto e = target->Encode(docs[i].text, /*add_special_tokens=*/true);
        if (!e.ok())
          return e.status().Annotated(o.target_tokenizer_dir + ": document '" + docs[i].id + "'");
        target_enc = std::move(*e);
        for (std::vector<float>* v : {&s.received_large, &s.received_small, &s.contrast}) {
          CLUEDROP_ASSIGN_OR_RETURN(*v,
                                    ProjectScores(encodings[i].offsets, *v, target_enc.offsets));
        }
        out_enc = &target_enc;
      }
      nlohmann::ordered_json j;
      j["id"] = docs[i].id;
      j["text"] = docs[i].text;
      j["tokens"] = out_enc->ids;
      nlohmann::ordered_json offsets = nlohmann::ordered_json::array();
      for (const auto& [b, e] : out_enc->offsets) offsets.push_back({b, e});
      j["offsets"] = std::move(offsets);
      j["received_large"] = Scores(s.received_large);
      j["received_small"] = Scores(s.received_small);
      j["contrast"] = Scores(s.contrast);
      out_text += j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
      done_tokens += static_cast<int64_t>(encodings[i].ids.size());
    }
    if (progress != nullptr) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double rate = done_tokens / std::max(elapsed, 1e-9);
      *progress << "score: " << last << "/" << docs.size() << " documents, " << done_tokens << "/"
                << total_tokens << " tokens, " << static_cast<int64_t>(rate) << " tok/s, ETA "
                << Eta((total_tokens - done_tokens) / rate) << std::endl;
    }
  }
  CLUEDROP_ASSIGN_OR_RETURN(auto file, model::AtomicFileWriter::Create(o.output));
  CLUEDROP_RETURN_IF_ERROR(file->Append(out_text));
  return file->Commit();
}

}  // namespace cluedrop::scorer
