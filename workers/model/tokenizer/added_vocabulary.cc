#include "workers/model/tokenizer/added_vocabulary.h"

#include <algorithm>

#include "workers/model/tokenizer/regex.h"
#include "workers/model/tokenizer/utf8.h"

namespace cluedrop::model::tokenizer {
namespace {

char32_t LastChar(std::string_view s) {
  size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  size_t len = 0;
  return DecodeUtf8At(s, i, &len);
}

// Start of the whitespace run at the end of `s` (s.size() if none).
size_t TrailingSpaceStart(std::string_view s) {
  size_t i = s.size();
  while (i > 0) {
    size_t k = i - 1;
    while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
    size_t len = 0;
    if (!IsWhitespace(DecodeUtf8At(s, k, &len))) break;
    i = k;
  }
  return i;
}

// Byte length of the whitespace run at the start of `s`.
size_t LeadingSpaceLen(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t len = 0;
    if (!IsWhitespace(DecodeUtf8At(s, i, &len))) break;
    i += len;
  }
  return i;
}

}  // namespace

void AddedVocabulary::Trie::Insert(std::string_view pattern, int32_t id) {
  int32_t node = 0;
  for (unsigned char b : pattern) {
    auto it = nodes[node].children.find(b);
    if (it == nodes[node].children.end()) {
      nodes.push_back(Node());
      const int32_t child = static_cast<int32_t>(nodes.size() - 1);
      nodes[node].children.emplace(b, child);
      node = child;
    } else {
      node = it->second;
    }
  }
  if (nodes[node].id < 0) nodes[node].id = id;  // first pattern wins on duplicates
}

bool AddedVocabulary::Trie::FindFrom(std::string_view text, size_t from, size_t* begin, size_t* end,
                                     int32_t* id) const {
  if (nodes[0].children.empty()) return false;
  for (size_t start = from; start < text.size(); ++start) {
    int32_t node = 0;
    int32_t best_id = -1;
    size_t best_end = 0;
    for (size_t i = start; i < text.size(); ++i) {
      const auto& children = nodes[node].children;
      auto it = children.find(static_cast<unsigned char>(text[i]));
      if (it == children.end()) break;
      node = it->second;
      if (nodes[node].id >= 0) {
        best_id = nodes[node].id;
        best_end = i + 1;
      }
    }
    if (best_id >= 0) {
      *begin = start;
      *end = best_end;
      *id = best_id;
      return true;
    }
  }
  return false;
}

std::optional<int32_t> AddedVocabulary::Add(const AddedToken& token, const Model& model) {
  if (token.special && !token.content.empty() && !special_contents_.contains(token.content)) {
    special_tokens_.push_back(token);
    special_contents_.insert(token.content);
  }
  if (token.content.empty()) return std::nullopt;
  if (auto it = content_to_id_.find(token.content);
      it != content_to_id_.end() && id_to_token_.at(it->second) == token) {
    return std::nullopt;  // exact duplicate
  }
  std::optional<int32_t> id = TokenToId(token.content);
  if (!id) id = model.vocab().Find(token.content);
  if (!id) {
    const int64_t vocab_size = static_cast<int64_t>(model.vocab().size());
    int64_t next = vocab_size;
    if (max_id_ && (*max_id_ >= vocab_size || vocab_size == 0)) next = int64_t{*max_id_} + 1;
    id = static_cast<int32_t>(std::min<int64_t>(next, INT32_MAX));
  }
  content_to_id_[token.content] = *id;
  id_to_token_[*id] = token;
  max_id_ = max_id_ ? std::max(*max_id_, *id) : *id;
  if (!special_contents_.contains(token.content)) added_tokens_.push_back(token);
  return id;
}

Status AddedVocabulary::Build(const Normalizer* normalizer, const Model& model) {
  raw_trie_ = Trie();
  normalized_trie_ = Trie();
  std::vector<const AddedToken*> all;
  for (const AddedToken& t : special_tokens_) all.push_back(&t);
  for (const AddedToken& t : added_tokens_) all.push_back(&t);
  for (const AddedToken* token : all) {
    std::optional<int32_t> id = TokenToId(token->content);
    if (!id) id = model.vocab().Find(token->content);
    if (!id) return InternalError("added token '" + token->content + "' has no id");
    if (!token->normalized) {
      raw_trie_.Insert(token->content, *id);
      continue;
    }
    NormalizedString pattern(token->content);
    if (normalizer != nullptr) CLUEDROP_RETURN_IF_ERROR(normalizer->Normalize(&pattern));
    if (!pattern.get().empty()) normalized_trie_.Insert(pattern.get(), *id);
  }
  return OkStatus();
}

std::vector<AddedVocabulary::Piece> AddedVocabulary::FindMatches(std::string_view sentence,
                                                                 const Trie& trie) const {
  std::vector<Piece> pieces;
  if (sentence.empty()) {
    pieces.push_back({std::nullopt, 0, 0});
    return pieces;
  }
  size_t start_offset = 0;
  size_t search_from = 0;
  size_t begin = 0, end = 0;
  int32_t id = 0;
  while (search_from < sentence.size() && trie.FindFrom(sentence, search_from, &begin, &end, &id)) {
    search_from = end;
    size_t start = begin;
    size_t stop = end;
    const AddedToken& token = id_to_token_.at(id);
    if (token.single_word) {
      const bool start_space = start == 0 || !IsWordChar(LastChar(sentence.substr(0, start)));
      size_t len = 0;
      const bool stop_space =
          stop == sentence.size() || !IsWordChar(DecodeUtf8At(sentence, stop, &len));
      if (!start_space || !stop_space) continue;
    }
    if (token.lstrip) start = std::max(TrailingSpaceStart(sentence.substr(0, start)), start_offset);
    if (token.rstrip) stop += LeadingSpaceLen(sentence.substr(stop));
    if (start_offset < start) pieces.push_back({std::nullopt, start_offset, start});
    pieces.push_back({id, start, stop});
    start_offset = stop;
  }
  if (start_offset != sentence.size())
    pieces.push_back({std::nullopt, start_offset, sentence.size()});
  return pieces;
}

StatusOr<std::vector<Split>> AddedVocabulary::SplitWithIndices(NormalizedString sentence,
                                                               const Trie& trie) const {
  std::vector<Split> splits;
  for (const Piece& piece : FindMatches(sentence.get(), trie)) {
    std::optional<NormalizedString> slice = sentence.Slice(piece.begin, piece.end);
    if (!slice) return InternalError("added vocabulary: bad split");
    if (piece.id) {
      std::string value = slice->get();
      const size_t len = value.size();
      std::vector<Token> tokens;
      tokens.push_back({*piece.id, std::move(value), 0, len});
      splits.push_back({std::move(*slice), std::move(tokens)});
    } else {
      splits.push_back({std::move(*slice), std::nullopt});
    }
  }
  return splits;
}

StatusOr<PreTokenizedString> AddedVocabulary::ExtractAndNormalize(const Normalizer* normalizer,
                                                                  std::string_view text) const {
  PreTokenizedString pretokenized(text);
  CLUEDROP_RETURN_IF_ERROR(pretokenized.SplitWith([&](size_t, NormalizedString sentence) {
    return SplitWithIndices(std::move(sentence), raw_trie_);
  }));
  CLUEDROP_RETURN_IF_ERROR(pretokenized.SplitWith(
      [&](size_t, NormalizedString sentence) -> StatusOr<std::vector<Split>> {
        if (normalizer != nullptr) CLUEDROP_RETURN_IF_ERROR(normalizer->Normalize(&sentence));
        return SplitWithIndices(std::move(sentence), normalized_trie_);
      }));
  return pretokenized;
}

std::optional<int32_t> AddedVocabulary::TokenToId(std::string_view content) const {
  auto it = content_to_id_.find(content);
  if (it == content_to_id_.end()) return std::nullopt;
  return it->second;
}

const std::string* AddedVocabulary::IdToToken(int32_t id) const {
  auto it = id_to_token_.find(id);
  return it == id_to_token_.end() ? nullptr : &it->second.content;
}

bool AddedVocabulary::IsSpecialContent(std::string_view content) const {
  return special_contents_.find(content) != special_contents_.end();
}

bool AddedVocabulary::IsSpecialId(int32_t id) const {
  const std::string* content = IdToToken(id);
  return content != nullptr && IsSpecialContent(*content);
}

}  // namespace cluedrop::model::tokenizer
