// Added tokens (tokenizers' AddedVocabulary): tokens declared in
// tokenizer.json's "added_tokens", special or not, that are cut out of the
// text before the model sees it. Tokens with normalized=false are found in
// the raw text first; the others are found, by their normalized form, in the
// normalized remainder. Matching is leftmost-longest, with the single_word,
// lstrip and rstrip options of tokenizers.
//
// Thread-safety: build with Add() + Build(), then treat as immutable; the
// const methods may run concurrently.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_ADDED_VOCABULARY_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_ADDED_VOCABULARY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/model.h"
#include "workers/model/tokenizer/normalizers.h"
#include "workers/model/tokenizer/pre_tokenized_string.h"

namespace cluedrop::model::tokenizer {

struct AddedToken {
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
  bool operator==(const AddedToken&) const = default;
};

class AddedVocabulary {
 public:
  // Registers `token` like tokenizers' add_tokens/add_special_tokens: it keeps
  // the id it has in `model`'s vocabulary (or as an earlier added token),
  // else gets the next free id. Returns the id, or nullopt if ignored (empty
  // content or an exact duplicate).
  std::optional<int32_t> Add(const AddedToken& token, const Model& model);
  // Builds the matchers; `normalizer` (may be null) normalizes the patterns of
  // normalized tokens. Call once after the last Add().
  Status Build(const Normalizer* normalizer, const Model& model);

  // Splits `text` around added tokens (tokenized splits), normalizing the rest
  // with `normalizer` (may be null). `text` must be valid UTF-8.
  StatusOr<PreTokenizedString> ExtractAndNormalize(const Normalizer* normalizer,
                                                   std::string_view text) const;

  std::optional<int32_t> TokenToId(std::string_view content) const;
  const std::string* IdToToken(int32_t id) const;
  bool IsSpecialContent(std::string_view content) const;
  bool IsSpecialId(int32_t id) const;
  size_t size() const { return content_to_id_.size(); }
  const std::unordered_map<std::string, int32_t, StringViewHash, StringViewEq>& content_to_id()
      const {
    return content_to_id_;
  }

 private:
  // A byte trie for leftmost-longest matching.
  struct Trie {
    struct Node {
      std::map<unsigned char, int32_t> children;
      int32_t id = -1;  // added token id when a pattern ends here
    };
    std::vector<Node> nodes{Node()};
    void Insert(std::string_view pattern, int32_t id);
    // The leftmost-longest match starting at or after `from`: (begin, end, id).
    bool FindFrom(std::string_view text, size_t from, size_t* begin, size_t* end,
                  int32_t* id) const;
  };
  struct Piece {
    std::optional<int32_t> id;
    size_t begin;
    size_t end;
  };
  std::vector<Piece> FindMatches(std::string_view sentence, const Trie& trie) const;
  StatusOr<std::vector<Split>> SplitWithIndices(NormalizedString sentence, const Trie& trie) const;

  std::unordered_map<std::string, int32_t, StringViewHash, StringViewEq> content_to_id_;
  std::unordered_map<int32_t, AddedToken> id_to_token_;
  std::vector<AddedToken> added_tokens_;    // non-special, in order
  std::vector<AddedToken> special_tokens_;  // in order
  std::set<std::string, std::less<>> special_contents_;
  std::optional<int32_t> max_id_;
  Trie raw_trie_;         // normalized == false
  Trie normalized_trie_;  // normalized == true, patterns normalized
};

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_ADDED_VOCABULARY_H_
