#include "runtime/daemon_server.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "runtime/build_info.h"
#include "runtime/request_parse_interceptor.h"
#include "runtime/rpc_metrics_interceptor.h"
#include "runtime/tls.h"

namespace cluedrop {
namespace {

std::string HostOf(const std::string& address) {
  size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

cluedrop::v1::DaemonInfo InitialInfo(const std::string& component) {
  cluedrop::v1::DaemonInfo info;
  info.set_component(component);
  info.set_version(std::string(BuildVersion()));
  info.set_git_commit(std::string(BuildGitCommit()));
  *info.mutable_start_time() =
      google::protobuf::util::TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(absl::Now()));
  return info;
}

}  // namespace

DaemonServer::DaemonServer(std::string component, ServerOptions options,
                           std::unique_ptr<ProcessMetrics> metrics)
    : component_(std::move(component)),
      options_(std::move(options)),
      metrics_(std::move(metrics)),
      info_service_(InitialInfo(component_)) {}

DaemonServer::~DaemonServer() { Stop(); }

void DaemonServer::Stop() {
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    server_.reset();
  }
}

absl::StatusOr<std::unique_ptr<DaemonServer>> DaemonServer::Create(std::string component,
                                                                   ServerOptions options) {
  absl::StatusOr<std::unique_ptr<ProcessMetrics>> metrics =
      ProcessMetrics::Start(component, options.metrics_address);
  if (!metrics.ok()) return metrics.status();
  return std::unique_ptr<DaemonServer>(
      new DaemonServer(std::move(component), std::move(options), std::move(*metrics)));
}

void DaemonServer::AddService(grpc::Service* service, std::string health_name, bool ready,
                              std::string detail) {
  info_service_.SetCapability(health_name, ready, detail);
  services_.push_back({service, std::move(health_name), ready});
}

void DaemonServer::AddCapability(std::string name, bool ready, std::string detail, bool in_health) {
  info_service_.SetCapability(name, ready, detail);
  if (in_health) services_.push_back({nullptr, std::move(name), ready});
}

absl::Status DaemonServer::Start() {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(options_.tls, options_.tls_refresh_s);
  if (!credentials.ok()) return credentials.status();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.grpc_address, *credentials, &grpc_port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes));
  // Clients ping every 30 s even when idle; accept that instead of GOAWAY.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Without this gRPC sets SO_REUSEPORT and a second daemon would silently
  // share the port instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&info_service_);
  for (const RegisteredService& registered : services_) {
    if (registered.service != nullptr) builder.RegisterService(registered.service);
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<RequestParseInterceptorFactory>());
  creators.push_back(std::make_unique<RpcMetricsInterceptorFactory>(metrics_.get()));
  builder.experimental().SetInterceptorCreators(std::move(creators));

  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot serve gRPC on ", options_.grpc_address, " (address in use?)"));
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus(cluedrop::v1::DaemonService::service_full_name(), true);
  for (const RegisteredService& registered : services_) {
    health->SetServingStatus(registered.health_name, registered.ready);
  }
  const std::string host = HostOf(options_.grpc_address);
  info_service_.SetAddresses(
      absl::StrCat(host, ":", grpc_port_),
      metrics_port() == 0 ? ""
                          : absl::StrCat(HostOf(options_.metrics_address), ":", metrics_port()));
  std::cerr << "cluedrop-" << component_ << ": serving gRPC on " << host << ":" << grpc_port_;
  if (metrics_port() != 0) std::cerr << ", metrics on :" << metrics_port() << "/metrics";
  std::cerr << std::endl;
  return WriteReadyFile();
}

void DaemonServer::SetCapability(const std::string& name, bool ready, const std::string& detail) {
  info_service_.SetCapability(name, ready, detail);
  if (server_ == nullptr) return;
  for (const RegisteredService& registered : services_) {
    if (registered.health_name == name) {
      server_->GetHealthCheckService()->SetServingStatus(name, ready);
    }
  }
}

absl::Status DaemonServer::WriteReadyFile() const {
  if (options_.ready_file.empty()) return absl::OkStatus();
  const std::string tmp = absl::StrCat(options_.ready_file, ".tmp.", getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "{\"component\": \"" << component_ << "\", \"pid\": " << getpid()
        << ", \"grpc_port\": " << grpc_port_ << ", \"metrics_port\": " << metrics_port() << "}\n";
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ready file ", tmp));
  }
  if (std::rename(tmp.c_str(), options_.ready_file.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", options_.ready_file));
  }
  return absl::OkStatus();
}

absl::Status DaemonServer::RunUntilShutdown(const ShutdownController& shutdown) {
  if (server_ == nullptr) return absl::FailedPreconditionError("RunUntilShutdown before Start");
  shutdown.Wait();
  std::cerr << "cluedrop-" << component_ << ": shutting down (" << shutdown.reason()
            << "): NOT_SERVING, draining " << options_.shutdown_drain_ms << " ms" << std::endl;
  // Every status (overall and per service) becomes NOT_SERVING and stays so.
  server_->GetHealthCheckService()->Shutdown();
  absl::SleepFor(absl::Milliseconds(options_.shutdown_drain_ms));
  server_->Shutdown(
      absl::ToChronoTime(absl::Now() + absl::Milliseconds(options_.shutdown_grace_ms)));
  server_->Wait();
  server_.reset();
  std::cerr << "cluedrop-" << component_ << ": stopped" << std::endl;
  return absl::OkStatus();
}

}  // namespace cluedrop
