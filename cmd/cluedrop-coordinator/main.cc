// cluedrop-coordinator: flags -> CoordinatorOptions -> RunCoordinator.
#include "coordinator/server/coordinator_daemon.h"
#include "runtime/daemon_main.h"

int main(int argc, char** argv) {
  cluedrop::CoordinatorOptions options;
  cluedrop::FlagSet flags("cluedrop-coordinator",
                          "takes jobs, shards corpora, leases shards to scorers and feeds "
                          "trainers over gRPC.");
  cluedrop::RegisterCoordinatorFlags(&flags, &options);
  return cluedrop::RunDaemonMain(argc, argv, flags, [&](cluedrop::ShutdownController* shutdown) {
    return cluedrop::RunCoordinator(options, shutdown);
  });
}
