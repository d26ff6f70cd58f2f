#include "workers/worker_daemon.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/daemon_server.h"
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
                             ShutdownController* shutdown) {
  if (absl::Status status = ValidateDevice(options.device); !status.ok()) return status;
  absl::StatusOr<std::unique_ptr<DaemonServer>> server =
      DaemonServer::Create(role.component, options.server);
  if (!server.ok()) return server.status();

  const DeviceInventory devices = QueryDevices();
  const TorchInfo torch = QueryTorch();
  (*server)->AddCapability("devices", true, DescribeDevices(devices));
  (*server)->AddCapability("libtorch", true, DescribeTorch(torch));
  (*server)->AddCapability(absl::StrCat("cluedrop.", role.component), false, role.work_state,
                           /*in_health=*/true);
  if (absl::Status status = (*server)->Start(); !status.ok()) return status;
  return (*server)->RunUntilShutdown(*shutdown);
}

}  // namespace cluedrop
