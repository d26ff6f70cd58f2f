// The process shell shared by scorer and trainer workers: the server runtime
// (health, reflection, DaemonService, /metrics, graceful shutdown) plus a
// report of the compute this worker has (GPUs through the CUDA runtime, and
// the linked libtorch).
//
// Built so far: the shell. The work loops (scoring: Scoring engine and
// Coordinator issues; training: Trainer issue) are not built yet; the
// worker's role capability reports NOT ready, its health entry
// "cluedrop.<role>" is NOT_SERVING, and it does not contact the coordinator.
#ifndef CLUEDROP_WORKERS_WORKER_DAEMON_H_
#define CLUEDROP_WORKERS_WORKER_DAEMON_H_

#include <string>

#include "absl/status/status.h"
#include "services/common/flags.h"
#include "services/common/server_options.h"
#include "services/common/shutdown.h"

namespace cluedrop {

struct WorkerOptions {
  ServerOptions server;
  // Coordinator host:port (flag --coordinator, env CLUEDROP_COORDINATOR).
  std::string coordinator = "127.0.0.1:50051";
  // "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
  std::string device = "auto";
};

// What distinguishes one worker kind from another.
struct WorkerRole {
  std::string component;   // "scorer" or "trainer"
  std::string summary;     // one line for --help
  std::string work_state;  // why the work loop is not ready
  int default_grpc_port = 0;
  int default_metrics_port = 0;
};

// Sets the role's default ports and registers --coordinator, --device and the
// server flags.
void RegisterWorkerFlags(const WorkerRole& role, FlagSet* flags, WorkerOptions* options);

// Serves until `shutdown` is requested. INVALID_ARGUMENT for a malformed
// --device; UNAVAILABLE when a port is taken.
absl::Status RunWorkerDaemon(const WorkerRole& role, const WorkerOptions& options,
                             ShutdownController* shutdown);

// Validates a --device value.
absl::Status ValidateDevice(const std::string& device);

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_WORKER_DAEMON_H_
