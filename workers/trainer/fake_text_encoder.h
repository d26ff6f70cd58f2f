// Test-only TextEncoder with a tokenization simple enough to reason about:
// BOS (id 1, special, empty span at 0), then tokens of an optional single
// leading space plus a run of letters/digits/non-ASCII bytes, or an optional
// single leading space plus one punctuation character, or one other
// whitespace character; EOS (id 2, special, empty span at the end). Ids are
// 100 + a hash of the token's bytes.
//
// Example:
//   FakeTextEncoder encoder;
//   // "Hi, São." -> BOS "Hi" "," " São" "." EOS
#ifndef CLUEDROP_WORKERS_TRAINER_FAKE_TEXT_ENCODER_H_
#define CLUEDROP_WORKERS_TRAINER_FAKE_TEXT_ENCODER_H_

#include <cctype>
#include <string_view>

#include "workers/trainer/text_encoder.h"

namespace cluedrop {

class FakeTextEncoder : public TextEncoder {
 public:
  static constexpr int32_t kBos = 1;
  static constexpr int32_t kEos = 2;

  StatusOr<EncodedText> Encode(std::string_view text) const override {
    EncodedText out;
    Add(&out, kBos, {0, 0}, true);
    size_t i = 0;
    while (i < text.size()) {
      const size_t begin = i;
      if (text[i] == ' ' && i + 1 < text.size() && !IsSpace(text[i + 1])) ++i;
      if (IsWordByte(text[i])) {
        while (i < text.size() && IsWordByte(text[i])) ++i;
      } else {
        ++i;  // one punctuation or whitespace character
      }
      Add(&out, Id(text.substr(begin, i - begin)), {begin, i}, false);
    }
    Add(&out, kEos, {text.size(), text.size()}, true);
    return out;
  }
  bool IsSpecial(int32_t id) const override { return id == kBos || id == kEos; }

  static int32_t Id(std::string_view token) {
    uint32_t h = 2166136261u;
    for (unsigned char c : token) h = (h ^ c) * 16777619u;
    return 100 + static_cast<int32_t>(h % 100000u);
  }

 private:
  static bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
  static bool IsWordByte(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || std::isalnum(u) != 0;
  }
  static void Add(EncodedText* out, int32_t id, std::pair<size_t, size_t> span, bool special) {
    out->ids.push_back(id);
    out->offsets.push_back(span);
    out->special.push_back(special ? 1 : 0);
  }
};

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_TRAINER_FAKE_TEXT_ENCODER_H_
