#include "workers/scorer/score_job.h"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>

#include "corpus/document_reader.h"
#include "workers/model/checkpoint/atomic_file.h"
#include "workers/model/tokenizer/tokenizer.h"
#include "workers/scorer/text_scoring.h"

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
  CLUEDROP_ASSIGN_OR_RETURN(auto reference, LoadReferenceTokenizer(o.large_dir, o.small_dir));
  std::unique_ptr<model::Tokenizer> target;
  if (!o.target_tokenizer_dir.empty()) {
    CLUEDROP_ASSIGN_OR_RETURN(target, model::Tokenizer::FromDirectory(o.target_tokenizer_dir));
  }
  CLUEDROP_ASSIGN_OR_RETURN(auto large, LoadScoringModel(o.large_dir, o.device, o.dtype));
  CLUEDROP_ASSIGN_OR_RETURN(auto small, LoadScoringModel(o.small_dir, o.device, o.dtype));

  std::vector<TextDocument> texts;
  for (const Document& d : docs) texts.push_back({d.id, d.text});
  auto encodings = EncodeDocuments(*reference, texts);
  if (!encodings.ok()) return encodings.status().Annotated(o.input);
  int64_t total_tokens = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    if ((*encodings)[i].ids.empty())
      return InvalidArgumentError(o.input + ": document '" + docs[i].id + "' has no tokens");
    total_tokens += static_cast<int64_t>((*encodings)[i].ids.size());
  }
  TextScoringOptions scoring{o.score, o.chunk_documents};
  std::string out_text;
  const auto start = std::chrono::steady_clock::now();
  int64_t done_tokens = 0;
  CLUEDROP_RETURN_IF_ERROR(ScoreEncodedDocuments(
      *large, *small, target.get(), texts, *encodings, scoring,
      [&](size_t first, std::vector<ScoredText>& chunk) {
        for (size_t k = 0; k < chunk.size(); ++k) {
          const ScoredText& s = chunk[k];
          nlohmann::ordered_json j;
          j["id"] = docs[first + k].id;
          j["text"] = docs[first + k].text;
          j["tokens"] = s.tokens;
          nlohmann::ordered_json offsets = nlohmann::ordered_json::array();
          for (const auto& [b, e] : s.offsets) offsets.push_back({b, e});
          j["offsets"] = std::move(offsets);
          j["received_large"] = Scores(s.received_large);
          j["received_small"] = Scores(s.received_small);
          j["contrast"] = Scores(s.contrast);
          out_text +=
              j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
          done_tokens += s.reference_tokens;
        }
        if (progress != nullptr) {
          const double elapsed =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          const double rate = done_tokens / std::max(elapsed, 1e-9);
          *progress << "score: " << first + chunk.size() << "/" << docs.size() << " documents, "
                    << done_tokens << "/" << total_tokens << " tokens, "
                    << static_cast<int64_t>(rate) << " tok/s, ETA "
                    << Eta((total_tokens - done_tokens) / rate) << std::endl;
        }
        return OkStatus();
      }));
  CLUEDROP_ASSIGN_OR_RETURN(auto file, model::AtomicFileWriter::Create(o.output));
  CLUEDROP_RETURN_IF_ERROR(file->Append(out_text));
  return file->Commit();
}

}  // namespace cluedrop::scorer
