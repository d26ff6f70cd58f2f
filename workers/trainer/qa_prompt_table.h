// The QA prompt table: one question template per field, read from the
// paper's prompts.csv (RFC 4180 CSV with a header naming the columns
// `field` and `prompt`; `template` is accepted in place of `prompt`, the name
// job.proto's EvaluationSpec used). Templates contain `{name}`, replaced by
// the person's name; everything else, other braces included, is literal.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(QaPromptTable table, ReadQaPromptTable("prompts.csv"));
//   const QaPrompt* p = table.Find("date");
//   FillQaTemplate(p->text, "Liam Thompson");
//   // "What is the birth date of Liam Thompson?\nAnswer:"
#ifndef CLUEDROP_WORKERS_TRAINER_QA_PROMPT_TABLE_H_
#define CLUEDROP_WORKERS_TRAINER_QA_PROMPT_TABLE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cluedrop::trainer {

// The placeholder a template must contain.
inline constexpr std::string_view kNamePlaceholder = "{name}";

struct QaPrompt {
  std::string field;  // field tag, e.g. "date"
  std::string text;   // template with {name}, verbatim (may span lines)
  size_t line = 0;    // 1-based line of the row in the CSV
};

struct QaPromptTable {
  std::vector<QaPrompt> prompts;  // in file order; fields are unique

  // The prompt of `field`, or nullptr.
  const QaPrompt* Find(std::string_view field) const;
};

// Parses `content`; `path` names the input in errors. INVALID_ARGUMENT with
// "path:line: ..." for: no header, no `field` column, neither or both of
// `prompt` and `template`, a row with another number of fields than the
// header, an empty field name, the reserved field "overall", a duplicate
// field, a template without {name}, an unterminated quote, or no rows.
StatusOr<QaPromptTable> ParseQaPromptTable(std::string_view content, const std::string& path);

// Reads and parses the file (NOT_FOUND when it is missing).
StatusOr<QaPromptTable> ReadQaPromptTable(const std::string& path);

// `text` with every "{name}" replaced by `name`.
std::string FillQaTemplate(std::string_view text, std::string_view name);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_QA_PROMPT_TABLE_H_
