// JobManager: rebuilding memory from the data directory (RecoverLocked).
#include <filesystem>
#include <set>

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

void JobManager::RemoveUnreferencedPayloadsLocked(JobRecord& record,
                                                  const std::vector<ShardInfo>& shards,
                                                  Batch& batch) {
  // A payload is written before its completion commits: a crash in between
  // (or a result that lost the race) leaves a file no shard refers to.
  namespace fs = std::filesystem;
  const std::string id = record.job.id();
  std::set<std::string> referenced;
  for (const ShardInfo& shard : shards) {
    if (shard.state == ShardState::kScored && !shard.payload_key.empty()) {
      referenced.insert(fs::path(shard_store_->PathFor(id, shard.payload_key)).filename());
    }
  }
  std::error_code error;
  const fs::path dir = fs::path(shard_store_->dir()) / id;
  if (!fs::is_directory(dir, error)) return;
  int removed = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename();
    if (name.empty() || name[0] == '.' || !entry.is_regular_file(error)) continue;
    if (referenced.count(name) > 0) continue;
    if (fs::remove(entry.path(), error)) ++removed;
  }
  if (removed > 0) {
    AddMessageLocked(record,
                     absl::StrCat("recovery removed ", removed,
                                  " unreferenced shard payload file(s) (results that never "
                                  "committed)"),
                     batch);
  }
}

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
    if (!record.request_id.empty()) {
      job_by_request_[internal::RequestKey(record.job.owner(), record.request_id)] = id;
    }
    // Only at start-up: later recoveries (after a failed commit) run while
    // completions write payloads outside the lock.
    if (!started_) RemoveUnreferencedPayloadsLocked(record, stored.shards, batch);
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
  if (!batch.shards.empty() || !batch.events.empty()) {
    CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch));
  }
  started_ = true;
  UpdateGaugesLocked();
  return absl::OkStatus();
}

}  // namespace cluedrop::coordinator
