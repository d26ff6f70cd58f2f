#include "coordinator/server/coordinator_server.h"

#include <chrono>
#include <thread>

#include "base/absl_status.h"
#include "coordinator/server/prometheus_coordinator_metrics.h"
#include "coordinator/server/services.h"

namespace cluedrop::coordinator {

CoordinatorServer::CoordinatorServer() = default;

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    CoordinatorServerOptions options) {
  std::unique_ptr<CoordinatorServer> c(new CoordinatorServer());
  CLUEDROP_ASSIGN_OR_RETURN(c->server_, DaemonServer::Create("coordinator", options.server));
  c->metrics_ = std::make_unique<PrometheusCoordinatorMetrics>(c->server_->metrics().registry());
  const auto start = std::chrono::steady_clock::now();
  CLUEDROP_ASSIGN_OR_RETURN(c->manager_, JobManager::Open(options.manager, c->metrics_.get()));
  c->open_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const bool token = !options.job_token.empty();
  c->jobs_ = std::make_unique<JobServiceImpl>(c->manager_.get(), std::move(options.job_token));
  c->work_ = std::make_unique<WorkServiceImpl>(c->manager_.get());
  c->train_ = std::make_unique<TrainServiceImpl>(c->manager_.get());
  c->server_->AddService(c->jobs_.get(), v1::JobService::service_full_name(), true,
                         token ? "bearer token required" : "no bearer token required");
  c->server_->AddService(c->work_.get(), v1::WorkService::service_full_name(), true, "");
  c->server_->AddService(c->train_.get(), v1::TrainService::service_full_name(), true, "");
  c->server_->AddCapability("data_dir", true, options.manager.data_dir);
  CLUEDROP_RETURN_IF_ABSL_ERROR(c->server_->Start());
  return c;
}

CoordinatorServer::~CoordinatorServer() {
  Shutdown();
  // The server stops (in-flight RPCs end: every blocking call has been
  // woken) before the services and the manager they call go away; the
  // metrics live in the server's registry, so they go after the manager.
  if (server_ != nullptr) server_->Stop();
  train_.reset();
  work_.reset();
  jobs_.reset();
  manager_.reset();
  metrics_.reset();
  server_.reset();
}

void CoordinatorServer::Shutdown() {
  if (manager_ != nullptr) manager_->Shutdown();
}

absl::Status CoordinatorServer::RunUntilShutdown(const ShutdownController& shutdown) {
  // Blocking calls (long polls, watches, streams) end before the server
  // waits for in-flight RPCs.
  std::thread stopper([&] {
    shutdown.Wait();
    Shutdown();
  });
  absl::Status status = server_->RunUntilShutdown(shutdown);
  stopper.join();
  return status;
}

}  // namespace cluedrop::coordinator
