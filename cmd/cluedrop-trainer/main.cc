// cluedrop-trainer: flags -> TrainerDaemonOptions -> RunTrainerDaemon.
#include "runtime/daemon_main.h"
#include "workers/trainer/trainer_daemon.h"

int main(int argc, char** argv) {
  cluedrop::trainer::TrainerDaemonOptions options;
  cluedrop::FlagSet flags("cluedrop-trainer", cluedrop::trainer::TrainerRole().summary);
  cluedrop::trainer::RegisterTrainerFlags(&flags, &options);
  return cluedrop::RunDaemonMain(argc, argv, flags, [&](cluedrop::ShutdownController* shutdown) {
    return cluedrop::trainer::RunTrainerDaemon(options, shutdown);
  });
}
