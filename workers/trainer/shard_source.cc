#include "workers/trainer/shard_source.h"

#include <algorithm>
#include <string>

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

Status ValidateScoredDocument(const ScoredDocument& doc, int64_t vocab_size) {
  const size_t n = doc.tokens.size();
  for (size_t i = 0; i < n; ++i) {
    if (doc.tokens[i] < 0 || doc.tokens[i] >= vocab_size) {
      return InvalidArgumentError("document " + doc.id + ": tokens[" + std::to_string(i) +
                                  "] = " + std::to_string(doc.tokens[i]) +
                                  " is outside the target vocabulary [0, " +
                                  std::to_string(vocab_size) + ")");
    }
  }
  const std::pair<const char*, size_t> sizes[] = {{"offsets", doc.offsets.size()},
                                                  {"received_large", doc.received_large.size()},
                                                  {"received_small", doc.received_small.size()},
                                                  {"contrast", doc.contrast.size()}};
  for (const auto& [name, size] : sizes) {
    if (size != n && size != 0) {  // absent (mode none, plain text) or one per token
      return InvalidArgumentError("document " + doc.id + ": " + name + " has " +
                                  std::to_string(size) + " entries for " + std::to_string(n) +
                                  " tokens");
    }
  }
  for (const auto& [begin, end] : doc.offsets) {
    if (begin > end || end > doc.text.size()) {
      return InvalidArgumentError("document " + doc.id + ": a token span [" +
                                  std::to_string(begin) + ", " + std::to_string(end) +
                                  ") is outside its " + std::to_string(doc.text.size()) +
                                  "-byte text");
    }
  }
  return OkStatus();
}

StatusOr<std::optional<std::vector<ScoredDocument>>> ValidatingShardSource::Shard(uint64_t k) {
  CLUEDROP_ASSIGN_OR_RETURN(std::optional<std::vector<ScoredDocument>> shard, inner_.Shard(k));
  if (shard.has_value()) {
    for (const ScoredDocument& doc : *shard) {
      CLUEDROP_RETURN_IF_ERROR(ValidateScoredDocument(doc, vocab_size_));
    }
  }
  return shard;
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
