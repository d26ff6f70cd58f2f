#include "workers/model/tokenizer/byte_level.h"

#include <array>

#include "workers/model/tokenizer/utf8.h"

namespace cluedrop::model::tokenizer {
namespace {

struct Tables {
  std::array<char32_t, 256> byte_to_char{};
  std::array<std::string, 256> byte_to_utf8;
  Tables() {
    std::array<bool, 256> direct{};
    for (int b = '!'; b <= '~'; ++b) direct[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      byte_to_char[b] = direct[b] ? static_cast<char32_t>(b) : next++;
      byte_to_utf8[b] = EncodeUtf8(byte_to_char[b]);
    }
  }
};

const Tables& GetTables() {
  static const Tables* const tables = new Tables();
  return *tables;
}

}  // namespace

char32_t ByteToChar(uint8_t byte) { return GetTables().byte_to_char[byte]; }

const std::string& ByteToCharUtf8(uint8_t byte) { return GetTables().byte_to_utf8[byte]; }

std::optional<uint8_t> CharToByte(char32_t c) {
  if (c < 256) {
    const bool direct = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE);
    if (direct) return static_cast<uint8_t>(c);
    return std::nullopt;
  }
  if (c >= 256 && c < 256 + 68) {
    // The 68 bytes that are not shown as themselves, in increasing order.
    const Tables& t = GetTables();
    for (int b = 0; b < 256; ++b) {
      if (t.byte_to_char[b] == c) return static_cast<uint8_t>(b);
    }
  }
  return std::nullopt;
}

}  // namespace cluedrop::model::tokenizer
