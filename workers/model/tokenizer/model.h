// The tokenization model interface (BPE, WordLevel) and the vocabulary type
// they share.
//
// Thread-safety: models are immutable after construction; all methods may be
// called concurrently.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_MODEL_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_MODEL_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/json_util.h"
#include "workers/model/tokenizer/pre_tokenized_string.h"

namespace cluedrop::model::tokenizer {

// Hash/equality that let unordered maps keyed by std::string be searched
// with a std::string_view.
struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
struct StringViewEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

// token string -> id, and back.
class Vocab {
 public:
  // Adds `token` with `id`; later duplicates of an id keep the first string.
  void Add(std::string token, int32_t id);
  std::optional<int32_t> Find(std::string_view token) const;
  const std::string* Token(int32_t id) const;
  size_t size() const { return token_to_id_.size(); }
  const std::unordered_map<std::string, int32_t, StringViewHash, StringViewEq>& map() const {
    return token_to_id_;
  }

 private:
  std::unordered_map<std::string, int32_t, StringViewHash, StringViewEq> token_to_id_;
  std::unordered_map<int32_t, std::string> id_to_token_;
};

// Reads a {"token": id, ...} object (ids in [0, 2^31)).
StatusOr<Vocab> VocabFromJson(const Json& value, const JsonPath& path);

class Model {
 public:
  virtual ~Model() = default;
  // Tokens of one pre-tokenized word; offsets are byte offsets into it.
  // FAILED_PRECONDITION when an unknown piece needs an unk token that the
  // vocabulary lacks.
  virtual StatusOr<std::vector<Token>> Tokenize(std::string_view word) const = 0;
  virtual const Vocab& vocab() const = 0;
};

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_MODEL_H_
