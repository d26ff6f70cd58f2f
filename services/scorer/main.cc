// cluedrop-scorer: flags -> WorkerOptions -> RunWorkerDaemon(scorer role).
#include "services/common/daemon_main.h"
#include "workers/worker_daemon.h"

int main(int argc, char** argv) {
  const cluedrop::WorkerRole role{
      .component = "scorer",
      .summary = "scores leased corpus shards with a large and a small reference model.",
      .work_state =
          "the scoring loop is NOT BUILT YET (Scoring engine and Coordinator issues): this "
          "process serves health, reflection, DaemonService and /metrics and reports its "
          "devices, but leases no shards.",
      .default_grpc_port = 50061,
      .default_metrics_port = 9465};
  cluedrop::WorkerOptions options;
  cluedrop::FlagSet flags("cluedrop-scorer", role.summary);
  cluedrop::RegisterWorkerFlags(role, &flags, &options);
  return cluedrop::RunDaemonMain(argc, argv, flags, [&](cluedrop::ShutdownController* shutdown) {
    return cluedrop::RunWorkerDaemon(role, options, shutdown);
  });
}
