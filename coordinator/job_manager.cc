// JobManager: opening, the durable commit of a batch of changes, events and
// state changes, lease losses, gauges and the lease-expiry ticker. The RPC
// sides are in job_manager_{jobs,scoring,training}.cc, recovery in
// job_manager_recovery.cc.
#include "coordinator/job_manager.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/absl_status.h"
#include "coordinator/job_manager_internal.h"

namespace cluedrop::coordinator {

using internal::IsScoreOnly;
using internal::IsTerminal;
using internal::Lock;
using internal::NewJobId;
using internal::SetTime;

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Open(JobManagerOptions options,
                                                             CoordinatorMetrics* metrics) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir: required");
  if (!options.now_ms) options.now_ms = [] { return absl::ToUnixMillis(absl::Now()); };
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<shard::ShardStore> shards,
                            shard::ShardStore::Open(options.data_dir + "/shards"));
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<StateStore> state,
                            StateStore::Open(options.data_dir + "/state.db"));
  std::unique_ptr<JobManager> manager(
      new JobManager(std::move(options), metrics, std::move(state), std::move(shards)));
  {
    Lock lock(manager->mu_);
    CLUEDROP_RETURN_IF_ABSL_ERROR(manager->RecoverLocked());
  }
  manager->ticker_ = std::thread([m = manager.get()] { m->TickerLoop(); });
  return manager;
}

JobManager::JobManager(JobManagerOptions options, CoordinatorMetrics* metrics,
                       std::unique_ptr<StateStore> state, std::unique_ptr<shard::ShardStore> shards)
    : options_(std::move(options)),
      metrics_(metrics),
      state_(std::move(state)),
      shard_store_(std::move(shards)),
      scheduler_(options_.scheduler) {}

JobManager::~JobManager() {
  Shutdown();
  if (ticker_.joinable()) ticker_.join();
}

void JobManager::Shutdown() {
  Lock lock(mu_);
  shutdown_ = true;
  changed_.notify_all();
  work_ready_.notify_all();
}

absl::Status JobManager::CommitLocked(Batch& batch, StateStore::Durability durability) {
  const auto start = std::chrono::steady_clock::now();
  absl::Status status = state_->Write(
      [&](StateStore::Writer& w) -> absl::Status {
        for (const std::string& id : batch.jobs) {
          auto it = jobs_.find(id);
          if (it != jobs_.end()) CLUEDROP_RETURN_IF_ABSL_ERROR(w.PutJob(it->second.job));
        }
        for (const ShardKey& key : batch.shards) {
          const ShardInfo* shard = scheduler_.Shard(key);
          if (shard != nullptr) CLUEDROP_RETURN_IF_ABSL_ERROR(w.PutShard(key.job_id, *shard));
        }
        for (const v1::JobEvent& event : batch.events) {
          CLUEDROP_RETURN_IF_ABSL_ERROR(w.AppendEvent(event));
        }
        for (const WorkerInfo& worker : batch.workers_put) {
          CLUEDROP_RETURN_IF_ABSL_ERROR(w.PutWorker(worker));
        }
        for (const std::string& id : batch.workers_deleted) {
          CLUEDROP_RETURN_IF_ABSL_ERROR(w.DeleteWorker(id));
        }
        for (const auto& [job_id, trainer] : batch.trainers) {
          CLUEDROP_RETURN_IF_ABSL_ERROR(w.PutTrainer(job_id, trainer, jobs_[job_id].generation));
        }
        return absl::OkStatus();
      },
      durability);
  if (metrics_ != nullptr) {
    metrics_->StateCommitted(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (!status.ok()) {
    // Memory ran ahead of the disk: rebuild it from what is durable.
    absl::Status recovered = RecoverLocked();
    if (!recovered.ok()) status = Annotate(status, recovered.ToString());
    if (storage_fault_.empty()) {
      AddStorageFaultLocked(absl::StrCat("state store: ", status.message()));
    }
    return absl::UnavailableError(absl::StrCat("state store: ", status.message()));
  }
  batch = Batch();
  changed_.notify_all();
  return absl::OkStatus();
}

void JobManager::AddEventLocked(JobRecord& record, v1::JobEvent event, Batch& batch) {
  event.set_job_id(record.job.id());
  event.set_sequence(record.events.empty() ? 1 : record.events.back().sequence() + 1);
  SetTime(event.mutable_time(), Now());
  record.events.push_back(event);
  batch.events.push_back(std::move(event));
}

void JobManager::SetStateLocked(JobRecord& record, v1::JobState state, const std::string& reason,
                                Batch& batch) {
  if (record.job.state() == state) return;
  record.job.set_state(state);
  record.job.set_reason(reason);
  SetTime(record.job.mutable_update_time(), Now());
  batch.jobs.push_back(record.job.id());
  v1::JobEvent event;
  event.set_state_changed(state);
  event.set_reason(reason);
  AddEventLocked(record, std::move(event), batch);
  if (IsTerminal(state)) scheduler_.StopJob(record.job.id());
}

void JobManager::AddMessageLocked(JobRecord& record, const std::string& message, Batch& batch) {
  v1::JobEvent event;
  event.set_message(message);
  AddEventLocked(record, std::move(event), batch);
}

void JobManager::PublishProgressLocked(JobRecord& record, Batch& batch) {
  SetTime(record.job.mutable_update_time(), Now());
  batch.jobs.push_back(record.job.id());
  v1::JobEvent event;
  *event.mutable_progress() = record.job.progress();
  AddEventLocked(record, std::move(event), batch);
}

void JobManager::ApplyLossesLocked(const std::vector<LeaseLoss>& losses, const char* kind,
                                   Batch& batch) {
  if (!losses.empty()) work_ready_.notify_all();
  for (const LeaseLoss& loss : losses) {
    JobRecord* record = FindLocked(loss.key.job_id);
    if (record == nullptr) continue;
    batch.shards.push_back(loss.key);
    const ShardInfo* shard = scheduler_.Shard(loss.key);
    if (metrics_ != nullptr) metrics_->ShardFailed(kind);
    if (std::string(kind) == "expired" && metrics_ != nullptr) metrics_->LeaseExpired();
    if (loss.job_failure.has_value()) {
      SetStateLocked(*record, v1::JOB_STATE_FAILED, *loss.job_failure, batch);
      continue;
    }
    if (metrics_ != nullptr && loss.retry_at_ms > 0) metrics_->ShardRetried();
    AddMessageLocked(
        *record,
        absl::StrCat("shard ", shard->shard_id, ": ", shard->last_error,
                     loss.retry_at_ms > 0 ? absl::StrCat("; retry ", shard->failures + 1, " in ",
                                                         loss.retry_at_ms - Now(), " ms")
                                          : "; re-queued"),
        batch);
  }
}

void JobManager::UpdateGaugesLocked() {
  if (metrics_ == nullptr) return;
  std::array<uint64_t, 8> counts{};
  for (const auto& [id, record] : jobs_) {
    const int state = record.job.state();
    if (state >= 0 && state < 8) ++counts[state];
  }
  metrics_->SetJobs(counts);
  metrics_->SetShards(scheduler_.CountByState());
  metrics_->SetWorkers(scheduler_.WorkerCount());
}

JobManager::JobRecord* JobManager::FindLocked(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : &it->second;
}

absl::StatusOr<JobManager::JobRecord*> JobManager::FindOrNotFoundLocked(const std::string& job_id) {
  if (job_id.empty()) return absl::InvalidArgumentError("job_id: required");
  JobRecord* record = FindLocked(job_id);
  if (record == nullptr) return absl::NotFoundError(absl::StrCat("job_id: no job ", job_id));
  return record;
}

absl::StatusOr<JobManager::JobRecord*> JobManager::FindVisibleLocked(const std::string& job_id,
                                                                     const Caller& caller) {
  CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindOrNotFoundLocked(job_id));
  if (caller.internal() || caller.admin || record->job.owner() == caller.identity) return record;
  // Not PERMISSION_DENIED: another submitter's job ids are not disclosed.
  if (metrics_ != nullptr) metrics_->AuthDenied("not_owner");
  return absl::NotFoundError(absl::StrCat("job_id: no job ", job_id));
}

absl::Status JobManager::CheckWorkerOwner(const std::string& worker_id, const Caller& caller) {
  Lock lock(mu_);
  return CheckWorkerOwnerLocked(worker_id, caller);
}

absl::Status JobManager::CheckWorkerOwnerLocked(const std::string& worker_id,
                                                const Caller& caller) {
  if (caller.internal()) return absl::OkStatus();
  const WorkerInfo* worker = scheduler_.Worker(worker_id);
  if (worker == nullptr || worker->owner == caller.identity) return absl::OkStatus();
  if (metrics_ != nullptr) metrics_->AuthDenied("not_owner");
  return absl::PermissionDeniedError(absl::StrCat(
      "worker_id: ", worker_id, " was registered by another identity, not ", caller.identity));
}

absl::Status JobManager::CheckRankLocked(const JobRecord& record, uint32_t rank,
                                         const Caller& caller) {
  auto it = std::find_if(record.trainers.begin(), record.trainers.end(),
                         [&](const TrainerRank& t) { return t.rank == rank; });
  if (it == record.trainers.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("rank: no trainer has joined job ", record.job.id(), " as rank ", rank));
  }
  if (!caller.internal() && it->owner != caller.identity) {
    if (metrics_ != nullptr) metrics_->AuthDenied("not_owner");
    return absl::PermissionDeniedError(absl::StrCat(
        "rank: rank ", rank, " of job ", record.job.id(), " is held by another identity"));
  }
  return absl::OkStatus();
}

// ----------------------------------------------------------------- JobService

// ---------------------------------------------------------------- WorkService

void JobManager::TickLocked(Batch& batch) {
  ApplyLossesLocked(scheduler_.Tick(Now(), &batch.workers_deleted), "expired", batch);
}

void JobManager::AddStorageFaultLocked(const std::string& error) {
  storage_fault_ = error;
  storage_fault_probe_ms_ = Now();
  std::fprintf(stderr, "cluedrop-coordinator: cannot store results (%s); leasing paused\n",
               error.c_str());
}

void JobManager::ProbeStorage(Lock& lock) {
  if (storage_fault_.empty()) return;
  const int64_t now = Now();
  if (now - storage_fault_probe_ms_ < 1000) return;
  storage_fault_probe_ms_ = now;
  // As much as a typical payload, written and fsynced like one.
  const std::string probe = shard_store_->dir() + "/.storage-probe";
  lock.unlock();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  if (ok) {
    const std::string block(1 << 20, '\0');
    ok = ::write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()) &&
         ::fsync(fd) == 0;
    ::close(fd);
  }
  ::unlink(probe.c_str());
  lock.lock();
  if (!ok || storage_fault_.empty()) return;
  std::fprintf(stderr, "cluedrop-coordinator: storage writable again (was: %s); leasing resumed\n",
               storage_fault_.c_str());
  storage_fault_.clear();
  storage_fault_cleared_ms_ = now;
  work_ready_.notify_all();
}

void JobManager::TickForTest() {
  Lock lock(mu_);
  Batch batch;
  TickLocked(batch);
  (void)CommitLocked(batch);
  ProbeStorage(lock);
}

void JobManager::TickerLoop() {
  Lock lock(mu_);
  while (!shutdown_) {
    changed_.wait_for(lock, std::chrono::milliseconds(100));
    if (shutdown_) break;
    Batch batch;
    TickLocked(batch);
    if (!batch.shards.empty() || !batch.workers_deleted.empty() || !batch.events.empty()) {
      (void)CommitLocked(batch);
    }
    ProbeStorage(lock);
    if (shutdown_) break;
    UpdateGaugesLocked();
  }
}

// --------------------------------------------------------------- TrainService

}  // namespace cluedrop::coordinator
