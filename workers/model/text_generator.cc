#include "workers/model/text_generator.h"

#include "workers/model/generation.h"
#include "workers/model/model_loader.h"
#include "workers/model/tokenizer/tokenizer.h"

namespace cluedrop::model {
namespace {

class TorchTextGenerator : public TextGenerator {
 public:
  TorchTextGenerator(std::shared_ptr<CausalLM> model, std::unique_ptr<Tokenizer> tokenizer)
      : model_(std::move(model)), tokenizer_(std::move(tokenizer)) {}

  StatusOr<GeneratedText> Generate(const std::string& prompt, int64_t max_new_tokens) override {
    CLUEDROP_ASSIGN_OR_RETURN(Encoding encoding,
                              tokenizer_->Encode(prompt, /*add_special_tokens=*/true));
    if (encoding.ids.empty()) return InvalidArgumentError("prompt: encodes to no tokens");
    GeneratedText out;
    out.prompt_ids.assign(encoding.ids.begin(), encoding.ids.end());
    GenerationOptions options;
    options.max_new_tokens = max_new_tokens;
    options.stop_token_ids = model_->config().eos_token_ids;
    CLUEDROP_ASSIGN_OR_RETURN(auto rows, GreedyGenerate(*model_, {out.prompt_ids}, options));
    out.new_ids = rows[0];
    std::vector<int32_t> ids(out.new_ids.begin(), out.new_ids.end());
    CLUEDROP_ASSIGN_OR_RETURN(out.text, tokenizer_->Decode(ids, /*skip_special_tokens=*/true));
    return out;
  }

 private:
  std::shared_ptr<CausalLM> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
};

}  // namespace

StatusOr<std::unique_ptr<TextGenerator>> TextGenerator::Load(const std::string& dir,
                                                             const TextGeneratorOptions& options) {
  CLUEDROP_ASSIGN_OR_RETURN(torch::Device device, ParseTorchDevice(options.device));
  CLUEDROP_ASSIGN_OR_RETURN(torch::ScalarType dtype, ParseTorchDtype(options.dtype));
  CLUEDROP_ASSIGN_OR_RETURN(auto tokenizer, Tokenizer::FromDirectory(dir));
  LoadOptions load;
  load.devices = {device};
  load.dtype = dtype;
  CLUEDROP_ASSIGN_OR_RETURN(auto model, LoadCausalLM(dir, load));
  if (tokenizer->vocab_size() > model->config().vocab_size) {
    return InvalidArgumentError(
        dir + ": tokenizer.json has " + std::to_string(tokenizer->vocab_size()) +
        " tokens but config.json vocab_size is " + std::to_string(model->config().vocab_size));
  }
  return std::unique_ptr<TextGenerator>(
      std::make_unique<TorchTextGenerator>(std::move(model), std::move(tokenizer)));
}

}  // namespace cluedrop::model
