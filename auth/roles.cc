#include "auth/roles.h"

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cluedrop::auth {
namespace {

constexpr std::array<std::pair<Role, absl::string_view>, 4> kRoles = {{
    {Role::kSubmitter, "submitter"},
    {Role::kScorer, "scorer"},
    {Role::kTrainer, "trainer"},
    {Role::kAdmin, "admin"},
}};

}  // namespace

absl::string_view RoleName(Role role) {
  for (const auto& [r, name] : kRoles) {
    if (r == role) return name;
  }
  return "unknown";
}

std::string RoleSet::ToString() const {
  std::string out;
  for (const auto& [role, name] : kRoles) {
    if (Has(role)) absl::StrAppend(&out, out.empty() ? "" : ",", name);
  }
  return out;
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (const auto& [role, known] : kRoles) {
    if (name == known) return role;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown role \"", absl::CEscape(name),
                                                 "\" (known: submitter, scorer, trainer, admin)"));
}

absl::StatusOr<RoleSet> ParseRoles(absl::string_view names) {
  RoleSet roles;
  for (absl::string_view name : absl::StrSplit(names, ',')) {
    absl::StatusOr<Role> role = ParseRole(absl::StripAsciiWhitespace(name));
    if (!role.ok()) return role.status();
    roles.Add(*role);
  }
  return roles;
}

}  // namespace cluedrop::auth
