#include "workers/common/worker_daemon.h"

#include <unistd.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "auth/secret_file.h"
#include "runtime/channel.h"
#include "runtime/daemon_server.h"
#include "workers/model/device_inventory.h"
#include "workers/model/torch_info.h"

namespace cluedrop {

absl::Status ValidateDevice(const std::string& device) {
  if (device == "auto" || device == "cpu" || device == "cuda") return absl::OkStatus();
  int index = 0;
  if (absl::StartsWith(device, "cuda:") && absl::SimpleAtoi(device.substr(5), &index) &&
      index >= 0) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--device: expected auto, cpu, cuda or cuda:N, got '", device, "'"));
}

void RegisterWorkerFlags(const WorkerRole& role, FlagSet* flags, WorkerOptions* options) {
  options->server.grpc_address = absl::StrCat("0.0.0.0:", role.default_grpc_port);
  options->server.metrics_address = absl::StrCat("0.0.0.0:", role.default_metrics_port);
  RegisterServerFlags(flags, &options->server);
  flags->Add("coordinator", &options->coordinator, "coordinator host:port")
      .Env("CLUEDROP_COORDINATOR");
  flags->Add("device", &options->device, "compute device: auto, cpu, cuda or cuda:N");
  flags->AddUsageNote(absl::StrCat("Status: ", role.work_state));
}

absl::Status RunWorkerDaemon(const WorkerRole& role, const WorkerOptions& options,
                             ShutdownController* shutdown, const WorkLoop& work_loop) {
  if (absl::Status status = ValidateDevice(options.device); !status.ok()) return status;
  absl::StatusOr<std::unique_ptr<DaemonServer>> server =
      DaemonServer::Create(role.component, options.server);
  if (!server.ok()) return server.status();

  const DeviceInventory devices = QueryDevices();
  const TorchInfo torch = QueryTorch();
  (*server)->AddCapability("devices", true, DescribeDevices(devices));
  (*server)->AddCapability("libtorch", true, DescribeTorch(torch));
  const std::string role_name = absl::StrCat("cluedrop.", role.component);
  (*server)->AddCapability(role_name, false, role.work_state, /*in_health=*/true);
  if (absl::Status status = (*server)->Start(); !status.ok()) return status;
  if (!work_loop) return (*server)->RunUntilShutdown(*shutdown);

  // The loop reports until shutdown begins, never while the server is torn
  // down: the server stops on its own controller, requested only after
  // reporting is switched off.
  absl::Mutex report_mu;
  bool reporting = true;
  WorkLoopContext context;
  context.registry = &(*server)->metrics().registry();
  context.report = [&](bool ready, const std::string& detail) {
    absl::MutexLock lock(&report_mu);
    if (reporting) (*server)->SetCapability(role_name, ready, detail);
  };
  absl::Status work_status;
  std::thread worker([&] {
    work_status = work_loop(context, *shutdown);
    if (!work_status.ok()) {
      shutdown->RequestShutdown(absl::StrCat(role.component, ": ", work_status.ToString()));
    }
  });
  shutdown->Wait();
  {
    absl::MutexLock lock(&report_mu);
    reporting = false;
  }
  ShutdownController server_shutdown;
  server_shutdown.RequestShutdown(shutdown->reason());
  absl::Status serve_status = (*server)->RunUntilShutdown(server_shutdown);
  worker.join();
  return work_status.ok() ? serve_status : work_status;
}

void RegisterCoordinatorClientFlags(FlagSet* flags, CoordinatorClientOptions* options) {
  flags->Add("name", &options->name, "worker name for the coordinator (default <hostname>-<pid>)")
      .Env("CLUEDROP_WORKER_NAME");
  flags->Add("token", &options->token, "bearer token sent to the coordinator")
      .Env("CLUEDROP_TOKEN");
  flags
      ->Add("token_file", &options->token_file,
            "file holding the bearer token (chmod 600); instead of --token")
      .Env("CLUEDROP_TOKEN_FILE");
  flags->Add("coordinator_tls", &options->tls, "connect to the coordinator with TLS");
  flags->Add("coordinator_tls_ca_file", &options->tls_files.ca_file,
             "PEM roots for --coordinator_tls (default: system roots)");
  flags->Add("coordinator_tls_cert_file", &options->tls_files.cert_file,
             "PEM client certificate for mutual TLS");
  flags->Add("coordinator_tls_key_file", &options->tls_files.key_file,
             "PEM key of --coordinator_tls_cert_file");
}

absl::Status LoadClientToken(CoordinatorClientOptions* options) {
  if (options->token_file.empty()) return absl::OkStatus();
  if (!options->token.empty()) {
    return absl::InvalidArgumentError(
        "give --token or --token_file (CLUEDROP_TOKEN or CLUEDROP_TOKEN_FILE), not both");
  }
  absl::StatusOr<std::string> token = auth::ReadTokenFile(options->token_file, "--token_file");
  if (!token.ok()) return token.status();
  options->token = std::move(*token);
  return absl::OkStatus();
}

std::string WorkerName(const CoordinatorClientOptions& options, const std::string& component) {
  if (!options.name.empty()) return options.name;
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == 0) {
    return absl::StrCat(component, "-", getpid());
  }
  return absl::StrCat(host, "-", getpid());
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeCoordinatorChannel(
    const WorkerOptions& worker, const CoordinatorClientOptions& client) {
  ChannelOptions channel;
  channel.target = worker.coordinator;
  channel.use_tls = client.tls;
  channel.tls = client.tls_files;
  channel.tls_refresh_s = worker.server.tls_refresh_s;
  // The scorer retries whole CompleteShard streams itself (send_attempts).
  channel.unretried_methods = {"cluedrop.v1.WorkService/CompleteShard"};
  return MakeChannel(channel);
}

}  // namespace cluedrop
