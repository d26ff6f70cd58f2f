// PreTokenizedString: the input text cut into splits (each a NormalizedString,
// possibly already tokenized, e.g. an added token), as in `tokenizers`.
// Pre-tokenizers refine the splits; the model tokenizes the remaining ones;
// IntoEncoding() maps every token back to byte offsets of the input.
//
// Not thread-safe; one per Encode call.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_PRE_TOKENIZED_STRING_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_PRE_TOKENIZED_STRING_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/encoding.h"
#include "workers/model/tokenizer/normalized_string.h"

namespace cluedrop::model::tokenizer {

// A token produced by a model or by the added vocabulary; offsets are byte
// offsets into the normalized string of its split.
struct Token {
  int32_t id = 0;
  std::string value;
  size_t begin = 0;
  size_t end = 0;
};

struct Split {
  NormalizedString normalized;
  std::optional<std::vector<Token>> tokens;
};

class PreTokenizedString {
 public:
  // `text` must be valid UTF-8.
  explicit PreTokenizedString(std::string_view text);

  // Replaces every split that has no tokens yet by what `fn` returns for it;
  // empty results are dropped. Stops at the first error.
  using SplitFn = std::function<StatusOr<std::vector<Split>>(size_t index, NormalizedString)>;
  Status SplitWith(const SplitFn& fn);
  // Applies `fn` to every split that has no tokens yet.
  Status NormalizeWith(const std::function<Status(NormalizedString*)>& fn);
  // Tokenizes every split that has no tokens yet.
  Status TokenizeWith(
      const std::function<StatusOr<std::vector<Token>>(const NormalizedString&)>& fn);

  // All tokens with byte offsets into the original text; `special` all 0.
  Encoding IntoEncoding() const;

  const std::vector<Split>& splits() const { return splits_; }

 private:
  std::vector<Split> splits_;
};

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_PRE_TOKENIZED_STRING_H_
