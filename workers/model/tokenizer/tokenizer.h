// A torch-free runtime for Hugging Face `tokenizer.json` files that
// reproduces the `tokenizers` library (0.22) for the pipelines of GPT-2,
// Llama-2/3, Qwen2, Mistral, Gemma and WordLevel tokenizers: same ids, same
// token strings, same offsets (as UTF-8 byte spans), same decoded text.
//
// Supported components:
//   models          BPE (unk/fuse_unk, byte_fallback, ignore_merges,
//                   continuing_subword_prefix, end_of_word_suffix), WordLevel
//   normalizers     Sequence, Prepend, Replace, NFC/NFD/NFKC/NFKD, Lowercase, Strip
//   pre-tokenizers  ByteLevel, Split, Metaspace, Digits, Whitespace,
//                   WhitespaceSplit, CharDelimiterSplit, Sequence
//   post-processors TemplateProcessing, ByteLevel, BertProcessing,
//                   RobertaProcessing, Sequence
//   decoders        ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace,
//                   WordPiece, BPEDecoder, Sequence
// and added tokens (special or not; single_word, lstrip, rstrip, normalized).
// Anything else is rejected at load time with INVALID_ARGUMENT naming the
// file and JSON path. Unicode normalizers and Lowercase need ICU (builds
// without ICU reject them at load).
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(auto tok, Tokenizer::FromDirectory("/models/llama3"));
//   CLUEDROP_ASSIGN_OR_RETURN(Encoding enc, tok->Encode("Hello world"));
//   // enc.ids = {128000, 9906, 1917}, enc.offsets = {{0,0}, {0,5}, {5,11}}
//
// Thread-safety: a Tokenizer is immutable after loading; Encode, Decode and
// the lookups may be called from many threads at once.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_TOKENIZER_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/encoding.h"

namespace cluedrop::model {

namespace tokenizer {
struct TokenizerParts;
}  // namespace tokenizer

class Tokenizer {  // immutable after load; Encode/Decode are thread-safe
 public:
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Reads and parses a tokenizer.json. NOT_FOUND / PERMISSION_DENIED-like
  // errors when the file cannot be read; INVALID_ARGUMENT (prefixed with the
  // path) when it is malformed or uses an unsupported component.
  static StatusOr<std::unique_ptr<Tokenizer>> FromFile(const std::string& tokenizer_json_path);
  // FromFile(dir + "/tokenizer.json").
  static StatusOr<std::unique_ptr<Tokenizer>> FromDirectory(const std::string& dir);
  // Parses tokenizer.json text; `display_name` prefixes error messages.
  static StatusOr<std::unique_ptr<Tokenizer>> FromJson(std::string_view json_text,
                                                       std::string display_name);

  // Encodes `text` (UTF-8). With `add_special_tokens`, the post-processor's
  // template tokens (BOS/EOS, ...) are added. Offsets are byte spans of
  // `text` ({0, 0} for template tokens). INVALID_ARGUMENT on invalid UTF-8;
  // FAILED_PRECONDITION when the model needs an unk token it does not have.
  StatusOr<Encoding> Encode(std::string_view text, bool add_special_tokens = true) const;
  // Token strings of `ids` through the decoder (or joined with ' ' without
  // one). Unknown ids are skipped, like tokenizers does. Output is valid UTF-8.
  StatusOr<std::string> Decode(const std::vector<int32_t>& ids,
                               bool skip_special_tokens = false) const;

  int32_t vocab_size() const;  // incl. added tokens
  std::optional<int32_t> TokenToId(std::string_view token) const;
  std::optional<std::string> IdToToken(int32_t id) const;
  // Whether `id` is an added token marked special.
  bool IsSpecial(int32_t id) const;

 private:
  explicit Tokenizer(std::unique_ptr<tokenizer::TokenizerParts> parts);
  const std::string* TokenString(int32_t id) const;

  std::unique_ptr<tokenizer::TokenizerParts> parts_;
  int32_t vocab_size_ = 0;
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_TOKENIZER_H_
