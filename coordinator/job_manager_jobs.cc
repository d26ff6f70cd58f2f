// JobManager, JobService side: submit (validate, load, shard, persist), get,
// list, cancel, watch.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/absl_status.h"
#include "coordinator/corpus_loader.h"
#include "coordinator/job_manager.h"
#include "coordinator/job_manager_internal.h"
#include "coordinator/memory_check.h"
#include "coordinator/sharding.h"
#include "jobspec/job_spec_validator.h"

namespace cluedrop::coordinator {

using internal::IsScoreOnly;
using internal::IsTerminal;
using internal::Lock;
using internal::NewJobId;
using internal::SetTime;

absl::StatusOr<v1::Job> JobManager::Submit(const v1::SubmitJobRequest& request,
                                           const Caller& caller) {
  if (request.request_id().size() > 128) {
    return absl::InvalidArgumentError("request_id: at most 128 bytes");
  }
  // Request ids are per submitter: another identity's id names another job.
  const std::string request_key = internal::RequestKey(caller.identity, request.request_id());
  if (!request.request_id().empty()) {
    Lock lock(mu_);
    auto it = job_by_request_.find(request_key);
    if (it != job_by_request_.end()) return jobs_[it->second].job;
  }
  v1::JobSpec spec = request.spec();
  CLUEDROP_RETURN_IF_ABSL_ERROR(jobspec::ValidateJobSpec(spec));
  PathPolicy paths = options_.paths;
  paths.forbidden.push_back(options_.data_dir);
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckJobPaths(spec, paths));
  jobspec::ApplyJobSpecDefaults(&spec);
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckJobMemory(spec, paths));
  // Slow I/O outside the lock.
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<v1::Document> documents, LoadCorpus(spec.corpus()));
  uint64_t corpus_bytes = 0;
  for (const v1::Document& d : documents) corpus_bytes += d.ByteSizeLong();
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
    auto it = job_by_request_.find(request_key);
    if (it != job_by_request_.end()) return jobs_[it->second].job;
  }
  if (!caller.internal()) {
    uint32_t unfinished = 0;
    uint64_t held_bytes = 0;
    for (const auto& [id, other] : jobs_) {
      if (other.job.owner() == caller.identity && !IsTerminal(other.job.state())) {
        ++unfinished;
        held_bytes += other.job.progress().corpus_bytes();
      }
    }
    const uint64_t cap = options_.max_corpus_bytes_per_submitter;
    if (cap > 0 && (corpus_bytes > cap || held_bytes > cap - corpus_bytes)) {
      if (metrics_ != nullptr) metrics_->LimitHit("max_corpus_bytes_per_submitter");
      return absl::ResourceExhaustedError(absl::StrCat(
          "corpus: this job's ", corpus_bytes, " corpus bytes and the ", held_bytes,
          " of submitter ", caller.identity, "'s unfinished jobs exceed ",
          "--max_corpus_bytes_per_submitter=", cap, "; wait for some to finish or cancel them"));
    }
    if (options_.max_jobs_per_submitter > 0 && unfinished >= options_.max_jobs_per_submitter) {
      if (metrics_ != nullptr) metrics_->LimitHit("max_jobs_per_submitter");
      return absl::ResourceExhaustedError(absl::StrCat(
          "submitter ", caller.identity, " has ", unfinished,
          " unfinished jobs (--max_jobs_per_submitter=", options_.max_jobs_per_submitter,
          "); wait for some to finish or cancel them"));
    }
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
  record.job.set_owner(caller.identity);
  SetTime(record.job.mutable_create_time(), now);
  SetTime(record.job.mutable_update_time(), now);
  record.job.mutable_progress()->set_shards_total(static_cast<uint32_t>(shards.size()));
  record.job.mutable_progress()->set_documents_total(documents.size());
  record.job.mutable_progress()->set_corpus_bytes(corpus_bytes);
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
  if (!record.request_id.empty()) job_by_request_[request_key] = id;
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

absl::StatusOr<v1::Job> JobManager::GetJob(const std::string& job_id, const Caller& caller) {
  Lock lock(mu_);
  CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindVisibleLocked(job_id, caller));
  return record->job;
}

absl::StatusOr<v1::ListJobsResponse> JobManager::ListJobs(const v1::ListJobsRequest& request,
                                                          const Caller& caller) {
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
    if (!caller.internal() && !caller.admin && record.job.owner() != caller.identity) continue;
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

absl::StatusOr<v1::Job> JobManager::CancelJob(const std::string& job_id, const std::string& reason,
                                              const Caller& caller) {
  Lock lock(mu_);
  CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindVisibleLocked(job_id, caller));
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
                                  const StopFn& stop, const Caller& caller) {
  uint64_t next = after_sequence;
  while (true) {
    std::vector<v1::JobEvent> pending;
    bool terminal = false;
    {
      Lock lock(mu_);
      CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindVisibleLocked(job_id, caller));
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

}  // namespace cluedrop::coordinator
