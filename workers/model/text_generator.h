// Text in, text out: tokenizer + model + greedy decoding behind a torch-free
// header, for callers that must not include libtorch (the CLI, which also
// includes generated protobuf code).
//
// Example:
//   CLUEDROP_ASSIGN_OR_RETURN(auto generator, TextGenerator::Load(dir, {"cpu", "float32"}));
//   CLUEDROP_ASSIGN_OR_RETURN(GeneratedText out, generator->Generate("Liam was born on", 10));
#ifndef CLUEDROP_WORKERS_MODEL_TEXT_GENERATOR_H_
#define CLUEDROP_WORKERS_MODEL_TEXT_GENERATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace cluedrop::model {

struct TextGeneratorOptions {
  std::string device = "cpu";     // cpu | cuda | cuda:N
  std::string dtype = "float32";  // float32 | bfloat16 | float16
};

struct GeneratedText {
  std::vector<int64_t> prompt_ids;
  std::vector<int64_t> new_ids;  // up to and including an EOS token
  std::string text;              // decoded new tokens, special tokens skipped
};

// Not thread-safe (one generation at a time).
class TextGenerator {
 public:
  virtual ~TextGenerator() = default;
  // Loads dir/config.json, the weights and dir/tokenizer.json.
  static StatusOr<std::unique_ptr<TextGenerator>> Load(const std::string& dir,
                                                       const TextGeneratorOptions& options);
  // Greedy continuation of `prompt`, stopping at the model's EOS tokens.
  virtual StatusOr<GeneratedText> Generate(const std::string& prompt, int64_t max_new_tokens) = 0;
};

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_TEXT_GENERATOR_H_
