// `cluedrop tokenize`: a Hugging Face tokenizer.json applied to a text.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/cli.h"
#include "runtime/flags.h"
#include "workers/model/tokenizer/tokenizer.h"

namespace cluedrop::cli {
int RunTokenize(const std::vector<std::string>& args) {
  std::string tokenizer_path;
  std::string text;
  bool no_special = false;
  FlagSet flags("cluedrop tokenize",
                "tokenizes --text with a Hugging Face tokenizer.json and prints JSON "
                "{\"ids\", \"tokens\", \"offsets\" (UTF-8 byte spans), \"special\"}.");
  flags.Add("tokenizer", &tokenizer_path, "directory holding tokenizer.json (or the file itself)")
      .Required();
  flags.Add("text", &text, "the text to tokenize (UTF-8)").Required();
  flags.Add("no_special", &no_special, "do not add the template's special tokens (BOS/EOS)");
  if (std::optional<int> exit = ParseFlagsOrExit(flags, args)) return *exit;

  std::error_code ec;
  auto tokenizer = std::filesystem::is_regular_file(tokenizer_path, ec)
                       ? model::Tokenizer::FromFile(tokenizer_path)
                       : model::Tokenizer::FromDirectory(tokenizer_path);
  if (!tokenizer.ok()) {
    std::cerr << "cluedrop tokenize: " << tokenizer.status().message() << std::endl;
    return kExitFailure;
  }
  auto encoding = (*tokenizer)->Encode(text, /*add_special_tokens=*/!no_special);
  if (!encoding.ok()) {
    std::cerr << "cluedrop tokenize: " << encoding.status().message() << std::endl;
    return kExitFailure;
  }
  nlohmann::ordered_json out;
  out["ids"] = encoding->ids;
  out["tokens"] = encoding->tokens;
  nlohmann::ordered_json offsets = nlohmann::ordered_json::array();
  for (const auto& [begin, end] : encoding->offsets) offsets.push_back({begin, end});
  out["offsets"] = std::move(offsets);
  nlohmann::ordered_json special = nlohmann::ordered_json::array();
  for (uint8_t s : encoding->special) special.push_back(static_cast<int>(s));
  out["special"] = std::move(special);
  std::cout << out.dump() << std::endl;
  return kExitOk;
}

}  // namespace cluedrop::cli
