#include "workers/model/tokenizer/normalized_string.h"

#include <algorithm>
#include <cstdint>

#include "workers/model/tokenizer/utf8.h"

namespace cluedrop::model::tokenizer {
namespace {

bool IsCharBoundary(const std::string& s, size_t i) {
  if (i == 0 || i == s.size()) return true;
  if (i > s.size()) return false;
  return (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
}

// Byte lengths of the chars of `s`.
std::vector<size_t> CharLengths(std::string_view s) {
  std::vector<size_t> lens;
  lens.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t len = Utf8CharLen(static_cast<unsigned char>(s[i]));
    if (i + len > s.size()) len = s.size() - i;
    lens.push_back(len);
    i += len;
  }
  return lens;
}

std::vector<CharChange> CharsOf(std::string_view s) {
  std::vector<CharChange> out;
  for (size_t i = 0; i < s.size();) {
    size_t len = 0;
    out.push_back({DecodeUtf8At(s, i, &len), 0});
    i += len;
  }
  return out;
}

}  // namespace

NormalizedString::NormalizedString(std::string_view original)
    : normalized_(original), original_len_(original.size()) {
  alignments_.reserve(original.size());
  for (size_t i = 0; i < original.size();) {
    size_t len = Utf8CharLen(static_cast<unsigned char>(original[i]));
    if (i + len > original.size()) len = original.size() - i;
    for (size_t k = 0; k < len; ++k) alignments_.emplace_back(i, i + len);
    i += len;
  }
}

std::optional<Offsets> NormalizedString::NormalizedToOriginal(size_t begin, size_t end) const {
  if (begin == end) return Offsets{begin, end};
  if (begin > end) return std::nullopt;
  if (end > alignments_.size()) return std::nullopt;
  return Offsets{alignments_[begin].first, alignments_[end - 1].second};
}

std::optional<Offsets> NormalizedString::OriginalToNormalized(size_t begin, size_t end) const {
  if (begin == end) return Offsets{begin, end};
  if (begin > end) return std::nullopt;
  std::optional<size_t> start, stop;
  for (size_t i = 0; i < alignments_.size(); ++i) {
    const Offsets& a = alignments_[i];
    if (!(end >= a.second)) break;
    if (!start && begin <= a.first && a.first != a.second) start = i;
    stop = i + 1;
  }
  if (start && !stop) return Offsets{*start, *start};
  if (!start && stop) return Offsets{*stop, *stop};
  if (start && stop) return Offsets{*start, *stop};
  return std::nullopt;
}

std::optional<NormalizedString> NormalizedString::Slice(size_t begin, size_t end) const {
  if (begin > normalized_.size() || end > normalized_.size()) return std::nullopt;
  if (!IsCharBoundary(normalized_, begin) || !IsCharBoundary(normalized_, end)) {
    return std::nullopt;
  }
  if (begin > end) return std::nullopt;
  std::optional<Offsets> original = NormalizedToOriginal(begin, end);
  if (!original) return std::nullopt;
  const size_t n_shift = original->first;
  NormalizedString out;
  out.normalized_ = normalized_.substr(begin, end - begin);
  out.alignments_.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    const Offsets& a = alignments_[i];
    out.alignments_.emplace_back(a.first >= n_shift ? a.first - n_shift : 0,
                                 a.second >= n_shift ? a.second - n_shift : 0);
  }
  // Rust takes original[range] and falls back to "" when the range is invalid.
  const bool valid = original->first <= original->second && original->second <= original_len_;
  out.original_len_ = valid ? original->second - original->first : 0;
  out.original_shift_ = original_shift_ + original->first;
  return out;
}

void NormalizedString::TransformRange(size_t begin, size_t end, const std::vector<CharChange>& dest,
                                      size_t initial_offset) {
  if (begin > end || end > normalized_.size()) return;
  const std::vector<size_t> old_lens =
      CharLengths(std::string_view(normalized_).substr(begin, end - begin));
  size_t next_old = 0;
  size_t initial_removed = 0;
  while (next_old < old_lens.size() && next_old < initial_offset) {
    initial_removed += old_lens[next_old++];
  }
  size_t offset = begin + initial_removed;
  std::vector<Offsets> new_alignments;
  new_alignments.reserve(end - begin);
  std::string new_text;
  new_text.reserve(end - begin);
  const auto alignment_at = [&](size_t idx) -> Offsets {
    if (alignments_.empty()) return {0, 0};
    return idx < alignments_.size() ? alignments_[idx] : alignments_.back();
  };
  for (const CharChange& item : dest) {
    const size_t idx = offset;
    Offsets align;
    if (item.change > 0) {
      align = idx < 1 ? Offsets{0, 0} : alignment_at(idx - 1);
    } else {
      align = alignment_at(idx);
    }
    size_t replaced = 0;
    if (item.change <= 0 && next_old < old_lens.size()) replaced = old_lens[next_old++];
    size_t removed = 0;
    if (item.change < 0) {
      for (int k = 0; k < -item.change && next_old < old_lens.size(); ++k) {
        removed += old_lens[next_old++];
      }
    }
    offset += replaced + removed;
    const size_t len = Utf8Len(item.c);
    for (size_t k = 0; k < len; ++k) new_alignments.push_back(align);
    AppendUtf8(item.c, &new_text);
  }
  alignments_.erase(alignments_.begin() + begin, alignments_.begin() + end);
  alignments_.insert(alignments_.begin() + begin, new_alignments.begin(), new_alignments.end());
  normalized_.replace(begin, end - begin, new_text);
}

void NormalizedString::Transform(const std::vector<CharChange>& dest, size_t initial_offset) {
  std::optional<Offsets> range = OriginalToNormalized(0, original_len_);
  if (!range) return;
  TransformRange(range->first, range->second, dest, initial_offset);
}

void NormalizedString::Prepend(std::string_view s) {
  if (normalized_.empty()) return;
  size_t first_len = 0;
  const char32_t first = DecodeUtf8At(normalized_, 0, &first_len);
  std::vector<CharChange> dest;
  for (size_t i = 0; i < s.size();) {
    size_t len = 0;
    dest.push_back({DecodeUtf8At(s, i, &len), dest.empty() ? 0 : 1});
    i += len;
  }
  dest.push_back({first, 1});
  TransformRange(0, first_len, dest, 0);
}

Status NormalizedString::Replace(const Pattern& pattern, std::string_view content) {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<PatternPiece> pieces, pattern.FindMatches(normalized_));
  // One pass, equivalent to tokenizers' transform_range per match (which is
  // quadratic): the content's chars all take the alignment of the last
  // replaced byte; for an empty match, that of the byte before it.
  std::string text;
  text.reserve(normalized_.size());
  std::vector<Offsets> alignments;
  alignments.reserve(alignments_.size());
  for (const PatternPiece& piece : pieces) {
    if (piece.begin > piece.end || piece.end > normalized_.size()) continue;
    if (!piece.is_match) {
      text.append(normalized_, piece.begin, piece.end - piece.begin);
      alignments.insert(alignments.end(), alignments_.begin() + piece.begin,
                        alignments_.begin() + piece.end);
      continue;
    }
    Offsets align{0, 0};
    if (piece.end > piece.begin) {
      align = alignments_[piece.end - 1];
    } else if (!alignments.empty()) {
      align = alignments.back();
    }
    text.append(content);
    alignments.insert(alignments.end(), content.size(), align);
  }
  normalized_ = std::move(text);
  alignments_ = std::move(alignments);
  return OkStatus();
}

StatusOr<std::vector<NormalizedString>> NormalizedString::Split(const Pattern& pattern,
                                                                SplitBehavior behavior) const {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<PatternPiece> matches, pattern.FindMatches(normalized_));
  // (range, remove?)
  std::vector<PatternPiece> splits;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (PatternPiece p : matches) splits.push_back({p.begin, p.end, false});
      break;
    case SplitBehavior::kRemoved:
      splits = matches;
      break;
    case SplitBehavior::kContiguous: {
      bool previous_match = false;
      for (const PatternPiece& p : matches) {
        if (p.is_match == previous_match && !splits.empty()) {
          splits.back().end = p.end;
        } else {
          splits.push_back({p.begin, p.end, false});
        }
        previous_match = p.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const PatternPiece& p : matches) {
        if (p.is_match && !previous_match && !splits.empty()) {
          splits.back().end = p.end;
        } else {
          splits.push_back({p.begin, p.end, false});
        }
        previous_match = p.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous_match = false;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        const PatternPiece& p = *it;
        if (p.is_match && !previous_match && !splits.empty()) {
          splits.back().begin = p.begin;
        } else {
          splits.push_back({p.begin, p.end, false});
        }
        previous_match = p.is_match;
      }
      std::reverse(splits.begin(), splits.end());
      break;
    }
  }
  std::vector<NormalizedString> out;
  out.reserve(splits.size());
  for (const PatternPiece& s : splits) {
    if (s.is_match) continue;  // "remove"
    std::optional<NormalizedString> slice = Slice(s.begin, s.end);
    if (!slice) return InternalError("NormalizedString: bad split");
    out.push_back(std::move(*slice));
  }
  return out;
}

Status NormalizedString::Normalize(NormalizationForm form) {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<CharChange> dest, NormalizeWithChanges(form, normalized_));
  Transform(dest, 0);
  return OkStatus();
}

Status NormalizedString::Lowercase() {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<CharChange> dest, LowercaseWithChanges(normalized_));
  Transform(dest, 0);
  return OkStatus();
}

void NormalizedString::Strip(bool left, bool right) {
  const std::vector<CharChange> chars = CharsOf(normalized_);
  size_t leading = 0;
  if (left) {
    while (leading < chars.size() && IsWhitespace(chars[leading].c)) ++leading;
  }
  size_t trailing = 0;
  if (right) {
    while (trailing < chars.size() && IsWhitespace(chars[chars.size() - 1 - trailing].c)) {
      ++trailing;
    }
  }
  if (leading == 0 && trailing == 0) return;
  std::vector<CharChange> dest;
  dest.reserve(chars.size());
  const size_t kept_end = chars.size() - trailing;  // one past the last kept char
  for (size_t i = leading; i < kept_end; ++i) {
    const int change = i + 1 == kept_end ? -static_cast<int>(trailing) : 0;
    dest.push_back({chars[i].c, change});
  }
  Transform(dest, leading);
}

}  // namespace cluedrop::model::tokenizer
