#include "coordinator/server/coordinator_server.h"

#include <chrono>
#include <iostream>
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
  c->auth_ = std::make_unique<Authenticator>(std::move(options.auth), c->metrics_.get());
  const std::string auth = c->auth_->Describe();
  c->limits_ = std::make_unique<ServiceLimits>(options.limits, c->metrics_.get());
  c->jobs_ = std::make_unique<JobServiceImpl>(c->manager_.get(), c->auth_.get(), c->limits_.get());
  c->work_ = std::make_unique<WorkServiceImpl>(c->manager_.get(), c->auth_.get(), c->limits_.get());
  c->train_ =
      std::make_unique<TrainServiceImpl>(c->manager_.get(), c->auth_.get(), c->limits_.get());
  c->server_->AddService(c->jobs_.get(), v1::JobService::service_full_name(), true,
                         "role submitter");
  c->server_->AddService(c->work_.get(), v1::WorkService::service_full_name(), true, "role scorer");
  c->server_->AddService(c->train_.get(), v1::TrainService::service_full_name(), true,
                         "role trainer");
  c->server_->AddCapability("auth", c->auth_->configured(), auth);
  std::cerr << "cluedrop-coordinator: " << auth << std::endl;
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
  limits_.reset();
  auth_.reset();
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
