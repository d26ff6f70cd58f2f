// JobManager: rebuilding memory from the data directory (RecoverLocked).
#include "absl/strings/str_cat.h"
#include "base/absl_status.h"
#include "coordinator/job_manager.h"
#include "coordinator/job_manager_internal.h"

namespace cluedrop::coordinator {

using internal::IsScoreOnly;
using internal::IsTerminal;
using internal::Lock;
using internal::NewJobId;
using internal::SetTime;

absl::Status JobManager::RecoverLocked() {
  CLUEDROP_ASSIGN_OR_RETURN(StateSnapshot snapshot, state_->Load());
  const int64_t now = Now();
  scheduler_ = LeaseScheduler(options_.scheduler);
  jobs_.clear();
  job_by_request_.clear();
  for (const WorkerInfo& worker : snapshot.workers) scheduler_.RestoreWorker(worker, now);
  Batch batch;
  for (StoredJob& stored : snapshot.jobs) {
    JobRecord record;
    record.job = std::move(stored.job);
    record.order = stored.order;
    record.request_id = stored.request_id;
    record.events = std::move(stored.events);
    record.trainers = std::move(stored.trainers);
    record.generation = stored.generation;
    for (const ShardInfo& shard : stored.shards) record.shard_index[shard.shard_id] = shard.index;
    next_order_ = std::max(next_order_, stored.order + 1);
    const std::string id = record.job.id();
    if (!record.request_id.empty()) job_by_request_[record.request_id] = id;
    if (!IsTerminal(record.job.state())) {
      for (ShardInfo& shard : stored.shards) {
        if (shard.state == ShardState::kLeased)
          shard.lease_expire_ms = now + options_.scheduler.lease_ttl_ms;
        if (shard.state == ShardState::kScored && !shard_store_->Exists(id, shard.payload_key)) {
          // The acknowledged payload is gone (disk replaced?): score again.
          shard.state = ShardState::kPending;
          shard.payload_key.clear();
          batch.shards.push_back({id, shard.index});
          AddMessageLocked(record,
                           absl::StrCat("shard ", shard.shard_id,
                                        ": stored payload missing at recovery; scoring again"),
                           batch);
        }
      }
      scheduler_.AddJob(id, record.order, std::move(stored.shards));
    } else {
      scheduler_.AddJob(id, record.order, std::move(stored.shards));
      scheduler_.StopJob(id);
    }
    jobs_[id] = std::move(record);
  }
  if (!batch.shards.empty()) CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch));
  UpdateGaugesLocked();
  return absl::OkStatus();
}

}  // namespace cluedrop::coordinator
