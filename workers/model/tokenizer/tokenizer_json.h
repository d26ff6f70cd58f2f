// Loads a Hugging Face tokenizer.json into its parts (normalizer,
// pre-tokenizer, model, post-processor, decoder, added tokens).
//
// Errors are INVALID_ARGUMENT and name the file and JSON path, e.g.
// "tokenizer.json: pre_tokenizer.pretokenizers[1].type: unsupported 'BertPreTokenizer'".
// Never throws and never crashes on malformed input. Thread-safe.
#ifndef CLUEDROP_WORKERS_MODEL_TOKENIZER_TOKENIZER_JSON_H_
#define CLUEDROP_WORKERS_MODEL_TOKENIZER_TOKENIZER_JSON_H_

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "workers/model/tokenizer/added_vocabulary.h"
#include "workers/model/tokenizer/decoders.h"
#include "workers/model/tokenizer/model.h"
#include "workers/model/tokenizer/normalizers.h"
#include "workers/model/tokenizer/post_processors.h"
#include "workers/model/tokenizer/pre_tokenizers.h"

namespace cluedrop::model::tokenizer {

struct TokenizerParts {
  std::unique_ptr<Normalizer> normalizer;         // may be null
  std::unique_ptr<PreTokenizer> pre_tokenizer;    // may be null
  std::unique_ptr<Model> model;                   // never null
  std::unique_ptr<PostProcessor> post_processor;  // may be null
  std::unique_ptr<Decoder> decoder;               // may be null
  AddedVocabulary added;
};

// `display_name` prefixes every error message (usually the file path).
// "truncation" and "padding" are ignored; a model "dropout" is ignored.
StatusOr<TokenizerParts> ParseTokenizerJson(std::string_view json_text,
                                            const std::string& display_name);

// Builds the model described by `value` (at `path`): BPE or WordLevel.
StatusOr<std::unique_ptr<Model>> ModelFromJson(const Json& value, const JsonPath& path);

}  // namespace cluedrop::model::tokenizer

#endif  // CLUEDROP_WORKERS_MODEL_TOKENIZER_TOKENIZER_JSON_H_
