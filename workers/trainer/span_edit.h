// Text edits for dropped tokens, character by character like the authors'
// script (Python str slicing with the tokenizer's character offsets):
//   BlankSpans  every character (Unicode code point) that shares a byte with
//               a span becomes ONE ASCII space, so "São" with "ã" dropped is
//               "S o": the character count and every word boundary stay, the
//               byte length shrinks by (UTF-8 length - 1) per blanked
//               multi-byte character;
//   DeleteSpans the same characters are removed.
// Spans are UTF-8 byte spans [begin, end) of `text`; they may overlap, cover
// part of a character (byte-level tokens that split one) or reach past the
// end (clamped). Invalid UTF-8 bytes count as one character each.
//
// Example:
//   BlankSpans("Liam was born", {{5, 8}})  == "Liam     born"
//   DeleteSpans("Liam was born", {{4, 8}}) == "Liam born"
#ifndef CLUEDROP_WORKERS_TRAINER_SPAN_EDIT_H_
#define CLUEDROP_WORKERS_TRAINER_SPAN_EDIT_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace cluedrop {

std::string BlankSpans(std::string_view text, std::span<const std::pair<size_t, size_t>> spans);
std::string DeleteSpans(std::string_view text, std::span<const std::pair<size_t, size_t>> spans);

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_TRAINER_SPAN_EDIT_H_
