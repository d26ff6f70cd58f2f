// Post-processors of tokenizer.json: TemplateProcessing, ByteLevel (offset
// trimming), BertProcessing, RobertaProcessing and Sequence. They act on the
// encoding of a single sequence (pair templates are parsed and validated but
// this runtime encodes single texts only).
//
// Thread-safety: immutable after construction; Process may run concurrently.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_POST_PROCESSORS_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_POST_PROCESSORS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "workers/model/tokenizer/encoding.h"
#include "workers/model/tokenizer/json_util.h"

namespace cluedrop::model::tokenizer {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Edits `encoding` of `text` in place; adds special tokens only if
  // `add_special_tokens`.
  virtual void Process(std::string_view text, Encoding* encoding,
                       bool add_special_tokens) const = 0;
};

class SequencePostProcessor : public PostProcessor {
 public:
  explicit SequencePostProcessor(std::vector<std::unique_ptr<PostProcessor>> items)
      : items_(std::move(items)) {}
  void Process(std::string_view text, Encoding* encoding, bool add_special_tokens) const override;

 private:
  std::vector<std::unique_ptr<PostProcessor>> items_;
};

// Moves offsets past leading/trailing spaces ('Ġ' or whitespace) of each
// token, like tokenizers' byte_level::process_offsets. As in tokenizers'
// Python API this counts in chars of `text` (a prepended 'Ġ' stands for a
// whole, possibly multi-byte, first char).
void TrimByteLevelOffsets(std::string_view text, Encoding* encoding, bool add_prefix_space);

class ByteLevelPostProcessor : public PostProcessor {
 public:
  ByteLevelPostProcessor(bool add_prefix_space, bool trim_offsets)
      : add_prefix_space_(add_prefix_space), trim_offsets_(trim_offsets) {}
  void Process(std::string_view text, Encoding* encoding, bool add_special_tokens) const override;

 private:
  bool add_prefix_space_;
  bool trim_offsets_;
};

// One special token of a template: its ids and strings.
struct TemplateSpecial {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
};

// The "single" template: a list of pieces, each the sequence or a special.
class TemplatePostProcessor : public PostProcessor {
 public:
  struct Piece {
    bool is_sequence = false;
    TemplateSpecial special;  // when !is_sequence
  };
  explicit TemplatePostProcessor(std::vector<Piece> single) : single_(std::move(single)) {}
  void Process(std::string_view text, Encoding* encoding, bool add_special_tokens) const override;

 private:
  std::vector<Piece> single_;
};

// [CLS] A [SEP] (Bert) or <s> A </s> with optional offset trimming (Roberta).
class WrapPostProcessor : public PostProcessor {
 public:
  WrapPostProcessor(TemplateSpecial cls, TemplateSpecial sep, bool trim_offsets,
                    bool add_prefix_space)
      : cls_(std::move(cls)),
        sep_(std::move(sep)),
        trim_offsets_(trim_offsets),
        add_prefix_space_(add_prefix_space) {}
  void Process(std::string_view text, Encoding* encoding, bool add_special_tokens) const override;

 private:
  TemplateSpecial cls_;
  TemplateSpecial sep_;
  bool trim_offsets_;
  bool add_prefix_space_;
};

// Builds the post-processor described by `value` (at `path`); JSON null gives
// nullptr. INVALID_ARGUMENT naming the path for unknown types / bad fields
// (including template special tokens missing from "special_tokens").
StatusOr<std::unique_ptr<PostProcessor>> PostProcessorFromJson(const Json& value,
                                                               const JsonPath& path);

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_POST_PROCESSORS_H_
