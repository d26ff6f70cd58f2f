#include "workers/trainer/span_edit.h"

#include <algorithm>
#include <vector>

namespace cluedrop {
namespace {

// Length in bytes of the character starting at text[i]: a valid UTF-8
// sequence's length, else 1.
size_t CharLength(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const size_t n = lead < 0x80           ? 1
                   : (lead >> 5) == 0x6  ? 2
                   : (lead >> 4) == 0xe  ? 3
                   : (lead >> 3) == 0x1e ? 4
                                         : 1;
  if (i + n > text.size()) return 1;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 1;
  }
  return n;
}

// Rewrites `text` character by character: a character touched by a span is
// replaced by `replacement` (empty: removed).
std::string Rewrite(std::string_view text, std::span<const std::pair<size_t, size_t>> spans,
                    std::string_view replacement) {
  std::vector<bool> covered(text.size(), false);
  for (const auto& [begin, end] : spans) {
    for (size_t b = begin; b < std::min(end, text.size()); ++b) covered[b] = true;
  }
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = CharLength(text, i);
    const bool touched =
        std::any_of(covered.begin() + i, covered.begin() + i + n, [](bool c) { return c; });
    if (touched) {
      out += replacement;
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

}  // namespace

std::string BlankSpans(std::string_view text, std::span<const std::pair<size_t, size_t>> spans) {
  return Rewrite(text, spans, " ");
}

std::string DeleteSpans(std::string_view text, std::span<const std::pair<size_t, size_t>> spans) {
  return Rewrite(text, spans, "");
}

}  // namespace cluedrop
