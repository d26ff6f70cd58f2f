#include "auth/token_table.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "auth/secret_file.h"

namespace cluedrop::auth {
namespace {

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;  // the length is not secret
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

bool IsValidIdentityName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' &&
        c != '@' && c != ':') {
      return false;
    }
  }
  return true;
}

absl::Status TokenTable::Add(std::string token, Identity identity) {
  if (token.size() < kMinTokenChars) {
    return absl::InvalidArgumentError(absl::StrCat("token for \"", identity.name,
                                                   "\": ", token.size(), " characters; at least ",
                                                   kMinTokenChars, " are required"));
  }
  for (const Entry& entry : entries_) {
    if (ConstantTimeEquals(entry.token, token)) {
      return absl::InvalidArgumentError(absl::StrCat("token for \"", identity.name,
                                                     "\": the same token is already given to \"",
                                                     entry.identity.name, "\""));
    }
  }
  identity.via = "token";
  entries_.push_back({std::move(token), std::move(identity)});
  return absl::OkStatus();
}

absl::StatusOr<TokenTable> TokenTable::Parse(absl::string_view text, absl::string_view source) {
  TokenTable table;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    const std::string where = absl::StrCat(source, ":", line_number, ": ");
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "expected 3 fields (token identity roles), got ", fields.size()));
    }
    if (!IsValidIdentityName(fields[1])) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "identity \"", absl::CHexEscape(fields[1]),
                       "\": use 1-128 letters, digits and . _ - @ :"));
    }
    absl::StatusOr<RoleSet> roles = ParseRoles(fields[2]);
    if (!roles.ok())
      return absl::InvalidArgumentError(absl::StrCat(where, roles.status().message()));
    absl::Status added = table.Add(std::string(fields[0]), {std::string(fields[1]), *roles, ""});
    if (!added.ok()) return absl::InvalidArgumentError(absl::StrCat(where, added.message()));
  }
  if (table.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": no tokens"));
  }
  return table;
}

absl::StatusOr<TokenTable> TokenTable::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSecretFile(path, "--auth_token_file");
  if (!text.ok()) return text.status();
  return Parse(*text, absl::StrCat("--auth_token_file ", path));
}

const Identity* TokenTable::Find(absl::string_view token) const {
  const Identity* found = nullptr;
  for (const Entry& entry : entries_) {
    if (ConstantTimeEquals(entry.token, token)) found = &entry.identity;
  }
  return found;
}

}  // namespace cluedrop::auth
