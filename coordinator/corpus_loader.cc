#include "coordinator/corpus_loader.h"

#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/absl_status.h"
#include "corpus/document_reader.h"

namespace cluedrop::coordinator {
namespace {

absl::StatusOr<corpus::Format> ReaderFormat(v1::CorpusFormat format) {
  switch (format) {
    case v1::CORPUS_FORMAT_UNSPECIFIED:
      return corpus::Format::kByExtension;
    case v1::CORPUS_FORMAT_JSONL:
      return corpus::Format::kJsonl;
    case v1::CORPUS_FORMAT_CSV:
      return corpus::Format::kCsv;
    case v1::CORPUS_FORMAT_TEXT:
      return corpus::Format::kText;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("corpus.format: unknown value ", static_cast<int>(format)));
  }
}

std::string Basename(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Returns the offset of the first byte that does not start a valid UTF-8
// sequence (overlong forms, surrogates and code points past U+10FFFF are
// invalid), or s.size() when all of `s` is valid.
size_t Utf8ErrorOffset(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return s.size();
}

// OK, or INVALID_ARGUMENT "<at>: <what> is not valid UTF-8 (byte N)".
absl::Status CheckUtf8(const std::string& at, const char* what, const std::string& s) {
  const size_t bad = Utf8ErrorOffset(s);
  if (bad == s.size()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(at, ": ", what, " is not valid UTF-8 (byte ", bad, ")"));
}

// Where each document came from, for error messages.
struct Origin {
  int path_index;
  size_t line;
};

}  // namespace

absl::StatusOr<std::vector<v1::Document>> LoadCorpus(const v1::CorpusSpec& spec) {
  if (spec.paths().empty())
    return absl::InvalidArgumentError("corpus.paths: at least one path required");
  CLUEDROP_ASSIGN_OR_RETURN(const corpus::Format format, ReaderFormat(spec.format()));
  const uint64_t limit =
      spec.max_document_bytes() == 0 ? kDefaultMaxDocumentBytes : spec.max_document_bytes();
  absl::flat_hash_map<std::string, int> basename_count;
  for (const std::string& path : spec.paths()) ++basename_count[Basename(path)];

  std::vector<v1::Document> out;
  absl::flat_hash_map<std::string, Origin> seen;
  for (int i = 0; i < spec.paths_size(); ++i) {
    const std::string& path = spec.paths(i);
    const std::string field = absl::StrCat("corpus.paths[", i, "]");
    if (path.empty()) return absl::InvalidArgumentError(field + ": must not be empty");
    const std::string label = basename_count[Basename(path)] > 1 ? path : Basename(path);
    corpus::ReadOptions options;
    options.format = format;
    options.field_tags = spec.field_tags();
    auto read = corpus::ReadDocuments(path, options);
    if (!read.ok()) return Annotate(ToAbslStatus(read.status()), field);
    for (corpus::Document& doc : *read) {
      const std::string at = absl::StrCat(field, ": ", path, ":", doc.line);
      if (doc.text.size() > limit) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ": document is ", doc.text.size(), " bytes, limit ", limit));
      }
      std::string id = doc.id_from_input ? std::move(doc.id) : absl::StrCat(label, ":", doc.line);
      if (id.empty()) return absl::InvalidArgumentError(at + ": document id is empty");
      CLUEDROP_RETURN_IF_ABSL_ERROR(CheckUtf8(at, "id", id));
      CLUEDROP_RETURN_IF_ABSL_ERROR(CheckUtf8(at, "text", doc.text));
      auto [it, inserted] = seen.try_emplace(id, Origin{i, doc.line});
      if (!inserted) {
        return absl::InvalidArgumentError(absl::StrCat(
            at, ": duplicate document id \"", id, "\", first at corpus.paths[",
            it->second.path_index, "]: ", spec.paths(it->second.path_index), ":", it->second.line));
      }
      v1::Document& d = out.emplace_back();
      d.set_id(std::move(id));
      d.set_text(std::move(doc.text));
      for (corpus::QaItem& item : doc.qa_items) {
        // Tag markers are ASCII, but an answer may cut an invalid sequence.
        CLUEDROP_RETURN_IF_ABSL_ERROR(CheckUtf8(at, "QA answer", item.answer));
        CLUEDROP_RETURN_IF_ABSL_ERROR(CheckUtf8(at, "QA subject", item.subject));
        v1::QaItem* qa = d.add_qa_items();
        qa->set_subject(std::move(item.subject));
        qa->set_field(std::move(item.field));
        qa->set_answer(std::move(item.answer));
      }
    }
  }
  return out;
}

}  // namespace cluedrop::coordinator
