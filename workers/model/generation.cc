#include "workers/model/generation.h"

#include <algorithm>

#include "workers/model/torch_status.h"

namespace cluedrop::model {

StatusOr<std::vector<std::vector<int64_t>>> GreedyGenerate(
    CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
    const GenerationOptions& options) {
  if (prompts.empty()) return InvalidArgumentError("generate: no prompts");
  if (options.max_new_tokens < 0)
    return InvalidArgumentError("generate: max_new_tokens must be >= 0");
  size_t longest = 0;
  for (const auto& p : prompts) {
    if (p.empty()) return InvalidArgumentError("generate: empty prompt");
    for (int64_t id : p) {
      if (id < 0 || id >= model.config().vocab_size) {
        return InvalidArgumentError("generate: token id " + std::to_string(id) +
                                    " outside the vocabulary of " +
                                    std::to_string(model.config().vocab_size));
      }
    }
    longest = std::max(longest, p.size());
  }
  if (static_cast<int64_t>(longest) + options.max_new_tokens >
      model.config().max_position_embeddings) {
    return InvalidArgumentError("generate: prompt (" + std::to_string(longest) +
                                ") + max_new_tokens (" + std::to_string(options.max_new_tokens) +
                                ") exceeds max_position_embeddings " +
                                std::to_string(model.config().max_position_embeddings));
  }
  const int64_t batch = static_cast<int64_t>(prompts.size()), width = static_cast<int64_t>(longest);
  std::vector<std::vector<int64_t>> out(prompts.size());
  Status status = TorchCall("generate", [&] {
    torch::NoGradGuard no_grad;
    torch::Tensor ids = torch::full({batch, width}, options.pad_token_id, torch::kLong);
    torch::Tensor mask = torch::zeros({batch, width}, torch::kLong);
    for (int64_t b = 0; b < batch; ++b) {
      const auto& p = prompts[b];
      const int64_t offset = width - static_cast<int64_t>(p.size());
      ids[b].narrow(0, offset, p.size()).copy_(torch::tensor(p, torch::kLong));
      mask[b].narrow(0, offset, p.size()).fill_(1);
    }
    KvCache cache(model.config().num_layers);
    std::vector<bool> done(batch, false);
    ForwardOptions fwd;
    fwd.cache = &cache;
    fwd.last_token_only = true;
    fwd.attention_mask = mask;
    torch::Tensor step_ids = ids;
    for (int64_t step = 0; step < options.max_new_tokens; ++step) {
      torch::Tensor logits = model.Forward(step_ids, fwd);  // [B, 1, V]
      torch::Tensor next = logits.select(1, 0).argmax(-1).to(torch::kCPU);
      bool all_done = true;
      for (int64_t b = 0; b < batch; ++b) {
        if (done[b]) continue;
        const int64_t token = next[b].item<int64_t>();
        out[b].push_back(token);
        if (std::find(options.stop_token_ids.begin(), options.stop_token_ids.end(), token) !=
            options.stop_token_ids.end()) {
          done[b] = true;
        }
        all_done = all_done && done[b];
      }
      if (all_done) break;
      step_ids = next.unsqueeze(1);
      fwd.attention_mask = torch::ones({batch, 1}, torch::kLong);
    }
  });
  CLUEDROP_RETURN_IF_ERROR(status);
  return out;
}

}  // namespace cluedrop::model
