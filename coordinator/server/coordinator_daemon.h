// The coordinator process: takes jobs (JobService), leases shards to scorer
// workers (WorkService) and feeds trainer workers (TrainService).
//
// State lives in --data_dir (state.db, shards/); a restarted coordinator
// recovers every job from it (docs/coordinator.md).
#ifndef CLUEDROP_COORDINATOR_SERVER_COORDINATOR_DAEMON_H_
#define CLUEDROP_COORDINATOR_SERVER_COORDINATOR_DAEMON_H_

#include <cstdint>
#include <string>
#include <vector>

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
  // Token table: "<token> <identity> <role>[,<role>]" lines
  // (docs/security.md). Must not be readable by "other" users.
  std::string auth_token_file;
  // Older single-token form: one token for JobService, proving identity
  // "job-token" with roles submitter and admin.
  std::string job_token_file;
  // Development only: callers without credentials get every role.
  bool insecure_allow_unauthenticated = false;
  // Where job inputs and outputs may be (coordinator/path_policy.h).
  std::vector<std::string> corpus_roots;
  std::vector<std::string> output_roots;
  uint64_t max_corpus_bytes = uint64_t{16} << 30;
  uint32_t max_watch_streams = 1024;
  uint32_t max_long_polls = 512;
  uint32_t max_shard_streams = 256;
  uint32_t max_stream_seconds = 3600;
  uint64_t max_corpus_bytes_per_submitter = uint64_t{64} << 30;
  uint32_t max_jobs_per_submitter = 100;

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
