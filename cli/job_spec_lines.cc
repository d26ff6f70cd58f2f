#include "cli/job_spec_lines.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace cluedrop::cli {
namespace {

// True for text that may be a field path: starts with a letter; letters,
// digits, '_' and '.' outside brackets; anything inside `[...]` (indexes and
// quoted map keys such as labels["my key"]).
bool LooksLikeFieldPath(absl::string_view text) {
  if (text.empty() || !absl::ascii_isalpha(text.front())) return false;
  int depth = 0;
  for (char c : text) {
    if (c == '[') {
      ++depth;
    } else if (c == ']') {
      if (--depth < 0) return false;
    } else if (depth == 0 && !absl::ascii_isalnum(c) && c != '_' && c != '.') {
      return false;
    }
  }
  return depth == 0;
}

// `path` without its last segment ("a.b[2]" -> "a.b", "a.b" -> "a", "a" -> "").
absl::string_view Parent(absl::string_view path) {
  size_t cut = path.find_last_of(".[");
  return cut == absl::string_view::npos ? absl::string_view() : path.substr(0, cut);
}

}  // namespace

int JobSpecLines::Find(absl::string_view path) const {
  absl::ConsumePrefix(&path, "spec.");
  for (; !path.empty(); path = Parent(path)) {
    auto it = lines_.find(std::string(path));
    if (it != lines_.end()) return it->second;
  }
  return 0;
}

std::string JobSpecLines::Annotate(absl::string_view error) const {
  int line = 0;
  for (absl::string_view token : absl::StrSplit(error, ": ")) {
    if (!LooksLikeFieldPath(token)) continue;
    line = Find(token);
    if (line > 0) break;
  }
  if (line > 0) return absl::StrCat(file_, ":", line, ": ", error);
  return absl::StrCat(file_, ": ", error);
}

std::vector<std::string> JobSpecLines::AnnotateAll(absl::string_view message) const {
  std::vector<std::string> annotated;
  for (absl::string_view part : absl::StrSplit(message, "; ", absl::SkipWhitespace())) {
    annotated.push_back(Annotate(part));
  }
  return annotated;
}

}  // namespace cluedrop::cli
