// Who is calling, and may they (docs/security.md): every coordinator RPC
// passes through Authorize() with the role its service needs.
//
// A caller proves an identity by a bearer token ("authorization: Bearer
// <token>", looked up in the token table) or, with mutual TLS, by its
// verified client certificate (CN = identity, OU = roles). A token, when
// sent, decides; a wrong one is refused even if a certificate would pass.
// With `allow_unauthenticated` (a development flag), a caller with neither
// is "anonymous" with every role.
//
// Example:
//   auth::Identity who;
//   if (grpc::Status s = authenticator.Authorize(*context, auth::Role::kScorer, &who); !s.ok())
//     return s;
#ifndef CLUEDROP_COORDINATOR_SERVER_AUTHENTICATOR_H_
#define CLUEDROP_COORDINATOR_SERVER_AUTHENTICATOR_H_

#include <grpcpp/server_context.h>

#include <string>

#include "auth/roles.h"
#include "auth/token_table.h"
#include "coordinator/coordinator_metrics.h"
#include "coordinator/job_manager.h"

namespace cluedrop::coordinator {

struct AuthOptions {
  // Bearer tokens and the identities they prove.
  auth::TokenTable tokens;
  // Verified client certificates prove identities (the server requires
  // client certificates: --tls_client_ca_file).
  bool certificates = false;
  // Development only: callers without credentials get every role.
  bool allow_unauthenticated = false;
};

class Authenticator {
 public:
  // `metrics` (may be null) counts refusals by reason.
  Authenticator(AuthOptions options, CoordinatorMetrics* metrics)
      : options_(std::move(options)), metrics_(metrics) {}

  // OK with `*who` set when the call proves an identity holding `role`
  // (admin holds submitter too). UNAUTHENTICATED without credentials or
  // with a malformed header; PERMISSION_DENIED for an unknown token, a
  // certificate that names no identity, or a missing role. Messages say
  // what to configure and never contain a token.
  grpc::Status Authorize(const grpc::ServerContext& context, auth::Role role,
                         auth::Identity* who) const;
  // The two halves of Authorize: who is calling, and whether `who` holds
  // `role` (PERMISSION_DENIED naming the role and what the identity has).
  grpc::Status Authenticate(const grpc::ServerContext& context, auth::Identity* who) const;
  grpc::Status RequireRole(const auth::Identity& who, auth::Role role) const;

  // The JobManager's view of an identity.
  static Caller ToCaller(const auth::Identity& who);

  // No token, no certificates and no development flag: every call fails.
  bool configured() const {
    return !options_.tokens.empty() || options_.certificates || options_.allow_unauthenticated;
  }
  // One line for the start-up log: how callers authenticate (never tokens).
  std::string Describe() const;

 private:
  grpc::Status Deny(grpc::StatusCode code, const char* reason, std::string message) const;

  AuthOptions options_;
  CoordinatorMetrics* metrics_;
};

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_SERVER_AUTHENTICATOR_H_
