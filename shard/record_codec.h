// The record framing shared by the shard store's payloads
// (docs/shard-format.md), the state store's shard documents and the CLI's
// checksum of streamed shards: per message a u32 little-endian length, then
// the serialized message.
//
// Example:
//   std::string payload;
//   for (const auto& doc : docs) AppendRecord(doc, &payload);
//   uint32_t crc = Crc32c(payload);
#ifndef CLUEDROP_SHARD_RECORD_CODEC_H_
#define CLUEDROP_SHARD_RECORD_CODEC_H_

#include <google/protobuf/message_lite.h>

#include <string>

namespace cluedrop::shard {

// Appends `message` as one record. The caller keeps messages below 2 GiB
// (protobuf's own limit).
void AppendRecord(const google::protobuf::MessageLite& message, std::string* out);

}  // namespace cluedrop::shard

#endif  // CLUEDROP_SHARD_RECORD_CODEC_H_
