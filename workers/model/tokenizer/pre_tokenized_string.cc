#include "workers/model/tokenizer/pre_tokenized_string.h"

namespace cluedrop::model::tokenizer {

PreTokenizedString::PreTokenizedString(std::string_view text) {
  splits_.push_back({NormalizedString(text), std::nullopt});
}

Status PreTokenizedString::SplitWith(const SplitFn& fn) {
  std::vector<Split> next;
  next.reserve(splits_.size());
  for (size_t i = 0; i < splits_.size(); ++i) {
    Split& split = splits_[i];
    if (split.tokens) {
      next.push_back(std::move(split));
      continue;
    }
    CLUEDROP_ASSIGN_OR_RETURN(std::vector<Split> pieces, fn(i, std::move(split.normalized)));
    for (Split& piece : pieces) {
      if (!piece.normalized.empty()) next.push_back(std::move(piece));
    }
  }
  splits_ = std::move(next);
  return OkStatus();
}

Status PreTokenizedString::NormalizeWith(const std::function<Status(NormalizedString*)>& fn) {
  for (Split& split : splits_) {
    if (!split.tokens) CLUEDROP_RETURN_IF_ERROR(fn(&split.normalized));
  }
  return OkStatus();
}

Status PreTokenizedString::TokenizeWith(
    const std::function<StatusOr<std::vector<Token>>(const NormalizedString&)>& fn) {
  for (Split& split : splits_) {
    if (split.tokens) continue;
    CLUEDROP_ASSIGN_OR_RETURN(std::vector<Token> tokens, fn(split.normalized));
    split.tokens = std::move(tokens);
  }
  return OkStatus();
}

Encoding PreTokenizedString::IntoEncoding() const {
  Encoding encoding;
  for (const Split& split : splits_) {
    if (!split.tokens) continue;
    const size_t shift = split.normalized.original_shift();
    for (const Token& token : *split.tokens) {
      std::optional<Offsets> original =
          split.normalized.NormalizedToOriginal(token.begin, token.end);
      const Offsets offsets = original ? Offsets{shift + original->first, shift + original->second}
                                       : Offsets{token.begin, token.end};
      encoding.Append(token.id, token.value, offsets, 0);
    }
  }
  return encoding;
}

}  // namespace cluedrop::model::tokenizer
