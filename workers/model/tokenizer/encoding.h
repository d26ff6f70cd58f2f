// The result of encoding one text: parallel vectors, one entry per token.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_ENCODING_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_ENCODING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cluedrop::model {

struct Encoding {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;                 // vocabulary strings
  std::vector<std::pair<size_t, size_t>> offsets;  // UTF-8 byte spans in the input text
  std::vector<uint8_t> special;  // 1 for special / added-special tokens (incl. template BOS/EOS)

  size_t size() const { return ids.size(); }
  void Append(int32_t id, std::string token, std::pair<size_t, size_t> offset, uint8_t is_special) {
    ids.push_back(id);
    tokens.push_back(std::move(token));
    offsets.push_back(offset);
    special.push_back(is_special);
  }
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_ENCODING_H_
