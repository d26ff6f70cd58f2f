// The coordinator's three gRPC services, thin adapters over JobManager:
//   JobService   (users, the CLI): role submitter (admin sees every job)
//   WorkService  (scorer workers): role scorer
//   TrainService (trainer workers): role trainer; StreamShards also serves
//                the job's submitter (`cluedrop results`)
// Every call is authorized first (Authenticator, docs/security.md), then
// runs as that identity (JobManager's Caller). Each converts absl::Status
// to grpc::Status at the edge (runtime/grpc_status.h) and maps "the client
// went away" to the blocking calls' stop function.
//
// Example:
//   Authenticator authenticator(std::move(auth_options), &metrics);
//   ServiceLimits limits(ServiceLimitOptions(), &metrics);
//   JobServiceImpl jobs(manager.get(), &authenticator, &limits);
//   server->AddService(&jobs, v1::JobService::service_full_name(), true, "");
//
// Thread-safe; the JobManager and Authenticator must outlive the services.
#ifndef CLUEDROP_COORDINATOR_SERVER_SERVICES_H_
#define CLUEDROP_COORDINATOR_SERVER_SERVICES_H_

#include <string>

#include "absl/time/time.h"
#include "cluedrop/v1/job_service.grpc.pb.h"
#include "cluedrop/v1/train_service.grpc.pb.h"
#include "cluedrop/v1/work_service.grpc.pb.h"
#include "coordinator/job_manager.h"
#include "coordinator/server/authenticator.h"
#include "coordinator/server/concurrency_limit.h"

namespace cluedrop::coordinator {

// Caps on the calls that hold a server thread while they wait (flags of the
// same names; 0: no cap). A call over a cap is RESOURCE_EXHAUSTED naming the
// flag, and counted in cluedrop_coordinator_limit_hits_total{limit}.
struct ServiceLimitOptions {
  uint32_t max_watch_streams = 1024;
  uint32_t max_long_polls = 512;  // LeaseShard and JoinTraining waits
  uint32_t max_shard_streams = 256;
  // WatchJob and StreamShards streams end after this long (0: never) with
  // RESOURCE_EXHAUSTED naming --max_stream_seconds; clients resume from their
  // last event (after_sequence) or shard (cursor), as after any broken stream.
  // Bounds how long one connection can hold a server thread and its memory.
  uint32_t max_stream_seconds = 3600;
};
struct ServiceLimits {
  ServiceLimits(const ServiceLimitOptions& o, CoordinatorMetrics* m)
      : watch_streams("max_watch_streams", o.max_watch_streams),
        long_polls("max_long_polls", o.max_long_polls),
        shard_streams("max_shard_streams", o.max_shard_streams),
        max_stream_age(o.max_stream_seconds == 0 ? absl::InfiniteDuration()
                                                 : absl::Seconds(o.max_stream_seconds)),
        max_stream_seconds(o.max_stream_seconds),
        metrics(m) {}
  ConcurrencyLimit watch_streams;
  ConcurrencyLimit long_polls;
  ConcurrencyLimit shard_streams;
  absl::Duration max_stream_age;
  uint32_t max_stream_seconds;
  CoordinatorMetrics* metrics;
};

class JobServiceImpl final : public v1::JobService::Service {
 public:
  JobServiceImpl(JobManager* manager, const Authenticator* auth, ServiceLimits* limits)
      : manager_(manager), auth_(auth), limits_(limits) {}

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
  const Authenticator* auth_;
  ServiceLimits* limits_;
};

class WorkServiceImpl final : public v1::WorkService::Service {
 public:
  WorkServiceImpl(JobManager* manager, const Authenticator* auth, ServiceLimits* limits)
      : manager_(manager), auth_(auth), limits_(limits) {}

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
  const Authenticator* auth_;
  ServiceLimits* limits_;
};

class TrainServiceImpl final : public v1::TrainService::Service {
 public:
  TrainServiceImpl(JobManager* manager, const Authenticator* auth, ServiceLimits* limits)
      : manager_(manager), auth_(auth), limits_(limits) {}

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
  const Authenticator* auth_;
  ServiceLimits* limits_;
};

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_SERVER_SERVICES_H_
