// What the job manager reports while it works: job, shard and worker counts,
// lease and completion events, stream volume and commit latency. A seam: the
// coordinator daemon exports these to Prometheus
// (coordinator/server/prometheus_coordinator_metrics.h); the core itself
// links no metrics library, and tests may pass a fake or nullptr.
//
// Implementations must be thread-safe: JobManager calls them under its own
// lock, from any RPC thread and its ticker.
#ifndef CLUEDROP_COORDINATOR_COORDINATOR_METRICS_H_
#define CLUEDROP_COORDINATOR_COORDINATOR_METRICS_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace cluedrop::coordinator {

class CoordinatorMetrics {
 public:
  virtual ~CoordinatorMetrics() = default;

  // Jobs by state; `counts` is indexed by v1::JobState.
  virtual void SetJobs(const std::array<uint64_t, 8>& counts) = 0;
  // Shards of active jobs: pending, leased, scored.
  virtual void SetShards(const std::array<uint64_t, 3>& pending_leased_scored) = 0;
  // Registered scorer workers.
  virtual void SetWorkers(uint64_t n) = 0;

  virtual void LeaseGranted() = 0;
  virtual void LeaseExpired() = 0;
  // A failed or expired shard went back to the queue.
  virtual void ShardRetried() = 0;
  // A lease was lost; `kind` is expired, error, fatal or restarted.
  virtual void ShardFailed(std::string_view kind) = 0;
  // A shard result arrived after another result had won.
  virtual void DuplicateCompletion() = 0;
  // A scored shard was accepted and stored; `tokens` reference-model tokens.
  virtual void ShardCompleted(uint64_t tokens) = 0;
  // One StreamShards chunk of `bytes` serialized bytes went to a trainer.
  virtual void StreamChunkSent(uint64_t bytes) = 0;
  // One durable state transaction took `seconds`.
  virtual void StateCommitted(double seconds) = 0;
  // A call was refused by authentication or authorization; `reason` is
  // unauthenticated, bad_credentials, wrong_role or not_owner.
  virtual void AuthDenied(std::string_view reason) = 0;
  // A call was refused RESOURCE_EXHAUSTED by the limit named by its flag
  // (max_watch_streams, max_long_polls, max_shard_streams, max_stream_seconds,
  // max_jobs_per_submitter, max_corpus_bytes_per_submitter).
  virtual void LimitHit(std::string_view limit) = 0;
};

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_COORDINATOR_METRICS_H_
