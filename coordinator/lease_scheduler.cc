#include "coordinator/lease_scheduler.h"

#include <algorithm>
#include <array>
#include <climits>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cluedrop::coordinator {
namespace {

uint64_t RandomIncarnation() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

bool LeaseScheduler::IsActive(const std::string& job_id) const {
  auto it = jobs_.find(job_id);
  return it != jobs_.end() && it->second.active;
}

std::string LeaseScheduler::NewLeaseId() {
  if (incarnation_ == 0) incarnation_ = RandomIncarnation() | 1;
  return absl::StrFormat("lease-%08x-%d", static_cast<uint32_t>(incarnation_), next_lease_++);
}

std::string LeaseScheduler::NewWorkerId() {
  if (incarnation_ == 0) incarnation_ = RandomIncarnation() | 1;
  return absl::StrFormat("worker-%08x-%d", static_cast<uint32_t>(incarnation_), next_worker_++);
}

void LeaseScheduler::Enqueue(const std::string& job_id, const Job& job, const ShardInfo& shard) {
  const ShardKey key{job_id, shard.index};
  if (shard.not_before_ms > 0) {
    delayed_.insert({shard.not_before_ms, key});
  } else {
    ready_.insert({job.order, key});
  }
}

void LeaseScheduler::AddJob(const std::string& job_id, int64_t order,
                            std::vector<ShardInfo> shards) {
  StopJob(job_id);
  jobs_.erase(job_id);
  Job& job = jobs_[job_id];
  job.order = order;
  job.shards = std::move(shards);
  for (ShardInfo& shard : job.shards) {
    switch (shard.state) {
      case ShardState::kScored:
        ++job.scored;
        break;
      case ShardState::kLeased:
        leases_[shard.lease_id] = ShardKey{job_id, shard.index};
        break;
      case ShardState::kPending:
        Enqueue(job_id, job, shard);
        break;
    }
  }
}

std::vector<std::string> LeaseScheduler::StopJob(const std::string& job_id) {
  std::vector<std::string> open;
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || !it->second.active) return open;
  Job& job = it->second;
  job.active = false;
  for (ShardInfo& shard : job.shards) {
    const ShardKey key{job_id, shard.index};
    if (shard.state == ShardState::kLeased) {
      open.push_back(shard.lease_id);
      leases_.erase(shard.lease_id);
      shard.state = ShardState::kPending;
      shard.lease_id.clear();
      shard.worker_id.clear();
      shard.lease_expire_ms = 0;
    }
    ready_.erase({job.order, key});
    delayed_.erase({shard.not_before_ms, key});
  }
  return open;
}

const WorkerInfo* LeaseScheduler::Worker(const std::string& worker_id) const {
  auto it = workers_.find(worker_id);
  return it == workers_.end() ? nullptr : &it->second;
}

const WorkerInfo* LeaseScheduler::WorkerByName(const std::string& name) const {
  auto it = worker_by_name_.find(name);
  return it == worker_by_name_.end() ? nullptr : Worker(it->second);
}

RegisterResult LeaseScheduler::RegisterWorker(const std::string& name, int64_t now_ms,
                                              const std::string& owner) {
  RegisterResult result;
  if (auto old = worker_by_name_.find(name); old != worker_by_name_.end()) {
    const std::string old_id = old->second;
    std::vector<ShardKey> held;
    for (const auto& [lease_id, key] : leases_) {
      const ShardInfo* shard = Shard(key);
      if (shard != nullptr && shard->worker_id == old_id) held.push_back(key);
    }
    for (const ShardKey& key : held) {
      result.lost.push_back(
          LoseLease(key, absl::StrCat("worker ", name, " restarted while holding the lease"),
                    /*count=*/true, /*fatal=*/false, now_ms));
    }
    workers_.erase(old_id);
    result.replaced_worker_id = old_id;
  }
  WorkerInfo worker{NewWorkerId(), name, now_ms, owner};
  result.worker_id = worker.worker_id;
  worker_by_name_[name] = worker.worker_id;
  workers_[worker.worker_id] = std::move(worker);
  return result;
}

void LeaseScheduler::RestoreWorker(const WorkerInfo& worker, int64_t now_ms) {
  WorkerInfo restored = worker;
  restored.last_seen_ms = now_ms;
  worker_by_name_[restored.name] = restored.worker_id;
  workers_[restored.worker_id] = std::move(restored);
}

absl::Status LeaseScheduler::Touch(const std::string& worker_id, int64_t now_ms) {
  auto worker = workers_.find(worker_id);
  if (worker == workers_.end()) {
    return absl::NotFoundError(
        absl::StrCat("worker_id: unknown worker ", worker_id, "; register again"));
  }
  worker->second.last_seen_ms = now_ms;
  return absl::OkStatus();
}

absl::StatusOr<HeartbeatResult> LeaseScheduler::Heartbeat(const std::string& worker_id,
                                                          const std::vector<std::string>& lease_ids,
                                                          int64_t now_ms) {
  if (absl::Status seen = Touch(worker_id, now_ms); !seen.ok()) return seen;
  HeartbeatResult result;
  for (const std::string& lease_id : lease_ids) {
    auto lease = leases_.find(lease_id);
    ShardInfo* shard = nullptr;
    if (lease != leases_.end()) shard = const_cast<ShardInfo*>(Shard(lease->second));
    if (shard == nullptr || shard->worker_id != worker_id || shard->lease_id != lease_id) {
      result.revoked_lease_ids.push_back(lease_id);
      continue;
    }
    shard->lease_expire_ms = now_ms + options_.lease_ttl_ms;
  }
  return result;
}

void LeaseScheduler::PromoteDue(int64_t now_ms) {
  while (!delayed_.empty() && delayed_.begin()->first <= now_ms) {
    const ShardKey key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    auto job = jobs_.find(key.job_id);
    if (job == jobs_.end() || !job->second.active) continue;
    ShardInfo& shard = job->second.shards[key.index];
    if (shard.state != ShardState::kPending) continue;
    shard.not_before_ms = 0;
    ready_.insert({job->second.order, key});
  }
}

absl::StatusOr<std::optional<LeaseGrant>> LeaseScheduler::Lease(const std::string& worker_id,
                                                                int64_t now_ms) {
  if (absl::Status seen = Touch(worker_id, now_ms); !seen.ok()) return seen;
  PromoteDue(now_ms);
  ShardInfo* next = nullptr;
  ShardKey key;
  while (next == nullptr && !ready_.empty()) {
    key = ready_.begin()->second;
    ready_.erase(ready_.begin());
    auto job = jobs_.find(key.job_id);
    // Entries of stopped jobs or of shards no longer pending are stale.
    if (job == jobs_.end() || !job->second.active || key.index >= job->second.shards.size() ||
        job->second.shards[key.index].state != ShardState::kPending) {
      continue;
    }
    next = &job->second.shards[key.index];
  }
  if (next == nullptr) return std::optional<LeaseGrant>();
  ShardInfo& shard = *next;
  shard.state = ShardState::kLeased;
  shard.lease_id = NewLeaseId();
  shard.worker_id = worker_id;
  shard.lease_expire_ms = now_ms + options_.lease_ttl_ms;
  ++shard.grants;
  leases_[shard.lease_id] = key;
  return std::optional<LeaseGrant>(
      LeaseGrant{key, shard.shard_id, shard.lease_id, shard.grants, shard.lease_expire_ms});
}

absl::StatusOr<CompletionResult> LeaseScheduler::Complete(const ShardKey& key,
                                                          const ScoredPayload& payload) {
  auto job = jobs_.find(key.job_id);
  if (job == jobs_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("job ", key.job_id, " is not known"));
  }
  if (key.index >= job->second.shards.size()) {
    return absl::NotFoundError(absl::StrCat("job ", key.job_id, " has no shard ", key.index));
  }
  ShardInfo& shard = job->second.shards[key.index];
  CompletionResult result;
  if (shard.state == ShardState::kScored || !job->second.active) {
    result.winner_checksum = shard.state == ShardState::kScored ? shard.checksum : 0;
    return result;
  }
  if (shard.state == ShardState::kLeased) leases_.erase(shard.lease_id);
  ready_.erase({job->second.order, key});
  delayed_.erase({shard.not_before_ms, key});
  shard.state = ShardState::kScored;
  shard.lease_id.clear();
  shard.worker_id.clear();
  shard.lease_expire_ms = 0;
  shard.not_before_ms = 0;
  shard.checksum = payload.checksum;
  shard.tokens = payload.tokens;
  shard.payload_key = payload.payload_key;
  result.accepted = true;
  result.job_scored = ++job->second.scored == job->second.shards.size();
  return result;
}

LeaseLoss LeaseScheduler::LoseLease(const ShardKey key, const std::string& error, bool count,
                                    bool fatal, int64_t now_ms) {
  Job& job = jobs_[key.job_id];
  ShardInfo& shard = job.shards[key.index];
  LeaseLoss loss{key, shard.lease_id, shard.worker_id, std::nullopt, now_ms};
  leases_.erase(shard.lease_id);
  shard.state = ShardState::kPending;
  shard.lease_id.clear();
  shard.worker_id.clear();
  shard.lease_expire_ms = 0;
  if (!error.empty()) shard.last_error = error;
  if (count) ++shard.failures;
  if (fatal || shard.failures >= options_.max_attempts) {
    loss.job_failure =
        absl::StrCat("shard ", shard.shard_id, " failed",
                     fatal ? ""
                           : absl::StrCat(" ", shard.failures, " times (max_attempts ",
                                          options_.max_attempts, ")"),
                     ": ", shard.last_error);
    StopJob(key.job_id);
    return loss;
  }
  if (count) {
    int64_t backoff = options_.backoff_initial_ms;
    for (uint32_t i = 1; i < shard.failures && backoff < options_.backoff_max_ms; ++i) backoff *= 2;
    backoff = std::min(backoff, options_.backoff_max_ms);
    shard.not_before_ms = now_ms + backoff;
    loss.retry_at_ms = shard.not_before_ms;
  }
  Enqueue(key.job_id, job, shard);
  return loss;
}

absl::StatusOr<LeaseLoss> LeaseScheduler::Fail(const std::string& worker_id,
                                               const std::string& lease_id,
                                               const std::string& error, bool retryable,
                                               bool released, int64_t now_ms) {
  auto lease = leases_.find(lease_id);
  const ShardInfo* shard = lease == leases_.end() ? nullptr : Shard(lease->second);
  if (shard == nullptr || shard->worker_id != worker_id) {
    return absl::NotFoundError(absl::StrCat("lease_id: ", lease_id, " is not held by worker ",
                                            worker_id, " (expired, revoked or completed)"));
  }
  if (auto worker = workers_.find(worker_id); worker != workers_.end()) {
    worker->second.last_seen_ms = now_ms;
  }
  // A copy: LoseLease erases the lease entry `lease` points into.
  const ShardKey key = lease->second;
  if (released) return LoseLease(key, "", /*count=*/false, /*fatal=*/false, now_ms);
  return LoseLease(key, error, /*count=*/retryable, /*fatal=*/!retryable, now_ms);
}

std::vector<LeaseLoss> LeaseScheduler::Tick(int64_t now_ms, std::vector<std::string>* forgotten) {
  std::vector<ShardKey> expired;
  for (const auto& [lease_id, key] : leases_) {
    const ShardInfo* shard = Shard(key);
    if (shard != nullptr && shard->lease_expire_ms <= now_ms) expired.push_back(key);
  }
  std::vector<LeaseLoss> losses;
  for (const ShardKey& key : expired) {
    if (!IsActive(key.job_id)) continue;  // an earlier loss failed the job
    const ShardInfo& shard = *Shard(key);
    losses.push_back(LoseLease(
        key, absl::StrCat("lease ", shard.lease_id, " of worker ", shard.worker_id, " expired"),
        /*count=*/true, /*fatal=*/false, now_ms));
  }
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (now_ms - it->second.last_seen_ms > options_.worker_ttl_ms) {
      auto by_name = worker_by_name_.find(it->second.name);
      if (by_name != worker_by_name_.end() && by_name->second == it->first) {
        worker_by_name_.erase(by_name);
      }
      if (forgotten != nullptr) forgotten->push_back(it->first);
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  return losses;
}

int64_t LeaseScheduler::NextWakeMs() const {
  int64_t next = INT64_MAX;
  if (!delayed_.empty()) next = delayed_.begin()->first;
  for (const auto& [lease_id, key] : leases_) {
    const ShardInfo* shard = Shard(key);
    if (shard != nullptr) next = std::min(next, shard->lease_expire_ms);
  }
  return next;
}

const ShardInfo* LeaseScheduler::Shard(const ShardKey& key) const {
  auto job = jobs_.find(key.job_id);
  if (job == jobs_.end() || key.index >= job->second.shards.size()) return nullptr;
  return &job->second.shards[key.index];
}

const std::vector<ShardInfo>* LeaseScheduler::Shards(const std::string& job_id) const {
  auto job = jobs_.find(job_id);
  return job == jobs_.end() ? nullptr : &job->second.shards;
}

std::vector<WorkerInfo> LeaseScheduler::Workers() const {
  std::vector<WorkerInfo> out;
  for (const auto& [id, worker] : workers_) out.push_back(worker);
  return out;
}

std::array<uint64_t, 3> LeaseScheduler::CountByState() const {
  std::array<uint64_t, 3> counts{0, 0, 0};
  for (const auto& [id, job] : jobs_) {
    if (!job.active) continue;
    for (const ShardInfo& shard : job.shards) ++counts[static_cast<int>(shard.state)];
  }
  return counts;
}

}  // namespace cluedrop::coordinator
