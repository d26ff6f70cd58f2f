// Inline field tags, the paper's biography format: facts are wrapped in
// lowercase tags whose name is the field, and the person is wrapped in
// <name>...</name>. ParseFieldTags strips the tags and turns every tagged fact
// into a QA item (subject = the name tag's text, field = the tag, answer = the
// tagged text); the `name` tag itself is not a QA item. Torch- and proto-free.
//
// A tag marker is "<" [ "/" ] [a-z0-9_]+ ">"; anything else ("a < b",
// "<A>", "<not a tag>") is ordinary text.
//
// Example:
//   StatusOr<TaggedText> t = ParseFieldTags(
//       "<name>Liam Thompson</name> was born in <city>Melbourne</city>.");
//   // t->text == "Liam Thompson was born in Melbourne."
//   // t->qa_items == {{"Liam Thompson", "city", "Melbourne"}}
#ifndef CLUEDROP_CORPUS_FIELD_TAGS_H_
#define CLUEDROP_CORPUS_FIELD_TAGS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cluedrop::corpus {

// The tag whose text is the subject of every QA item of a document.
inline constexpr std::string_view kSubjectTag = "name";

struct QaItem {
  std::string subject;  // text of the document's <name> tag; empty if none
  std::string field;    // tag name, e.g. "city"
  std::string answer;   // tagged text, verbatim
};

struct TaggedText {
  std::string text;              // input with every tag marker removed
  std::vector<QaItem> qa_items;  // in order of appearance
};

// One tag marker found in a text.
struct TagMarker {
  std::string_view name;  // "city" for "<city>" and "</city>"
  bool closing = false;   // true for "</city>"
  size_t length = 0;      // bytes of the whole marker, brackets included
};

// Returns the tag marker that starts at text[pos], or nullopt when the bytes
// there are not a marker (or pos is out of range).
std::optional<TagMarker> MatchTagMarker(std::string_view text, size_t pos);

// Returns the stripped text and its QA items. Fails with INVALID_ARGUMENT
// naming the 0-based byte position of the offending marker in `text` when a
// tag is not closed, closed by another tag, nested in another tag, closed
// without being opened, or empty, or when two <name> tags disagree, e.g.
// "field tag <city> at byte 57 is not closed".
StatusOr<TaggedText> ParseFieldTags(std::string_view text);

}  // namespace cluedrop::corpus

#endif  // CLUEDROP_CORPUS_FIELD_TAGS_H_
