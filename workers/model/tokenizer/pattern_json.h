// Reads the `{"String": "..."}` / `{"Regex": "..."}` patterns of Split,
// Replace (normalizer and decoder) into a compiled Regex.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_PATTERN_JSON_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_PATTERN_JSON_H_

#include <memory>

#include "base/status.h"
#include "workers/model/tokenizer/json_util.h"
#include "workers/model/tokenizer/regex.h"

namespace cluedrop::model::tokenizer {

// `value` is the pattern object located at `path`. INVALID_ARGUMENT when it
// is neither form or the regex does not compile.
StatusOr<std::unique_ptr<Regex>> RegexFromPatternJson(const Json& value, const JsonPath& path);

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_PATTERN_JSON_H_
