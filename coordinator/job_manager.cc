#include "coordinator/job_manager.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coordinator/corpus_loader.h"
#include "coordinator/job_spec_validator.h"
#include "coordinator/sharding.h"
#include "services/common/status_adapter.h"

namespace cluedrop::coordinator {
namespace {

using Lock = std::unique_lock<std::mutex>;

bool IsTerminal(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

bool IsScoreOnly(const v1::JobSpec& spec) { return !spec.has_target_model(); }

void SetTime(google::protobuf::Timestamp* ts, int64_t ms) {
  ts->set_seconds(ms / 1000);
  ts->set_nanos(static_cast<int32_t>((ms % 1000) * 1000000));
}

std::string NewJobId(int64_t now_ms) {
  static std::mt19937_64 rng{std::random_device{}()};
  const absl::Time t = absl::FromUnixMillis(now_ms);
  return absl::StrCat("job-", absl::FormatTime("%Y%m%d", t, absl::UTCTimeZone()), "-",
                      absl::StrFormat("%06x", rng() & 0xffffff));
}

// Validates one scored document against its input document.
absl::Status CheckScored(const v1::ScoredDocument& scored, const v1::Document& input, size_t i) {
  const std::string at = absl::StrCat("documents[", i, "]");
  if (scored.id() != input.id()) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ".id: expected \"", input.id(), "\", got \"", scored.id(), "\""));
  }
  const int n = scored.tokens_size();
  if (scored.offsets_size() != 2 * n) {
    return absl::InvalidArgumentError(absl::StrCat(
        at, ".offsets: ", scored.offsets_size(), " values for ", n, " tokens (need 2 per token)"));
  }
  for (const auto& [name, size] :
       {std::pair<const char*, int>{"received_large", scored.received_large_size()},
        {"received_small", scored.received_small_size()},
        {"contrast", scored.contrast_size()}}) {
    if (size != n) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".", name, ": ", size, " values for ", n, " tokens"));
    }
  }
  const size_t text_bytes = input.text().size();
  for (int k = 0; k < scored.offsets_size(); k += 2) {
    if (scored.offsets(k) > scored.offsets(k + 1) || scored.offsets(k + 1) > text_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".offsets[", k, "]: span [", scored.offsets(k), ", ",
                       scored.offsets(k + 1), ") outside the text's ", text_bytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Open(JobManagerOptions options,
                                                             CoordinatorMetrics* metrics) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir: required");
  if (!options.now_ms) options.now_ms = [] { return absl::ToUnixMillis(absl::Now()); };
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<ShardStore> shards,
                            ShardStore::Open(options.data_dir + "/shards"));
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
                       std::unique_ptr<StateStore> state, std::unique_ptr<ShardStore> shards)
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
    metrics_->commit_seconds().Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (!status.ok()) {
    // Memory ran ahead of the disk: rebuild it from what is durable.
    absl::Status recovered = RecoverLocked();
    if (!recovered.ok()) status = Annotate(status, recovered.ToString());
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
    if (metrics_ != nullptr) metrics_->shard_failures(kind).Increment();
    if (std::string(kind) == "expired" && metrics_ != nullptr) {
      metrics_->lease_expirations().Increment();
    }
    if (loss.job_failure.has_value()) {
      SetStateLocked(*record, v1::JOB_STATE_FAILED, *loss.job_failure, batch);
      continue;
    }
    if (metrics_ != nullptr && loss.retry_at_ms > 0) metrics_->shard_retries().Increment();
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

// ----------------------------------------------------------------- JobService

absl::StatusOr<v1::Job> JobManager::Submit(const v1::SubmitJobRequest& request) {
  if (request.request_id().size() > 128) {
    return absl::InvalidArgumentError("request_id: at most 128 bytes");
  }
  if (!request.request_id().empty()) {
    Lock lock(mu_);
    auto it = job_by_request_.find(request.request_id());
    if (it != job_by_request_.end()) return jobs_[it->second].job;
  }
  v1::JobSpec spec = request.spec();
  CLUEDROP_RETURN_IF_ABSL_ERROR(ValidateJobSpec(spec));
  ApplyJobSpecDefaults(&spec);
  // Slow I/O outside the lock.
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<v1::Document> documents, LoadCorpus(spec.corpus()));
  const std::vector<ShardPlan> plans = PlanShards(documents, spec.corpus().shard_size_docs());
  std::vector<ShardInfo> shards;
  std::vector<std::vector<v1::Document>> shard_docs;
  for (const ShardPlan& plan : plans) {
    ShardInfo shard;
    shard.index = plan.index;
    shard.shard_id = plan.shard_id;
    shard.doc_count = plan.doc_count;
    shards.push_back(shard);
    shard_docs.emplace_back(documents.begin() + plan.first_doc,
                            documents.begin() + plan.first_doc + plan.doc_count);
  }

  Lock lock(mu_);
  if (shutdown_) return absl::UnavailableError("coordinator is shutting down");
  if (!request.request_id().empty()) {
    auto it = job_by_request_.find(request.request_id());
    if (it != job_by_request_.end()) return jobs_[it->second].job;
  }
  const int64_t now = Now();
  JobRecord record;
  std::string id;
  do {
    id = NewJobId(now);
  } while (jobs_.count(id) > 0);
  record.job.set_id(id);
  *record.job.mutable_spec() = spec;
  record.job.set_state(v1::JOB_STATE_QUEUED);
  SetTime(record.job.mutable_create_time(), now);
  SetTime(record.job.mutable_update_time(), now);
  record.job.mutable_progress()->set_shards_total(static_cast<uint32_t>(shards.size()));
  record.job.mutable_progress()->set_documents_total(documents.size());
  record.order = next_order_;
  record.request_id = request.request_id();
  for (const ShardInfo& shard : shards) record.shard_index[shard.shard_id] = shard.index;
  v1::JobEvent queued;
  queued.set_job_id(id);
  queued.set_sequence(1);
  queued.set_state_changed(v1::JOB_STATE_QUEUED);
  SetTime(queued.mutable_time(), now);
  v1::JobEvent summary;
  summary.set_job_id(id);
  summary.set_sequence(2);
  summary.set_message(absl::StrCat("corpus: ", documents.size(), " documents in ", shards.size(),
                                   " shards of up to ", spec.corpus().shard_size_docs()));
  SetTime(summary.mutable_time(), now);
  absl::Status status = state_->Write([&](StateStore::Writer& w) -> absl::Status {
    CLUEDROP_RETURN_IF_ABSL_ERROR(
        w.InsertJob(record.job, record.order, record.request_id, shards, shard_docs));
    CLUEDROP_RETURN_IF_ABSL_ERROR(w.AppendEvent(queued));
    return w.AppendEvent(summary);
  });
  if (!status.ok()) return absl::UnavailableError(absl::StrCat("state store: ", status.message()));
  ++next_order_;
  record.events = {queued, summary};
  scheduler_.AddJob(id, record.order, std::move(shards));
  if (!record.request_id.empty()) job_by_request_[record.request_id] = id;
  v1::Job job = record.job;
  jobs_[id] = std::move(record);
  if (plans.empty()) {
    Batch batch;
    SetStateLocked(jobs_[id], IsScoreOnly(spec) ? v1::JOB_STATE_SUCCEEDED : v1::JOB_STATE_TRAINING,
                   "", batch);
    CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch));
  }
  UpdateGaugesLocked();
  changed_.notify_all();
  work_ready_.notify_all();
  return job;
}

absl::StatusOr<v1::Job> JobManager::GetJob(const std::string& job_id) {
  Lock lock(mu_);
  CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindOrNotFoundLocked(job_id));
  return record->job;
}

absl::StatusOr<v1::ListJobsResponse> JobManager::ListJobs(const v1::ListJobsRequest& request) {
  uint32_t page_size = request.page_size() == 0 ? 100 : request.page_size();
  if (page_size > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be at most 1000, got ", request.page_size()));
  }
  int64_t before = INT64_MAX;
  if (!request.page_token().empty()) {
    char* end = nullptr;
    before = std::strtoll(request.page_token().c_str(), &end, 10);
    if (end == nullptr || *end != '\0' || before <= 0) {
      return absl::InvalidArgumentError("page_token: not a token from ListJobs");
    }
  }
  for (int state : request.states()) {
    if (!v1::JobState_IsValid(state) || state == v1::JOB_STATE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("states: unknown job state ", state));
    }
  }
  Lock lock(mu_);
  std::vector<const JobRecord*> records;
  for (const auto& [id, record] : jobs_) {
    if (record.order >= before) continue;
    if (request.states_size() > 0 && std::find(request.states().begin(), request.states().end(),
                                               record.job.state()) == request.states().end()) {
      continue;
    }
    records.push_back(&record);
  }
  // Newest first.
  std::sort(records.begin(), records.end(),
            [](const JobRecord* a, const JobRecord* b) { return a->order > b->order; });
  v1::ListJobsResponse response;
  for (size_t i = 0; i < records.size() && i < page_size; ++i) {
    *response.add_jobs() = records[i]->job;
  }
  if (records.size() > page_size) {
    response.set_next_page_token(absl::StrCat(records[page_size - 1]->order));
  }
  return response;
}

absl::StatusOr<v1::Job> JobManager::CancelJob(const std::string& job_id,
                                              const std::string& reason) {
  Lock lock(mu_);
  CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindOrNotFoundLocked(job_id));
  if (IsTerminal(record->job.state())) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id, " is already ", v1::JobState_Name(record->job.state())));
  }
  Batch batch;
  SetStateLocked(*record, v1::JOB_STATE_CANCELLED,
                 reason.empty() ? "cancelled by the user" : reason, batch);
  CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch));
  return record->job;
}

absl::Status JobManager::WatchJob(const std::string& job_id, uint64_t after_sequence,
                                  const std::function<bool(const v1::JobEvent&)>& sink,
                                  const StopFn& stop) {
  uint64_t next = after_sequence;
  while (true) {
    std::vector<v1::JobEvent> pending;
    bool terminal = false;
    {
      Lock lock(mu_);
      CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindOrNotFoundLocked(job_id));
      while (!shutdown_ && !(stop && stop()) &&
             (record->events.empty() || record->events.back().sequence() <= next)) {
        changed_.wait_for(lock, std::chrono::milliseconds(200));
      }
      if (shutdown_) return absl::UnavailableError("coordinator is shutting down");
      if (stop && stop()) return absl::CancelledError("watcher went away");
      // Sequences are 1, 2, 3, ...: event `next + 1` is at index `next`.
      for (size_t i = std::min<size_t>(next, record->events.size()); i < record->events.size();
           ++i) {
        if (record->events[i].sequence() > next) pending.push_back(record->events[i]);
      }
    }
    for (const v1::JobEvent& event : pending) {
      if (!sink(event)) return absl::CancelledError("watcher went away");
      next = event.sequence();
      if (event.kind_case() == v1::JobEvent::kStateChanged && IsTerminal(event.state_changed())) {
        terminal = true;
      }
    }
    if (terminal) return absl::OkStatus();
  }
}

// ---------------------------------------------------------------- WorkService

absl::StatusOr<v1::RegisterWorkerResponse> JobManager::RegisterWorker(
    const v1::RegisterWorkerRequest& request) {
  if (request.name().empty() || request.name().size() > 253) {
    return absl::InvalidArgumentError("name: required, at most 253 bytes");
  }
  Lock lock(mu_);
  if (shutdown_) return absl::UnavailableError("coordinator is shutting down");
  RegisterResult result = scheduler_.RegisterWorker(request.name(), Now());
  Batch batch;
  if (!result.replaced_worker_id.empty()) {
    batch.workers_deleted.push_back(result.replaced_worker_id);
  }
  batch.workers_put.push_back({result.worker_id, request.name(), Now()});
  ApplyLossesLocked(result.lost, "restarted", batch);
  CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch));
  v1::RegisterWorkerResponse response;
  response.set_worker_id(result.worker_id);
  response.set_heartbeat_interval_ms(
      static_cast<uint32_t>(options_.scheduler.heartbeat_interval_ms));
  response.set_lease_ttl_ms(static_cast<uint32_t>(options_.scheduler.lease_ttl_ms));
  return response;
}

absl::StatusOr<v1::HeartbeatResponse> JobManager::Heartbeat(const v1::HeartbeatRequest& request) {
  Lock lock(mu_);
  std::vector<std::string> leases(request.lease_ids().begin(), request.lease_ids().end());
  CLUEDROP_ASSIGN_OR_RETURN(HeartbeatResult result,
                            scheduler_.Heartbeat(request.worker_id(), leases, Now()));
  v1::HeartbeatResponse response;
  for (std::string& id : result.revoked_lease_ids) response.add_revoked_lease_ids(std::move(id));
  return response;
}

absl::StatusOr<v1::LeaseShardResponse> JobManager::LeaseShard(const v1::LeaseShardRequest& request,
                                                              const StopFn& stop) {
  const uint32_t wait_ms =
      std::min(request.wait_ms() == 0 ? options_.default_lease_wait_ms : request.wait_ms(),
               options_.max_lease_wait_ms);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  Lock lock(mu_);
  while (true) {
    if (shutdown_) return absl::UnavailableError("coordinator is shutting down");
    CLUEDROP_ASSIGN_OR_RETURN(std::optional<LeaseGrant> grant,
                              scheduler_.Lease(request.worker_id(), Now()));
    if (grant.has_value()) {
      JobRecord& record = jobs_[grant->key.job_id];
      absl::StatusOr<std::vector<v1::Document>> documents =
          state_->ShardDocuments(grant->key.job_id, grant->key.index);
      Batch batch;
      if (!documents.ok()) {
        // Cannot happen unless the database is damaged: fail the job loudly.
        SetStateLocked(record, v1::JOB_STATE_FAILED,
                       absl::StrCat("shard ", grant->shard_id, ": ", documents.status().message()),
                       batch);
        CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch));
        continue;
      }
      batch.shards.push_back(grant->key);
      if (record.job.state() == v1::JOB_STATE_QUEUED) {
        SetStateLocked(record, v1::JOB_STATE_SCORING, "", batch);
      }
      // Not fsynced: a grant lost with the machine only means the shard is
      // leased again (its holder's heartbeat is then revoked, or its result
      // still wins). A process crash loses nothing (WAL).
      CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch, StateStore::Durability::kLazy));
      lease_history_[grant->lease_id] = grant->key;
      if (metrics_ != nullptr) metrics_->leases_granted().Increment();
      v1::LeaseShardResponse response;
      v1::ShardLease* lease = response.mutable_lease();
      const v1::JobSpec& spec = record.job.spec();
      lease->set_lease_id(grant->lease_id);
      lease->set_job_id(grant->key.job_id);
      lease->set_shard_id(grant->shard_id);
      lease->set_attempt(grant->attempt);
      lease->set_expire_time_ms(grant->expire_ms);
      lease->set_large_checkpoint_dir(spec.reference_models().large().checkpoint_dir());
      lease->set_small_checkpoint_dir(spec.reference_models().small().checkpoint_dir());
      lease->set_large_dtype(spec.reference_models().large().dtype());
      lease->set_small_dtype(spec.reference_models().small().dtype());
      if (spec.has_target_model()) {
        const v1::TargetModelSpec& target = spec.target_model();
        lease->set_target_tokenizer_dir(target.has_checkpoint_dir() ? target.checkpoint_dir()
                                                                    : target.tokenizer_dir());
      }
      lease->set_include_self(spec.reference_models().include_self());
      *lease->mutable_layers() = spec.reference_models().layers();
      lease->set_batch_tokens(spec.reference_models().batch_tokens());
      for (v1::Document& d : *documents) *lease->add_documents() = std::move(d);
      return response;
    }
    if (std::chrono::steady_clock::now() >= deadline || (stop && stop())) {
      return v1::LeaseShardResponse();
    }
    // 100 ms also catches shards whose retry backoff has just passed.
    work_ready_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

absl::StatusOr<v1::CompleteShardResponse> JobManager::CompleteShard(
    const v1::CompleteShardHeader& header, std::vector<v1::ScoredDocument> documents) {
  if (header.document_count() != documents.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("header.document_count: ", header.document_count(), " announced, ",
                     documents.size(), " received"));
  }
  ShardKey key;
  std::vector<v1::Document> inputs;
  {
    Lock lock(mu_);
    if (!header.job_id().empty()) {
      CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindOrNotFoundLocked(header.job_id()));
      auto it = record->shard_index.find(header.shard_id());
      if (it == record->shard_index.end()) {
        return absl::NotFoundError(absl::StrCat("header.shard_id: job ", header.job_id(),
                                                " has no shard ", header.shard_id()));
      }
      key = {header.job_id(), it->second};
    } else {
      auto it = lease_history_.find(header.lease_id());
      if (it == lease_history_.end()) {
        return absl::NotFoundError(
            absl::StrCat("header.lease_id: unknown lease ", header.lease_id(),
                         " (set header.job_id for leases of an earlier coordinator run)"));
      }
      key = it->second;
    }
    const ShardInfo* shard = scheduler_.Shard(key);
    if (shard == nullptr || shard->shard_id != header.shard_id()) {
      return absl::InvalidArgumentError(absl::StrCat("header.shard_id: ", header.shard_id(),
                                                     " does not match lease ", header.lease_id()));
    }
    if (shard->state == ShardState::kScored || !scheduler_.IsActive(key.job_id)) {
      if (metrics_ != nullptr) metrics_->duplicate_completions().Increment();
      v1::CompleteShardResponse response;
      response.set_accepted(false);
      response.set_checksum(shard->state == ShardState::kScored ? shard->checksum : 0);
      return response;
    }
    CLUEDROP_ASSIGN_OR_RETURN(inputs, state_->ShardDocuments(key.job_id, key.index));
  }
  if (inputs.size() != documents.size()) {
    return absl::InvalidArgumentError(absl::StrCat("header.document_count: the shard has ",
                                                   inputs.size(), " documents, got ",
                                                   documents.size()));
  }
  uint64_t tokens = 0;
  for (size_t i = 0; i < documents.size(); ++i) {
    CLUEDROP_RETURN_IF_ABSL_ERROR(CheckScored(documents[i], inputs[i], i));
    // The coordinator's copy of the text and QA items is authoritative.
    documents[i].set_text(inputs[i].text());
    *documents[i].mutable_qa_items() = inputs[i].qa_items();
    tokens += documents[i].tokens_size();
  }
  if (header.tokens_scored() > 0) tokens = header.tokens_scored();
  // Write the payload under a per-lease key, so that racing results never
  // overwrite each other; the winner's key is recorded.
  const std::string payload_key =
      absl::StrCat(header.shard_id(), ".", header.lease_id().empty() ? "x" : header.lease_id());
  CLUEDROP_ASSIGN_OR_RETURN(uint32_t checksum,
                            shard_store_->Write(key.job_id, payload_key, documents));

  Lock lock(mu_);
  CLUEDROP_ASSIGN_OR_RETURN(CompletionResult result,
                            scheduler_.Complete(key, {checksum, tokens, payload_key}));
  v1::CompleteShardResponse response;
  response.set_accepted(result.accepted);
  if (!result.accepted) {
    if (metrics_ != nullptr) metrics_->duplicate_completions().Increment();
    const ShardInfo* shard = scheduler_.Shard(key);
    if (shard == nullptr || shard->payload_key != payload_key) {
      std::remove(shard_store_->PathFor(key.job_id, payload_key).c_str());
    }
    response.set_checksum(result.winner_checksum);
    return response;
  }
  response.set_checksum(checksum);
  lease_history_.erase(header.lease_id());
  JobRecord& record = jobs_[key.job_id];
  Batch batch;
  batch.shards.push_back(key);
  v1::JobProgress* progress = record.job.mutable_progress();
  progress->set_shards_scored(progress->shards_scored() + 1);
  progress->set_tokens_scored(progress->tokens_scored() + tokens);
  const int64_t now = Now();
  if (result.job_scored ||
      now - record.last_progress_event_ms >= options_.progress_event_interval_ms) {
    record.last_progress_event_ms = now;
    PublishProgressLocked(record, batch);
  } else {
    SetTime(record.job.mutable_update_time(), now);
    batch.jobs.push_back(record.job.id());
  }
  if (result.job_scored) {
    SetStateLocked(
        record, IsScoreOnly(record.job.spec()) ? v1::JOB_STATE_SUCCEEDED : v1::JOB_STATE_TRAINING,
        "", batch);
  }
  absl::Status committed = CommitLocked(batch);
  if (!committed.ok()) return committed;
  if (metrics_ != nullptr) {
    metrics_->shards_completed().Increment();
    metrics_->tokens_scored().Increment(static_cast<double>(tokens));
  }
  return response;
}

absl::Status JobManager::FailShard(const v1::FailShardRequest& request) {
  Lock lock(mu_);
  CLUEDROP_ASSIGN_OR_RETURN(
      LeaseLoss loss,
      scheduler_.Fail(request.worker_id(), request.lease_id(),
                      request.error().empty() ? "worker reported an error without a message"
                                              : request.error().substr(0, 4096),
                      request.retryable(), request.released(), Now()));
  Batch batch;
  const char* kind = request.released() ? "released" : request.retryable() ? "error" : "fatal";
  if (request.released()) {
    batch.shards.push_back(loss.key);
    work_ready_.notify_all();
  } else {
    ApplyLossesLocked({loss}, kind, batch);
  }
  return CommitLocked(batch);
}

void JobManager::TickLocked(Batch& batch) {
  ApplyLossesLocked(scheduler_.Tick(Now(), &batch.workers_deleted), "expired", batch);
}

void JobManager::TickForTest() {
  Lock lock(mu_);
  Batch batch;
  TickLocked(batch);
  (void)CommitLocked(batch);
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
    UpdateGaugesLocked();
  }
}

// --------------------------------------------------------------- TrainService

absl::StatusOr<v1::JoinTrainingResponse> JobManager::JoinTraining(
    const v1::JoinTrainingRequest& request, const StopFn& stop) {
  if (request.name().empty()) return absl::InvalidArgumentError("name: required");
  if (request.store_address().empty()) {
    return absl::InvalidArgumentError("store_address: required (host:port of this trainer)");
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(request.wait_ms());
  Lock lock(mu_);
  while (true) {
    if (shutdown_) return absl::UnavailableError("coordinator is shutting down");
    JobRecord* chosen = nullptr;
    if (!request.job_id().empty()) {
      CLUEDROP_ASSIGN_OR_RETURN(chosen, FindOrNotFoundLocked(request.job_id()));
      if (IsScoreOnly(chosen->job.spec())) {
        return absl::FailedPreconditionError(
            absl::StrCat("job_id: job ", request.job_id(), " is score-only (no target_model)"));
      }
      if (IsTerminal(chosen->job.state())) {
        return absl::FailedPreconditionError(absl::StrCat("job_id: job ", request.job_id(), " is ",
                                                          v1::JobState_Name(chosen->job.state())));
      }
    } else {
      // The oldest active training job that has this trainer or a free rank.
      const JobRecord* best = nullptr;
      for (auto& [id, record] : jobs_) {
        if (IsTerminal(record.job.state()) || IsScoreOnly(record.job.spec())) continue;
        const uint32_t world = std::max(1u, record.job.spec().training().world_size());
        const bool mine =
            std::any_of(record.trainers.begin(), record.trainers.end(),
                        [&](const TrainerRank& t) { return t.name == request.name(); });
        if (!mine && record.trainers.size() >= world) continue;
        if (best == nullptr || record.order < best->order) best = &record;
      }
      chosen = const_cast<JobRecord*>(best);
    }
    if (chosen != nullptr) {
      JobRecord& record = *chosen;
      const uint32_t world = std::max(1u, record.job.spec().training().world_size());
      auto mine = std::find_if(record.trainers.begin(), record.trainers.end(),
                               [&](const TrainerRank& t) { return t.name == request.name(); });
      Batch batch;
      if (mine != record.trainers.end()) {
        // A rejoin after a crash: same rank, new generation (every rank must
        // rebuild its process group).
        ++record.generation;
        mine->store_address = request.store_address();
        batch.trainers.push_back({record.job.id(), *mine});
        AddMessageLocked(record,
                         absl::StrCat("trainer ", request.name(), " rejoined as rank ", mine->rank,
                                      "; rendezvous generation ", record.generation),
                         batch);
        CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch));
      } else if (record.trainers.size() < world) {
        std::vector<bool> taken(world, false);
        for (const TrainerRank& t : record.trainers) taken[t.rank] = true;
        uint32_t rank = 0;
        while (taken[rank]) ++rank;
        record.trainers.push_back({rank, request.name(), request.store_address()});
        batch.trainers.push_back({record.job.id(), record.trainers.back()});
        AddMessageLocked(
            record,
            absl::StrCat("trainer ", request.name(), " joined as rank ", rank, " of ", world),
            batch);
        CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch));
        mine = record.trainers.end() - 1;
      } else if (!request.job_id().empty()) {
        chosen = nullptr;  // full: wait for a rank (below)
      }
      if (chosen != nullptr) {
        const TrainerRank me = *mine;
        // Wait until rank 0 is known.
        while (true) {
          auto rank0 = std::find_if(record.trainers.begin(), record.trainers.end(),
                                    [](const TrainerRank& t) { return t.rank == 0; });
          if (rank0 != record.trainers.end()) {
            v1::JoinTrainingResponse response;
            response.set_job_id(record.job.id());
            response.set_rank(me.rank);
            response.set_world_size(world);
            response.set_rendezvous_address(rank0->store_address);
            *response.mutable_spec() = record.job.spec();
            response.set_generation(record.generation);
            return response;
          }
          if (shutdown_) return absl::UnavailableError("coordinator is shutting down");
          if (std::chrono::steady_clock::now() >= deadline || (stop && stop())) {
            return absl::UnavailableError(absl::StrCat("joined job ", record.job.id(), " as rank ",
                                                       me.rank,
                                                       ", but rank 0 has not joined yet; retry"));
          }
          changed_.wait_for(lock, std::chrono::milliseconds(100));
        }
      }
    }
    if (std::chrono::steady_clock::now() >= deadline || (stop && stop())) {
      return absl::UnavailableError(request.job_id().empty()
                                        ? "no job needs a trainer now; retry later"
                                        : "every rank of the job is taken; retry later");
    }
    changed_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

absl::Status JobManager::StreamShards(const v1::StreamShardsRequest& request,
                                      const std::function<bool(const v1::ScoredShardChunk&)>& sink,
                                      const StopFn& stop) {
  std::vector<uint32_t> partition;
  {
    Lock lock(mu_);
    CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindOrNotFoundLocked(request.job_id()));
    const uint32_t world = IsScoreOnly(record->job.spec())
                               ? 1u
                               : std::max(1u, record->job.spec().training().world_size());
    if (request.rank() >= world) {
      return absl::InvalidArgumentError(
          absl::StrCat("rank: must be below the world size ", world, ", got ", request.rank()));
    }
    const std::vector<ShardInfo>* shards = scheduler_.Shards(request.job_id());
    for (uint32_t i = request.rank(); shards != nullptr && i < shards->size(); i += world) {
      partition.push_back(i);
    }
    if (request.cursor() > partition.size()) {
      return absl::OutOfRangeError(absl::StrCat("cursor: rank ", request.rank(), " has ",
                                                partition.size(), " shards, got cursor ",
                                                request.cursor()));
    }
  }
  for (uint64_t k = request.cursor(); k < partition.size(); ++k) {
    const ShardKey key{request.job_id(), partition[k]};
    std::string shard_id, payload_key;
    {
      Lock lock(mu_);
      while (true) {
        if (shutdown_) return absl::UnavailableError("coordinator is shutting down");
        if (stop && stop()) return absl::CancelledError("stream reader went away");
        const ShardInfo* shard = scheduler_.Shard(key);
        JobRecord* record = FindLocked(key.job_id);
        if (shard != nullptr && shard->state == ShardState::kScored) {
          shard_id = shard->shard_id;
          payload_key = shard->payload_key;
          break;
        }
        if (record->job.state() == v1::JOB_STATE_CANCELLED) {
          return absl::CancelledError(
              absl::StrCat("job ", key.job_id, " was cancelled: ", record->job.reason()));
        }
        if (record->job.state() == v1::JOB_STATE_FAILED) {
          return absl::AbortedError(
              absl::StrCat("job ", key.job_id, " failed: ", record->job.reason()));
        }
        changed_.wait_for(lock, std::chrono::milliseconds(200));
      }
    }
    absl::Status status = shard_store_->ReadChunks(
        key.job_id, payload_key, options_.stream_chunk_bytes,
        [&](std::vector<v1::ScoredDocument>&& docs, bool last, uint32_t checksum) {
          v1::ScoredShardChunk chunk;
          chunk.set_shard_id(shard_id);
          chunk.set_index(k);
          for (v1::ScoredDocument& d : docs) *chunk.add_documents() = std::move(d);
          chunk.set_last(last);
          if (last) chunk.set_checksum(checksum);
          if (metrics_ != nullptr) {
            metrics_->stream_bytes().Increment(static_cast<double>(chunk.ByteSizeLong()));
            metrics_->stream_chunks().Increment();
          }
          return sink(chunk);
        });
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ReportProgressResponse> JobManager::ReportProgress(
    const v1::ReportProgressRequest& request) {
  Lock lock(mu_);
  CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindOrNotFoundLocked(request.job_id()));
  v1::ReportProgressResponse response;
  const v1::JobState state = record->job.state();
  response.set_state(state);
  if (state == v1::JOB_STATE_CANCELLED || state == v1::JOB_STATE_FAILED) {
    response.set_cancelled(true);
    return response;
  }
  if (IsTerminal(state)) return response;
  const uint32_t world = std::max(1u, record->job.spec().training().world_size());
  if (request.rank() >= world) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank: must be below the world size ", world, ", got ", request.rank()));
  }
  const v1::JobProgress& in = request.progress();
  if (!std::isfinite(in.loss())) {
    return absl::InvalidArgumentError(
        absl::StrCat("progress.loss: must be finite, got ", in.loss()));
  }
  Batch batch;
  if (request.rank() == 0) {
    v1::JobProgress* p = record->job.mutable_progress();
    p->set_training_step(in.training_step());
    p->set_training_steps_total(in.training_steps_total());
    p->set_epoch(in.epoch());
    p->set_loss(in.loss());
    p->set_tokens_per_second(in.tokens_per_second());
    PublishProgressLocked(*record, batch);
  }
  if (!request.final_model_dir().empty()) {
    if (request.rank() != 0) {
      return absl::InvalidArgumentError("final_model_dir: only rank 0 reports the final model");
    }
    record->job.set_model_dir(request.final_model_dir());
    batch.jobs.push_back(record->job.id());
    SetStateLocked(
        *record,
        record->job.spec().has_evaluation() ? v1::JOB_STATE_EVALUATING : v1::JOB_STATE_SUCCEEDED,
        "", batch);
  }
  CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch));
  response.set_state(record->job.state());
  return response;
}

absl::Status JobManager::ReportEvaluation(const v1::ReportEvaluationRequest& request) {
  Lock lock(mu_);
  CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindOrNotFoundLocked(request.job_id()));
  if (IsTerminal(record->job.state())) {
    return absl::FailedPreconditionError(absl::StrCat("job ", request.job_id(), " is already ",
                                                      v1::JobState_Name(record->job.state())));
  }
  for (int i = 0; i < request.result().fields_size(); ++i) {
    const v1::FieldScore& f = request.result().fields(i);
    if (!(f.exact_match() >= 0 && f.exact_match() <= 1 && f.f1() >= 0 && f.f1() <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("result.fields[", i, "]: exact_match and f1 must be in [0, 1]"));
    }
  }
  Batch batch;
  v1::EvaluationResult result = request.result();
  if (!result.has_time()) SetTime(result.mutable_time(), Now());
  *record->job.add_evaluations() = result;
  batch.jobs.push_back(record->job.id());
  v1::JobEvent event;
  *event.mutable_evaluation() = result;
  AddEventLocked(*record, std::move(event), batch);
  if (request.final()) SetStateLocked(*record, v1::JOB_STATE_SUCCEEDED, "", batch);
  return CommitLocked(batch);
}

}  // namespace cluedrop::coordinator
