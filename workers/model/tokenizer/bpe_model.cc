#include "workers/model/tokenizer/bpe_model.h"

#include <cstdio>
#include <queue>

#include "workers/model/tokenizer/utf8.h"

namespace cluedrop::model::tokenizer {
namespace {

struct Symbol {
  int32_t id;
  int64_t prev;
  int64_t next;
  size_t len;  // bytes of the word covered
};

struct Candidate {
  uint32_t rank;
  size_t pos;
  int32_t new_id;
};

// std::priority_queue pops the "largest": make that the lowest rank, then
// the leftmost position.
struct CandidateOrder {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.rank != b.rank) return a.rank > b.rank;
    return a.pos > b.pos;
  }
};

void AddSymbol(std::vector<Symbol>* symbols, int32_t id, size_t len) {
  const int64_t n = static_cast<int64_t>(symbols->size());
  int64_t prev = -1;
  if (!symbols->empty()) {
    symbols->back().next = n;
    prev = n - 1;
  }
  symbols->push_back({id, prev, -1, len});
}

}  // namespace

StatusOr<std::unique_ptr<BpeModel>> BpeModel::Create(
    Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
    const JsonPath& path) {
  std::unique_ptr<BpeModel> model(new BpeModel());
  const size_t prefix_len =
      options.continuing_subword_prefix ? options.continuing_subword_prefix->size() : 0;
  for (size_t i = 0; i < merges.size(); ++i) {
    const auto& [a, b] = merges[i];
    const JsonPath merge_path = path.Key("merges").Index(i);
    const std::optional<int32_t> a_id = vocab.Find(a);
    if (!a_id) return merge_path.Error("token '" + a + "' is not in the vocabulary");
    const std::optional<int32_t> b_id = vocab.Find(b);
    if (!b_id) return merge_path.Error("token '" + b + "' is not in the vocabulary");
    if (b.size() < prefix_len) {
      return merge_path.Error("token '" + b + "' is shorter than continuing_subword_prefix");
    }
    const std::string merged = a + b.substr(prefix_len);
    const std::optional<int32_t> new_id = vocab.Find(merged);
    if (!new_id) {
      return merge_path.Error("merged token '" + merged + "' is not in the vocabulary");
    }
    model->merges_[PairKey(*a_id, *b_id)] = {static_cast<uint32_t>(i), *new_id};
  }
  if (options.byte_fallback) {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      model->byte_ids_[b] = vocab.Find(name);
    }
  }
  model->vocab_ = std::move(vocab);
  model->options_ = std::move(options);
  return model;
}

StatusOr<std::unique_ptr<BpeModel>> BpeModel::FromJson(const Json& value, const JsonPath& path) {
  CLUEDROP_RETURN_IF_ERROR(ExpectObject(value, path));
  const Json* vocab_json = FindMember(value, "vocab");
  if (vocab_json == nullptr) return path.Key("vocab").Error("missing");
  CLUEDROP_ASSIGN_OR_RETURN(Vocab vocab, VocabFromJson(*vocab_json, path.Key("vocab")));
  std::vector<std::pair<std::string, std::string>> merges;
  if (const Json* merges_json = FindMember(value, "merges");
      merges_json != nullptr && !merges_json->is_null()) {
    if (!merges_json->is_array()) {
      return path.Key("merges").Error("expected an array, got " + JsonTypeName(*merges_json));
    }
    merges.reserve(merges_json->size());
    for (size_t i = 0; i < merges_json->size(); ++i) {
      const Json& merge = (*merges_json)[i];
      const JsonPath merge_path = path.Key("merges").Index(i);
      if (merge.is_string()) {
        const std::string& line = merge.get_ref<const std::string&>();
        const size_t space = line.find(' ');
        if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
          return merge_path.Error("expected \"a b\" (two tokens, one space), got '" + line + "'");
        }
        merges.emplace_back(line.substr(0, space), line.substr(space + 1));
      } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
                 merge[1].is_string()) {
        merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
      } else {
        return merge_path.Error("expected \"a b\" or [\"a\", \"b\"], got " + JsonTypeName(merge));
      }
    }
  }
  BpeOptions options;
  CLUEDROP_ASSIGN_OR_RETURN(options.unk_token, OptionalString(value, "unk_token", path));
  CLUEDROP_ASSIGN_OR_RETURN(options.continuing_subword_prefix,
                            OptionalString(value, "continuing_subword_prefix", path));
  CLUEDROP_ASSIGN_OR_RETURN(options.end_of_word_suffix,
                            OptionalString(value, "end_of_word_suffix", path));
  CLUEDROP_ASSIGN_OR_RETURN(options.fuse_unk, BoolOr(value, "fuse_unk", path, false));
  CLUEDROP_ASSIGN_OR_RETURN(options.byte_fallback, BoolOr(value, "byte_fallback", path, false));
  CLUEDROP_ASSIGN_OR_RETURN(options.ignore_merges, BoolOr(value, "ignore_merges", path, false));
  if (const Json* dropout = FindMember(value, "dropout");
      dropout != nullptr && !dropout->is_null() && !dropout->is_number()) {
    return path.Key("dropout").Error("expected a number, got " + JsonTypeName(*dropout));
  }
  return Create(std::move(vocab), merges, std::move(options), path);
}

const BpeModel::MergeInfo* BpeModel::FindMerge(int32_t a, int32_t b) const {
  auto it = merges_.find(PairKey(a, b));
  return it == merges_.end() ? nullptr : &it->second;
}

StatusOr<std::vector<Token>> BpeModel::Tokenize(std::string_view word) const {
  std::vector<Token> tokens;
  if (word.empty()) return tokens;
  if (options_.ignore_merges) {
    if (std::optional<int32_t> id = vocab_.Find(word)) {
      tokens.push_back({*id, std::string(word), 0, word.size()});
      return tokens;
    }
  }
  std::vector<std::pair<int32_t, size_t>> pieces;
  const bool cacheable = word.size() <= kCacheMaxWordBytes;
  CacheShard& shard = cache_[StringViewHash()(word) % kCacheShards];
  bool hit = false;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.words.find(word);
    if (it != shard.words.end()) {
      pieces = it->second;
      hit = true;
    }
  }
  if (!hit) {
    CLUEDROP_ASSIGN_OR_RETURN(pieces, MergeWord(word));
    if (cacheable) {
      std::lock_guard<std::mutex> lock(shard.mu);
      if (shard.words.size() < kCacheWordsPerShard) shard.words.emplace(word, pieces);
    }
  }
  tokens.reserve(pieces.size());
  size_t offset = 0;
  for (const auto& [id, len] : pieces) {
    const std::string* value = vocab_.Token(id);
    tokens.push_back({id, value != nullptr ? *value : std::string(), offset, offset + len});
    offset += len;
  }
  return tokens;
}

StatusOr<std::vector<std::pair<int32_t, size_t>>> BpeModel::MergeWord(std::string_view word) const {
  // 1. Initial symbols: one per char (or per byte with byte_fallback).
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  // A pending unk symbol (id, byte length), added once the next known piece
  // (or the end) shows it is complete.
  bool has_pending_unk = false;
  int32_t pending_unk_id = 0;
  size_t pending_unk_len = 0;
  std::optional<int32_t> unk_id;
  if (options_.unk_token) unk_id = vocab_.Find(*options_.unk_token);
  std::string piece;
  for (size_t i = 0; i < word.size();) {
    const size_t byte_len =
        std::min(Utf8CharLen(static_cast<unsigned char>(word[i])), word.size() - i);
    const bool is_first = i == 0;
    const bool is_last = i + byte_len == word.size();
    piece.clear();
    if (!is_first && options_.continuing_subword_prefix)
      piece += *options_.continuing_subword_prefix;
    piece.append(word.substr(i, byte_len));
    if (is_last && options_.end_of_word_suffix) piece += *options_.end_of_word_suffix;
    i += byte_len;

    if (std::optional<int32_t> id = vocab_.Find(piece)) {
      if (has_pending_unk) {
        AddSymbol(&symbols, pending_unk_id, pending_unk_len);
        has_pending_unk = false;
      }
      AddSymbol(&symbols, *id, byte_len);
      continue;
    }
    if (options_.byte_fallback) {
      bool all_bytes = true;
      for (unsigned char b : piece) all_bytes = all_bytes && byte_ids_[b].has_value();
      if (all_bytes) {
        // Like tokenizers, a pending unk is not flushed first.
        for (unsigned char b : piece) AddSymbol(&symbols, *byte_ids_[b], 1);
        continue;
      }
    }
    if (options_.unk_token) {
      if (has_pending_unk && options_.fuse_unk) {
        pending_unk_len += byte_len;
        continue;
      }
      if (has_pending_unk) AddSymbol(&symbols, pending_unk_id, pending_unk_len);
      if (!unk_id) {
        return FailedPreconditionError("BPE unk_token '" + *options_.unk_token +
                                       "' is not in the vocabulary");
      }
      has_pending_unk = true;
      pending_unk_id = *unk_id;
      pending_unk_len = byte_len;
    }
  }
  if (has_pending_unk) AddSymbol(&symbols, pending_unk_id, pending_unk_len);

  // 2. Merge, lowest rank first (leftmost on ties).
  std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> queue;
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (const MergeInfo* m = FindMerge(symbols[i].id, symbols[i + 1].id)) {
      queue.push({m->rank, i, m->new_id});
    }
  }
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& current = symbols[top.pos];
    if (current.len == 0 || current.next == -1) continue;
    const size_t next_pos = static_cast<size_t>(current.next);
    const Symbol right = symbols[next_pos];
    const MergeInfo* still = FindMerge(current.id, right.id);
    if (still == nullptr || still->new_id != top.new_id) continue;  // stale entry
    current.id = top.new_id;
    current.len += right.len;
    current.next = right.next;
    symbols[next_pos].len = 0;
    if (right.next > -1 && static_cast<size_t>(right.next) < symbols.size()) {
      symbols[static_cast<size_t>(right.next)].prev = static_cast<int64_t>(top.pos);
    }
    if (current.prev >= 0) {
      const size_t prev = static_cast<size_t>(current.prev);
      if (const MergeInfo* m = FindMerge(symbols[prev].id, current.id)) {
        queue.push({m->rank, prev, m->new_id});
      }
    }
    if (current.next >= 0 && static_cast<size_t>(current.next) < symbols.size()) {
      if (const MergeInfo* m =
              FindMerge(current.id, symbols[static_cast<size_t>(current.next)].id)) {
        queue.push({m->rank, top.pos, m->new_id});
      }
    }
  }

  // 3. The surviving symbols.
  std::vector<std::pair<int32_t, size_t>> pieces;
  for (const Symbol& s : symbols) {
    if (s.len > 0) pieces.emplace_back(s.id, s.len);
  }
  return pieces;
}

}  // namespace cluedrop::model::tokenizer
