// TextEncoder over the tokenizer.json runtime (workers/model/tokenizer):
// Encode(text) is Tokenizer::Encode(text, add_special_tokens=true), the
// encoding `cluedrop score` writes; IsSpecial(id) is true for added tokens
// marked special (BOS/EOS/pad and the like).
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(auto encoder, TokenizerTextEncoder::FromPath(dir));
//   Augmenter augmenter(options, encoder.get());
//
// Thread-safe (the tokenizer is immutable).
#ifndef CLUEDROP_WORKERS_TRAINER_TOKENIZER_TEXT_ENCODER_H_
#define CLUEDROP_WORKERS_TRAINER_TOKENIZER_TEXT_ENCODER_H_

#include <memory>
#include <string>

#include "workers/model/tokenizer/tokenizer.h"
#include "workers/trainer/text_encoder.h"

namespace cluedrop {

class TokenizerTextEncoder : public TextEncoder {
 public:
  explicit TokenizerTextEncoder(std::unique_ptr<model::Tokenizer> tokenizer)
      : tokenizer_(std::move(tokenizer)) {}

  // Loads dir/tokenizer.json; Tokenizer::FromDirectory's errors.
  static StatusOr<std::unique_ptr<TokenizerTextEncoder>> FromDirectory(const std::string& dir);
  // A tokenizer.json file, or a directory holding one (as `cluedrop tokenize`).
  static StatusOr<std::unique_ptr<TokenizerTextEncoder>> FromPath(const std::string& path);

  StatusOr<EncodedText> Encode(std::string_view text) const override;
  bool IsSpecial(int32_t id) const override { return tokenizer_->IsSpecial(id); }

  const model::Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  std::unique_ptr<model::Tokenizer> tokenizer_;
};

}  // namespace cluedrop

#endif  // CLUEDROP_WORKERS_TRAINER_TOKENIZER_TEXT_ENCODER_H_
