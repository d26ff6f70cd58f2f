// Checks every supported family and variant against Hugging Face
// `transformers` on random-initialised tiny checkpoints that
// tests/oracle/make_model_fixtures.py writes (the ctest fixture step):
// logits on right- and left-padded batches, each layer's attention
// probabilities rebuilt from the post-RoPE queries and keys the observer
// hook hands out, 20 tokens of greedy generation, and an HF-format export
// that transformers itself loads and reproduces.
//
// Tolerances: float32 logits within 1e-4 absolute; attention probabilities
// within 1e-5. With CLUEDROP_TEST_DTYPE=bfloat16 (GPU runs) logits must be
// within 4% of the reference logits' largest magnitude at every real
// position, with a mean error under 1% of it, and the argmax must agree at
// >= 90% of positions; bf16 generation is compared token by token and
// reported, not required (rounding legitimately flips near-ties).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/scoped_temp_dir.h"
#include "workers/model/checkpoint/safetensors_writer.h"
#include "workers/model/generation.h"
#include "workers/model/hf_export.h"
#include "workers/model/model_loader.h"
#include "workers/model/model_test_util.h"

namespace cluedrop::model {
namespace {

namespace fs = std::filesystem;
using testing::ReadTensor;

const char* kVariants[] = {"llama2", "llama3", "llama_linear", "llama_bf16", "mistral",
                           "qwen2",  "smollm", "gemma2",       "gpt2"};

class CollectAttention : public AttentionObserver {
 public:
  void OnLayer(const LayerAttention& a) override { probs.push_back(AttentionProbabilities(a)); }
  std::vector<torch::Tensor> probs;
};

class ModelOracleTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const std::string root = testing::ModelFixtureDir();
    ASSERT_FALSE(root.empty()) << "CLUEDROP_ORACLE_DIR is not set (run through ctest)";
    dir_ = root + "/" + GetParam();
    ASSERT_TRUE(fs::exists(dir_ + "/reference.safetensors"))
        << dir_ << ": missing fixture (tests/oracle/make_model_fixtures.py did not run?)";
    auto ref = CheckpointReader::Open(dir_ + "/reference.safetensors");
    ASSERT_TRUE(ref.ok()) << ref.status();
    ref_ = std::move(*ref);
    LoadOptions options;
    options.devices = {testing::TestDevice()};
    options.dtype = testing::TestDtype();
    auto model = LoadCausalLM(dir_ + "/model", options);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *model;
  }

  bool Exact() const { return testing::TestDtype() == torch::kFloat; }

  // Compares logits at real positions under the run's tolerance.
  void ExpectLogitsClose(const torch::Tensor& ours, const torch::Tensor& reference,
                         const torch::Tensor& mask, const std::string& what) {
    torch::Tensor real = mask.to(torch::kBool);
    torch::Tensor a = ours.to(torch::kCPU, torch::kFloat).index({real});
    torch::Tensor b = reference.index({real});
    ASSERT_EQ(a.sizes(), b.sizes()) << what;
    const double max_err = (a - b).abs().max().item<double>();
    const double mean_err = (a - b).abs().mean().item<double>();
    const double scale = b.abs().max().item<double>();
    const double argmax_agree =
        a.argmax(-1).eq(b.argmax(-1)).to(torch::kFloat).mean().item<double>();
    std::cout << "[" << GetParam() << "] " << what << ": max |diff| " << max_err << ", mean "
              << mean_err << ", max |logit| " << scale << ", argmax agreement " << argmax_agree
              << "\n";
    if (Exact()) {
      EXPECT_LE(max_err, 1e-4) << what;
    } else {
      EXPECT_LE(max_err, 0.04 * scale) << what;
      EXPECT_LE(mean_err, 0.01 * scale) << what;
      EXPECT_GE(argmax_agree, 0.90) << what;
    }
  }

  torch::Tensor Run(const std::string& prefix, AttentionObserver* observer = nullptr) {
    torch::NoGradGuard no_grad;
    ForwardOptions options;
    options.attention_mask = ReadTensor(*ref_, prefix + "attention_mask");
    options.position_ids = ReadTensor(*ref_, prefix + "position_ids");
    options.observer = observer;
    return model_->Forward(ReadTensor(*ref_, prefix + "input_ids"), options);
  }

  std::string dir_;
  std::unique_ptr<CheckpointReader> ref_;
  std::shared_ptr<CausalLM> model_;
};

TEST_P(ModelOracleTest, RightPaddedLogitsMatchTransformers) {
  ExpectLogitsClose(Run(""), ReadTensor(*ref_, "logits"), ReadTensor(*ref_, "attention_mask"),
                    "right-padded logits");
}

TEST_P(ModelOracleTest, LeftPaddedLogitsMatchTransformers) {
  ExpectLogitsClose(Run("left_"), ReadTensor(*ref_, "left_logits"),
                    ReadTensor(*ref_, "left_attention_mask"), "left-padded logits");
}

TEST_P(ModelOracleTest, DefaultPositionsFollowTheMask) {
  // Without explicit position ids the model derives them from the mask.
  torch::NoGradGuard no_grad;
  ForwardOptions options;
  options.attention_mask = ReadTensor(*ref_, "left_attention_mask");
  torch::Tensor logits = model_->Forward(ReadTensor(*ref_, "left_input_ids"), options);
  ExpectLogitsClose(logits, ReadTensor(*ref_, "left_logits"), options.attention_mask,
                    "left-padded logits, derived positions");
}

TEST_P(ModelOracleTest, ObservedQueriesAndKeysGiveTheAttentionProbabilities) {
  if (!Exact()) GTEST_SKIP() << "attention probabilities are checked in float32 runs only";
  CollectAttention observer;
  Run("", &observer);
  ASSERT_EQ(static_cast<int64_t>(observer.probs.size()), model_->config().num_layers);
  torch::Tensor real = ReadTensor(*ref_, "attention_mask").to(torch::kBool);  // [B, T]
  for (size_t l = 0; l < observer.probs.size(); ++l) {
    torch::Tensor ours = observer.probs[l].to(torch::kCPU);
    torch::Tensor ref = ReadTensor(*ref_, "attn_probs_layer" + std::to_string(l));
    ASSERT_EQ(ours.sizes(), ref.sizes()) << "layer " << l;
    // Real query rows only (padded queries attend to nothing meaningful).
    torch::Tensor rows = real.unsqueeze(1).unsqueeze(-1).expand_as(ref);
    const double err = (ours - ref).abs().masked_select(rows).max().item<double>();
    EXPECT_LE(err, 1e-5) << "layer " << l;
  }
}

TEST_P(ModelOracleTest, GreedyGenerationMatchesTransformers) {
  torch::Tensor prompt = ReadTensor(*ref_, "gen_prompt");
  torch::Tensor expected = ReadTensor(*ref_, "gen_ids");
  std::vector<int64_t> ids(prompt.data_ptr<int64_t>(), prompt.data_ptr<int64_t>() + prompt.numel());
  GenerationOptions options;
  options.max_new_tokens = expected.size(1) - prompt.size(1);
  auto out = GreedyGenerate(*model_, {ids}, options);
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<int64_t> want(expected.data_ptr<int64_t>() + prompt.numel(),
                            expected.data_ptr<int64_t>() + expected.numel());
  ASSERT_EQ(want.size(), 20u);
  if (Exact()) {
    EXPECT_EQ((*out)[0], want);
  } else {
    size_t same = 0;
    while (same < want.size() && same < (*out)[0].size() && (*out)[0][same] == want[same]) ++same;
    std::cout << "[" << GetParam()
              << "] bf16 greedy generation agrees with float32 transformers for " << same
              << " of 20 tokens (reported, not required)\n";
  }
}

TEST_P(ModelOracleTest, ExportLoadsInTransformersAndReproducesLogits) {
  if (!Exact()) GTEST_SKIP() << "export is checked in float32 runs only";
  const ScopedTempDir scratch(std::string("export_") + GetParam());
  const std::string out = scratch.file("model");
  ExportOptions options;
  options.tokenizer_dir = dir_ + "/model";
  options.max_shard_bytes = std::string(GetParam()) == "llama3" ? 64 * 1024 : 5ull << 30;
  ASSERT_TRUE(SaveHfModel(*model_, out, options).ok());
  // Our own loader reads it back to the same logits...
  LoadOptions load;
  load.devices = {testing::TestDevice()};
  auto again = LoadCausalLM(out, load);
  ASSERT_TRUE(again.ok()) << again.status();
  model_ = *again;
  ExpectLogitsClose(Run(""), ReadTensor(*ref_, "logits"), ReadTensor(*ref_, "attention_mask"),
                    "logits after export + reload");
  // ...and so does transformers, unchanged.
  const std::string python = testing::OraclePython();
  ASSERT_FALSE(python.empty()) << "CLUEDROP_PYTHON is not set";
  const std::string cmd = python + " " + testing::SourceDir() +
                          "/tests/oracle/check_export.py --model " + out + " --reference " + dir_ +
                          "/reference.safetensors";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST_P(ModelOracleTest, LoraAdapterLoadsInPeftAndReproducesLogits) {
  if (!Exact()) GTEST_SKIP() << "LoRA export is checked in float32 runs only";
  const bool gpt2 = model_->config().family == ModelFamily::kGpt2;
  auto adapted =
      model_->EnableLora(gpt2 ? std::vector<std::string>{"c_attn", "c_fc"}
                              : std::vector<std::string>{"q_proj", "v_proj", "down_proj"},
                         4, 8.0);
  ASSERT_TRUE(adapted.ok()) << adapted.status();
  EXPECT_EQ(*adapted, model_->config().num_layers * (gpt2 ? 2 : 3));
  torch::manual_seed(7);
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : model_->PeftTensors()) {
      if (name.find("lora_B") != std::string::npos) t.normal_(0.0, 0.2);
    }
  }
  torch::Tensor logits = Run("").to(torch::kCPU).contiguous();
  torch::Tensor base_logits = ReadTensor(*ref_, "logits");
  ASSERT_GT((logits - base_logits).abs().max().item<double>(), 1e-2) << "LoRA had no effect";
  const ScopedTempDir scratch(std::string("lora_") + GetParam());
  const std::string out = scratch.file("adapter");
  ASSERT_TRUE(SaveLoraAdapter(*model_, out, dir_ + "/model").ok());
  SafetensorsWriter writer;
  ASSERT_TRUE(
      writer.Add("logits", DType::kF32, logits.sizes().vec(), logits.data_ptr(), logits.nbytes())
          .ok());
  ASSERT_TRUE(writer.Write(out + "/our_logits.safetensors").ok());
  // Our loader reads the adapter back.
  auto fresh = LoadCausalLM(dir_ + "/model", LoadOptions{{testing::TestDevice()}, torch::kFloat});
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE((*fresh)
                  ->EnableLora(gpt2 ? std::vector<std::string>{"c_attn", "c_fc"}
                                    : std::vector<std::string>{"q_proj", "v_proj", "down_proj"},
                               4, 8.0)
                  .ok());
  auto adapter = CheckpointReader::Open(out + "/adapter_model.safetensors");
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  Status loaded = LoadLoraWeights(**fresh, **adapter, out);
  ASSERT_TRUE(loaded.ok()) << loaded;
  model_ = *fresh;
  ExpectLogitsClose(Run(""), logits, ReadTensor(*ref_, "attention_mask"),
                    "logits after adapter reload");
  const std::string cmd = testing::OraclePython() + " " + testing::SourceDir() +
                          "/tests/oracle/check_lora_export.py --base " + dir_ +
                          "/model --adapter " + out + " --logits " + out +
                          "/our_logits.safetensors --reference " + dir_ + "/reference.safetensors";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// Issue 19: the int8 base against the Python reference (per-channel absmax,
// tests/oracle/make_model_fixtures.py): every layer's int8 values and scales
// bitwise, the logits of the dequantized model within float32 noise, and the
// distance to the float32 model within the stated tolerance.
TEST_P(ModelOracleTest, Int8BaseMatchesThePythonReference) {
  if (!Exact()) GTEST_SKIP() << "int8 is checked in float32 runs only";
  auto ref = CheckpointReader::Open(dir_ + "/int8.safetensors");
  ASSERT_TRUE(ref.ok()) << ref.status();
  auto quantized = model_->QuantizeBaseInt8();
  ASSERT_TRUE(quantized.ok()) << quantized.status();
  int64_t compared = 0;
  for (const auto& b : model_->named_buffers(/*recurse=*/true)) {
    const std::string& name = b.key();
    if (name.find(".weight_int8") == std::string::npos &&
        name.find(".weight_scale") == std::string::npos) {
      continue;
    }
    torch::Tensor want = ReadTensor(**ref, name);
    EXPECT_TRUE(torch::equal(b.value().to(torch::kCPU), want)) << name;
    ++compared;
  }
  EXPECT_EQ(compared, 2 * *quantized);
  torch::Tensor logits = Run("").to(torch::kCPU);
  ExpectLogitsClose(logits, ReadTensor(**ref, "logits"), ReadTensor(*ref_, "attention_mask"),
                    "int8 logits vs the Python int8 reference");
  torch::Tensor real = ReadTensor(*ref_, "attention_mask").to(torch::kBool);
  torch::Tensor ours = logits.index({real}), f32 = ReadTensor(*ref_, "logits").index({real});
  const double diff = (ours - f32).abs().max().item<double>();
  const double scale = f32.abs().max().item<double>();
  const double agree = ours.argmax(-1).eq(f32.argmax(-1)).to(torch::kFloat).mean().item<double>();
  std::cout << "[" << GetParam() << "] int8 vs float32 logits: max |diff| " << diff
            << " (max |logit| " << scale << "), argmax agreement " << agree << "\n";
  // Stated tolerance: within 5% of the largest logit, 90% of argmaxes kept.
  EXPECT_LE(diff, 0.05 * scale);
  EXPECT_GE(agree, 0.90);

  // An adapter made on the int8 base is a plain PEFT adapter: PEFT loads it
  // onto the float32 base and gives the logits cluedrop gives for that base
  // with the adapter (check_lora_export.py).
  const bool gpt2 = model_->config().family == ModelFamily::kGpt2;
  const std::vector<std::string> targets =
      gpt2 ? std::vector<std::string>{"c_attn", "c_fc"}
           : std::vector<std::string>{"q_proj", "v_proj", "down_proj"};
  ASSERT_TRUE(model_->EnableLora(targets, 4, 8.0).ok());
  torch::manual_seed(8);
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : model_->PeftTensors()) {
      if (name.find("lora_B") != std::string::npos) t.normal_(0.0, 0.2);
    }
  }
  const ScopedTempDir scratch(std::string("int8_lora_") + GetParam());
  const std::string out = scratch.file("adapter");
  ASSERT_TRUE(SaveLoraAdapter(*model_, out, dir_ + "/model").ok());
  auto fresh = LoadCausalLM(dir_ + "/model", LoadOptions{{testing::TestDevice()}, torch::kFloat});
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE((*fresh)->EnableLora(targets, 4, 8.0).ok());
  auto adapter = CheckpointReader::Open(out + "/adapter_model.safetensors");
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  ASSERT_TRUE(LoadLoraWeights(**fresh, **adapter, out).ok());
  model_ = *fresh;
  torch::Tensor f32_adapted = Run("").to(torch::kCPU).contiguous();
  SafetensorsWriter writer;
  ASSERT_TRUE(writer
                  .Add("logits", DType::kF32, f32_adapted.sizes().vec(), f32_adapted.data_ptr(),
                       f32_adapted.nbytes())
                  .ok());
  ASSERT_TRUE(writer.Write(out + "/our_logits.safetensors").ok());
  const std::string cmd = testing::OraclePython() + " " + testing::SourceDir() +
                          "/tests/oracle/check_lora_export.py --base " + dir_ +
                          "/model --adapter " + out + " --logits " + out +
                          "/our_logits.safetensors --reference " + dir_ + "/reference.safetensors";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

INSTANTIATE_TEST_SUITE_P(Families, ModelOracleTest, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

}  // namespace
}  // namespace cluedrop::model
