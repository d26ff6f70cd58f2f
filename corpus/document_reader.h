// Reads the documents of a corpus file in one of three formats, chosen by the
// caller or by the file's extension:
//   JSONL  one JSON object per line with "text" (required) and "id"
//          (optional string or integer; default "line-N");
//   CSV    RFC 4180 (quoted fields may hold commas, quotes and newlines)
//          with a "text" column and an optional "id" column (default
//          "row-N"); the paper's biography files are this format;
//   TEXT   plain text: one document per paragraph (blank-line separated),
//          ids "para-N".
// Inline field tags such as <name>...</name> (the paper's format) are always
// stripped from the text; with ReadOptions::field_tags they are parsed
// strictly (field_tags.h) and become the document's QA items. Torch-free.
//
// Example:
//   ReadOptions options;
//   options.format = Format::kCsv;
//   options.field_tags = true;
//   CLUEDROP_ASSIGN_OR_RETURN(std::vector<Document> docs,
//                             ReadDocuments("bios.txt", options));
#ifndef CLUEDROP_CORPUS_DOCUMENT_READER_H_
#define CLUEDROP_CORPUS_DOCUMENT_READER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "corpus/field_tags.h"

namespace cluedrop::corpus {

struct Document {
  std::string id;                // the input's id, else "line-N" / "row-N" / "para-N"
  std::string text;              // tags stripped
  std::vector<QaItem> qa_items;  // only with ReadOptions::field_tags
  size_t line = 0;               // 1-based line where the document starts
  bool id_from_input = false;    // false when `id` is the default above
};

enum class Format {
  kByExtension,  // .jsonl -> kJsonl, .csv -> kCsv, anything else -> kText
  kJsonl,
  kCsv,
  kText,
};

struct ReadOptions {
  Format format = Format::kByExtension;
  // Parse field tags into QA items; malformed tags are then errors.
  bool field_tags = false;
};

// Returns the format `path`'s extension selects (never kByExtension).
Format FormatForPath(const std::string& path);

// Returns the file's documents. Errors name the file and line
// ("docs.jsonl:3: \"text\" must be a string"); an input without any document
// is INVALID_ARGUMENT too; an unreadable file has ReadFile's code (NOT_FOUND
// when missing).
StatusOr<std::vector<Document>> ReadDocuments(const std::string& path,
                                              const ReadOptions& options = {});

// Parses `content` like ReadDocuments; `path` names the input in errors and,
// with Format::kByExtension, selects the format (tests, fuzzing).
StatusOr<std::vector<Document>> ParseDocuments(std::string_view content, const std::string& path,
                                               const ReadOptions& options = {});

// Removes <tag> and </tag> markers (tag = lowercase letters, digits, '_');
// never fails, whatever the nesting.
std::string StripFieldTags(std::string_view text);

}  // namespace cluedrop::corpus

#endif  // CLUEDROP_CORPUS_DOCUMENT_READER_H_
