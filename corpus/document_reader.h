// Reads the documents to score from a file, by extension:
//   .jsonl  one JSON object per line with "text" (required) and "id"
//           (optional; default "line-N");
//   .csv    RFC 4180 (quoted fields may hold commas, quotes and newlines)
//           with a "text" column and an optional "id" column (default
//           "row-N"); the paper's biography files are this format;
//   other   plain text: one document per paragraph (blank-line separated),
//           ids "para-N".
// Inline field tags such as <name>...</name> (the paper's format) are
// stripped from every text. Torch-free.
#ifndef CLUEDROP_CORPUS_DOCUMENT_READER_H_
#define CLUEDROP_CORPUS_DOCUMENT_READER_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cluedrop::corpus {

struct Document {
  std::string id;
  std::string text;  // tags stripped
};

// Errors name the file and line ("docs.jsonl:3: \"text\" must be a string").
// An input without any document is INVALID_ARGUMENT too.
StatusOr<std::vector<Document>> ReadDocuments(const std::string& path);

// Parses `content` as the format `path`'s extension selects (tests, fuzzing).
StatusOr<std::vector<Document>> ParseDocuments(std::string_view content, const std::string& path);

// Removes <tag> and </tag> markers (tag = lowercase letters, digits, '_').
std::string StripFieldTags(std::string_view text);

}  // namespace cluedrop::corpus

#endif  // CLUEDROP_CORPUS_DOCUMENT_READER_H_
