// Fuzzes the tokenizer.json loader: any bytes must load or fail with a
// Status, and a tokenizer that loads must encode and decode a hard text
// without crashing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "workers/model/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto tokenizer = cluedrop::model::Tokenizer::FromJson(json, "fuzz.json");
  if (!tokenizer.ok()) return 0;
  static const char kText[] =
      "Hello  world!\n\tI'm 12345 <s> caf\xC3\xA9 e\xCC\x81 \xE6\x97\xA5\xE6\x9C\xAC "
      "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD \xD9\x85\xD8\xB1 <|endoftext|>  ";
  for (bool special : {true, false}) {
    auto encoding = (*tokenizer)->Encode(kText, special);
    if (!encoding.ok()) continue;
    (void)(*tokenizer)->Decode(encoding->ids, false);
    (void)(*tokenizer)->Decode(encoding->ids, true);
  }
  (void)(*tokenizer)->Decode({0, 1, 2, 3, -1, 1 << 30}, false);
  (void)(*tokenizer)->vocab_size();
  return 0;
}
