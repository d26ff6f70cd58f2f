// The GPT-2 byte-level alphabet: each of the 256 byte values is shown as a
// printable char ('!'..'~', '¡'..'¬', '®'..'ÿ' map to themselves, the other
// bytes to U+0100 onwards, e.g. ' ' -> 'Ġ', '\n' -> 'Ċ').
//
// Tables are built once (thread-safe static init); lookups are pure.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_BYTE_LEVEL_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_BYTE_LEVEL_H_

#include <cstdint>
#include <optional>
#include <string>

namespace cluedrop::model::tokenizer {

char32_t ByteToChar(uint8_t byte);
// The UTF-8 form of ByteToChar(byte).
const std::string& ByteToCharUtf8(uint8_t byte);
// The byte shown as `c`, or nullopt for chars outside the alphabet.
std::optional<uint8_t> CharToByte(char32_t c);

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_BYTE_LEVEL_H_
