// JobManager, TrainService side: the trainer rendezvous, shard streams to
// ranks, progress and evaluation reports.
#include <algorithm>

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

absl::StatusOr<v1::JoinTrainingResponse> JobManager::JoinTraining(
    const v1::JoinTrainingRequest& request, const StopFn& stop, const Caller& caller) {
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
      if (mine != record.trainers.end() && !caller.internal() && mine->owner != caller.identity) {
        // The name is another identity's rank: taking it over would let a
        // stranger restart the job's process group.
        if (metrics_ != nullptr) metrics_->AuthDenied("not_owner");
        return absl::PermissionDeniedError(
            absl::StrCat("name: trainer ", request.name(), " holds rank ", mine->rank, " of job ",
                         record.job.id(), " for another identity, not ", caller.identity));
      }
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
        record.trainers.push_back({rank, request.name(), request.store_address(), caller.identity});
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
                                      const StopFn& stop, const Caller& caller) {
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
    // The job's owner (and admins) read results; otherwise the caller must
    // hold the rank it streams.
    if (!caller.internal() && !caller.admin && record->job.owner() != caller.identity) {
      CLUEDROP_RETURN_IF_ABSL_ERROR(CheckRankLocked(*record, request.rank(), caller));
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
            metrics_->StreamChunkSent(chunk.ByteSizeLong());
          }
          return sink(chunk);
        });
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ReportProgressResponse> JobManager::ReportProgress(
    const v1::ReportProgressRequest& request, const Caller& caller) {
  Lock lock(mu_);
  CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindOrNotFoundLocked(request.job_id()));
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckRankLocked(*record, request.rank(), caller));
  v1::ReportProgressResponse response;
  const v1::JobState state = record->job.state();
  response.set_state(state);
  response.set_generation(record->generation);
  if (state == v1::JOB_STATE_CANCELLED || state == v1::JOB_STATE_FAILED) {
    response.set_cancelled(true);
    return response;
  }
  if (IsTerminal(state)) return response;
  if (!request.failure().empty()) {
    Batch batch;
    SetStateLocked(
        *record, v1::JOB_STATE_FAILED,
        absl::StrCat("trainer rank ", request.rank(), ": ", request.failure().substr(0, 4096)),
        batch);
    CLUEDROP_RETURN_IF_ABSL_ERROR(CommitLocked(batch));
    response.set_state(record->job.state());
    response.set_cancelled(true);
    return response;
  }
  // EVALUATING too: ranks that finished poll with empty progress until the
  // job ends (and learn of rejoining peers from the generation).
  if (state != v1::JOB_STATE_SCORING && state != v1::JOB_STATE_TRAINING &&
      state != v1::JOB_STATE_EVALUATING) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", request.job_id(), " is ", v1::JobState_Name(state),
                     "; progress is reported while it is JOB_STATE_SCORING, "
                     "JOB_STATE_TRAINING or JOB_STATE_EVALUATING"));
  }
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
  if (request.rank() == 0 && state != v1::JOB_STATE_EVALUATING) {
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
    if (state != v1::JOB_STATE_TRAINING) {
      return absl::FailedPreconditionError(
          absl::StrCat("final_model_dir: job ", request.job_id(), " is ", v1::JobState_Name(state),
                       "; the final model follows JOB_STATE_TRAINING"));
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

absl::Status JobManager::ReportEvaluation(const v1::ReportEvaluationRequest& request,
                                          const Caller& caller) {
  Lock lock(mu_);
  CLUEDROP_ASSIGN_OR_RETURN(JobRecord * record, FindOrNotFoundLocked(request.job_id()));
  if (IsTerminal(record->job.state())) {
    return absl::FailedPreconditionError(absl::StrCat("job ", request.job_id(), " is already ",
                                                      v1::JobState_Name(record->job.state())));
  }
  CLUEDROP_RETURN_IF_ABSL_ERROR(CheckRankLocked(*record, request.rank(), caller));
  const v1::JobState state = record->job.state();
  if (state != v1::JOB_STATE_TRAINING && state != v1::JOB_STATE_EVALUATING) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", request.job_id(), " is ", v1::JobState_Name(state),
                     "; evaluations are reported while it is JOB_STATE_TRAINING or "
                     "JOB_STATE_EVALUATING"));
  }
  if (request.final() && state != v1::JOB_STATE_EVALUATING) {
    return absl::FailedPreconditionError(
        absl::StrCat("final: job ", request.job_id(), " is ", v1::JobState_Name(state),
                     "; the final evaluation follows the final model (JOB_STATE_EVALUATING)"));
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
