// The augmenter's view of the target tokenizer: encode a text (with the
// tokenizer's special tokens, as scoring and training do) and say which ids
// are special. A seam so that augmentation code and its tests need no
// particular tokenizer; tokenizer_text_encoder.h adapts the real one
// (workers/model/tokenizer).
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(EncodedText enc, encoder.Encode("Liam was born."));
//   // enc.ids[0] is BOS for Llama-3; encoder.IsSpecial(enc.ids[0]) is true.
//
// Implementations must be thread-safe (the augmenter calls them from many
// threads) and deterministic.
#ifndef CLUEDROP_WORKERS_TRAINER_TEXT_ENCODER_H_
#define CLUEDROP_WORKERS_TRAINER_TEXT_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cluedrop {

// Parallel vectors, one entry per token.
struct EncodedText {
  std::vector<int32_t> ids;
  std::vector<std::pair<size_t, size_t>> offsets;  // UTF-8 byte spans [begin, end)
  std::vector<uint8_t> special;                    // 1 for special tokens (BOS/EOS/pad, ...)
};

class TextEncoder {
 public:
  virtual ~TextEncoder() = default;
  // Encodes UTF-8 `text` with the special tokens the tokenizer adds (BOS, ...).
  // INVALID_ARGUMENT for text the tokenizer rejects (e.g. invalid UTF-8).
  virtual StatusOr<EncodedText> Encode(std::string_view text) const = 0;
  // Whether `id` is a special token (never dropped).
  virtual bool IsSpecial(int32_t id) const = 0;
};

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_TRAINER_TEXT_ENCODER_H_
