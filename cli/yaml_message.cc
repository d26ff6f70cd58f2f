#include "cli/yaml_message.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/enum_names.h"

namespace cluedrop::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr size_t kMaxErrors = 20;

// `"text"` (escaped, cut at 40 bytes) for a scalar; "a mapping", "a list",
// "null" otherwise.
std::string Describe(const YamlNode& node) {
  switch (node.type()) {
    case YamlNode::Type::kMap:
      return "a mapping";
    case YamlNode::Type::kSequence:
      return "a list";
    case YamlNode::Type::kScalar: {
      std::string text = node.scalar();
      if (text.size() > 40) text = text.substr(0, 40) + "...";
      return absl::StrCat("\"", absl::CHexEscape(text), "\"");
    }
    default:
      return "null";
  }
}

std::string Join(absl::string_view path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

// Levenshtein distance, for "did you mean" hints.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The field named `key` (proto or JSON name), or nullptr.
const FieldDescriptor* FindField(const Descriptor* type, const std::string& key) {
  if (const FieldDescriptor* field = type->FindFieldByName(key)) return field;
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->json_name() == key) return type->field(i);
  }
  return nullptr;
}

// The field name closest to `key` when it is a plausible typo.
std::string Suggestion(const Descriptor* type, const std::string& key) {
  std::string best;
  size_t best_distance = 3;
  for (int i = 0; i < type->field_count(); ++i) {
    const std::string& name = type->field(i)->name();
    const size_t distance = EditDistance(absl::AsciiStrToLower(key), name);
    if (distance < best_distance) {
      best_distance = distance;
      best = name;
    }
  }
  return best;
}

// A scalar value converted for one field, ready to store.
struct ScalarValue {
  int64_t i64 = 0;
  uint64_t u64 = 0;
  double f64 = 0;
  bool b = false;
  int enum_number = 0;
  std::string text;
};

class Converter {
 public:
  explicit Converter(JobSpecLines* lines) : lines_(lines) {}

  void ConvertMessage(const YamlNode& node, const std::string& path, int line, Message* message);

  absl::Status Result() const {
    if (errors_.empty()) return absl::OkStatus();
    std::string message = absl::StrJoin(errors_, "\n");
    if (dropped_ > 0) {
      absl::StrAppend(&message, "\n", lines_->file(), ": ", dropped_, " more errors not shown");
    }
    return absl::InvalidArgumentError(message);
  }

 private:
  static int LineOf(const YamlNode& node, int fallback) {
    return node.line() > 0 ? node.line() : fallback;
  }

  void Error(int line, absl::string_view path, absl::string_view what) {
    if (errors_.size() >= kMaxErrors) {
      ++dropped_;
      return;
    }
    std::string where = lines_->file();
    if (line > 0) absl::StrAppend(&where, ":", line);
    errors_.push_back(path.empty() ? absl::StrCat(where, ": ", what)
                                   : absl::StrCat(where, ": ", path, ": ", what));
  }

  void ConvertField(const YamlNode& value, const std::string& path, int line, Message* message,
                    const FieldDescriptor* field);
  void ConvertMap(const YamlNode& value, const std::string& path, int line, Message* message,
                  const FieldDescriptor* field);
  // Converts a scalar for `field`; false (error reported) when it does not fit.
  bool ConvertScalar(const YamlNode& node, const std::string& path, int line,
                     const FieldDescriptor* field, ScalarValue* out);
  // Stores `value` into `field` of `message` (appending when repeated).
  static void Store(Message* message, const FieldDescriptor* field, const ScalarValue& value);

  JobSpecLines* lines_;
  std::vector<std::string> errors_;
  int dropped_ = 0;  // errors beyond kMaxErrors
};

void Converter::ConvertMessage(const YamlNode& node, const std::string& path, int line,
                               Message* message) {
  const Descriptor* type = message->GetDescriptor();
  if (!node.IsMap()) {
    Error(LineOf(node, line), path,
          absl::StrCat("expected a mapping of ", type->name(), " fields, got ", Describe(node)));
    return;
  }
  std::set<int> seen;
  for (const auto& [key, value] : node.entries()) {
    const int key_line = LineOf(key, line);
    if (!key.IsScalar()) {
      Error(key_line, path, absl::StrCat("expected a field name, got ", Describe(key)));
      continue;
    }
    const std::string name = key.scalar();
    const FieldDescriptor* field = FindField(type, name);
    if (field == nullptr) {
      std::string what = "unknown field";
      const std::string hint = Suggestion(type, name);
      if (!hint.empty()) absl::StrAppend(&what, " (did you mean ", hint, "?)");
      Error(key_line, Join(path, name), what);
      continue;
    }
    const std::string field_path = Join(path, field->name());
    if (!seen.insert(field->number()).second) {
      Error(key_line, field_path, "duplicate field");
      continue;
    }
    lines_->Set(field_path, key_line);
    if (value.IsNull()) continue;  // written but empty: left unset
    ConvertField(value, field_path, key_line, message, field);
  }
}

void Converter::ConvertField(const YamlNode& value, const std::string& path, int line,
                             Message* message, const FieldDescriptor* field) {
  const Reflection* reflection = message->GetReflection();
  if (field->is_map()) {
    ConvertMap(value, path, line, message, field);
    return;
  }
  if (field->is_repeated()) {
    if (!value.IsSequence()) {
      Error(LineOf(value, line), path, absl::StrCat("expected a list, got ", Describe(value)));
      return;
    }
    for (size_t i = 0; i < value.items().size(); ++i) {
      const YamlNode& element = value.items()[i];
      const std::string element_path = absl::StrCat(path, "[", i, "]");
      const int element_line = LineOf(element, line);
      lines_->Set(element_path, element_line);
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        ConvertMessage(element, element_path, element_line, reflection->AddMessage(message, field));
        continue;
      }
      ScalarValue scalar;
      if (ConvertScalar(element, element_path, element_line, field, &scalar)) {
        Store(message, field, scalar);
      }
    }
    return;
  }
  if (const auto* oneof = field->real_containing_oneof()) {
    if (reflection->HasOneof(*message, oneof)) {
      const FieldDescriptor* other = reflection->GetOneofFieldDescriptor(*message, oneof);
      Error(line, path,
            absl::StrCat("only one of ", other->name(), " and ", field->name(),
                         " may be set (oneof ", oneof->name(), ")"));
      return;
    }
  }
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    ConvertMessage(value, path, line, reflection->MutableMessage(message, field));
    return;
  }
  ScalarValue scalar;
  if (ConvertScalar(value, path, line, field, &scalar)) Store(message, field, scalar);
}

void Converter::ConvertMap(const YamlNode& value, const std::string& path, int line,
                           Message* message, const FieldDescriptor* field) {
  if (!value.IsMap()) {
    Error(LineOf(value, line), path, absl::StrCat("expected a mapping, got ", Describe(value)));
    return;
  }
  const FieldDescriptor* key_field = field->message_type()->map_key();
  const FieldDescriptor* value_field = field->message_type()->map_value();
  std::set<std::string> seen;
  for (const auto& [item_key, item_value] : value.entries()) {
    const int entry_line = LineOf(item_key, line);
    if (!item_key.IsScalar()) {
      Error(entry_line, path, absl::StrCat("expected a key, got ", Describe(item_key)));
      continue;
    }
    const std::string entry_path =
        absl::StrCat(path, "[\"", absl::CHexEscape(item_key.scalar()), "\"]");
    if (!seen.insert(item_key.scalar()).second) {
      Error(entry_line, entry_path, "duplicate key");
      continue;
    }
    lines_->Set(entry_path, entry_line);
    ScalarValue key;
    ScalarValue mapped;
    if (!ConvertScalar(item_key, entry_path, entry_line, key_field, &key)) continue;
    if (value_field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Message* entry = message->GetReflection()->AddMessage(message, field);
      Store(entry, key_field, key);
      ConvertMessage(item_value, entry_path, entry_line,
                     entry->GetReflection()->MutableMessage(entry, value_field));
      continue;
    }
    if (item_value.IsNull()) {
      Error(entry_line, entry_path, "expected a value, got null");
      continue;
    }
    if (!ConvertScalar(item_value, entry_path, entry_line, value_field, &mapped)) continue;
    Message* entry = message->GetReflection()->AddMessage(message, field);
    Store(entry, key_field, key);
    Store(entry, value_field, mapped);
  }
}

bool Converter::ConvertScalar(const YamlNode& node, const std::string& path, int line,
                              const FieldDescriptor* field, ScalarValue* out) {
  line = LineOf(node, line);
  const auto fail = [&](absl::string_view expected) {
    Error(line, path, absl::StrCat("expected ", expected, ", got ", Describe(node)));
    return false;
  };
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      if (!node.IsScalar()) return fail("a string");
      out->text = node.scalar();
      return true;
    case FieldDescriptor::CPPTYPE_BOOL: {
      if (!node.IsScalar()) return fail("true or false");
      const std::string word = absl::AsciiStrToLower(node.scalar());
      if (word != "true" && word != "false") return fail("true or false");
      out->b = word == "true";
      return true;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      if (!node.IsScalar()) return fail("an enum name");
      std::optional<int> number = ParseEnumName(field->enum_type(), node.scalar());
      if (!number) return fail(absl::StrCat("one of ", EnumChoices(field->enum_type())));
      out->enum_number = *number;
      return true;
    }
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      if (!node.IsScalar()) return fail("a number");
      double value = 0;
      if (!absl::SimpleAtod(node.scalar(), &value)) return fail("a number");
      const double limit = field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT
                               ? static_cast<double>(FLT_MAX)
                               : std::numeric_limits<double>::max();
      if (!std::isfinite(value) || std::fabs(value) > limit) return fail("a finite number");
      out->f64 = value;
      return true;
    }
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64: {
      if (!node.IsScalar()) return fail("an integer");
      const bool is32 = field->cpp_type() == FieldDescriptor::CPPTYPE_INT32;
      const int64_t lo =
          is32 ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int64_t>::min();
      const int64_t hi =
          is32 ? std::numeric_limits<int32_t>::max() : std::numeric_limits<int64_t>::max();
      const std::string& text = node.scalar();
      if (text.find_first_not_of("+-0123456789") != std::string::npos) return fail("an integer");
      if (!absl::SimpleAtoi(text, &out->i64) || out->i64 < lo || out->i64 > hi) {
        return fail(absl::StrCat("an integer in [", lo, ", ", hi, "]"));
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64: {
      if (!node.IsScalar()) return fail("an integer");
      const uint64_t hi = field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32
                              ? std::numeric_limits<uint32_t>::max()
                              : std::numeric_limits<uint64_t>::max();
      const std::string& text = node.scalar();
      if (text.find_first_not_of("+-0123456789") != std::string::npos) return fail("an integer");
      if (absl::StrContains(text, '-')) return fail("a non-negative integer");
      if (!absl::SimpleAtoi(text, &out->u64) || out->u64 > hi) {
        return fail(absl::StrCat("an integer in [0, ", hi, "]"));
      }
      return true;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return fail("a value of another kind");
}

void Converter::Store(Message* message, const FieldDescriptor* field, const ScalarValue& value) {
  const Reflection* r = message->GetReflection();
  const bool add = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      add ? r->AddString(message, field, value.text) : r->SetString(message, field, value.text);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      add ? r->AddBool(message, field, value.b) : r->SetBool(message, field, value.b);
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      add ? r->AddEnumValue(message, field, value.enum_number)
          : r->SetEnumValue(message, field, value.enum_number);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT: {
      const float f = static_cast<float>(value.f64);
      add ? r->AddFloat(message, field, f) : r->SetFloat(message, field, f);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
      add ? r->AddDouble(message, field, value.f64) : r->SetDouble(message, field, value.f64);
      break;
    case FieldDescriptor::CPPTYPE_INT32: {
      const auto v = static_cast<int32_t>(value.i64);
      add ? r->AddInt32(message, field, v) : r->SetInt32(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64:
      add ? r->AddInt64(message, field, value.i64) : r->SetInt64(message, field, value.i64);
      break;
    case FieldDescriptor::CPPTYPE_UINT32: {
      const auto v = static_cast<uint32_t>(value.u64);
      add ? r->AddUInt32(message, field, v) : r->SetUInt32(message, field, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64:
      add ? r->AddUInt64(message, field, value.u64) : r->SetUInt64(message, field, value.u64);
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
}

}  // namespace

absl::Status YamlToMessage(const YamlNode& node, google::protobuf::Message* message,
                           JobSpecLines* lines) {
  Converter converter(lines);
  converter.ConvertMessage(node, "", 1, message);
  return converter.Result();
}

}  // namespace cluedrop::cli
