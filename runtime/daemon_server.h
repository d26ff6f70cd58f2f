// The server every cluedrop daemon runs: gRPC with grpc.health.v1 and server
// reflection, the DaemonService, a Prometheus /metrics endpoint, RPC metrics,
// optional TLS, and graceful shutdown (NOT_SERVING, drain, stop).
//
// A service whose logic is not built yet is registered with ready=false: its
// health status is NOT_SERVING and DaemonService says why, so nothing
// pretends. The overall health ("") is SERVING while the process runs.
//
// Example:
//   absl::StatusOr<std::unique_ptr<DaemonServer>> server =
//       DaemonServer::Create("coordinator", options.server);
//   (*server)->AddService(&job_service, JobService::service_full_name(), true, "");
//   if (absl::Status s = (*server)->Start(); !s.ok()) return s;
//   return (*server)->RunUntilShutdown(shutdown);
//
// Add* must be called before Start(); SetCapability and the accessors are
// thread-safe after it.
#ifndef CLUEDROP_RUNTIME_DAEMON_SERVER_H_
#define CLUEDROP_RUNTIME_DAEMON_SERVER_H_

#include <grpcpp/server.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/daemon_info_service.h"
#include "runtime/metrics.h"
#include "runtime/server_options.h"
#include "runtime/shutdown.h"

namespace cluedrop {

class DaemonServer {
 public:
  // Starts the metrics endpoint; UNAVAILABLE when it cannot bind.
  static absl::StatusOr<std::unique_ptr<DaemonServer>> Create(std::string component,
                                                              ServerOptions options);
  ~DaemonServer();

  // Registers `service` (not owned; must outlive this server) under the
  // health name `health_name` (its full proto service name).
  void AddService(grpc::Service* service, std::string health_name, bool ready, std::string detail);
  // Declares a capability that is not a gRPC service (e.g. "devices"). With
  // `in_health`, `name` also gets a grpc.health.v1 entry that follows `ready`.
  void AddCapability(std::string name, bool ready, std::string detail, bool in_health = false);

  // Binds and starts serving; writes the ready file. UNAVAILABLE when the
  // address cannot be bound, INVALID_ARGUMENT for bad TLS settings.
  absl::Status Start();

  // Updates a capability (and the health status of a service of that name).
  void SetCapability(const std::string& name, bool ready, const std::string& detail);

  // Blocks until `shutdown` is requested, then: every health status becomes
  // NOT_SERVING, waits shutdown_drain_ms, stops accepting RPCs, gives
  // in-flight ones shutdown_grace_ms, and returns OK.
  absl::Status RunUntilShutdown(const ShutdownController& shutdown);

  // Stops serving at once (in-flight RPCs are cancelled) and waits for them
  // to end. The metrics endpoint stays up until destruction. Idempotent;
  // the destructor calls it.
  void Stop();

  ProcessMetrics& metrics() { return *metrics_; }
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_->port(); }
  const DaemonInfoService& info() const { return info_service_; }

 private:
  DaemonServer(std::string component, ServerOptions options,
               std::unique_ptr<ProcessMetrics> metrics);
  absl::Status WriteReadyFile() const;

  struct RegisteredService {
    grpc::Service* service;  // null for a health-only capability
    std::string health_name;
    bool ready;
  };

  std::string component_;
  ServerOptions options_;
  std::unique_ptr<ProcessMetrics> metrics_;
  DaemonInfoService info_service_;
  std::vector<RegisteredService> services_;
  std::unique_ptr<grpc::Server> server_;
  int grpc_port_ = 0;
};

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_DAEMON_SERVER_H_
