#include "workers/model/tokenizer/json_util.h"

#include "workers/model/tokenizer/utf8.h"

namespace cluedrop::model::tokenizer {

JsonPath JsonPath::Key(std::string_view key) const {
  return JsonPath(file_, path_.empty() ? std::string(key) : path_ + "." + std::string(key));
}

JsonPath JsonPath::Index(size_t index) const {
  return JsonPath(file_, path_ + "[" + std::to_string(index) + "]");
}

Status JsonPath::Error(std::string_view message) const {
  std::string text = file_ + ": ";
  if (!path_.empty()) text += path_ + ": ";
  text += message;
  return InvalidArgumentError(std::move(text));
}

std::string JsonTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::null:
      return "null";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    default:
      return "value";
  }
}

const Json* FindMember(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

namespace {

Status WrongType(const Json& value, const JsonPath& path, std::string_view expected) {
  return path.Error("expected " + std::string(expected) + ", got " + JsonTypeName(value));
}

}  // namespace

StatusOr<std::string> RequiredString(const Json& obj, std::string_view key, const JsonPath& path) {
  const JsonPath p = path.Key(key);
  const Json* v = FindMember(obj, key);
  if (v == nullptr || v->is_null()) return p.Error("missing");
  if (!v->is_string()) return WrongType(*v, p, "a string");
  return v->get<std::string>();
}

StatusOr<std::optional<std::string>> OptionalString(const Json& obj, std::string_view key,
                                                    const JsonPath& path) {
  const Json* v = FindMember(obj, key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(*v, path.Key(key), "a string");
  return std::optional<std::string>(v->get<std::string>());
}

StatusOr<bool> BoolOr(const Json& obj, std::string_view key, const JsonPath& path,
                      bool default_value) {
  const Json* v = FindMember(obj, key);
  if (v == nullptr || v->is_null()) return default_value;
  if (!v->is_boolean()) return WrongType(*v, path.Key(key), "a boolean");
  return v->get<bool>();
}

StatusOr<int64_t> AsInt(const Json& value, const JsonPath& path, int64_t min_value,
                        int64_t max_value) {
  int64_t n = 0;
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(max_value)) {
      return path.Error(std::to_string(u) + " is out of range [" + std::to_string(min_value) +
                        ", " + std::to_string(max_value) + "]");
    }
    n = static_cast<int64_t>(u);
  } else if (value.is_number_integer()) {
    n = value.get<int64_t>();
  } else {
    return WrongType(value, path, "an integer");
  }
  if (n < min_value || n > max_value) {
    return path.Error(std::to_string(n) + " is out of range [" + std::to_string(min_value) + ", " +
                      std::to_string(max_value) + "]");
  }
  return n;
}

StatusOr<int64_t> RequiredInt(const Json& obj, std::string_view key, const JsonPath& path,
                              int64_t min_value, int64_t max_value) {
  const Json* v = FindMember(obj, key);
  if (v == nullptr || v->is_null()) return path.Key(key).Error("missing");
  return AsInt(*v, path.Key(key), min_value, max_value);
}

StatusOr<int64_t> IntOr(const Json& obj, std::string_view key, const JsonPath& path,
                        int64_t default_value, int64_t min_value, int64_t max_value) {
  const Json* v = FindMember(obj, key);
  if (v == nullptr || v->is_null()) return default_value;
  return AsInt(*v, path.Key(key), min_value, max_value);
}

StatusOr<const Json*> RequiredArray(const Json& obj, std::string_view key, const JsonPath& path) {
  const Json* v = FindMember(obj, key);
  if (v == nullptr || v->is_null()) return path.Key(key).Error("missing");
  if (!v->is_array()) return WrongType(*v, path.Key(key), "an array");
  return v;
}

StatusOr<const Json*> RequiredObject(const Json& obj, std::string_view key, const JsonPath& path) {
  const Json* v = FindMember(obj, key);
  if (v == nullptr || v->is_null()) return path.Key(key).Error("missing");
  if (!v->is_object()) return WrongType(*v, path.Key(key), "an object");
  return v;
}

StatusOr<char32_t> RequiredChar(const Json& obj, std::string_view key, const JsonPath& path) {
  CLUEDROP_ASSIGN_OR_RETURN(std::string s, RequiredString(obj, key, path));
  if (s.empty() || !IsValidUtf8(s) || CountChars(s) != 1) {
    return path.Key(key).Error("expected a single character, got '" + s + "'");
  }
  size_t len = 0;
  return DecodeUtf8At(s, 0, &len);
}

Status ExpectObject(const Json& value, const JsonPath& path) {
  if (!value.is_object()) return WrongType(value, path, "an object");
  return OkStatus();
}

}  // namespace cluedrop::model::tokenizer
