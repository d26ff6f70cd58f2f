// The coordinator's brain: jobs and their state machine, shard leasing,
// scored-shard storage, trainer rendezvous and streaming, events. The three
// gRPC services (job_service.h, work_service.h, train_service.h) are thin
// adapters over it; tests drive it directly.
//
// Durability: every change that a caller sees acknowledged is in SQLite
// (StateStore, fsynced) and, for scored shards, in the ShardStore (fsynced,
// renamed) first. Open() recovers every job from disk: open leases get a
// fresh TTL, workers are remembered, scored shards whose payload vanished are
// scored again.
//
// Job states: QUEUED (submitted) -> SCORING (first lease) -> TRAINING (every
// shard scored; trainers may have joined earlier: scoring and training are
// pipelined) -> EVALUATING (rank 0 reported the final model and the job has
// an evaluation) -> SUCCEEDED (final evaluation reported). A score-only job
// (no target_model) SUCCEEDS once scored. FAILED (a shard failed
// max_attempts times or fatally) and CANCELLED are terminal; `reason` says
// why.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(auto manager, JobManager::Open(options, &metrics));
//   CLUEDROP_ASSIGN_OR_RETURN(v1::Job job, manager->Submit(request));
//
// Thread-safe. Blocking calls (LeaseShard, Watch, JoinTraining,
// StreamShards) return early when `stop` says so or Shutdown() is called.
#ifndef CLUEDROP_COORDINATOR_JOB_MANAGER_H_
#define CLUEDROP_COORDINATOR_JOB_MANAGER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cluedrop/v1/job_service.pb.h"
#include "cluedrop/v1/train_service.pb.h"
#include "cluedrop/v1/work_service.pb.h"
#include "coordinator/coordinator_metrics.h"
#include "coordinator/lease_scheduler.h"
#include "coordinator/path_policy.h"
#include "coordinator/state_store.h"
#include "shard/shard_store.h"

namespace cluedrop::coordinator {

struct JobManagerOptions {
  // Holds state.db and the shards/ payload directory.
  std::string data_dir;
  // Which files a job may make the coordinator read, and where its outputs
  // go (checked at Submit; path_policy.h). data_dir is always forbidden.
  PathPolicy paths;
  // Unfinished (not SUCCEEDED/FAILED/CANCELLED) jobs one submitter identity
  // may have; more is RESOURCE_EXHAUSTED naming --max_jobs_per_submitter.
  // 0: no cap. Internal callers are not capped.
  uint32_t max_jobs_per_submitter = 100;
  // Corpus bytes (Job.progress.corpus_bytes) one submitter's unfinished jobs
  // may hold together; more is RESOURCE_EXHAUSTED naming
  // --max_corpus_bytes_per_submitter. 0: no cap. Internal callers are not capped.
  uint64_t max_corpus_bytes_per_submitter = uint64_t{64} << 30;
  SchedulerOptions scheduler;
  // Longest LeaseShard long poll the server honours.
  uint32_t max_lease_wait_ms = 30000;
  // Default LeaseShard wait when the request says 0.
  uint32_t default_lease_wait_ms = 20000;
  // Scored documents per StreamShards chunk are cut at about this many bytes.
  size_t stream_chunk_bytes = 1 << 20;
  // Scoring progress events are coalesced to at most one per this period
  // per job (the job's progress itself is updated on every shard).
  int64_t progress_event_interval_ms = 500;
  // Time source, milliseconds since the Unix epoch (tests may fake it).
  std::function<int64_t()> now_ms;
};

// Returns true when the caller is gone and a blocking call should return.
using StopFn = std::function<bool()>;

// Who makes a call, as the gRPC edge authenticated it (docs/security.md).
// An empty identity is the process itself (tests, in-process tools): no
// ownership checks. Otherwise jobs are visible to their submitter (and to
// admins), a worker id only to the identity that registered it, and a
// trainer rank only to the identity that joined as it.
struct Caller {
  std::string identity;
  bool admin = false;
  bool internal() const { return identity.empty(); }
};

class JobManager {
 public:
  // Opens the data directory and recovers. `metrics` may be null.
  static absl::StatusOr<std::unique_ptr<JobManager>> Open(JobManagerOptions options,
                                                          CoordinatorMetrics* metrics);
  ~JobManager();

  // Wakes and ends every blocking call; later blocking calls return
  // UNAVAILABLE at once.
  void Shutdown();

  // ---- JobService
  // Validates (INVALID_ARGUMENT naming the field), reads and shards the
  // corpus, persists job and shards, then returns the QUEUED job. A repeated
  // request_id returns the first job.
  // The job records `caller` as its owner. Jobs of other owners are
  // NOT_FOUND to a non-admin caller in every JobService method.
  absl::StatusOr<v1::Job> Submit(const v1::SubmitJobRequest& request, const Caller& caller = {});
  absl::StatusOr<v1::Job> GetJob(const std::string& job_id, const Caller& caller = {});
  absl::StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& request,
                                                const Caller& caller = {});
  // FAILED_PRECONDITION for a terminal job.
  absl::StatusOr<v1::Job> CancelJob(const std::string& job_id, const std::string& reason,
                                    const Caller& caller = {});
  // Sends stored events after `after_sequence`, then live ones; returns OK
  // after the terminal state event. `sink` returning false stops (CANCELLED).
  absl::Status WatchJob(const std::string& job_id, uint64_t after_sequence,
                        const std::function<bool(const v1::JobEvent&)>& sink, const StopFn& stop,
                        const Caller& caller = {});

  // ---- WorkService
  // A worker name is bound to the identity that registered it:
  // PERMISSION_DENIED for another identity while that worker is known.
  absl::StatusOr<v1::RegisterWorkerResponse> RegisterWorker(
      const v1::RegisterWorkerRequest& request, const Caller& caller = {});
  // The calls below name a worker id: PERMISSION_DENIED (and the metric
  // AuthDenied("not_owner")) when `caller` did not register it.
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request,
                                                  const Caller& caller = {});
  absl::StatusOr<v1::LeaseShardResponse> LeaseShard(const v1::LeaseShardRequest& request,
                                                    const StopFn& stop, const Caller& caller = {});
  // Validates the result against the shard (document ids, vector lengths),
  // stores it, and accepts it unless another result won already.
  absl::StatusOr<v1::CompleteShardResponse> CompleteShard(const v1::CompleteShardHeader& header,
                                                          std::vector<v1::ScoredDocument> documents,
                                                          const Caller& caller = {});
  absl::Status FailShard(const v1::FailShardRequest& request, const Caller& caller = {});
  // What CompleteShard checks before any document: the caller owns the
  // worker id, the lease or shard exists, and document_count is the shard's.
  // The gRPC edge calls it on the header, before reading the stream.
  absl::Status CheckCompletionHeader(const v1::CompleteShardHeader& header, const Caller& caller);
  // PERMISSION_DENIED when `worker_id` is known and `caller` did not
  // register it (OK for unknown ids: the call itself then says so).
  absl::Status CheckWorkerOwner(const std::string& worker_id, const Caller& caller);

  // ---- TrainService
  // A trainer name is bound to the identity that joined with it: a rejoin
  // under that name by another identity is PERMISSION_DENIED.
  absl::StatusOr<v1::JoinTrainingResponse> JoinTraining(const v1::JoinTrainingRequest& request,
                                                        const StopFn& stop,
                                                        const Caller& caller = {});
  // Streams rank `rank`'s shards (index % world_size == rank, in index
  // order) from `cursor` on, waiting for shards still being scored. Allowed
  // to the identity holding that rank, and to the job's owner and admins
  // (`cluedrop results`).
  absl::Status StreamShards(const v1::StreamShardsRequest& request,
                            const std::function<bool(const v1::ScoredShardChunk&)>& sink,
                            const StopFn& stop, const Caller& caller = {});
  // Reports come from a joined rank (FAILED_PRECONDITION otherwise), held
  // by `caller` (PERMISSION_DENIED otherwise), while the job trains:
  // progress in SCORING, TRAINING or EVALUATING (ranks that finished poll;
  // the answer carries the rendezvous generation), the final model only in
  // TRAINING, evaluations in TRAINING or EVALUATING.
  absl::StatusOr<v1::ReportProgressResponse> ReportProgress(
      const v1::ReportProgressRequest& request, const Caller& caller = {});
  absl::Status ReportEvaluation(const v1::ReportEvaluationRequest& request,
                                const Caller& caller = {});

  // Runs lease expiry now (the background ticker does this every 100 ms).
  void TickForTest();

 private:
  struct JobRecord {
    v1::Job job;
    int64_t order = 0;
    std::string request_id;
    std::vector<v1::JobEvent> events;
    std::vector<TrainerRank> trainers;
    uint32_t generation = 0;
    std::map<std::string, uint32_t> shard_index;  // shard id -> index
    int64_t last_progress_event_ms = 0;
  };
  // Changes gathered under the lock and committed in one transaction.
  struct Batch {
    std::vector<std::string> jobs;
    std::vector<ShardKey> shards;
    std::vector<v1::JobEvent> events;
    std::vector<WorkerInfo> workers_put;
    std::vector<std::string> workers_deleted;
    std::vector<std::pair<std::string, TrainerRank>> trainers;
  };

  JobManager(JobManagerOptions options, CoordinatorMetrics* metrics,
             std::unique_ptr<StateStore> state, std::unique_ptr<shard::ShardStore> shards);
  absl::Status RecoverLocked();
  absl::Status CommitLocked(Batch& batch,
                            StateStore::Durability durability = StateStore::Durability::kSync);
  void AddEventLocked(JobRecord& record, v1::JobEvent event, Batch& batch);
  void SetStateLocked(JobRecord& record, v1::JobState state, const std::string& reason,
                      Batch& batch);
  void AddMessageLocked(JobRecord& record, const std::string& message, Batch& batch);
  // Enters the storage-fault state (logs it to every active job).
  void AddStorageFaultLocked(const std::string& error);
  // While in it: one probe write per second; success ends it. `lock` holds
  // mu_ and is released around the write and fsync, so RPCs are not stalled
  // by the disk that is failing.
  void ProbeStorage(std::unique_lock<std::mutex>& lock);
  // Removes the job's payload files no scored shard refers to (recovery).
  void RemoveUnreferencedPayloadsLocked(JobRecord& record, const std::vector<ShardInfo>& shards,
                                        Batch& batch);
  void ApplyLossesLocked(const std::vector<LeaseLoss>& losses, const char* kind, Batch& batch);
  void PublishProgressLocked(JobRecord& record, Batch& batch);
  void UpdateGaugesLocked();
  JobRecord* FindLocked(const std::string& job_id);
  absl::StatusOr<JobRecord*> FindOrNotFoundLocked(const std::string& job_id);
  // The shard a completion header names (by job_id + shard_id, or by a
  // lease of this run); NOT_FOUND / INVALID_ARGUMENT naming the field.
  absl::StatusOr<ShardKey> CompletionKeyLocked(const v1::CompleteShardHeader& header);
  // FindOrNotFoundLocked, and NOT_FOUND too when `caller` may not see it.
  absl::StatusOr<JobRecord*> FindVisibleLocked(const std::string& job_id, const Caller& caller);
  absl::Status CheckWorkerOwnerLocked(const std::string& worker_id, const Caller& caller);
  // The rank `rank` of `record` must have joined and, for a non-internal
  // caller, be held by it.
  absl::Status CheckRankLocked(const JobRecord& record, uint32_t rank, const Caller& caller);
  void TickLocked(Batch& batch);
  void TickerLoop();
  int64_t Now() const { return options_.now_ms(); }

  const JobManagerOptions options_;
  CoordinatorMetrics* const metrics_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<shard::ShardStore> shard_store_;

  std::mutex mu_;
  std::condition_variable changed_;     // committed changes (events, shards, ranks)
  std::condition_variable work_ready_;  // a shard may have become leasable
  bool shutdown_ = false;
  LeaseScheduler scheduler_;
  std::map<std::string, JobRecord> jobs_;
  std::map<std::string, std::string> job_by_request_;
  std::map<std::string, ShardKey> lease_history_;  // this incarnation's leases
  bool started_ = false;                           // the start-up recovery has run
  // Set while the coordinator cannot write results (ENOSPC, EROFS, EIO):
  // leasing pauses and retryable failures are not charged; the ticker
  // probes the disk and clears it.
  std::string storage_fault_;
  int64_t storage_fault_probe_ms_ = 0;
  int64_t storage_fault_cleared_ms_ = INT64_MIN / 2;
  static constexpr int64_t kStorageFaultGraceMs = 60000;
  int64_t next_order_ = 1;
  std::thread ticker_;
};

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_JOB_MANAGER_H_
