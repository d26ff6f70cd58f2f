// cluedrop-scorer: flags -> ScorerDaemonOptions -> RunScorerDaemon.
#include "runtime/daemon_main.h"
#include "workers/scorer/scorer_daemon.h"

int main(int argc, char** argv) {
  cluedrop::scorer::ScorerDaemonOptions options;
  cluedrop::FlagSet flags("cluedrop-scorer", cluedrop::scorer::ScorerRole().summary);
  cluedrop::scorer::RegisterScorerFlags(&flags, &options);
  return cluedrop::RunDaemonMain(argc, argv, flags, [&](cluedrop::ShutdownController* shutdown) {
    return cluedrop::scorer::RunScorerDaemon(options, shutdown);
  });
}
