// cluedrop-scorer: the worker daemon shell (worker_daemon.h) running the
// scoring loop (scorer_worker.h) against the coordinator, with the scoring
// engine (engine_shard_scorer.h) on --device.
//
// Example (services/scorer/main.cc):
//   ScorerDaemonOptions options;
//   FlagSet flags("cluedrop-scorer", ScorerRole().summary);
//   RegisterScorerFlags(&flags, &options);
//   ... RunScorerDaemon(options, shutdown) ...
//
// Flags beyond the worker's (--coordinator, --device, server flags):
//   --name (env CLUEDROP_WORKER_NAME; default <hostname>-<pid>),
//   --token (env CLUEDROP_TOKEN), --lease_wait_ms, --coordinator_tls,
//   --coordinator_tls_ca_file, --coordinator_tls_cert_file,
//   --coordinator_tls_key_file.
#ifndef CLUEDROP_WORKERS_SCORER_SCORER_DAEMON_H_
#define CLUEDROP_WORKERS_SCORER_SCORER_DAEMON_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "runtime/flags.h"
#include "runtime/shutdown.h"
#include "runtime/tls.h"
#include "workers/common/worker_daemon.h"

namespace cluedrop::scorer {

struct ScorerDaemonOptions {
  WorkerOptions worker;
  // --name, --token, coordinator TLS.
  CoordinatorClientOptions client;
  // LeaseShard long-poll wait, milliseconds.
  uint32_t lease_wait_ms = 10000;
  // --attention_kernel: auto, tiled or fused (attention_kernel.h).
  std::string attention_kernel = "auto";
};

// The scorer's role: name, --help summary, default ports 50061 / 9465.
WorkerRole ScorerRole();

// Registers the worker flags and the scorer's own on `flags`.
void RegisterScorerFlags(FlagSet* flags, ScorerDaemonOptions* options);

// Serves and scores until `shutdown`; see RunWorkerDaemon for errors, plus
// INVALID_ARGUMENT / NOT_FOUND for bad TLS settings and a registration the
// coordinator refuses (UNAUTHENTICATED, PERMISSION_DENIED).
absl::Status RunScorerDaemon(const ScorerDaemonOptions& options, ShutdownController* shutdown);

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_SCORER_DAEMON_H_
