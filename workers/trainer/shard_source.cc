#include "workers/trainer/shard_source.h"

#include <algorithm>

namespace cluedrop::trainer {

StatusOr<uint64_t> ScoredShardSource::DocumentCount() {
  uint64_t count = 0;
  for (uint64_t k = 0;; ++k) {
    CLUEDROP_ASSIGN_OR_RETURN(auto shard, Shard(k));
    if (!shard.has_value()) return count;
    count += shard->size();
  }
}

StatusOr<std::optional<std::vector<ScoredDocument>>> InMemoryShardSource::Shard(uint64_t k) {
  if (k >= shards_.size()) return std::optional<std::vector<ScoredDocument>>();
  return std::optional<std::vector<ScoredDocument>>(shards_[k]);
}

std::vector<std::vector<ScoredDocument>> PartitionDocuments(
    const std::vector<ScoredDocument>& documents, int rank, int world_size, size_t shard_size) {
  if (shard_size == 0) shard_size = 1;
  std::vector<std::vector<ScoredDocument>> out;
  size_t shard = 0;
  for (size_t begin = 0; begin < documents.size(); begin += shard_size, ++shard) {
    if (static_cast<int>(shard % world_size) != rank) continue;
    const size_t end = std::min(documents.size(), begin + shard_size);
    out.emplace_back(documents.begin() + begin, documents.begin() + end);
  }
  return out;
}

}  // namespace cluedrop::trainer
