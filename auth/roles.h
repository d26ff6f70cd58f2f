// Who may call what on the coordinator (docs/security.md).
//
// Four roles: `submitter` (JobService: submit, watch, cancel and read its own
// jobs), `scorer` (WorkService), `trainer` (TrainService) and `admin` (every
// submitter's jobs). An identity holds a set of them.
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(RoleSet roles, ParseRoles("scorer,trainer"));
//   if (!roles.Has(Role::kScorer)) ...
#ifndef CLUEDROP_AUTH_ROLES_H_
#define CLUEDROP_AUTH_ROLES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cluedrop::auth {

enum class Role : uint32_t {
  kSubmitter = 1,
  kScorer = 2,
  kTrainer = 4,
  kAdmin = 8,
};

// "submitter", "scorer", "trainer", "admin".
absl::string_view RoleName(Role role);

class RoleSet {
 public:
  RoleSet() = default;
  static RoleSet All() { return RoleSet(15); }

  bool Has(Role role) const { return (bits_ & static_cast<uint32_t>(role)) != 0; }
  bool empty() const { return bits_ == 0; }
  void Add(Role role) { bits_ |= static_cast<uint32_t>(role); }
  void Add(RoleSet other) { bits_ |= other.bits_; }
  bool operator==(const RoleSet& other) const { return bits_ == other.bits_; }
  // "scorer,trainer" (in the order of the enum); "" when empty.
  std::string ToString() const;

 private:
  explicit RoleSet(uint32_t bits) : bits_(bits) {}
  uint32_t bits_ = 0;
};

// One role by name; INVALID_ARGUMENT naming the known roles otherwise.
absl::StatusOr<Role> ParseRole(absl::string_view name);
// A comma-separated list of role names (at least one).
absl::StatusOr<RoleSet> ParseRoles(absl::string_view names);

// An authenticated caller: a stable name (the token file's identity column,
// or the client certificate's CN) and the roles it holds.
struct Identity {
  std::string name;
  RoleSet roles;
  // How it was established, for logs and errors: "token", "certificate",
  // "unauthenticated (development mode)".
  std::string via;
};

}  // namespace cluedrop::auth

#endif  // CLUEDROP_AUTH_ROLES_H_
