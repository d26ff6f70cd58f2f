#include "workers/model/tokenizer/pattern.h"

#include "workers/model/tokenizer/utf8.h"

namespace cluedrop::model::tokenizer {

StatusOr<std::vector<PatternPiece>> CharPredicatePattern::FindMatches(std::string_view text) const {
  std::vector<PatternPiece> pieces;
  if (text.empty()) {
    pieces.push_back({0, 0, false});
    return pieces;
  }
  size_t last_offset = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t len = 0;
    const char32_t c = DecodeUtf8At(text, i, &len);
    if (predicate_(c)) {
      if (last_offset < i) pieces.push_back({last_offset, i, false});
      pieces.push_back({i, i + len, true});
      last_offset = i + len;
    }
    i += len;
  }
  if (i > last_offset) pieces.push_back({last_offset, i, false});
  return pieces;
}

StatusOr<std::vector<PatternPiece>> RegexPattern::FindMatches(std::string_view text) const {
  std::vector<PatternPiece> pieces;
  if (text.empty()) {
    pieces.push_back({0, 0, false});
    return pieces;
  }
  CLUEDROP_ASSIGN_OR_RETURN(auto matches, regex_->FindAll(text));
  size_t prev = 0;
  for (const auto& [start, end] : matches) {
    if (prev != start) pieces.push_back({prev, start, false});
    pieces.push_back({start, end, true});
    prev = end;
  }
  if (prev != text.size()) pieces.push_back({prev, text.size(), false});
  return pieces;
}

StatusOr<std::vector<PatternPiece>> InvertPattern::FindMatches(std::string_view text) const {
  CLUEDROP_ASSIGN_OR_RETURN(auto pieces, inner_->FindMatches(text));
  for (PatternPiece& piece : pieces) piece.is_match = !piece.is_match;
  return pieces;
}

}  // namespace cluedrop::model::tokenizer
