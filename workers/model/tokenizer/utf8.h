// UTF-8 helpers for the tokenizer: decoding, encoding, validation, Rust's
// `String::from_utf8_lossy`, and the Unicode White_Space property.
//
// All functions are pure and thread-safe.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_UTF8_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cluedrop::model::tokenizer {

// Returns the number of bytes of the first code point of a valid UTF-8 string
// starting at `s[i]`: 1..4. Assumes valid UTF-8 (returns 1 for a stray byte).
size_t Utf8CharLen(unsigned char lead);

// Decodes the code point at byte `i` of valid UTF-8 `s` and sets `*len` to its
// byte length. Assumes valid UTF-8 (returns the byte itself for a stray byte).
char32_t DecodeUtf8At(std::string_view s, size_t i, size_t* len);

// Appends the UTF-8 encoding of `c` (a Unicode scalar value) to `out`.
void AppendUtf8(char32_t c, std::string* out);
std::string EncodeUtf8(char32_t c);
// Byte length of the UTF-8 encoding of `c`.
size_t Utf8Len(char32_t c);

// Returns the byte offset of the first invalid sequence, or npos when `s` is
// valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
size_t FindInvalidUtf8(std::string_view s);
inline bool IsValidUtf8(std::string_view s) { return FindInvalidUtf8(s) == std::string_view::npos; }

// Rust's String::from_utf8_lossy: every maximal invalid subpart becomes one
// U+FFFD (the Unicode "substitution of maximal subparts" practice).
std::string Utf8Lossy(std::string_view bytes);

// Unicode White_Space (= Rust char::is_whitespace = regex \s).
bool IsWhitespace(char32_t c);

// Number of code points in valid UTF-8 `s`.
size_t CountChars(std::string_view s);

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_UTF8_H_
