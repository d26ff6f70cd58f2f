#include "coordinator/server/services.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/grpc_status.h"

namespace cluedrop::coordinator {
namespace {

StopFn Cancelled(grpc::ServerContext* context) {
  return [context] { return context->IsCancelled(); };
}

// A server stream's stop function: the client went away, or the stream is
// older than --max_stream_seconds (then `*aged` is set).
class StreamStop {
 public:
  StreamStop(grpc::ServerContext* context, absl::Duration max_age)
      : context_(context), end_(absl::Now() + max_age) {}
  StopFn Fn() {
    return [this] {
      if (context_->IsCancelled()) return true;
      if (absl::Now() < end_) return false;
      aged_ = true;
      return true;
    };
  }
  // The status the stream ends with: `status`, unless the age cap ended it.
  grpc::Status Finish(const absl::Status& status, const ServiceLimits& limits) const {
    if (!aged_ || context_->IsCancelled() || !absl::IsCancelled(status)) {
      return ToGrpcStatus(status);
    }
    if (limits.metrics != nullptr) limits.metrics->LimitHit("max_stream_seconds");
    return grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("stream open longer than --max_stream_seconds=", limits.max_stream_seconds,
                     "; resume from the last event or shard received"));
  }

 private:
  grpc::ServerContext* context_;
  absl::Time end_;
  bool aged_ = false;
};

template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

// Authorizes the call for `role` and sets `caller`; returns from the
// enclosing method when refused.
#define CLUEDROP_AUTHORIZE(context, role, caller)                                  \
  Caller caller;                                                                   \
  {                                                                                \
    auth::Identity who_;                                                           \
    if (grpc::Status s_ = auth_->Authorize(*(context), (role), &who_); !s_.ok()) { \
      return s_;                                                                   \
    }                                                                              \
    caller = Authenticator::ToCaller(who_);                                        \
  }

// Takes a slot of `limit` for the rest of the enclosing method, or returns
// RESOURCE_EXHAUSTED naming it (and counts the hit).
#define CLUEDROP_LIMIT(limits, limit, what)                                                \
  ConcurrencyLimit::Slot slot_ = (limits)->limit.Acquire();                                \
  if (!slot_) {                                                                            \
    if ((limits)->metrics != nullptr) (limits)->metrics->LimitHit((limits)->limit.flag()); \
    return (limits)->limit.Exhausted(what);                                                \
  }

// The reserve for a CompleteShard stream: the announced count bounded, so a
// forged header cannot make the server allocate before documents arrive.
constexpr size_t kMaxReserveDocuments = 1024;

}  // namespace

// ----------------------------------------------------------------- JobService

grpc::Status JobServiceImpl::SubmitJob(grpc::ServerContext* context,
                                       const v1::SubmitJobRequest* request, v1::Job* response) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kSubmitter, caller);
  return Reply(manager_->Submit(*request, caller), response);
}

grpc::Status JobServiceImpl::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                                    v1::Job* response) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kSubmitter, caller);
  return Reply(manager_->GetJob(request->job_id(), caller), response);
}

grpc::Status JobServiceImpl::ListJobs(grpc::ServerContext* context,
                                      const v1::ListJobsRequest* request,
                                      v1::ListJobsResponse* response) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kSubmitter, caller);
  return Reply(manager_->ListJobs(*request, caller), response);
}

grpc::Status JobServiceImpl::CancelJob(grpc::ServerContext* context,
                                       const v1::CancelJobRequest* request, v1::Job* response) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kSubmitter, caller);
  return Reply(manager_->CancelJob(request->job_id(), request->reason(), caller), response);
}

grpc::Status JobServiceImpl::WatchJob(grpc::ServerContext* context,
                                      const v1::WatchJobRequest* request,
                                      grpc::ServerWriter<v1::JobEvent>* writer) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kSubmitter, caller);
  CLUEDROP_LIMIT(limits_, watch_streams, "WatchJob streams");
  StreamStop stop(context, limits_->max_stream_age);
  return stop.Finish(
      manager_->WatchJob(
          request->job_id(), request->after_sequence(),
          [writer](const v1::JobEvent& event) { return writer->Write(event); }, stop.Fn(), caller),
      *limits_);
}

// ---------------------------------------------------------------- WorkService

grpc::Status WorkServiceImpl::RegisterWorker(grpc::ServerContext* context,
                                             const v1::RegisterWorkerRequest* request,
                                             v1::RegisterWorkerResponse* response) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kScorer, caller);
  return Reply(manager_->RegisterWorker(*request, caller), response);
}

grpc::Status WorkServiceImpl::Heartbeat(grpc::ServerContext* context,
                                        const v1::HeartbeatRequest* request,
                                        v1::HeartbeatResponse* response) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kScorer, caller);
  return Reply(manager_->Heartbeat(*request, caller), response);
}

grpc::Status WorkServiceImpl::LeaseShard(grpc::ServerContext* context,
                                         const v1::LeaseShardRequest* request,
                                         v1::LeaseShardResponse* response) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kScorer, caller);
  CLUEDROP_LIMIT(limits_, long_polls, "long polls (LeaseShard, JoinTraining)");
  return Reply(manager_->LeaseShard(*request, Cancelled(context), caller), response);
}

grpc::Status WorkServiceImpl::CompleteShard(grpc::ServerContext* context,
                                            grpc::ServerReader<v1::CompleteShardRequest>* reader,
                                            v1::CompleteShardResponse* response) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kScorer, caller);
  v1::CompleteShardRequest message;
  if (!reader->Read(&message) || !message.has_header()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "header: the first CompleteShard message must be the header");
  }
  const v1::CompleteShardHeader header = message.header();
  // Owner, lease and count are checked before any document is read, so a
  // stream for a lease that does not exist is refused at its first message.
  if (absl::Status s = manager_->CheckCompletionHeader(header, caller); !s.ok()) {
    return ToGrpcStatus(s);
  }
  std::vector<v1::ScoredDocument> documents;
  documents.reserve(std::min<size_t>(header.document_count(), kMaxReserveDocuments));
  while (reader->Read(&message)) {
    if (!message.has_document()) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("documents[", documents.size(), "]: expected a document after the header"));
    }
    if (documents.size() >= header.document_count()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("header.document_count: more than ", header.document_count(),
                                       " documents sent"));
    }
    documents.push_back(std::move(*message.mutable_document()));
  }
  return Reply(manager_->CompleteShard(header, std::move(documents), caller), response);
}

grpc::Status WorkServiceImpl::FailShard(grpc::ServerContext* context,
                                        const v1::FailShardRequest* request,
                                        v1::FailShardResponse*) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kScorer, caller);
  return ToGrpcStatus(manager_->FailShard(*request, caller));
}

// --------------------------------------------------------------- TrainService

grpc::Status TrainServiceImpl::JoinTraining(grpc::ServerContext* context,
                                            const v1::JoinTrainingRequest* request,
                                            v1::JoinTrainingResponse* response) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kTrainer, caller);
  CLUEDROP_LIMIT(limits_, long_polls, "long polls (LeaseShard, JoinTraining)");
  return Reply(manager_->JoinTraining(*request, Cancelled(context), caller), response);
}

grpc::Status TrainServiceImpl::StreamShards(grpc::ServerContext* context,
                                            const v1::StreamShardsRequest* request,
                                            grpc::ServerWriter<v1::ScoredShardChunk>* writer) {
  // Trainers stream their rank's shards; the job's submitter reads its
  // results (`cluedrop results`) through the same call.
  Caller caller;
  {
    auth::Identity who;
    if (grpc::Status s = auth_->Authenticate(*context, &who); !s.ok()) return s;
    if (!who.roles.Has(auth::Role::kSubmitter) && !who.roles.Has(auth::Role::kAdmin)) {
      if (grpc::Status s = auth_->RequireRole(who, auth::Role::kTrainer); !s.ok()) return s;
    }
    caller = Authenticator::ToCaller(who);
  }
  CLUEDROP_LIMIT(limits_, shard_streams, "StreamShards streams");
  // Write() blocks while the client's HTTP/2 window is full: that is the
  // stream's flow control.
  StreamStop stop(context, limits_->max_stream_age);
  return stop.Finish(
      manager_->StreamShards(
          *request, [writer](const v1::ScoredShardChunk& chunk) { return writer->Write(chunk); },
          stop.Fn(), caller),
      *limits_);
}

grpc::Status TrainServiceImpl::ReportProgress(grpc::ServerContext* context,
                                              const v1::ReportProgressRequest* request,
                                              v1::ReportProgressResponse* response) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kTrainer, caller);
  return Reply(manager_->ReportProgress(*request, caller), response);
}

grpc::Status TrainServiceImpl::ReportEvaluation(grpc::ServerContext* context,
                                                const v1::ReportEvaluationRequest* request,
                                                v1::ReportEvaluationResponse*) {
  CLUEDROP_AUTHORIZE(context, auth::Role::kTrainer, caller);
  return ToGrpcStatus(manager_->ReportEvaluation(*request, caller));
}

#undef CLUEDROP_AUTHORIZE
#undef CLUEDROP_LIMIT

}  // namespace cluedrop::coordinator
