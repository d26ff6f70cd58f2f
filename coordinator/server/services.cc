#include "coordinator/server/services.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "runtime/grpc_status.h"

namespace cluedrop::coordinator {
namespace {

StopFn Cancelled(grpc::ServerContext* context) {
  return [context] { return context->IsCancelled(); };
}

template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;  // the length is not secret
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

grpc::Status CheckBearerToken(const grpc::ServerContext& context, const std::string& token) {
  if (token.empty()) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "JobService requires \"authorization: Bearer <token>\" "
                        "(cluedrop --token or CLUEDROP_TOKEN)");
  }
  const absl::string_view value(it->second.data(), it->second.size());
  constexpr absl::string_view kBearer = "Bearer ";
  if (!absl::StartsWith(value, kBearer)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "authorization: expected a Bearer token");
  }
  if (!ConstantTimeEquals(value.substr(kBearer.size()), token)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "authorization: wrong token");
  }
  return grpc::Status::OK;
}

// ----------------------------------------------------------------- JobService

grpc::Status JobServiceImpl::SubmitJob(grpc::ServerContext* context,
                                       const v1::SubmitJobRequest* request, v1::Job* response) {
  if (grpc::Status s = CheckBearerToken(*context, token_); !s.ok()) return s;
  return Reply(manager_->Submit(*request), response);
}

grpc::Status JobServiceImpl::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                                    v1::Job* response) {
  if (grpc::Status s = CheckBearerToken(*context, token_); !s.ok()) return s;
  return Reply(manager_->GetJob(request->job_id()), response);
}

grpc::Status JobServiceImpl::ListJobs(grpc::ServerContext* context,
                                      const v1::ListJobsRequest* request,
                                      v1::ListJobsResponse* response) {
  if (grpc::Status s = CheckBearerToken(*context, token_); !s.ok()) return s;
  return Reply(manager_->ListJobs(*request), response);
}

grpc::Status JobServiceImpl::CancelJob(grpc::ServerContext* context,
                                       const v1::CancelJobRequest* request, v1::Job* response) {
  if (grpc::Status s = CheckBearerToken(*context, token_); !s.ok()) return s;
  return Reply(manager_->CancelJob(request->job_id(), request->reason()), response);
}

grpc::Status JobServiceImpl::WatchJob(grpc::ServerContext* context,
                                      const v1::WatchJobRequest* request,
                                      grpc::ServerWriter<v1::JobEvent>* writer) {
  if (grpc::Status s = CheckBearerToken(*context, token_); !s.ok()) return s;
  return ToGrpcStatus(manager_->WatchJob(
      request->job_id(), request->after_sequence(),
      [writer](const v1::JobEvent& event) { return writer->Write(event); }, Cancelled(context)));
}

// ---------------------------------------------------------------- WorkService

grpc::Status WorkServiceImpl::RegisterWorker(grpc::ServerContext*,
                                             const v1::RegisterWorkerRequest* request,
                                             v1::RegisterWorkerResponse* response) {
  return Reply(manager_->RegisterWorker(*request), response);
}

grpc::Status WorkServiceImpl::Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest* request,
                                        v1::HeartbeatResponse* response) {
  return Reply(manager_->Heartbeat(*request), response);
}

grpc::Status WorkServiceImpl::LeaseShard(grpc::ServerContext* context,
                                         const v1::LeaseShardRequest* request,
                                         v1::LeaseShardResponse* response) {
  return Reply(manager_->LeaseShard(*request, Cancelled(context)), response);
}

grpc::Status WorkServiceImpl::CompleteShard(grpc::ServerContext*,
                                            grpc::ServerReader<v1::CompleteShardRequest>* reader,
                                            v1::CompleteShardResponse* response) {
  v1::CompleteShardRequest message;
  if (!reader->Read(&message) || !message.has_header()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "header: the first CompleteShard message must be the header");
  }
  const v1::CompleteShardHeader header = message.header();
  std::vector<v1::ScoredDocument> documents;
  documents.reserve(header.document_count());
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
  return Reply(manager_->CompleteShard(header, std::move(documents)), response);
}

grpc::Status WorkServiceImpl::FailShard(grpc::ServerContext*, const v1::FailShardRequest* request,
                                        v1::FailShardResponse*) {
  return ToGrpcStatus(manager_->FailShard(*request));
}

// --------------------------------------------------------------- TrainService

grpc::Status TrainServiceImpl::JoinTraining(grpc::ServerContext* context,
                                            const v1::JoinTrainingRequest* request,
                                            v1::JoinTrainingResponse* response) {
  return Reply(manager_->JoinTraining(*request, Cancelled(context)), response);
}

grpc::Status TrainServiceImpl::StreamShards(grpc::ServerContext* context,
                                            const v1::StreamShardsRequest* request,
                                            grpc::ServerWriter<v1::ScoredShardChunk>* writer) {
  // Write() blocks while the client's HTTP/2 window is full: that is the
  // stream's flow control.
  return ToGrpcStatus(manager_->StreamShards(
      *request, [writer](const v1::ScoredShardChunk& chunk) { return writer->Write(chunk); },
      Cancelled(context)));
}

grpc::Status TrainServiceImpl::ReportProgress(grpc::ServerContext*,
                                              const v1::ReportProgressRequest* request,
                                              v1::ReportProgressResponse* response) {
  return Reply(manager_->ReportProgress(*request), response);
}

grpc::Status TrainServiceImpl::ReportEvaluation(grpc::ServerContext*,
                                                const v1::ReportEvaluationRequest* request,
                                                v1::ReportEvaluationResponse*) {
  return ToGrpcStatus(manager_->ReportEvaluation(*request));
}

}  // namespace cluedrop::coordinator
