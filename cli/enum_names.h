// Proto enum values by name, as users write them in job specs and flags.
//
// A value may be written in full (`AUGMENTATION_MODE_CONTRAST`) or short: the
// full name without the enum's prefix (the part before `UNSPECIFIED` in its
// zero value), in any case (`contrast`, `Contrast`). Integers are not
// accepted.
//
// Example:
//   const auto* mode = v1::AugmentationMode_descriptor();
//   std::optional<int> v = ParseEnumName(mode, "contrast");  // 5
//   ShortEnumName(mode->FindValueByNumber(5));                // "contrast"
//   EnumChoices(mode);  // "none, random, large, small, contrast, position"
#ifndef CLUEDROP_CLI_ENUM_NAMES_H_
#define CLUEDROP_CLI_ENUM_NAMES_H_

#include <google/protobuf/descriptor.h>

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace cluedrop::cli {

// The prefix shared by the enum's value names ("AUGMENTATION_MODE_"), taken
// from its `*_UNSPECIFIED` zero value; empty when it has none.
std::string EnumPrefix(const google::protobuf::EnumDescriptor* type);

// The number of the value named `name` (full or short, any case); nullopt
// when no value has that name.
std::optional<int> ParseEnumName(const google::protobuf::EnumDescriptor* type,
                                 absl::string_view name);

// "contrast" for AUGMENTATION_MODE_CONTRAST.
std::string ShortEnumName(const google::protobuf::EnumValueDescriptor* value);

// ShortEnumName of the enum value `number`, or the number itself when the
// enum has no such value (e.g. a newer server's state).
std::string ShortEnumName(const google::protobuf::EnumDescriptor* type, int number);

// The short names of every value except UNSPECIFIED, comma-separated, for
// error messages.
std::string EnumChoices(const google::protobuf::EnumDescriptor* type);

}  // namespace cluedrop::cli

#endif  // CLUEDROP_CLI_ENUM_NAMES_H_
