// The coordinator's three gRPC services, thin adapters over JobManager:
//   JobService   (users, the CLI): bearer-token protected when a token is set
//   WorkService  (scorer workers)
//   TrainService (trainer workers)
// Each converts absl::Status to grpc::Status at the edge (runtime/grpc_status.h)
// and maps "the client went away" to the blocking calls' stop function.
//
// Example:
//   JobServiceImpl jobs(manager.get(), options.job_token);
//   server->AddService(&jobs, v1::JobService::service_full_name(), true, "");
//
// Thread-safe; the JobManager must outlive the services.
#ifndef CLUEDROP_COORDINATOR_SERVER_SERVICES_H_
#define CLUEDROP_COORDINATOR_SERVER_SERVICES_H_

#include <string>

#include "cluedrop/v1/job_service.grpc.pb.h"
#include "cluedrop/v1/train_service.grpc.pb.h"
#include "cluedrop/v1/work_service.grpc.pb.h"
#include "coordinator/job_manager.h"

namespace cluedrop::coordinator {

// OK when `token` is empty or the call carries "authorization: Bearer
// <token>"; UNAUTHENTICATED without credentials, PERMISSION_DENIED with
// wrong ones. Constant-time comparison.
grpc::Status CheckBearerToken(const grpc::ServerContext& context, const std::string& token);

class JobServiceImpl final : public v1::JobService::Service {
 public:
  JobServiceImpl(JobManager* manager, std::string token)
      : manager_(manager), token_(std::move(token)) {}

  grpc::Status SubmitJob(grpc::ServerContext* context, const v1::SubmitJobRequest* request,
                         v1::Job* response) override;
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::Job* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override;
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                         v1::Job* response) override;
  grpc::Status WatchJob(grpc::ServerContext* context, const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::JobEvent>* writer) override;

 private:
  JobManager* manager_;
  std::string token_;
};

class WorkServiceImpl final : public v1::WorkService::Service {
 public:
  explicit WorkServiceImpl(JobManager* manager) : manager_(manager) {}

  grpc::Status RegisterWorker(grpc::ServerContext* context,
                              const v1::RegisterWorkerRequest* request,
                              v1::RegisterWorkerResponse* response) override;
  grpc::Status Heartbeat(grpc::ServerContext* context, const v1::HeartbeatRequest* request,
                         v1::HeartbeatResponse* response) override;
  grpc::Status LeaseShard(grpc::ServerContext* context, const v1::LeaseShardRequest* request,
                          v1::LeaseShardResponse* response) override;
  grpc::Status CompleteShard(grpc::ServerContext* context,
                             grpc::ServerReader<v1::CompleteShardRequest>* reader,
                             v1::CompleteShardResponse* response) override;
  grpc::Status FailShard(grpc::ServerContext* context, const v1::FailShardRequest* request,
                         v1::FailShardResponse* response) override;

 private:
  JobManager* manager_;
};

class TrainServiceImpl final : public v1::TrainService::Service {
 public:
  explicit TrainServiceImpl(JobManager* manager) : manager_(manager) {}

  grpc::Status JoinTraining(grpc::ServerContext* context, const v1::JoinTrainingRequest* request,
                            v1::JoinTrainingResponse* response) override;
  grpc::Status StreamShards(grpc::ServerContext* context, const v1::StreamShardsRequest* request,
                            grpc::ServerWriter<v1::ScoredShardChunk>* writer) override;
  grpc::Status ReportProgress(grpc::ServerContext* context,
                              const v1::ReportProgressRequest* request,
                              v1::ReportProgressResponse* response) override;
  grpc::Status ReportEvaluation(grpc::ServerContext* context,
                                const v1::ReportEvaluationRequest* request,
                                v1::ReportEvaluationResponse* response) override;

 private:
  JobManager* manager_;
};

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_SERVER_SERVICES_H_
