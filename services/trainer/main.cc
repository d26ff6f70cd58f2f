// cluedrop-trainer: flags -> WorkerOptions -> RunWorkerDaemon(trainer role).
#include "services/common/daemon_main.h"
#include "workers/worker_daemon.h"

int main(int argc, char** argv) {
  const cluedrop::WorkerRole role{
      .component = "trainer",
      .summary = "trains the target model data-parallel on clue-guided token dropout.",
      .work_state =
          "the training loop is NOT BUILT YET (Trainer issue): this process serves health, "
          "reflection, DaemonService and /metrics and reports its devices, but joins no job.",
      .default_grpc_port = 50071,
      .default_metrics_port = 9466};
  cluedrop::WorkerOptions options;
  cluedrop::FlagSet flags("cluedrop-trainer", role.summary);
  cluedrop::RegisterWorkerFlags(role, &flags, &options);
  return cluedrop::RunDaemonMain(argc, argv, flags, [&](cluedrop::ShutdownController* shutdown) {
    return cluedrop::RunWorkerDaemon(role, options, shutdown);
  });
}
