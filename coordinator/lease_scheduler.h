// The coordinator's scheduling core: which shard a worker gets, how long its
// lease lives, what happens when it expires or fails, and when a job's
// scoring is finished or failed. Pure in-memory state over an injected time
// ("now" in milliseconds is an argument of every call), so it is tested with
// a fake clock and no I/O; JobManager persists what it changes.
//
// Rules (docs/coordinator.md):
//  - Jobs are served in `order` (submission order); within a job, shards in
//    index order. A shard is ready when PENDING and its backoff has passed.
//  - A lease lives lease_ttl_ms; a heartbeat naming it extends it to
//    now + lease_ttl_ms. An expired lease, a worker re-registering under the
//    same name, or FailShard(retryable) counts one failure: the shard goes
//    back to PENDING after backoff_initial_ms * 2^(failures-1) (capped at
//    backoff_max_ms). At max_attempts failures, or on a non-retryable
//    FailShard, the job fails with the shard's last error.
//  - Release (a worker shutting down) re-queues at once and counts nothing.
//  - Completion: the first complete result for an unscored shard of an active
//    job wins, whichever lease it came from; later ones are duplicates.
//  - A worker silent for worker_ttl_ms is forgotten (NOT_FOUND on its next
//    heartbeat); its leases expire on their own TTL.
//
// Example:
//   LeaseScheduler scheduler(options);
//   scheduler.AddJob("job-1", /*order=*/1, shards);
//   std::string worker = scheduler.RegisterWorker("scorer-0", now).worker_id;
//   std::optional<LeaseGrant> grant = scheduler.Lease(worker, now);
//   ... scheduler.Complete(grant->key, grant->lease_id, result, now);
//
// Not thread-safe: JobManager serialises every call under its mutex.
#ifndef CLUEDROP_COORDINATOR_LEASE_SCHEDULER_H_
#define CLUEDROP_COORDINATOR_LEASE_SCHEDULER_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cluedrop::coordinator {

struct SchedulerOptions {
  int64_t lease_ttl_ms = 30000;
  int64_t heartbeat_interval_ms = 5000;
  // A worker not heard from for this long is forgotten.
  int64_t worker_ttl_ms = 90000;
  // Failures (expiries, retryable errors) after which a shard fails its job.
  uint32_t max_attempts = 4;
  int64_t backoff_initial_ms = 1000;
  int64_t backoff_max_ms = 60000;
};

enum class ShardState : int { kPending = 0, kLeased = 1, kScored = 2 };

struct ShardKey {
  std::string job_id;
  uint32_t index = 0;
  bool operator<(const ShardKey& o) const {
    return std::tie(job_id, index) < std::tie(o.job_id, o.index);
  }
  bool operator==(const ShardKey& o) const { return job_id == o.job_id && index == o.index; }
};

// Everything the coordinator knows about one shard (persisted by JobManager).
struct ShardInfo {
  uint32_t index = 0;
  std::string shard_id;
  uint32_t doc_count = 0;
  ShardState state = ShardState::kPending;
  uint32_t grants = 0;    // leases granted so far (ShardLease.attempt)
  uint32_t failures = 0;  // counted against max_attempts
  int64_t not_before_ms = 0;
  std::string last_error;
  // While LEASED.
  std::string lease_id;
  std::string worker_id;
  int64_t lease_expire_ms = 0;
  // Once SCORED.
  uint32_t checksum = 0;
  uint64_t tokens = 0;
  std::string payload_key;  // ShardStore key of the accepted payload
};

struct WorkerInfo {
  std::string worker_id;
  std::string name;
  int64_t last_seen_ms = 0;
  // The authenticated identity that registered it ("" without identities).
  std::string owner;
};

struct LeaseGrant {
  ShardKey key;
  std::string shard_id;
  std::string lease_id;
  uint32_t attempt = 0;
  int64_t expire_ms = 0;
};

// What a lease loss did to its shard.
struct LeaseLoss {
  ShardKey key;
  std::string lease_id;
  std::string worker_id;
  // Set when this loss made the job fail (the reason).
  std::optional<std::string> job_failure;
  int64_t retry_at_ms = 0;  // when requeued
};

struct RegisterResult {
  std::string worker_id;
  // The previous incarnation's id under the same name ("" when none).
  std::string replaced_worker_id;
  // Leases of a previous incarnation under the same name, now lost.
  std::vector<LeaseLoss> lost;
};

struct HeartbeatResult {
  std::vector<std::string> revoked_lease_ids;
};

struct CompletionResult {
  bool accepted = false;
  // Accepted: true when this completion scored the job's last shard.
  bool job_scored = false;
  // Not accepted: the checksum of the result that won (0 when none).
  uint32_t winner_checksum = 0;
};

struct ScoredPayload {
  uint32_t checksum = 0;
  uint64_t tokens = 0;
  std::string payload_key;
};

class LeaseScheduler {
 public:
  explicit LeaseScheduler(SchedulerOptions options) : options_(options) {}

  const SchedulerOptions& options() const { return options_; }

  // Adds a job whose shards may be leased (also used on recovery: LEASED
  // shards keep their lease, which expires at their lease_expire_ms).
  // Replaces a job of the same id.
  void AddJob(const std::string& job_id, int64_t order, std::vector<ShardInfo> shards);
  // Stops leasing a job's shards (cancelled, failed, or finished); its open
  // leases are revoked at their next heartbeat and completions are dropped.
  // Returns the lease ids that were open.
  std::vector<std::string> StopJob(const std::string& job_id);
  bool HasJob(const std::string& job_id) const { return jobs_.count(job_id) > 0; }
  bool IsActive(const std::string& job_id) const;

  // Registers (or re-registers) a worker by stable name, recording the
  // identity that registered it (`owner`).
  RegisterResult RegisterWorker(const std::string& name, int64_t now_ms,
                                const std::string& owner = "");
  // The worker with this id, or the one registered under `name`; nullptr
  // when unknown.
  const WorkerInfo* Worker(const std::string& worker_id) const;
  const WorkerInfo* WorkerByName(const std::string& name) const;
  // Restores a worker known before a restart (its last_seen becomes now).
  void RestoreWorker(const WorkerInfo& worker, int64_t now_ms);
  // NOT_FOUND for an unknown worker. Extends the worker's listed leases and
  // lists the ones it no longer holds.
  absl::StatusOr<HeartbeatResult> Heartbeat(const std::string& worker_id,
                                            const std::vector<std::string>& lease_ids,
                                            int64_t now_ms);
  bool HasWorker(const std::string& worker_id) const { return workers_.count(worker_id) > 0; }

  // Grants the next ready shard, or nullopt. NOT_FOUND for an unknown worker.
  absl::StatusOr<std::optional<LeaseGrant>> Lease(const std::string& worker_id, int64_t now_ms);

  // Records a complete result for `key`. FAILED_PRECONDITION when the job is
  // unknown; NOT_FOUND for a shard index outside the job. A result for a
  // stopped job or an already scored shard is not accepted (duplicate).
  absl::StatusOr<CompletionResult> Complete(const ShardKey& key, const ScoredPayload& payload);

  // A worker gives up a lease. `released`: re-queued now, not counted.
  // Otherwise one failure (retryable) or the job's failure (not retryable).
  // NOT_FOUND when the lease is not (or no longer) held by `worker_id`.
  absl::StatusOr<LeaseLoss> Fail(const std::string& worker_id, const std::string& lease_id,
                                 const std::string& error, bool retryable, bool released,
                                 int64_t now_ms);

  // Expires leases past their TTL and forgets silent workers (their ids are
  // appended to `forgotten` when it is not null).
  std::vector<LeaseLoss> Tick(int64_t now_ms, std::vector<std::string>* forgotten = nullptr);

  // Earliest time something becomes ready or expires (for sleeping), or
  // INT64_MAX.
  int64_t NextWakeMs() const;

  // Read access for persistence, metrics and tests.
  const ShardInfo* Shard(const ShardKey& key) const;
  const std::vector<ShardInfo>* Shards(const std::string& job_id) const;
  std::vector<WorkerInfo> Workers() const;
  size_t WorkerCount() const { return workers_.size(); }
  // Shards in each state over active jobs: pending, leased, scored.
  std::array<uint64_t, 3> CountByState() const;

 private:
  struct Job {
    int64_t order = 0;
    bool active = true;
    uint32_t scored = 0;
    std::vector<ShardInfo> shards;
  };
  struct LeaseRef {
    ShardKey key;
  };

  void Enqueue(const std::string& job_id, const Job& job, const ShardInfo& shard);
  void PromoteDue(int64_t now_ms);
  // Marks a worker as seen; NOT_FOUND ("register again") when unknown.
  absl::Status Touch(const std::string& worker_id, int64_t now_ms);
  // `key` by value: callers may pass a reference into leases_, which this
  // erases.
  LeaseLoss LoseLease(ShardKey key, const std::string& error, bool count, bool fatal,
                      int64_t now_ms);
  std::string NewLeaseId();
  std::string NewWorkerId();

  SchedulerOptions options_;
  std::map<std::string, Job> jobs_;
  std::map<std::string, WorkerInfo> workers_;          // by id
  std::map<std::string, std::string> worker_by_name_;  // name -> id
  std::map<std::string, ShardKey> leases_;             // lease id -> shard
  std::set<std::pair<int64_t, ShardKey>> ready_;       // (job order, shard)
  std::set<std::pair<int64_t, ShardKey>> delayed_;     // (not_before, shard)
  uint64_t next_lease_ = 1;
  uint64_t next_worker_ = 1;
  uint64_t incarnation_ = 0;
};

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_LEASE_SCHEDULER_H_
