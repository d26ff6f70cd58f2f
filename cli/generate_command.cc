// `cluedrop generate`: greedy continuation of a prompt with a Hugging Face
// checkpoint (config.json + safetensors + tokenizer.json).
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/cli.h"
#include "runtime/flags.h"
#include "workers/model/text_generator.h"

namespace cluedrop::cli {

int RunGenerate(const std::vector<std::string>& args) {
  std::string model_dir, prompt;
  int64_t max_new_tokens = 20;
  bool json = false;
  model::TextGeneratorOptions options;
  FlagSet flags("cluedrop generate",
                "greedily continues --prompt with the checkpoint in --model (KV cache; stops at "
                "the model's EOS) and prints the new text, or JSON with --json.");
  flags
      .Add("model", &model_dir, "checkpoint directory (config.json, *.safetensors, tokenizer.json)")
      .Required();
  flags.Add("prompt", &prompt, "the prompt (UTF-8)").Required();
  flags.Add("max_new_tokens", &max_new_tokens, "tokens to generate at most");
  flags.Add("device", &options.device, "cpu, cuda or cuda:N");
  flags.Add("dtype", &options.dtype, "float32, bfloat16 or float16");
  flags.Add("json", &json, "print {\"prompt_ids\", \"ids\", \"text\"} instead of the text");
  if (std::optional<int> exit = ParseFlagsOrExit(flags, args)) return *exit;

  auto generator = model::TextGenerator::Load(model_dir, options);
  if (!generator.ok()) {
    std::cerr << "cluedrop generate: " << generator.status().message() << std::endl;
    return kExitFailure;
  }
  auto out = (*generator)->Generate(prompt, max_new_tokens);
  if (!out.ok()) {
    std::cerr << "cluedrop generate: " << out.status().message() << std::endl;
    return kExitFailure;
  }
  if (json) {
    nlohmann::ordered_json j;
    j["prompt_ids"] = out->prompt_ids;
    j["ids"] = out->new_ids;
    j["text"] = out->text;
    // Random or undertrained models can emit partial UTF-8: replace, never throw.
    std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << std::endl;
  } else {
    std::cout << out->text << std::endl;
  }
  return kExitOk;
}

}  // namespace cluedrop::cli
