// Byte-pair encoding model (tokenizers' models::bpe::BPE): a word is split
// into chars (or <0xNN> byte tokens with byte_fallback, or unk), then the
// lowest-ranked applicable merge is applied repeatedly.
//
// Supports unk_token (with fuse_unk), byte_fallback, ignore_merges,
// continuing_subword_prefix and end_of_word_suffix. `dropout` is accepted and
// ignored: encoding is deterministic.
//
// Thread-safety: immutable after construction (apart from an internal,
// mutex-guarded cache of tokenized words); Tokenize may run concurrently.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_BPE_MODEL_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_BPE_MODEL_H_

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/json_util.h"
#include "workers/model/tokenizer/model.h"

namespace cluedrop::model::tokenizer {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::optional<std::string> continuing_subword_prefix;
  std::optional<std::string> end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

class BpeModel : public Model {
 public:
  // `merges` in rank order. INVALID_ARGUMENT (located at `path`.merges[i])
  // when a merge names a token, or produces one, that is not in `vocab`.
  static StatusOr<std::unique_ptr<BpeModel>> Create(
      Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      BpeOptions options, const JsonPath& path);
  // Reads a "type": "BPE" model object; merges may be "a b" strings or
  // ["a", "b"] pairs.
  static StatusOr<std::unique_ptr<BpeModel>> FromJson(const Json& value, const JsonPath& path);

  StatusOr<std::vector<Token>> Tokenize(std::string_view word) const override;
  const Vocab& vocab() const override { return vocab_; }
  const BpeOptions& options() const { return options_; }

 private:
  struct MergeInfo {
    uint32_t rank;
    int32_t new_id;
  };
  BpeModel() = default;
  static uint64_t PairKey(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  const MergeInfo* FindMerge(int32_t a, int32_t b) const;
  // (id, byte length) of each token of `word`, from the merge loop.
  StatusOr<std::vector<std::pair<int32_t, size_t>>> MergeWord(std::string_view word) const;

  // Words already tokenized, sharded to keep lock contention low. Entries are
  // only added while a shard has room (like tokenizers' bounded cache).
  struct CacheShard {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<std::pair<int32_t, size_t>>, StringViewHash,
                       StringViewEq>
        words;
  };
  static constexpr size_t kCacheShards = 16;
  static constexpr size_t kCacheWordsPerShard = 4096;
  static constexpr size_t kCacheMaxWordBytes = 128;
  mutable std::array<CacheShard, kCacheShards> cache_;

  Vocab vocab_;
  std::unordered_map<uint64_t, MergeInfo> merges_;
  BpeOptions options_;
  std::optional<int32_t> byte_ids_[256];  // <0xNN> tokens, for byte_fallback
};

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_BPE_MODEL_H_
