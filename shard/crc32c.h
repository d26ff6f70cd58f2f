// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
// iSCSI (RFC 3720), ext4 and LevelDB. Portable software implementation
// (slicing-by-8 tables built at compile time); no CPU-specific instructions.
//
// Example:
//   uint32_t crc = Crc32c(header);
//   crc = Crc32c(payload, crc);   // == Crc32c(header + payload)
//   Crc32c("123456789") == 0xE3069283
#ifndef CLUEDROP_SHARD_CRC32C_H_
#define CLUEDROP_SHARD_CRC32C_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace cluedrop::shard {

// Returns the CRC-32C of `data`, continuing from `crc`, the CRC-32C of the
// bytes that precede `data` (0 for none). Never fails.
uint32_t Crc32c(absl::string_view data, uint32_t crc = 0);

}  // namespace cluedrop::shard

#endif  // CLUEDROP_SHARD_CRC32C_H_
