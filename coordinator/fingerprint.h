// A stable 64-bit fingerprint of bytes: FNV-1a 64
// (http://www.isthe.com/chongo/tech/comp/fnv/). Stable across builds,
// platforms and releases, so it may name things that are persisted (shard
// ids). Not cryptographic: do not use it where an adversary picks the input.
//
// Example:
//   uint64_t h = Fnv1a64("shard ");
//   h = Fnv1a64(text, h);                 // continue over more bytes
//   std::string name = Hex64(h);          // "85944171f73967e8"
#ifndef CLUEDROP_COORDINATOR_FINGERPRINT_H_
#define CLUEDROP_COORDINATOR_FINGERPRINT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace cluedrop::coordinator {

// FNV-1a 64 offset basis: the hash of no bytes.
inline constexpr uint64_t kFnv1a64Offset = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnv1a64Prime = 0x100000001b3ULL;

// Returns the FNV-1a 64 hash of `data`, continuing from `hash` (the result
// of an earlier call over the preceding bytes). Never fails.
uint64_t Fnv1a64(absl::string_view data, uint64_t hash = kFnv1a64Offset);

// Returns `value` as 16 lowercase hex digits, most significant first.
std::string Hex64(uint64_t value);

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_FINGERPRINT_H_
