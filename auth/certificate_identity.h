// The identity a verified client certificate proves (mutual TLS;
// docs/security.md, "Certificates"): the subject's CN is the identity name
// and each OU that names a role grants it (OU=scorer, OU=trainer, ...), as
// cert-manager's `subject.organizationalUnits` and `commonName` write them.
//
// Example (gRPC gives the subject as an RFC 2253 string, "x509_subject"):
//   absl::StatusOr<Identity> who = IdentityFromSubject("CN=scorer-0,OU=scorer,O=acme");
#ifndef CLUEDROP_AUTH_CERTIFICATE_IDENTITY_H_
#define CLUEDROP_AUTH_CERTIFICATE_IDENTITY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "auth/roles.h"

namespace cluedrop::auth {

// (type, value) pairs of an RFC 2253 distinguished name, escapes ("\,",
// "\+", "\2C") resolved, in the order written. INVALID_ARGUMENT for a
// malformed name.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseDistinguishedName(
    absl::string_view rfc2253);

// The identity of a subject: exactly one CN (a valid identity name) and at
// least one OU naming a role (OUs that name no role are ignored). Errors
// are PERMISSION_DENIED and say what the certificate lacks.
absl::StatusOr<Identity> IdentityFromSubject(absl::string_view rfc2253);

}  // namespace cluedrop::auth

#endif  // CLUEDROP_AUTH_CERTIFICATE_IDENTITY_H_
