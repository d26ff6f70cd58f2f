// Word-level model: each pre-tokenized word is one token, or unk_token.
//
// Thread-safety: immutable after construction; Tokenize may run concurrently.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_WORD_LEVEL_MODEL_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_WORD_LEVEL_MODEL_H_

#include <memory>
#include <string>

#include "base/status.h"
#include "workers/model/tokenizer/json_util.h"
#include "workers/model/tokenizer/model.h"

namespace cluedrop::model::tokenizer {

class WordLevelModel : public Model {
 public:
  WordLevelModel(Vocab vocab, std::string unk_token)
      : vocab_(std::move(vocab)), unk_token_(std::move(unk_token)) {}
  // Reads a "type": "WordLevel" model object (unk_token defaults to "<unk>").
  static StatusOr<std::unique_ptr<WordLevelModel>> FromJson(const Json& value,
                                                            const JsonPath& path);

  // FAILED_PRECONDITION for an unknown word when unk_token is not in the vocab.
  StatusOr<std::vector<Token>> Tokenize(std::string_view word) const override;
  const Vocab& vocab() const override { return vocab_; }

 private:
  Vocab vocab_;
  std::string unk_token_;
};

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_WORD_LEVEL_MODEL_H_
