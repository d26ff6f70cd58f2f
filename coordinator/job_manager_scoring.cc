// JobManager, WorkService side: worker registration and heartbeats, shard
// leases, completions (validated, stored, first result wins), failures.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <tuple>

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

namespace {

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
  for (int k = 0; k < n; ++k) {
    if (scored.tokens(k) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, ".tokens[", k, "]: a token id is never negative, got ", scored.tokens(k)));
    }
  }
  // Mean attention received is a mean of softmax weights: in [0, 1]; the
  // contrast of two such values in [-1, 1]. NaN means "no score for this
  // token" (no reference token covers it); infinities and larger values are
  // not scores.
  constexpr float kSlack = 1e-3f;
  for (const auto& [name, values, low] :
       {std::tuple<const char*, const google::protobuf::RepeatedField<float>*, float>{
            "received_large", &scored.received_large(), 0.0f},
        {"received_small", &scored.received_small(), 0.0f},
        {"contrast", &scored.contrast(), -1.0f}}) {
    for (int k = 0; k < values->size(); ++k) {
      const float v = values->Get(k);
      if (std::isnan(v)) continue;
      if (!(v >= low - kSlack && v <= 1.0f + kSlack)) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ".", name, "[", k, "]: must be in [", low, ", 1] or NaN, got ", v));
      }
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

absl::StatusOr<v1::RegisterWorkerResponse> JobManager::RegisterWorker(
    const v1::RegisterWorkerRequest& request, const Caller& caller) {
  if (request.name().empty() || request.name().size() > 253) {
    return absl::InvalidArgumentError("name: required, at most 253 bytes");
  }
  Lock lock(mu_);
  if (shutdown_) return absl::UnavailableError("coordinator is shutting down");
  if (const WorkerInfo* holder = scheduler_.WorkerByName(request.name());
      holder != nullptr && !caller.internal() && holder->owner != caller.identity) {
    // Re-registering evicts the holder and fails its leases: only the
    // identity that registered the name may do that.
    if (metrics_ != nullptr) metrics_->AuthDenied("not_owner");
    return absl::PermissionDeniedError(absl::StrCat("name: worker ", request.name(),
                                                    " is registered by another identity, not ",
                                                    caller.identity));
  }
  RegisterResult result = scheduler_.RegisterWorker(request.name(), Now(), caller.identity);
  Batch batch;
  if (!result.replaced_worker_id.empty()) {
    batch.workers_deleted.push_back(result.replaced_worker_id);
  }
  batch.workers_put.push_back({result.worker_id, request.name(), Now(), caller.identity});
  ApplyLossesLocked(result.lost, "restarted", batch);
  CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch));
  v1::RegisterWorkerResponse response;
  response.set_worker_id(result.worker_id);
  response.set_heartbeat_interval_ms(
      static_cast<uint32_t>(options_.scheduler.heartbeat_interval_ms));
  response.set_lease_ttl_ms(static_cast<uint32_t>(options_.scheduler.lease_ttl_ms));
  return response;
}

absl::StatusOr<v1::HeartbeatResponse> JobManager::Heartbeat(const v1::HeartbeatRequest& request,
                                                            const Caller& caller) {
  Lock lock(mu_);
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckWorkerOwnerLocked(request.worker_id(), caller));
  std::vector<std::string> leases(request.lease_ids().begin(), request.lease_ids().end());
  CLUEDROP_ASSIGN_OR_RETURN(HeartbeatResult result,
                            scheduler_.Heartbeat(request.worker_id(), leases, Now()));
  v1::HeartbeatResponse response;
  for (std::string& id : result.revoked_lease_ids) response.add_revoked_lease_ids(std::move(id));
  return response;
}

absl::StatusOr<v1::LeaseShardResponse> JobManager::LeaseShard(const v1::LeaseShardRequest& request,
                                                              const StopFn& stop,
                                                              const Caller& caller) {
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckWorkerOwner(request.worker_id(), caller));
  const uint32_t wait_ms =
      std::min(request.wait_ms() == 0 ? options_.default_lease_wait_ms : request.wait_ms(),
               options_.max_lease_wait_ms);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  Lock lock(mu_);
  while (true) {
    if (shutdown_) return absl::UnavailableError("coordinator is shutting down");
    // While the coordinator cannot store results, it hands out no work.
    std::optional<LeaseGrant> grant;
    if (storage_fault_.empty()) {
      CLUEDROP_ASSIGN_OR_RETURN(grant, scheduler_.Lease(request.worker_id(), Now()));
    }
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
      if (metrics_ != nullptr) metrics_->LeaseGranted();
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

absl::StatusOr<ShardKey> JobManager::CompletionKeyLocked(const v1::CompleteShardHeader& header) {
  ShardKey key;
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
  return key;
}

absl::Status JobManager::CheckCompletionHeader(const v1::CompleteShardHeader& header,
                                               const Caller& caller) {
  Lock lock(mu_);
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckWorkerOwnerLocked(header.worker_id(), caller));
  CLUEDROP_ASSIGN_OR_RETURN(ShardKey key, CompletionKeyLocked(header));
  const ShardInfo* shard = scheduler_.Shard(key);
  if (header.document_count() != shard->doc_count) {
    return absl::InvalidArgumentError(absl::StrCat("header.document_count: the shard has ",
                                                   shard->doc_count, " documents, got ",
                                                   header.document_count()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::CompleteShardResponse> JobManager::CompleteShard(
    const v1::CompleteShardHeader& header, std::vector<v1::ScoredDocument> documents,
    const Caller& caller) {
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckWorkerOwner(header.worker_id(), caller));
  if (header.document_count() != documents.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("header.document_count: ", header.document_count(), " announced, ",
                     documents.size(), " received"));
  }
  ShardKey key;
  std::vector<v1::Document> inputs;
  {
    Lock lock(mu_);
    CLUEDROP_ASSIGN_OR_RETURN(key, CompletionKeyLocked(header));
    const ShardInfo* shard = scheduler_.Shard(key);
    if (shard->state == ShardState::kScored || !scheduler_.IsActive(key.job_id)) {
      if (metrics_ != nullptr) metrics_->DuplicateCompletion();
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
  absl::StatusOr<uint32_t> written = shard_store_->Write(key.job_id, payload_key, documents);
  if (!written.ok()) {
    // The coordinator's own disk (full, read-only, failing): not the
    // scorer's fault. Leasing pauses until a probe write succeeds, and the
    // scorer's eventual FailShard is not charged to the shard.
    Lock lock(mu_);
    if (storage_fault_.empty()) {
      AddStorageFaultLocked(absl::StrCat("shard store: ", written.status().message()));
    }
    return absl::UnavailableError(
        absl::StrCat("coordinator storage: ", written.status().message(),
                     "; the shard stays leased to you, retry later (leasing is paused until "
                     "the coordinator can write again)"));
  }
  const uint32_t checksum = *written;

  Lock lock(mu_);
  CLUEDROP_ASSIGN_OR_RETURN(CompletionResult result,
                            scheduler_.Complete(key, {checksum, tokens, payload_key}));
  v1::CompleteShardResponse response;
  response.set_accepted(result.accepted);
  if (!result.accepted) {
    if (metrics_ != nullptr) metrics_->DuplicateCompletion();
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
    metrics_->ShardCompleted(tokens);
  }
  return response;
}

absl::Status JobManager::FailShard(const v1::FailShardRequest& request, const Caller& caller) {
  Lock lock(mu_);
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckWorkerOwnerLocked(request.worker_id(), caller));
  // A retryable failure while (or just after) the coordinator could not
  // store results is most likely that fault: release, do not charge.
  const bool our_fault =
      request.retryable() &&
      (!storage_fault_.empty() || Now() - storage_fault_cleared_ms_ < kStorageFaultGraceMs);
  const bool released = request.released() || our_fault;
  CLUEDROP_ASSIGN_OR_RETURN(
      LeaseLoss loss,
      scheduler_.Fail(request.worker_id(), request.lease_id(),
                      request.error().empty() ? "worker reported an error without a message"
                                              : request.error().substr(0, 4096),
                      request.retryable(), released, Now()));
  Batch batch;
  const char* kind = released ? "released" : request.retryable() ? "error" : "fatal";
  if (released) {
    batch.shards.push_back(loss.key);
    work_ready_.notify_all();
  } else {
    ApplyLossesLocked({loss}, kind, batch);
  }
  return CommitLocked(batch);
}

}  // namespace cluedrop::coordinator
