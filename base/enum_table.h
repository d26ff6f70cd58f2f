// Name <-> value tables for small enums that users type (flags, spec files):
// parse with a clear error listing the choices, and print.
//
// Example:
//   constexpr std::array<std::pair<const char*, Color>, 2> kColors = {{
//       {"red", Color::kRed}, {"blue", Color::kBlue}}};
//   CLUEDROP_ASSIGN_OR_RETURN(Color c, ParseEnumName("color", "red", kColors));
//   const char* name = EnumName(c, kColors);  // "red"
//
// Header-only, pure, thread-safe.
#ifndef CLUEDROP_BASE_ENUM_TABLE_H_
#define CLUEDROP_BASE_ENUM_TABLE_H_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"

namespace cluedrop {

// The value named `name`; INVALID_ARGUMENT "<what>: unknown value 'x'
// (choose a, b, c)" otherwise.
template <typename Enum, size_t N>
StatusOr<Enum> ParseEnumName(std::string_view what, std::string_view name,
                             const std::array<std::pair<const char*, Enum>, N>& table) {
  std::string choices;
  for (const auto& [text, value] : table) {
    if (name == text) return value;
    choices += choices.empty() ? "" : ", ";
    choices += text;
  }
  return InvalidArgumentError(std::string(what) + ": unknown value '" + std::string(name) +
                              "' (choose " + choices + ")");
}

// The name of `value`, or "?" when the table lacks it.
template <typename Enum, size_t N>
const char* EnumName(Enum value, const std::array<std::pair<const char*, Enum>, N>& table) {
  for (const auto& [text, v] : table) {
    if (v == value) return text;
  }
  return "?";
}

}  // namespace cluedrop

#endif  // CLUEDROP_BASE_ENUM_TABLE_H_
