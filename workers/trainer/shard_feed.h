// A trainer rank's scored data: streams the rank's partition of a job's
// scored shards (TrainService.StreamShards) into a local cache while
// training reads it, so that epoch 1 starts on the first shards scored and
// later epochs read from disk.
//
// The cache is a ShardStore (docs/shard-format.md) under `cache_dir` plus a
// manifest (`<job>.r<rank>.manifest`: one "index shard_id crc" line per
// cached shard, rewritten atomically). A feed opened on an existing cache
// resumes the stream at the cursor = shards already cached, so a restarted
// rank downloads nothing twice. Each shard is checked on arrival: the
// CRC-32C of the documents as cached must equal the coordinator's.
// A broken stream (UNAVAILABLE: coordinator restart) is resumed with
// backoff; a cancelled or failed job ends the feed with that status.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(auto feed, ShardFeed::Open(options, stub));
//   feed->Start();
//   for (uint64_t k = 0;; ++k) {
//     absl::StatusOr<std::vector<v1::ScoredDocument>> shard = feed->Get(k, stop);
//     if (absl::IsOutOfRange(shard.status())) break;  // the partition's end
//     CLUEDROP_RETURN_IF_ABSL_ERROR(shard.status());
//     ...
//   }
//
// Thread-safe: one background thread streams; Get may be called from any.
#ifndef CLUEDROP_WORKERS_TRAINER_SHARD_FEED_H_
#define CLUEDROP_WORKERS_TRAINER_SHARD_FEED_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cluedrop/v1/train_service.grpc.pb.h"
#include "shard/shard_store.h"

namespace cluedrop::trainer {

struct ShardFeedOptions {
  std::string cache_dir;
  std::string job_id;
  uint32_t rank = 0;
  // Sent as "authorization: Bearer <token>" when not empty.
  std::string bearer_token;
  // Reconnect backoff after a broken stream.
  int64_t backoff_initial_ms = 200;
  int64_t backoff_max_ms = 5000;
};

class ShardFeed {
 public:
  // Opens (or creates) the cache and reads its manifest. DATA_LOSS when the
  // manifest names a shard whose cached file is missing or corrupt.
  static absl::StatusOr<std::unique_ptr<ShardFeed>> Open(
      ShardFeedOptions options, std::shared_ptr<v1::TrainService::StubInterface> stub);
  ~ShardFeed();

  // Starts streaming from the cursor in a background thread.
  void Start();
  // Stops the stream (Get then returns CANCELLED for shards not cached).
  void Stop();

  // The documents of the partition's shard `k`, waiting until it is cached.
  // OUT_OF_RANGE past the partition's end; the stream's error when it failed
  // (CANCELLED / ABORTED for a cancelled / failed job); CANCELLED when
  // `stop` returns true first.
  absl::StatusOr<std::vector<v1::ScoredDocument>> Get(uint64_t k,
                                                      const std::function<bool()>& stop);

  // Shards cached so far; the partition's size once the stream has ended.
  uint64_t cached() const;
  std::optional<uint64_t> total() const;
  // Shards fetched over the network by this object (not from the cache).
  uint64_t downloaded() const;

 private:
  struct Entry {
    std::string shard_id;
    uint32_t crc = 0;
  };
  ShardFeed(ShardFeedOptions options, std::shared_ptr<v1::TrainService::StubInterface> stub,
            std::unique_ptr<shard::ShardStore> store, std::vector<Entry> entries);
  void Run();
  // One StreamShards call from the cursor; OK when the partition ended.
  absl::Status StreamOnce();
  absl::Status AppendLocked(Entry entry);
  std::string ManifestPath() const;

  const ShardFeedOptions options_;
  std::shared_ptr<v1::TrainService::StubInterface> stub_;
  std::unique_ptr<shard::ShardStore> store_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Entry> entries_;
  bool ended_ = false;
  absl::Status error_;
  bool stopping_ = false;
  uint64_t downloaded_ = 0;
  grpc::ClientContext* active_ = nullptr;  // the stream to cancel on Stop
  std::thread thread_;
};

}  // namespace cluedrop::trainer

#endif  // CLUEDROP_WORKERS_TRAINER_SHARD_FEED_H_
