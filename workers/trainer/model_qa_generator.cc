#include "workers/trainer/model_qa_generator.h"

#include <torch/torch.h>

#include "workers/model/causal_lm.h"
#include "workers/model/generation.h"
#include "workers/model/tokenizer/tokenizer.h"

namespace cluedrop::trainer {

StatusOr<std::vector<std::string>> ModelQaGenerator::Generate(
    const std::vector<std::string>& prompts, int64_t max_new_tokens) {
  std::vector<std::vector<int64_t>> ids;
  for (const std::string& prompt : prompts) {
    CLUEDROP_ASSIGN_OR_RETURN(model::Encoding enc, tokenizer_.Encode(prompt, true));
    ids.emplace_back(enc.ids.begin(), enc.ids.end());
  }
  model::GenerationOptions options;
  options.max_new_tokens = max_new_tokens;
  options.stop_token_ids = model_.config().eos_token_ids;
  options.pad_token_id = pad_id_;
  torch::NoGradGuard no_grad;
  CLUEDROP_ASSIGN_OR_RETURN(auto generated, model::GreedyGenerate(model_, ids, options));
  std::vector<std::string> out;
  for (const auto& row : generated) {
    std::vector<int32_t> new_ids(row.begin(), row.end());
    CLUEDROP_ASSIGN_OR_RETURN(std::string text, tokenizer_.Decode(new_ids, true));
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace cluedrop::trainer
