// The coordinator process: takes jobs (JobService), leases shards to scorer
// workers (WorkService) and feeds trainer workers (TrainService).
//
// State lives in --data_dir (state.db, shards/); a restarted coordinator
// recovers every job from it (docs/coordinator.md).
#ifndef CLUEDROP_COORDINATOR_SERVER_COORDINATOR_DAEMON_H_
#define CLUEDROP_COORDINATOR_SERVER_COORDINATOR_DAEMON_H_

#include <string>

#include "absl/status/status.h"
#include "coordinator/lease_scheduler.h"
#include "runtime/flags.h"
#include "runtime/server_options.h"
#include "runtime/shutdown.h"

namespace cluedrop {

struct CoordinatorOptions {
  ServerOptions server;
  // Holds the SQLite database and the shard store; created if missing.
  std::string data_dir = "cluedrop-data";
  coordinator::SchedulerOptions scheduler;
  uint32_t max_lease_wait_ms = 30000;
  uint64_t stream_chunk_bytes = 1 << 20;
  // File holding the bearer token JobService requires (empty: no token).
  std::string job_token_file;

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

#endif  // CLUEDROP_COORDINATOR_SERVER_COORDINATOR_DAEMON_H_
