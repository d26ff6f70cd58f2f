#include "workers/model/tokenizer/word_level_model.h"

namespace cluedrop::model::tokenizer {

StatusOr<std::unique_ptr<WordLevelModel>> WordLevelModel::FromJson(const Json& value,
                                                                   const JsonPath& path) {
  CLUEDROP_RETURN_IF_ERROR(ExpectObject(value, path));
  const Json* vocab_json = FindMember(value, "vocab");
  if (vocab_json == nullptr) return path.Key("vocab").Error("missing");
  CLUEDROP_ASSIGN_OR_RETURN(Vocab vocab, VocabFromJson(*vocab_json, path.Key("vocab")));
  CLUEDROP_ASSIGN_OR_RETURN(std::optional<std::string> unk,
                            OptionalString(value, "unk_token", path));
  return std::make_unique<WordLevelModel>(std::move(vocab), unk.value_or("<unk>"));
}

StatusOr<std::vector<Token>> WordLevelModel::Tokenize(std::string_view word) const {
  std::vector<Token> tokens;
  if (std::optional<int32_t> id = vocab_.Find(word)) {
    tokens.push_back({*id, std::string(word), 0, word.size()});
  } else if (std::optional<int32_t> unk = vocab_.Find(unk_token_)) {
    tokens.push_back({*unk, unk_token_, 0, word.size()});
  } else {
    return FailedPreconditionError("WordLevel: no token for '" + std::string(word) +
                                   "' and unk_token '" + unk_token_ + "' is not in the vocabulary");
  }
  return tokens;
}

}  // namespace cluedrop::model::tokenizer
