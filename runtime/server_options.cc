#include "runtime/server_options.h"

namespace cluedrop {

void RegisterServerFlags(FlagSet* flags, ServerOptions* options) {
  flags->Add("grpc_address", &options->grpc_address,
             "host:port to serve gRPC on (port 0: pick a free port)");
  flags->Add("metrics_address", &options->metrics_address,
             "host:port to serve Prometheus /metrics on (empty: off)");
  flags->Add("tls_cert_file", &options->tls.cert_file, "PEM certificate chain; enables TLS");
  flags->Add("tls_key_file", &options->tls.key_file, "PEM private key for --tls_cert_file");
  flags->Add("tls_client_ca_file", &options->tls.ca_file,
             "PEM CA bundle; when set, clients must present a certificate it signed");
  flags->Add("tls_refresh_s", &options->tls_refresh_s,
             "re-read the TLS files this often, in seconds (certificate rotation; a worker's "
             "coordinator client certificate too)");
  flags->Add("shutdown_drain_ms", &options->shutdown_drain_ms,
             "after SIGTERM, report NOT_SERVING this long before stopping, in ms");
  flags->Add("shutdown_grace_ms", &options->shutdown_grace_ms,
             "then let in-flight RPCs finish for this long, in ms");
  flags->Add("max_message_bytes", &options->max_message_bytes,
             "largest gRPC message received or sent, in bytes");
  flags->Add("ready_file", &options->ready_file,
             "write {component, pid, grpc_port, metrics_port} as JSON here once serving");
}

}  // namespace cluedrop
