// The process shell shared by scorer and trainer workers: the server runtime
// (health, reflection, DaemonService, /metrics, graceful shutdown) plus a
// report of the compute this worker has (GPUs through the CUDA runtime, and
// the linked libtorch).
//
// Each role runs its work loop on its own thread next to the server (the
// scorer's lease loop, workers/scorer/scorer_daemon.h; the trainer's join ->
// stream -> train -> report loop, workers/trainer/trainer_daemon.h); the
// loop reports through the role's capability and health entry
// "cluedrop.<role>", NOT ready / NOT_SERVING until it is working.
#ifndef CLUEDROP_WORKERS_COMMON_WORKER_DAEMON_H_
#define CLUEDROP_WORKERS_COMMON_WORKER_DAEMON_H_

#include <grpcpp/channel.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/flags.h"
#include "runtime/server_options.h"
#include "runtime/shutdown.h"
#include "runtime/tls.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

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

// What a work loop gets from the daemon.
struct WorkLoopContext {
  // Sets the role's capability and health entry ("cluedrop.<component>";
  // SERVING when ready). Thread-safe; ignored once shutdown has begun.
  std::function<void(bool ready, const std::string& detail)> report;
  // The process's /metrics registry.
  prometheus::Registry* registry = nullptr;
};

// A role's work loop: runs until `shutdown` is requested, then returns OK. An
// error return shuts the daemon down and becomes its result.
using WorkLoop =
    std::function<absl::Status(const WorkLoopContext& context, const ShutdownController& shutdown)>;

// Serves until `shutdown` is requested, running `work_loop` (when set) on its
// own thread meanwhile; on shutdown the server drains while the loop winds
// down, and both are joined. INVALID_ARGUMENT for a malformed --device;
// UNAVAILABLE when a port is taken; the work loop's error.
absl::Status RunWorkerDaemon(const WorkerRole& role, const WorkerOptions& options,
                             ShutdownController* shutdown, const WorkLoop& work_loop = nullptr);

// Validates a --device value.
absl::Status ValidateDevice(const std::string& device);

// How a worker process talks to the coordinator beyond --coordinator.
struct CoordinatorClientOptions {
  // Stable worker name (the pod name); "" = <hostname>-<pid>.
  std::string name;
  // Bearer token sent to the coordinator ("" = none).
  std::string token;
  // File holding it instead (must not be readable by "other" users).
  std::string token_file;
  // TLS to the coordinator: roots in tls_files.ca_file (system roots when
  // empty); cert_file + key_file present a client certificate.
  bool tls = false;
  TlsFiles tls_files;
};

// Registers --name (env CLUEDROP_WORKER_NAME), --token (env CLUEDROP_TOKEN),
// --token_file (env CLUEDROP_TOKEN_FILE),
// --coordinator_tls and --coordinator_tls_{ca,cert,key}_file.
void RegisterCoordinatorClientFlags(FlagSet* flags, CoordinatorClientOptions* options);

// Reads options->token_file, when set, into options->token. INVALID_ARGUMENT
// when both are given; the file's errors (auth::ReadTokenFile) otherwise.
absl::Status LoadClientToken(CoordinatorClientOptions* options);

// options.name, or <hostname>-<pid> (<component>-<pid> without a hostname).
std::string WorkerName(const CoordinatorClientOptions& options, const std::string& component);

// A channel to options.coordinator with the client's TLS settings.
// INVALID_ARGUMENT / NOT_FOUND for bad TLS settings or files.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeCoordinatorChannel(
    const WorkerOptions& worker, const CoordinatorClientOptions& client);

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_COMMON_WORKER_DAEMON_H_
