#include "auth/certificate_identity.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "auth/token_table.h"

namespace cluedrop::auth {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(static_cast<unsigned char>(c));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseDistinguishedName(
    absl::string_view dn) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string type, value;
  bool in_value = false;
  auto finish = [&]() -> absl::Status {
    if (!in_value || type.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("distinguished name \"", absl::CHexEscape(dn), "\": expected TYPE=value"));
    }
    out.emplace_back(std::string(absl::StripAsciiWhitespace(type)), value);
    type.clear();
    value.clear();
    in_value = false;
    return absl::OkStatus();
  };
  if (dn.empty()) return out;
  for (size_t i = 0; i < dn.size(); ++i) {
    const char c = dn[i];
    if (c == '\\') {
      if (i + 1 >= dn.size()) return absl::InvalidArgumentError("distinguished name: trailing \\");
      const int hi = HexValue(dn[i + 1]);
      const int lo = i + 2 < dn.size() ? HexValue(dn[i + 2]) : -1;
      char decoded;
      if (hi >= 0 && lo >= 0) {
        decoded = static_cast<char>(hi * 16 + lo);
        i += 2;
      } else {
        decoded = dn[++i];
      }
      (in_value ? value : type).push_back(decoded);
    } else if (c == ',' || c == '+') {
      if (absl::Status s = finish(); !s.ok()) return s;
    } else if (c == '=' && !in_value) {
      in_value = true;
    } else {
      (in_value ? value : type).push_back(c);
    }
  }
  if (absl::Status s = finish(); !s.ok()) return s;
  return out;
}

absl::StatusOr<Identity> IdentityFromSubject(absl::string_view subject) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> parts =
      ParseDistinguishedName(subject);
  if (!parts.ok()) return absl::PermissionDeniedError(parts.status().message());
  Identity identity;
  int common_names = 0;
  for (const auto& [type, value] : *parts) {
    if (absl::EqualsIgnoreCase(type, "CN")) {
      ++common_names;
      identity.name = value;
    } else if (absl::EqualsIgnoreCase(type, "OU")) {
      absl::StatusOr<Role> role = ParseRole(value);
      if (role.ok()) identity.roles.Add(*role);
    }
  }
  const std::string quoted = absl::StrCat("client certificate \"", absl::CHexEscape(subject), "\"");
  if (common_names != 1 || !IsValidIdentityName(identity.name)) {
    return absl::PermissionDeniedError(absl::StrCat(
        quoted, ": needs exactly one CN naming the identity (1-128 letters, digits, . _ - @ :)"));
  }
  if (identity.roles.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        quoted, ": names no role; add OU=submitter, OU=scorer, OU=trainer or OU=admin"));
  }
  identity.via = "certificate";
  return identity;
}

}  // namespace cluedrop::auth
