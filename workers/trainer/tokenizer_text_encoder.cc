#include "workers/trainer/tokenizer_text_encoder.h"

#include <filesystem>
#include <system_error>

namespace cluedrop {

StatusOr<std::unique_ptr<TokenizerTextEncoder>> TokenizerTextEncoder::FromDirectory(
    const std::string& dir) {
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<model::Tokenizer> tokenizer,
                            model::Tokenizer::FromDirectory(dir));
  return std::make_unique<TokenizerTextEncoder>(std::move(tokenizer));
}

StatusOr<std::unique_ptr<TokenizerTextEncoder>> TokenizerTextEncoder::FromPath(
    const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return FromDirectory(path);
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<model::Tokenizer> tokenizer,
                            model::Tokenizer::FromFile(path));
  return std::make_unique<TokenizerTextEncoder>(std::move(tokenizer));
}

StatusOr<EncodedText> TokenizerTextEncoder::Encode(std::string_view text) const {
  CLUEDROP_ASSIGN_OR_RETURN(model::Encoding encoding,
                            tokenizer_->Encode(text, /*add_special_tokens=*/true));
  EncodedText out;
  out.ids = std::move(encoding.ids);
  out.offsets = std::move(encoding.offsets);
  out.special = std::move(encoding.special);
  return out;
}

}  // namespace cluedrop
