// Where a trainer rank's scored documents come from: its partition of a
// job's scored shards, shard by shard (the trainer daemon streams them from
// the coordinator, shard_feed_source.h; `cluedrop train --local` and tests
// hold them in memory). Torch-free.
//
// Example:
//   InMemoryShardSource source(PartitionDocuments(docs, rank, world_size, 1000));
//   CLUEDROP_ASSIGN_OR_RETURN(auto shard, source.Shard(0));
//
// Thread-safety: one reader per source.
#ifndef CLUEDROP_WORKERS_TRAINER_SHARD_SOURCE_H_
#define CLUEDROP_WORKERS_TRAINER_SHARD_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/status.h"
#include "workers/trainer/augmenter.h"

namespace cluedrop::trainer {

// A rank's partition of scored documents, shard by shard.
class ScoredShardSource {
 public:
  virtual ~ScoredShardSource() = default;
  // The documents of the partition's shard `k` (k = 0, 1, ... in order);
  // nullopt past the partition's end. May block (a streaming source waits
  // for the shard to be scored). Must return the same documents for the
  // same k every time (epochs re-read the shards).
  virtual StatusOr<std::optional<std::vector<ScoredDocument>>> Shard(uint64_t k) = 0;
  // Documents in the whole partition. The default walks Shard(0, 1, ...).
  virtual StatusOr<uint64_t> DocumentCount();
};

// Shards held in memory (`cluedrop train --local`, tests).
class InMemoryShardSource : public ScoredShardSource {
 public:
  explicit InMemoryShardSource(std::vector<std::vector<ScoredDocument>> shards)
      : shards_(std::move(shards)) {}
  StatusOr<std::optional<std::vector<ScoredDocument>>> Shard(uint64_t k) override;

 private:
  std::vector<std::vector<ScoredDocument>> shards_;
};

// Checks each document of `inner` before handing it out: every token id in
// [0, vocab_size), and offsets and score vectors absent or one per token,
// spans inside the text. A document
// that fails is INVALID_ARGUMENT naming it ("document d17: tokens[3] = 99999
// is outside the target vocabulary [0, 32000)"): a trainer must never index
// an embedding with it, and the job fails rather than retrying forever.
class ValidatingShardSource : public ScoredShardSource {
 public:
  ValidatingShardSource(ScoredShardSource& inner, int64_t vocab_size)
      : inner_(inner), vocab_size_(vocab_size) {}
  StatusOr<std::optional<std::vector<ScoredDocument>>> Shard(uint64_t k) override;
  StatusOr<uint64_t> DocumentCount() override { return inner_.DocumentCount(); }

 private:
  ScoredShardSource& inner_;
  int64_t vocab_size_;
};

// The check ValidatingShardSource applies to one document.
Status ValidateScoredDocument(const ScoredDocument& doc, int64_t vocab_size);

// Splits `documents` into shards of `shard_size` documents and deals them
// round-robin to `world_size` ranks: rank r gets shards r, r + W, ...
// (shard_size 0: one shard per document). The partition of `rank`.
std::vector<std::vector<ScoredDocument>> PartitionDocuments(
    const std::vector<ScoredDocument>& documents, int rank, int world_size, size_t shard_size);

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_SHARD_SOURCE_H_
