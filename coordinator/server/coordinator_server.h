// The coordinator wired together: a JobManager over a data directory, its
// Prometheus metrics, and JobService / WorkService / TrainService on a
// DaemonServer (health, reflection, DaemonService, RPC metrics, TLS). The one
// place this wiring exists: cluedrop-coordinator (coordinator_daemon.cc), the
// in-process MiniCluster of the tests and bench/coordinator_bench all start
// a coordinator through it.
//
// Example:
//   CoordinatorServerOptions options;
//   options.manager.data_dir = "/var/lib/cluedrop";
//   options.server.grpc_address = "127.0.0.1:0";
//   CLUEDROP_ASSIGN_OR_RETURN(auto coordinator, CoordinatorServer::Start(options));
//   ... coordinator->port() ...
//   coordinator.reset();  // ends blocking calls, stops serving, closes state
//
// Thread-safe after Start(); destruction must not race with other calls.
#ifndef CLUEDROP_COORDINATOR_SERVER_COORDINATOR_SERVER_H_
#define CLUEDROP_COORDINATOR_SERVER_COORDINATOR_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coordinator/job_manager.h"
#include "coordinator/server/authenticator.h"
#include "coordinator/server/services.h"
#include "runtime/daemon_server.h"
#include "runtime/server_options.h"

namespace cluedrop::coordinator {

class CoordinatorMetrics;
class Authenticator;
class JobServiceImpl;
class WorkServiceImpl;
class TrainServiceImpl;

struct CoordinatorServerOptions {
  // Where and how the JobManager keeps state (data_dir must be set).
  JobManagerOptions manager;
  // How callers prove who they are (docs/security.md). Nothing configured:
  // every call is refused UNAUTHENTICATED.
  AuthOptions auth;
  // Caps on calls that wait (watch streams, long polls, shard streams).
  ServiceLimitOptions limits;
  // gRPC / metrics addresses, TLS, ready file, shutdown timing.
  ServerOptions server;
};

class CoordinatorServer {
 public:
  // Opens the JobManager (recovering what the data directory holds), then
  // binds and starts serving (writing server.ready_file). Errors: those of
  // JobManager::Open and DaemonServer::Create/Start (UNAVAILABLE for a port
  // in use, INVALID_ARGUMENT for bad TLS files).
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(CoordinatorServerOptions options);
  // Shutdown(), then stops the server at once and closes the state.
  ~CoordinatorServer();

  // Wakes and ends every blocking call (long polls, watches, streams); later
  // ones return UNAVAILABLE. Idempotent.
  void Shutdown();
  // Blocks until `shutdown` is requested, ends the blocking calls, then
  // drains and stops the server (DaemonServer::RunUntilShutdown).
  absl::Status RunUntilShutdown(const ShutdownController& shutdown);

  JobManager& manager() { return *manager_; }
  DaemonServer& server() { return *server_; }
  int port() const { return server_->grpc_port(); }
  // "127.0.0.1:<port>".
  std::string loopback_address() const { return "127.0.0.1:" + std::to_string(port()); }
  // How long JobManager::Open (recovery included) took.
  double open_seconds() const { return open_seconds_; }

 private:
  CoordinatorServer();

  std::unique_ptr<DaemonServer> server_;
  std::unique_ptr<CoordinatorMetrics> metrics_;
  std::unique_ptr<JobManager> manager_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<ServiceLimits> limits_;
  std::unique_ptr<JobServiceImpl> jobs_;
  std::unique_ptr<WorkServiceImpl> work_;
  std::unique_ptr<TrainServiceImpl> train_;
  double open_seconds_ = 0;
};

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_SERVER_COORDINATOR_SERVER_H_
