#include "workers/scorer/scorer_daemon.h"

#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cluedrop/v1/work_service.grpc.pb.h"
#include "runtime/build_info.h"
#include "runtime/channel.h"
#include "workers/model/device_inventory.h"
#include "workers/scorer/engine_shard_scorer.h"
#include "workers/scorer/scorer_worker.h"

namespace cluedrop::scorer {
namespace {

// The device this worker scores on, as WorkerCapabilities lists it, and its
// free memory (0 on the CPU).
void DescribeScoringDevice(const std::string& device, ScorerWorkerOptions* options) {
  const DeviceInventory inventory = QueryDevices();
  int index = -1;
  if (device == "cuda" || (device == "auto" && !inventory.gpus.empty())) {
    index = 0;
  } else if (absl::StartsWith(device, "cuda:")) {
    if (!absl::SimpleAtoi(device.substr(5), &index)) index = -1;
  }
  options->devices = {index < 0 ? "cpu" : absl::StrCat("cuda:", index)};
  for (const GpuDevice& gpu : inventory.gpus) {
    if (gpu.index == index) options->device_memory_bytes = gpu.free_memory_bytes;
  }
}

}  // namespace

WorkerRole ScorerRole() {
  return WorkerRole{
      .component = "scorer",
      .summary = "scores leased corpus shards with a large and a small reference model.",
      .work_state = "registering with the coordinator (--coordinator); SERVING once registered",
      .default_grpc_port = 50061,
      .default_metrics_port = 9465};
}

void RegisterScorerFlags(FlagSet* flags, ScorerDaemonOptions* options) {
  RegisterWorkerFlags(ScorerRole(), flags, &options->worker);
  RegisterCoordinatorClientFlags(flags, &options->client);
  flags->Add("lease_wait_ms", &options->lease_wait_ms,
             "how long one LeaseShard call waits for work, in ms");
  flags->Add("attention_kernel", &options->attention_kernel,
             "received attention: auto (for now: tiled), tiled, or fused (the fused CUDA kernel; "
             "not yet verified on a GPU)");
}

absl::Status RunScorerDaemon(const ScorerDaemonOptions& given, ShutdownController* shutdown) {
  ScorerDaemonOptions options = given;
  if (absl::Status status = LoadClientToken(&options.client); !status.ok()) return status;
  if (absl::Status status = ValidateDevice(options.worker.device); !status.ok()) return status;
  std::optional<AttentionKernel> kernel = ParseAttentionKernel(options.attention_kernel);
  if (!kernel) {
    return absl::InvalidArgumentError(AttentionKernelFlagError(options.attention_kernel));
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeCoordinatorChannel(options.worker, options.client);
  if (!channel.ok()) return channel.status();
  std::shared_ptr<cluedrop::v1::WorkService::StubInterface> stub =
      cluedrop::v1::WorkService::NewStub(*channel);

  ScorerWorkerOptions worker_options;
  worker_options.name = WorkerName(options.client, "scorer");
  DescribeScoringDevice(options.worker.device, &worker_options);
  worker_options.version = std::string(BuildVersion());
  worker_options.bearer_token = options.client.token;
  worker_options.lease_wait_ms = options.lease_wait_ms;
  worker_options.log = &std::cerr;
  EngineShardScorer engine({.device = options.worker.device, .kernel = *kernel});
  const std::string coordinator = options.worker.coordinator;
  return RunWorkerDaemon(
      ScorerRole(), options.worker, shutdown,
      [&](const WorkLoopContext& context, const ShutdownController& work_shutdown) {
        ScorerWorkerOptions o = worker_options;
        o.on_state = [&context, coordinator](bool ready, const std::string& detail) {
          context.report(ready, absl::StrCat("coordinator ", coordinator, ": ", detail));
        };
        ScorerWorker worker(std::move(o), stub, &engine, context.registry);
        return worker.Run(work_shutdown);
      });
}

}  // namespace cluedrop::scorer
