// TLS credentials from PEM files, for servers and channels.
//
// Server: cert + key enable TLS; a client CA additionally requires and
// verifies client certificates (mutual TLS). Client: a CA file enables TLS;
// cert + key present a client certificate.
#ifndef CLUEDROP_RUNTIME_TLS_H_
#define CLUEDROP_RUNTIME_TLS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cluedrop {

struct TlsFiles {
  std::string cert_file;  // PEM certificate chain
  std::string key_file;   // PEM private key
  std::string ca_file;    // PEM CA bundle (server: client CA; client: roots)
};

// Insecure credentials when `files.cert_file` and `files.key_file` are both
// empty. INVALID_ARGUMENT when only one is set or a file is not PEM;
// NOT_FOUND naming the file when one cannot be read. The files are re-read
// every `refresh_interval_s` seconds: a rotated certificate, key or client
// CA is served to new connections without a restart.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, unsigned int refresh_interval_s = 10);

// Insecure when `use_tls` is false. With TLS, roots come from `files.ca_file`
// or the system default when empty; `cert_file` + `key_file` are the client
// certificate for mutual TLS. Given files are checked now (NOT_FOUND,
// INVALID_ARGUMENT as above) and then re-read every `refresh_interval_s`
// seconds: a renewed client certificate is used by the next handshake.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    bool use_tls, const TlsFiles& files, unsigned int refresh_interval_s = 10);

// Reads a whole file; NOT_FOUND naming the file when it cannot be opened.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_TLS_H_
