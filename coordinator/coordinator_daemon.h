// The coordinator process: takes jobs (JobService), leases shards to scorer
// workers (WorkService) and feeds trainer workers (TrainService).
//
// Built so far: the server runtime (health, reflection, DaemonService,
// /metrics, graceful shutdown) and the data directory check. The three
// services are registered so clients see the full API, but their logic is
// the Coordinator issue's: each answers UNIMPLEMENTED and reports
// NOT_SERVING in health and DaemonService.
#ifndef CLUEDROP_COORDINATOR_COORDINATOR_DAEMON_H_
#define CLUEDROP_COORDINATOR_COORDINATOR_DAEMON_H_

#include <string>

#include "absl/status/status.h"
#include "services/common/flags.h"
#include "services/common/server_options.h"
#include "services/common/shutdown.h"

namespace cluedrop {

struct CoordinatorOptions {
  ServerOptions server;
  // Holds the SQLite database and the shard store; created if missing.
  std::string data_dir = "cluedrop-data";

  CoordinatorOptions() {
    server.grpc_address = "0.0.0.0:50051";
    server.metrics_address = "0.0.0.0:9464";
  }
};

void RegisterCoordinatorFlags(FlagSet* flags, CoordinatorOptions* options);

// Serves until `shutdown` is requested. FAILED_PRECONDITION when the data
// directory cannot be created or written; UNAVAILABLE when a port is taken.
absl::Status RunCoordinator(const CoordinatorOptions& options, ShutdownController* shutdown);

}  // namespace cluedrop

#endif  // CLUEDROP_COORDINATOR_COORDINATOR_DAEMON_H_
