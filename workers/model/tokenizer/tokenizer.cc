#include "workers/model/tokenizer/tokenizer.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/file.h"
#include "workers/model/tokenizer/tokenizer_json.h"
#include "workers/model/tokenizer/utf8.h"

namespace cluedrop::model {

using tokenizer::NormalizedString;
using tokenizer::PreTokenizedString;
using tokenizer::TokenizerParts;

Tokenizer::Tokenizer(std::unique_ptr<TokenizerParts> parts) : parts_(std::move(parts)) {
  size_t size = parts_->model->vocab().size();
  for (const auto& [content, id] : parts_->added.content_to_id()) {
    if (!parts_->model->vocab().Find(content)) ++size;
  }
  vocab_size_ = static_cast<int32_t>(std::min<size_t>(size, INT32_MAX));
}

Tokenizer::~Tokenizer() = default;

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromFile(const std::string& tokenizer_json_path) {
  CLUEDROP_ASSIGN_OR_RETURN(std::string text, ReadFile(tokenizer_json_path));
  return FromJson(text, tokenizer_json_path);
}

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromDirectory(const std::string& dir) {
  std::string path = dir;
  if (!path.empty() && path.back() != '/') path += '/';
  return FromFile(path + "tokenizer.json");
}

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromJson(std::string_view json_text,
                                                         std::string display_name) {
  CLUEDROP_ASSIGN_OR_RETURN(TokenizerParts parts,
                            tokenizer::ParseTokenizerJson(json_text, display_name));
  return std::unique_ptr<Tokenizer>(
      new Tokenizer(std::make_unique<TokenizerParts>(std::move(parts))));
}

StatusOr<Encoding> Tokenizer::Encode(std::string_view text, bool add_special_tokens) const {
  if (const size_t bad = tokenizer::FindInvalidUtf8(text); bad != std::string_view::npos) {
    return InvalidArgumentError("Encode: text is not valid UTF-8 (at byte " + std::to_string(bad) +
                                ")");
  }
  CLUEDROP_ASSIGN_OR_RETURN(PreTokenizedString pretokenized,
                            parts_->added.ExtractAndNormalize(parts_->normalizer.get(), text));
  if (parts_->pre_tokenizer) {
    CLUEDROP_RETURN_IF_ERROR(parts_->pre_tokenizer->PreTokenize(&pretokenized));
  }
  const tokenizer::Model& model = *parts_->model;
  CLUEDROP_RETURN_IF_ERROR(pretokenized.TokenizeWith(
      [&](const NormalizedString& word) { return model.Tokenize(word.get()); }));
  Encoding encoding = pretokenized.IntoEncoding();
  if (parts_->post_processor) parts_->post_processor->Process(text, &encoding, add_special_tokens);
  for (size_t i = 0; i < encoding.size(); ++i) {
    if (IsSpecial(encoding.ids[i])) encoding.special[i] = 1;
  }
  return encoding;
}

StatusOr<std::string> Tokenizer::Decode(const std::vector<int32_t>& ids,
                                        bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    const std::string* token = TokenString(id);
    if (token == nullptr) continue;
    if (skip_special_tokens && parts_->added.IsSpecialContent(*token)) continue;
    tokens.push_back(*token);
  }
  if (parts_->decoder) return parts_->decoder->Decode(std::move(tokens));
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) out += ' ';
    out += tokens[i];
  }
  return out;
}

int32_t Tokenizer::vocab_size() const { return vocab_size_; }

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  if (std::optional<int32_t> id = parts_->added.TokenToId(token)) return id;
  return parts_->model->vocab().Find(token);
}

const std::string* Tokenizer::TokenString(int32_t id) const {
  if (const std::string* added = parts_->added.IdToToken(id)) return added;
  return parts_->model->vocab().Token(id);
}

std::optional<std::string> Tokenizer::IdToToken(int32_t id) const {
  const std::string* token = TokenString(id);
  if (token == nullptr) return std::nullopt;
  return *token;
}

bool Tokenizer::IsSpecial(int32_t id) const {
  const std::string* token = TokenString(id);
  return token != nullptr && parts_->added.IsSpecialContent(*token);
}

}  // namespace cluedrop::model
