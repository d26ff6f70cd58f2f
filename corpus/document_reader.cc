#include "corpus/document_reader.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <utility>

#include "base/file.h"

namespace cluedrop::corpus {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

StatusOr<std::vector<Document>> ParseJsonl(std::string_view content, const std::string& path) {
  std::vector<Document> docs;
  size_t line_no = 0, start = 0;
  while (start <= content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return InvalidArgumentError(where + "not a JSON object");
    auto text = j.find("text");
    if (text == j.end() || !text->is_string())
      return InvalidArgumentError(where + "\"text\" must be a string");
    Document doc;
    doc.line = line_no;
    doc.id_from_input = true;
    auto id = j.find("id");
    if (id == j.end() || id->is_null()) {
      doc.id = "line-" + std::to_string(line_no);
      doc.id_from_input = false;
    } else if (id->is_string()) {
      doc.id = id->get<std::string>();
    } else if (id->is_number_integer()) {
      doc.id = std::to_string(id->get<int64_t>());
    } else {
      return InvalidArgumentError(where + "\"id\" must be a string or an integer");
    }
    doc.text = text->get<std::string>();
    docs.push_back(std::move(doc));
    if (end == content.size()) break;
  }
  return docs;
}

// RFC 4180 records; `line` of each record's start is kept for errors.
StatusOr<std::vector<std::pair<size_t, std::vector<std::string>>>> CsvRecords(
    std::string_view c, const std::string& path) {
  std::vector<std::pair<size_t, std::vector<std::string>>> records;
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, field_started = false;
  size_t line = 1, record_line = 1;
  auto end_record = [&] {
    fields.push_back(std::move(field));
    field.clear();
    if (!(fields.size() == 1 && fields[0].empty()))
      records.emplace_back(record_line, std::move(fields));
    fields.clear();
    field_started = false;
  };
  for (size_t i = 0; i < c.size(); ++i) {
    char ch = c[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < c.size() && c[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (ch == '\n') ++line;
        field += ch;
      }
      continue;
    }
    if (ch == '"' && !field_started) {
      quoted = field_started = true;
    } else if (ch == ',') {
      fields.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 < c.size() && c[i + 1] == '\n') ++i;
      end_record();
      record_line = ++line;
    } else {
      field += ch;
      field_started = true;
    }
  }
  if (quoted)
    return InvalidArgumentError(path + ":" + std::to_string(record_line) +
                                ": unterminated quoted field");
  if (field_started || !fields.empty()) end_record();
  return records;
}

StatusOr<std::vector<Document>> ParseCsv(std::string_view content, const std::string& path) {
  CLUEDROP_ASSIGN_OR_RETURN(auto records, CsvRecords(content, path));
  if (records.empty()) return InvalidArgumentError(path + ": empty CSV (no header)");
  const std::vector<std::string>& header = records[0].second;
  int text_col = -1, id_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "text") text_col = static_cast<int>(i);
    if (header[i] == "id") id_col = static_cast<int>(i);
  }
  if (text_col < 0) return InvalidArgumentError(path + ":1: no \"text\" column in the header");
  std::vector<Document> docs;
  for (size_t r = 1; r < records.size(); ++r) {
    const auto& [line, fields] = records[r];
    if (fields.size() != header.size()) {
      return InvalidArgumentError(path + ":" + std::to_string(line) + ": " +
                                  std::to_string(fields.size()) + " fields, the header has " +
                                  std::to_string(header.size()));
    }
    Document doc;
    doc.id = id_col >= 0 ? fields[id_col] : "row-" + std::to_string(r);
    doc.id_from_input = id_col >= 0;
    doc.text = fields[text_col];
    doc.line = line;
    docs.push_back(std::move(doc));
  }
  return docs;
}

std::vector<Document> ParsePlain(std::string_view content) {
  std::vector<Document> docs;
  std::string paragraph;
  size_t line_no = 0, paragraph_line = 0;
  std::istringstream in{std::string(content)};
  std::string line;
  auto flush = [&] {
    if (!paragraph.empty()) {
      Document doc;
      doc.id = "para-" + std::to_string(docs.size() + 1);
      doc.text = std::move(paragraph);
      doc.line = paragraph_line;
      docs.push_back(std::move(doc));
      paragraph.clear();
    }
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
      flush();
    } else {
      if (paragraph.empty()) paragraph_line = line_no;
      paragraph += paragraph.empty() ? line : "\n" + line;
    }
  }
  flush();
  return docs;
}

// Strips the tags of every document, or with `field_tags` parses them into
// QA items; errors name the document's line.
Status FinishTags(const std::string& path, bool field_tags, std::vector<Document>* docs) {
  for (Document& doc : *docs) {
    if (!field_tags) {
      doc.text = StripFieldTags(doc.text);
      continue;
    }
    StatusOr<TaggedText> tagged = ParseFieldTags(doc.text);
    if (!tagged.ok()) return tagged.status().Annotated(path + ":" + std::to_string(doc.line));
    doc.text = std::move(tagged->text);
    doc.qa_items = std::move(tagged->qa_items);
  }
  return OkStatus();
}

}  // namespace

std::string StripFieldTags(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (std::optional<TagMarker> marker = MatchTagMarker(text, i)) {
      i += marker->length;
    } else {
      out += text[i++];
    }
  }
  return out;
}

Format FormatForPath(const std::string& path) {
  if (EndsWith(path, ".jsonl")) return Format::kJsonl;
  if (EndsWith(path, ".csv")) return Format::kCsv;
  return Format::kText;
}

StatusOr<std::vector<Document>> ParseDocuments(std::string_view content, const std::string& path,
                                               const ReadOptions& options) {
  const Format format =
      options.format == Format::kByExtension ? FormatForPath(path) : options.format;
  StatusOr<std::vector<Document>> docs = format == Format::kJsonl ? ParseJsonl(content, path)
                                         : format == Format::kCsv
                                             ? ParseCsv(content, path)
                                             : StatusOr<std::vector<Document>>(ParsePlain(content));
  if (!docs.ok()) return docs;
  if (docs->empty()) return InvalidArgumentError(path + ": no documents");
  CLUEDROP_RETURN_IF_ERROR(FinishTags(path, options.field_tags, &*docs));
  return docs;
}

StatusOr<std::vector<Document>> ReadDocuments(const std::string& path, const ReadOptions& options) {
  CLUEDROP_ASSIGN_OR_RETURN(std::string content, ReadFile(path));
  return ParseDocuments(content, path, options);
}

}  // namespace cluedrop::corpus
