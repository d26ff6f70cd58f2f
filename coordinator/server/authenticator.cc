#include "coordinator/server/authenticator.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "auth/certificate_identity.h"

namespace cluedrop::coordinator {
namespace {

constexpr char kHowTo[] =
    "give the coordinator --auth_token_file (and the caller --token_file), or client "
    "certificates with --tls_client_ca_file; see docs/security.md";

std::string RoleVerb(auth::Role role) {
  switch (role) {
    case auth::Role::kSubmitter:
      return "JobService needs role submitter";
    case auth::Role::kScorer:
      return "WorkService needs role scorer";
    case auth::Role::kTrainer:
      return "TrainService needs role trainer";
    case auth::Role::kAdmin:
      return "this call needs role admin";
  }
  return "unknown role";
}

}  // namespace

grpc::Status Authenticator::Deny(grpc::StatusCode code, const char* reason,
                                 std::string message) const {
  if (metrics_ != nullptr) metrics_->AuthDenied(reason);
  return grpc::Status(code, std::move(message));
}

grpc::Status Authenticator::Authorize(const grpc::ServerContext& context, auth::Role role,
                                      auth::Identity* who) const {
  if (grpc::Status s = Authenticate(context, who); !s.ok()) {
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED && !configured()) return s;
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      return grpc::Status(s.error_code(), absl::StrCat(RoleVerb(role), ": ", s.error_message()));
    }
    return s;
  }
  return RequireRole(*who, role);
}

grpc::Status Authenticator::RequireRole(const auth::Identity& who, auth::Role role) const {
  const bool allowed =
      who.roles.Has(role) || (role == auth::Role::kSubmitter && who.roles.Has(auth::Role::kAdmin));
  if (!allowed) {
    return Deny(grpc::StatusCode::PERMISSION_DENIED, "wrong_role",
                absl::StrCat(RoleVerb(role), "; identity ", who.name, " (", who.via, ") has ",
                             who.roles.ToString()));
  }
  return grpc::Status::OK;
}

grpc::Status Authenticator::Authenticate(const grpc::ServerContext& context,
                                         auth::Identity* who) const {
  const auto& metadata = context.client_metadata();
  auto header = metadata.find("authorization");
  if (header != metadata.end()) {
    const absl::string_view value(header->second.data(), header->second.size());
    constexpr absl::string_view kBearer = "Bearer ";
    if (!absl::StartsWith(value, kBearer)) {
      return Deny(grpc::StatusCode::UNAUTHENTICATED, "unauthenticated",
                  "authorization: expected a Bearer token");
    }
    const auth::Identity* found = options_.tokens.Find(value.substr(kBearer.size()));
    if (found == nullptr) {
      return Deny(grpc::StatusCode::PERMISSION_DENIED, "bad_credentials",
                  "authorization: unknown token");
    }
    *who = *found;
  } else if (std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
             options_.certificates && auth != nullptr && auth->IsPeerAuthenticated()) {
    std::vector<grpc::string_ref> subject =
        auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
    if (subject.size() != 1) {
      return Deny(grpc::StatusCode::PERMISSION_DENIED, "bad_credentials",
                  "client certificate: no subject");
    }
    absl::StatusOr<auth::Identity> identity =
        auth::IdentityFromSubject(absl::string_view(subject[0].data(), subject[0].size()));
    if (!identity.ok()) {
      return Deny(grpc::StatusCode::PERMISSION_DENIED, "bad_credentials",
                  std::string(identity.status().message()));
    }
    *who = std::move(*identity);
  } else if (options_.allow_unauthenticated) {
    *who = {"anonymous", auth::RoleSet::All(), "unauthenticated (development mode)"};
  } else {
    return Deny(grpc::StatusCode::UNAUTHENTICATED, "unauthenticated",
                configured() ? "no credentials: send \"authorization: Bearer <token>\" "
                               "(--token_file, CLUEDROP_TOKEN_FILE) or a client certificate"
                             : absl::StrCat("the coordinator has no credentials configured and "
                                            "refuses every call: ",
                                            kHowTo));
  }
  return grpc::Status::OK;
}

Caller Authenticator::ToCaller(const auth::Identity& who) {
  return {who.name, who.roles.Has(auth::Role::kAdmin)};
}

std::string Authenticator::Describe() const {
  if (!configured()) {
    return absl::StrCat(
        "no credentials configured: every JobService, WorkService and "
        "TrainService call will be refused UNAUTHENTICATED; ",
        kHowTo,
        " (or pass --insecure_allow_unauthenticated on a private development "
        "machine)");
  }
  if (options_.tokens.empty() && !options_.certificates) {
    return "no credentials required: --insecure_allow_unauthenticated gives every caller every "
           "role (development only)";
  }
  std::string out = "callers authenticate with";
  std::string sep = " ";
  if (!options_.tokens.empty()) {
    absl::StrAppend(&out, sep, options_.tokens.size(), " bearer token(s)");
    sep = ", ";
  }
  if (options_.certificates) {
    absl::StrAppend(&out, sep, "client certificates (CN = identity, OU = role)");
    sep = ", ";
  }
  if (options_.allow_unauthenticated) {
    absl::StrAppend(&out, sep,
                    "or nothing: --insecure_allow_unauthenticated gives anonymous callers "
                    "every role (development only)");
  }
  return out;
}

}  // namespace cluedrop::coordinator
