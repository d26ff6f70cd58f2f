#include "workers/model/tokenizer/pattern_json.h"

namespace cluedrop::model::tokenizer {

StatusOr<std::unique_ptr<Regex>> RegexFromPatternJson(const Json& value, const JsonPath& path) {
  if (!value.is_object() || value.size() != 1) {
    return path.Error("expected {\"String\": ...} or {\"Regex\": ...}, got " +
                      (value.is_object() ? std::string("an object with ") +
                                               std::to_string(value.size()) + " members"
                                         : JsonTypeName(value)));
  }
  if (const Json* s = FindMember(value, "String")) {
    if (!s->is_string())
      return path.Key("String").Error("expected a string, got " + JsonTypeName(*s));
    StatusOr<std::unique_ptr<Regex>> regex = Regex::Literal(s->get<std::string>());
    if (!regex.ok()) return path.Key("String").Error(regex.status().message());
    return regex;
  }
  if (const Json* r = FindMember(value, "Regex")) {
    if (!r->is_string())
      return path.Key("Regex").Error("expected a string, got " + JsonTypeName(*r));
    StatusOr<std::unique_ptr<Regex>> regex = Regex::Compile(r->get<std::string>());
    if (!regex.ok()) return path.Key("Regex").Error(regex.status().message());
    return regex;
  }
  return path.Error("unsupported pattern kind '" + value.begin().key() +
                    "' (want String or Regex)");
}

}  // namespace cluedrop::model::tokenizer
