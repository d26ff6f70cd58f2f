#include "coordinator/sharding.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "coordinator/fingerprint.h"

namespace cluedrop::coordinator {
namespace {

// Hashes the 8-byte little-endian length of `s`, then `s`.
uint64_t HashField(const std::string& s, uint64_t hash) {
  char length[8];
  uint64_t n = s.size();
  for (char& byte : length) {
    byte = static_cast<char>(n & 0xff);
    n >>= 8;
  }
  return Fnv1a64(s, Fnv1a64(absl::string_view(length, sizeof(length)), hash));
}

}  // namespace

std::string ShardId(const std::vector<v1::Document>& docs, uint32_t index, uint32_t first,
                    uint32_t count) {
  uint64_t hash = kFnv1a64Offset;
  for (uint32_t i = first; i < first + count; ++i) {
    hash = HashField(docs[i].id(), hash);
    hash = HashField(docs[i].text(), hash);
  }
  return absl::StrFormat("shard-%05u-%s", index, Hex64(hash));
}

std::vector<ShardPlan> PlanShards(const std::vector<v1::Document>& docs, uint32_t shard_size_docs) {
  const uint64_t size = shard_size_docs == 0 ? kDefaultShardSizeDocs : shard_size_docs;
  std::vector<ShardPlan> plan;
  plan.reserve((docs.size() + size - 1) / size);
  for (uint64_t first = 0; first < docs.size(); first += size) {
    ShardPlan shard;
    shard.index = static_cast<uint32_t>(plan.size());
    shard.first_doc = static_cast<uint32_t>(first);
    shard.doc_count = static_cast<uint32_t>(std::min<uint64_t>(size, docs.size() - first));
    shard.shard_id = ShardId(docs, shard.index, shard.first_doc, shard.doc_count);
    plan.push_back(std::move(shard));
  }
  return plan;
}

}  // namespace cluedrop::coordinator
