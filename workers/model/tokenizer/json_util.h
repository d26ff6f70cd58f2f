// Typed access to tokenizer.json values with errors that name the file and
// the JSON path: `INVALID_ARGUMENT: tokenizer.json: model.vocab: expected an
// object, got array`.
//
// Never throws; thread-safe (pure functions over const JSON).
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_JSON_UTIL_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_JSON_UTIL_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cluedrop::model::tokenizer {

using Json = nlohmann::json;

// A location in a JSON document: file display name and dotted path.
class JsonPath {
 public:
  JsonPath(std::string file, std::string path) : file_(std::move(file)), path_(std::move(path)) {}

  JsonPath Key(std::string_view key) const;
  JsonPath Index(size_t index) const;
  // INVALID_ARGUMENT "<file>: <path>: <message>" (no path part at the root).
  Status Error(std::string_view message) const;

  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }

 private:
  std::string file_;
  std::string path_;
};

// "object", "array", "string", "number", "boolean" or "null".
std::string JsonTypeName(const Json& value);

// The member `key` of object `obj`, or nullptr when absent (or obj is no object).
const Json* FindMember(const Json& obj, std::string_view key);

// Each getter reads member `key` of `obj` (located at `path`). "Required"
// getters fail when the member is absent or null; the others return the
// default / nullopt then. All fail when the member has the wrong type.
StatusOr<std::string> RequiredString(const Json& obj, std::string_view key, const JsonPath& path);
StatusOr<std::optional<std::string>> OptionalString(const Json& obj, std::string_view key,
                                                    const JsonPath& path);
StatusOr<bool> BoolOr(const Json& obj, std::string_view key, const JsonPath& path,
                      bool default_value);
StatusOr<int64_t> RequiredInt(const Json& obj, std::string_view key, const JsonPath& path,
                              int64_t min_value, int64_t max_value);
StatusOr<int64_t> IntOr(const Json& obj, std::string_view key, const JsonPath& path,
                        int64_t default_value, int64_t min_value, int64_t max_value);
StatusOr<const Json*> RequiredArray(const Json& obj, std::string_view key, const JsonPath& path);
StatusOr<const Json*> RequiredObject(const Json& obj, std::string_view key, const JsonPath& path);
// A member that is a single Unicode char given as a string (e.g. "▁").
StatusOr<char32_t> RequiredChar(const Json& obj, std::string_view key, const JsonPath& path);

// Checks that `value` (at `path`) is an object.
Status ExpectObject(const Json& value, const JsonPath& path);
// Checks that `value` is an integer in [min_value, max_value].
StatusOr<int64_t> AsInt(const Json& value, const JsonPath& path, int64_t min_value,
                        int64_t max_value);

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_JSON_UTIL_H_
