#include "shard/record_codec.h"

#include <cstdint>

namespace cluedrop::shard {

void AppendRecord(const google::protobuf::MessageLite& message, std::string* out) {
  const size_t size = message.ByteSizeLong();
  const size_t at = out->size();
  out->resize(at + 4 + size);
  for (int i = 0; i < 4; ++i) (*out)[at + i] = static_cast<char>((size >> (8 * i)) & 0xff);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(&(*out)[at + 4]));
}

}  // namespace cluedrop::shard
