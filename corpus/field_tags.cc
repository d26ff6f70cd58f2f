#include "corpus/field_tags.h"

#include <utility>

namespace cluedrop::corpus {
namespace {

bool IsTagNameChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

std::string Marker(std::string_view name, bool closing) {
  return std::string(closing ? "</" : "<") + std::string(name) + ">";
}

// "<city> at byte 57".
std::string Tag(std::string_view name, bool closing, size_t pos) {
  return Marker(name, closing) + " at byte " + std::to_string(pos);
}

// "field tag <city> at byte 57".
std::string At(std::string_view name, bool closing, size_t pos) {
  return "field tag " + Tag(name, closing, pos);
}

}  // namespace

std::optional<TagMarker> MatchTagMarker(std::string_view text, size_t pos) {
  if (pos >= text.size() || text[pos] != '<') return std::nullopt;
  size_t j = pos + 1;
  const bool closing = j < text.size() && text[j] == '/';
  if (closing) ++j;
  const size_t name_begin = j;
  while (j < text.size() && IsTagNameChar(text[j])) ++j;
  if (j == name_begin || j >= text.size() || text[j] != '>') return std::nullopt;
  return TagMarker{text.substr(name_begin, j - name_begin), closing, j + 1 - pos};
}

StatusOr<TaggedText> ParseFieldTags(std::string_view text) {
  TaggedText out;
  out.text.reserve(text.size());
  std::optional<std::string> subject;
  // The open tag: its name, its byte position in `text` and where its content
  // starts in out.text.
  std::optional<std::string_view> open_name;
  size_t open_pos = 0, content_begin = 0;
  for (size_t i = 0; i < text.size();) {
    std::optional<TagMarker> marker = MatchTagMarker(text, i);
    if (!marker) {
      out.text += text[i++];
      continue;
    }
    if (!marker->closing) {
      if (open_name) {
        return InvalidArgumentError(At(marker->name, false, i) + " is nested in " +
                                    Tag(*open_name, false, open_pos));
      }
      open_name = marker->name;
      open_pos = i;
      content_begin = out.text.size();
    } else {
      if (!open_name)
        return InvalidArgumentError(At(marker->name, true, i) + " has no opening tag");
      if (marker->name != *open_name) {
        return InvalidArgumentError(At(marker->name, true, i) + " does not match " +
                                    Tag(*open_name, false, open_pos));
      }
      std::string content = out.text.substr(content_begin);
      if (content.empty())
        return InvalidArgumentError(At(*open_name, false, open_pos) + " is empty");
      if (*open_name == kSubjectTag) {
        if (subject && *subject != content) {
          return InvalidArgumentError(At(kSubjectTag, false, open_pos) + " names \"" + content +
                                      "\" but the document's subject is \"" + *subject + "\"");
        }
        subject = std::move(content);
      } else {
        out.qa_items.push_back({"", std::string(*open_name), std::move(content)});
      }
      open_name.reset();
    }
    i += marker->length;
  }
  if (open_name) return InvalidArgumentError(At(*open_name, false, open_pos) + " is not closed");
  for (QaItem& item : out.qa_items) item.subject = subject.value_or("");
  return out;
}

}  // namespace cluedrop::corpus
