// Test helper: a real coordinator in this process — a JobManager over a
// fresh temporary data directory and its three gRPC services on a loopback
// port — for tests of the coordinator's clients (CLI, scorer loop, trainer
// protocol) and of the services themselves. Not for production code.
//
// Example:
//   InProcessCoordinator coordinator;
//   ASSERT_TRUE(coordinator.Start().ok());
//   auto stub = v1::WorkService::NewStub(coordinator.channel());
//   coordinator.manager().Submit(request);
//
// Stop() (or the destructor) ends blocking calls, stops the server and
// removes the data directory.
#ifndef CLUEDROP_COORDINATOR_IN_PROCESS_COORDINATOR_H_
#define CLUEDROP_COORDINATOR_IN_PROCESS_COORDINATOR_H_

#include <grpcpp/channel.h>
#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "coordinator/job_manager.h"
#include "coordinator/services.h"

namespace cluedrop::coordinator {

class InProcessCoordinator {
 public:
  InProcessCoordinator() = default;
  ~InProcessCoordinator() { Stop(); }

  // Creates the temp dir (options.data_dir is replaced), opens the manager
  // and serves JobService (requiring `job_token` when not empty),
  // WorkService and TrainService on 127.0.0.1:0.
  absl::Status Start(JobManagerOptions options = {}, std::string job_token = "");
  void Stop();

  JobManager& manager() { return *manager_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // A scratch directory next to the data directory, removed with it.
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<JobManager> manager_;
  std::unique_ptr<JobServiceImpl> jobs_;
  std::unique_ptr<WorkServiceImpl> work_;
  std::unique_ptr<TrainServiceImpl> train_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_IN_PROCESS_COORDINATOR_H_
