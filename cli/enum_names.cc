#include "cli/enum_names.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace cluedrop::cli {

std::string EnumPrefix(const google::protobuf::EnumDescriptor* type) {
  const google::protobuf::EnumValueDescriptor* zero = type->FindValueByNumber(0);
  if (zero == nullptr) return "";
  absl::string_view name = zero->name();
  if (!absl::ConsumeSuffix(&name, "UNSPECIFIED")) return "";
  return std::string(name);
}

std::optional<int> ParseEnumName(const google::protobuf::EnumDescriptor* type,
                                 absl::string_view name) {
  const std::string upper = absl::AsciiStrToUpper(name);
  if (upper.empty()) return std::nullopt;
  if (const auto* value = type->FindValueByName(upper)) return value->number();
  if (const auto* value = type->FindValueByName(EnumPrefix(type) + upper)) {
    return value->number();
  }
  return std::nullopt;
}

std::string ShortEnumName(const google::protobuf::EnumValueDescriptor* value) {
  absl::string_view name = value->name();
  absl::ConsumePrefix(&name, EnumPrefix(value->type()));
  return absl::AsciiStrToLower(name);
}

std::string ShortEnumName(const google::protobuf::EnumDescriptor* type, int number) {
  const google::protobuf::EnumValueDescriptor* value = type->FindValueByNumber(number);
  return value == nullptr ? std::to_string(number) : ShortEnumName(value);
}

std::string EnumChoices(const google::protobuf::EnumDescriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() == 0) continue;
    names.push_back(ShortEnumName(type->value(i)));
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace cluedrop::cli
