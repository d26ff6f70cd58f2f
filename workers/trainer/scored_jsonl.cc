#include "workers/trainer/scored_jsonl.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

namespace cluedrop {
namespace {

using Json = nlohmann::json;

Status ParseTokens(const Json& j, std::vector<int32_t>* out) {
  if (!j.is_array()) return InvalidArgumentError("\"tokens\" must be an array of integers");
  for (size_t i = 0; i < j.size(); ++i) {
    const Json& v = j[i];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
        v.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      return InvalidArgumentError("\"tokens\"[" + std::to_string(i) +
                                  "] must be a token id (integer in [0, 2^31))");
    }
    out->push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  return OkStatus();
}

Status ParseOffsets(const Json& j, std::vector<std::pair<size_t, size_t>>* out) {
  if (!j.is_array()) return InvalidArgumentError("\"offsets\" must be an array of [begin, end]");
  for (size_t i = 0; i < j.size(); ++i) {
    const Json& v = j[i];
    if (!v.is_array() || v.size() != 2 || !v[0].is_number_unsigned() ||
        !v[1].is_number_unsigned()) {
      return InvalidArgumentError("\"offsets\"[" + std::to_string(i) +
                                  "] must be [begin, end] (non-negative integers)");
    }
    out->emplace_back(v[0].get<size_t>(), v[1].get<size_t>());
  }
  return OkStatus();
}

// A score vector: numbers or null (NaN); absent -> empty.
Status ParseScores(const Json& object, const char* key, size_t tokens, std::vector<float>* out) {
  auto it = object.find(key);
  if (it == object.end()) return OkStatus();
  const std::string name = std::string("\"") + key + "\"";
  if (!it->is_array()) return InvalidArgumentError(name + " must be an array of numbers or null");
  if (it->size() != tokens) {
    return InvalidArgumentError(name + " has " + std::to_string(it->size()) + " entries for " +
                                std::to_string(tokens) + " tokens");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& v = (*it)[i];
    if (v.is_null()) {
      out->push_back(std::numeric_limits<float>::quiet_NaN());
    } else if (v.is_number()) {
      out->push_back(static_cast<float>(v.get<double>()));
    } else {
      return InvalidArgumentError(name + "[" + std::to_string(i) + "] must be a number or null");
    }
  }
  return OkStatus();
}

Status ParseRecord(const Json& j, ScoredDocument* doc) {
  if (!j.is_object()) return InvalidArgumentError("expected a JSON object");
  auto id = j.find("id");
  if (id == j.end()) return InvalidArgumentError("\"id\" is missing");
  if (id->is_string()) {
    doc->id = id->get<std::string>();
  } else if (id->is_number_integer()) {
    doc->id = id->dump();
  } else {
    return InvalidArgumentError("\"id\" must be a string or an integer");
  }
  auto text = j.find("text");
  if (text == j.end() || !text->is_string()) {
    return InvalidArgumentError("\"text\" must be a string");
  }
  doc->text = text->get<std::string>();
  auto tokens = j.find("tokens");
  if (tokens == j.end()) return InvalidArgumentError("\"tokens\" is missing");
  CLUEDROP_RETURN_IF_ERROR(ParseTokens(*tokens, &doc->tokens));
  auto offsets = j.find("offsets");
  if (offsets == j.end()) return InvalidArgumentError("\"offsets\" is missing");
  CLUEDROP_RETURN_IF_ERROR(ParseOffsets(*offsets, &doc->offsets));
  const size_t n = doc->tokens.size();
  if (doc->offsets.size() != n) {
    return InvalidArgumentError("\"offsets\" has " + std::to_string(doc->offsets.size()) +
                                " entries for " + std::to_string(n) + " tokens");
  }
  for (size_t i = 0; i < n; ++i) {
    const auto [b, e] = doc->offsets[i];
    if (b > e || e > doc->text.size()) {
      return InvalidArgumentError("\"offsets\"[" + std::to_string(i) + "] = [" + std::to_string(b) +
                                  ", " + std::to_string(e) + "] is not a byte span of the text (" +
                                  std::to_string(doc->text.size()) + " bytes)");
    }
  }
  CLUEDROP_RETURN_IF_ERROR(ParseScores(j, "received_large", n, &doc->received_large));
  CLUEDROP_RETURN_IF_ERROR(ParseScores(j, "received_small", n, &doc->received_small));
  return ParseScores(j, "contrast", n, &doc->contrast);
}

}  // namespace

StatusOr<std::vector<ScoredRecord>> ParseScoredJsonl(std::string_view content,
                                                     const std::string& path) {
  std::vector<ScoredRecord> records;
  std::map<std::string, size_t, std::less<>> first_line;
  size_t line_no = 0;
  for (size_t start = 0; start < content.size();) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    const std::string_view line = content.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    const Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return InvalidArgumentError(where + ": not valid JSON");
    ScoredRecord record;
    record.line = line_no;
    CLUEDROP_RETURN_IF_ERROR(ParseRecord(j, &record.document).Annotated(where));
    auto [it, inserted] = first_line.emplace(record.document.id, line_no);
    if (!inserted) {
      return InvalidArgumentError(where + ": duplicate id '" + record.document.id +
                                  "' (first on line " + std::to_string(it->second) + ")");
    }
    records.push_back(std::move(record));
  }
  if (records.empty()) return InvalidArgumentError(path + ": no documents");
  return records;
}

std::string AugmentedSampleJsonLine(const std::string& id, const AugmentedSample& sample) {
  nlohmann::ordered_json j;
  j["id"] = id;
  j["copy"] = sample.copy;
  j["text"] = sample.text;
  j["tokens"] = sample.tokens;
  j["dropped"] = sample.dropped;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace cluedrop
