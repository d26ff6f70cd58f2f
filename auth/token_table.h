// The coordinator's bearer tokens: which token proves which identity and
// roles (--auth_token_file; docs/security.md, "Tokens").
//
// One entry per line, fields separated by spaces or tabs; '#' starts a
// comment:
//   # token                             identity    roles
//   4c1f0e...(at least 16 characters)  scorer-a    scorer
//   9b27d1...                          alice       submitter
//   e0aa55...                          ops         submitter,admin
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(TokenTable table, TokenTable::Load(path));
//   const Identity* who = table.Find(token_from_the_call);
#ifndef CLUEDROP_AUTH_TOKEN_TABLE_H_
#define CLUEDROP_AUTH_TOKEN_TABLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "auth/roles.h"

namespace cluedrop::auth {

// Shorter tokens are refused: they can be guessed.
inline constexpr size_t kMinTokenChars = 16;

// Identity names: letters, digits and . _ - @ : (1 to 128 characters).
bool IsValidIdentityName(absl::string_view name);

class TokenTable {
 public:
  TokenTable() = default;

  // Parses the file format above. INVALID_ARGUMENT naming `source` and the
  // line for a short token, a bad identity, an unknown role, a duplicate
  // token or a wrong field count; the message never contains a token.
  static absl::StatusOr<TokenTable> Parse(absl::string_view text, absl::string_view source);
  // ReadSecretFile (refusing files "other" users can read), then Parse.
  static absl::StatusOr<TokenTable> Load(const std::string& path);

  // Adds one entry (the single-token --job_token_file uses it).
  absl::Status Add(std::string token, Identity identity);

  // The identity `token` proves, or nullptr. Compares against every entry
  // in constant time per entry, so timing does not reveal a prefix match.
  const Identity* Find(absl::string_view token) const;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::string token;
    Identity identity;
  };
  std::vector<Entry> entries_;
};

}  // namespace cluedrop::auth

#endif  // CLUEDROP_AUTH_TOKEN_TABLE_H_
