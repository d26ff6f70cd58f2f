// Decoders of tokenizer.json: ByteLevel, Metaspace, ByteFallback, Fuse,
// Strip, Replace, WordPiece, BPEDecoder and Sequence. Like tokenizers'
// decode_chain, each maps a list of token strings to a new list; the
// tokenizer joins the final list.
//
// Thread-safety: immutable after construction; DecodeChain may run
// concurrently.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_DECODERS_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_DECODERS_H_

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/json_util.h"
#include "workers/model/tokenizer/pre_tokenizers.h"
#include "workers/model/tokenizer/regex.h"

namespace cluedrop::model::tokenizer {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Fails only on internal errors (a regex giving up).
  virtual StatusOr<std::vector<std::string>> DecodeChain(std::vector<std::string> tokens) const = 0;
  // DecodeChain, then the pieces concatenated.
  StatusOr<std::string> Decode(std::vector<std::string> tokens) const;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> items)
      : items_(std::move(items)) {}
  StatusOr<std::vector<std::string>> DecodeChain(std::vector<std::string> tokens) const override;

 private:
  std::vector<std::unique_ptr<Decoder>> items_;
};

// Byte-level chars back to bytes, all tokens at once, lossy UTF-8 (a token
// with a char outside the alphabet contributes its own UTF-8 bytes).
class ByteLevelDecoder : public Decoder {
 public:
  StatusOr<std::vector<std::string>> DecodeChain(std::vector<std::string> tokens) const override;
};

// `replacement` back to ' ', dropped in the first token unless scheme never.
class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, PrependScheme scheme)
      : replacement_(replacement), scheme_(scheme) {}
  StatusOr<std::vector<std::string>> DecodeChain(std::vector<std::string> tokens) const override;

 private:
  char32_t replacement_;
  PrependScheme scheme_;
};

// Runs of <0xNN> tokens become the UTF-8 text they spell, or one U+FFFD per
// byte when that is not valid UTF-8.
class ByteFallbackDecoder : public Decoder {
 public:
  StatusOr<std::vector<std::string>> DecodeChain(std::vector<std::string> tokens) const override;
};

// All tokens concatenated into one.
class FuseDecoder : public Decoder {
 public:
  StatusOr<std::vector<std::string>> DecodeChain(std::vector<std::string> tokens) const override;
};

// Removes up to `start` leading and `stop` trailing `content` chars per token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop)
      : content_(content), start_(start), stop_(stop) {}
  StatusOr<std::vector<std::string>> DecodeChain(std::vector<std::string> tokens) const override;

 private:
  char32_t content_;
  size_t start_;
  size_t stop_;
};

// Replaces pattern matches in every token.
class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(std::unique_ptr<Regex> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  StatusOr<std::vector<std::string>> DecodeChain(std::vector<std::string> tokens) const override;

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

// WordPiece: "##" continuation prefix removed, others get a leading space;
// optional cleanup of spaces before punctuation.
class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  StatusOr<std::vector<std::string>> DecodeChain(std::vector<std::string> tokens) const override;

 private:
  std::string prefix_;
  bool cleanup_;
};

// BPE end-of-word suffix to ' ' (to "" on the last token).
class BpeSuffixDecoder : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  StatusOr<std::vector<std::string>> DecodeChain(std::vector<std::string> tokens) const override;

 private:
  std::string suffix_;
};

// Builds the decoder described by `value` (at `path`); JSON null gives
// nullptr. INVALID_ARGUMENT naming the path for unknown types / bad fields.
StatusOr<std::unique_ptr<Decoder>> DecoderFromJson(const Json& value, const JsonPath& path);

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_DECODERS_H_
