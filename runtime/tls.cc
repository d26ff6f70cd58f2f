#include "runtime/tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace cluedrop {

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

namespace {

// Each file of `files` that is named can be read and holds PEM.
absl::Status CheckPemFiles(const TlsFiles& files) {
  for (const std::string& path : {files.cert_file, files.key_file, files.ca_file}) {
    if (path.empty()) continue;
    absl::StatusOr<std::string> pem = ReadFileToString(path);
    if (!pem.ok()) return pem.status();
    if (pem->find("-----BEGIN ") == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": not a PEM file"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, unsigned int refresh_interval_s) {
  if (files.cert_file.empty() && files.key_file.empty()) {
    if (!files.ca_file.empty()) {
      return absl::InvalidArgumentError("tls_client_ca_file needs tls_cert_file and tls_key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (files.cert_file.empty() || files.key_file.empty()) {
    return absl::InvalidArgumentError("tls_cert_file and tls_key_file must be given together");
  }
  // Read once here so that a missing or unreadable file is a clear error at
  // start; the provider then re-reads them every refresh_interval_s, so a
  // rotated certificate (cert-manager renewing a Secret) is served without
  // a restart.
  if (absl::Status checked = CheckPemFiles(files); !checked.ok()) return checked;
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.ca_file, std::max(1u, refresh_interval_s));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!files.ca_file.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    bool use_tls, const TlsFiles& files, unsigned int refresh_interval_s) {
  if (!use_tls) return grpc::InsecureChannelCredentials();
  if (files.cert_file.empty() != files.key_file.empty()) {
    return absl::InvalidArgumentError("tls_cert_file and tls_key_file must be given together");
  }
  if (absl::Status checked = CheckPemFiles(files); !checked.ok()) return checked;
  if (files.cert_file.empty() && files.ca_file.empty()) {
    return grpc::SslCredentials(grpc::SslCredentialsOptions());  // system roots
  }
  // The files are watched like the server's: a renewed client certificate
  // (or CA bundle) is used by the next handshake without a restart.
  const unsigned int every = std::max(1u, refresh_interval_s);
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
  if (files.cert_file.empty()) {
    provider =
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(files.ca_file, every);
  } else {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        files.key_file, files.cert_file, files.ca_file, every);
  }
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  if (!files.ca_file.empty()) options.watch_root_certs();
  if (!files.cert_file.empty()) options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  options.set_check_call_host(true);
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace cluedrop
