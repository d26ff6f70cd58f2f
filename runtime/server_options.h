// Options every cluedrop daemon's gRPC server takes, and their flags.
#ifndef CLUEDROP_RUNTIME_SERVER_OPTIONS_H_
#define CLUEDROP_RUNTIME_SERVER_OPTIONS_H_

#include <cstdint>
#include <string>

#include "runtime/flags.h"
#include "runtime/tls.h"

namespace cluedrop {

struct ServerOptions {
  // host:port for gRPC; port 0 picks a free port (see the ready file).
  std::string grpc_address = "0.0.0.0:50051";
  // host:port for the Prometheus /metrics endpoint; empty disables it.
  std::string metrics_address = "0.0.0.0:9464";
  // TLS: cert + key enable it; a client CA requires client certificates.
  TlsFiles tls;
  // The TLS files are re-read this often (rotation without a restart).
  uint32_t tls_refresh_s = 10;
  // After SIGTERM: report NOT_SERVING for this long before stopping, so load
  // balancers and probes move away first.
  int64_t shutdown_drain_ms = 2000;
  // Then give in-flight RPCs this long to finish before cancelling them.
  int64_t shutdown_grace_ms = 10000;
  // Largest message received or sent.
  int64_t max_message_bytes = 64 << 20;
  // When set, a JSON file {component, pid, grpc_port, metrics_port} written
  // atomically once the server is serving (used by tests and scripts).
  std::string ready_file;
};

// Registers the ServerOptions flags (grpc_address, metrics_address,
// tls_cert_file, tls_key_file, tls_client_ca_file, shutdown_drain_ms,
// shutdown_grace_ms, max_message_bytes, ready_file) on `flags`.
void RegisterServerFlags(FlagSet* flags, ServerOptions* options);

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_SERVER_OPTIONS_H_
