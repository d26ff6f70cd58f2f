#include "workers/trainer/qa_prompt_table.h"

#include <utility>

#include "base/file.h"
#include "workers/trainer/qa_metrics.h"

namespace cluedrop::trainer {
namespace {

struct CsvRow {
  size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

// RFC 4180 records (quoted fields may hold commas, quotes and newlines);
// blank lines are skipped, a leading UTF-8 BOM is ignored.
StatusOr<std::vector<CsvRow>> ParseCsv(std::string_view c, const std::string& path) {
  if (c.substr(0, 3) == "\xEF\xBB\xBF") c.remove_prefix(3);
  std::vector<CsvRow> rows;
  CsvRow row{1, {}};
  std::string field;
  bool quoted = false, started = false;
  size_t line = 1;
  auto end_row = [&] {
    row.fields.push_back(std::move(field));
    field.clear();
    if (!(row.fields.size() == 1 && row.fields[0].empty())) rows.push_back(std::move(row));
    row = CsvRow{line + 1, {}};
    started = false;
  };
  for (size_t i = 0; i < c.size(); ++i) {
    const char ch = c[i];
    if (quoted) {
      if (ch == '"' && i + 1 < c.size() && c[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        if (ch == '\n') ++line;
        field += ch;
      }
    } else if (ch == '"' && !started) {
      quoted = started = true;
    } else if (ch == ',') {
      row.fields.push_back(std::move(field));
      field.clear();
      started = false;
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 < c.size() && c[i + 1] == '\n') ++i;
      end_row();
      ++line;
    } else {
      field += ch;
      started = true;
    }
  }
  if (quoted) {
    return InvalidArgumentError(path + ":" + std::to_string(row.line) +
                                ": unterminated quoted field");
  }
  if (started || !row.fields.empty()) end_row();
  return rows;
}

}  // namespace

const QaPrompt* QaPromptTable::Find(std::string_view field) const {
  for (const QaPrompt& prompt : prompts) {
    if (prompt.field == field) return &prompt;
  }
  return nullptr;
}

StatusOr<QaPromptTable> ParseQaPromptTable(std::string_view content, const std::string& path) {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<CsvRow> rows, ParseCsv(content, path));
  if (rows.empty()) return InvalidArgumentError(path + ": empty prompt table (no header)");
  const std::vector<std::string>& header = rows[0].fields;
  const std::string where = path + ":" + std::to_string(rows[0].line) + ": ";
  int field_col = -1, text_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "field") field_col = static_cast<int>(i);
    if (header[i] == "prompt" || header[i] == "template") {
      if (text_col >= 0) return InvalidArgumentError(where + "both \"prompt\" and \"template\"");
      text_col = static_cast<int>(i);
    }
  }
  if (field_col < 0) return InvalidArgumentError(where + "no \"field\" column in the header");
  if (text_col < 0) {
    return InvalidArgumentError(where + "no \"prompt\" (or \"template\") column in the header");
  }
  QaPromptTable table;
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    const std::string at = path + ":" + std::to_string(row.line) + ": ";
    if (row.fields.size() != header.size()) {
      return InvalidArgumentError(at + std::to_string(row.fields.size()) +
                                  " fields, the header has " + std::to_string(header.size()));
    }
    QaPrompt prompt{row.fields[field_col], row.fields[text_col], row.line};
    if (prompt.field.empty()) return InvalidArgumentError(at + "empty field name");
    if (prompt.field == kOverallField) {
      return InvalidArgumentError(at + "field \"overall\" is reserved for the aggregate score");
    }
    if (const QaPrompt* first = table.Find(prompt.field)) {
      return InvalidArgumentError(at + "field \"" + prompt.field +
                                  "\" already has a prompt (line " + std::to_string(first->line) +
                                  ")");
    }
    if (prompt.text.find(kNamePlaceholder) == std::string::npos) {
      return InvalidArgumentError(at + "the prompt of field \"" + prompt.field +
                                  "\" has no {name}");
    }
    table.prompts.push_back(std::move(prompt));
  }
  if (table.prompts.empty()) return InvalidArgumentError(path + ": no prompts (only a header)");
  return table;
}

StatusOr<QaPromptTable> ReadQaPromptTable(const std::string& path) {
  CLUEDROP_ASSIGN_OR_RETURN(std::string content, ReadFile(path));
  return ParseQaPromptTable(content, path);
}

std::string FillQaTemplate(std::string_view text, std::string_view name) {
  std::string out;
  for (size_t pos = 0;;) {
    const size_t hit = text.find(kNamePlaceholder, pos);
    out.append(
        text.substr(pos, hit == std::string_view::npos ? std::string_view::npos : hit - pos));
    if (hit == std::string_view::npos) return out;
    out.append(name);
    pos = hit + kNamePlaceholder.size();
  }
}

}  // namespace cluedrop::trainer
