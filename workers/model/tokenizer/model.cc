#include "workers/model/tokenizer/model.h"

#include <limits>

namespace cluedrop::model::tokenizer {

void Vocab::Add(std::string token, int32_t id) {
  id_to_token_.emplace(id, token);
  token_to_id_[std::move(token)] = id;
}

std::optional<int32_t> Vocab::Find(std::string_view token) const {
  auto it = token_to_id_.find(token);
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

const std::string* Vocab::Token(int32_t id) const {
  auto it = id_to_token_.find(id);
  return it == id_to_token_.end() ? nullptr : &it->second;
}

StatusOr<Vocab> VocabFromJson(const Json& value, const JsonPath& path) {
  if (!value.is_object()) return path.Error("expected an object, got " + JsonTypeName(value));
  Vocab vocab;
  for (auto it = value.begin(); it != value.end(); ++it) {
    CLUEDROP_ASSIGN_OR_RETURN(
        int64_t id, AsInt(it.value(), path.Key(it.key()), 0, std::numeric_limits<int32_t>::max()));
    vocab.Add(it.key(), static_cast<int32_t>(id));
  }
  return vocab;
}

}  // namespace cluedrop::model::tokenizer
