// Model runtime properties that need no oracle: incremental decoding equals
// a full forward, batched generation equals one-by-one, layer placement,
// mask rules, and precise errors for broken checkpoints.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "base/scoped_temp_dir.h"
#include "workers/model/checkpoint/safetensors_writer.h"
#include "workers/model/generation.h"
#include "workers/model/hf_export.h"
#include "workers/model/model_loader.h"
#include "workers/model/model_test_util.h"

namespace cluedrop::model {
namespace {

namespace fs = std::filesystem;

ModelConfig TinyConfig(const std::string& type) {
  std::string json;
  if (type == "gpt2") {
    json =
        R"({"model_type": "gpt2", "vocab_size": 50, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 64})";
  } else {
    json = R"({"model_type": ")" + type + R"(", "vocab_size": 50, "hidden_size": 32,
      "intermediate_size": 48, "num_hidden_layers": 3, "num_attention_heads": 4,
      "num_key_value_heads": 2, "max_position_embeddings": 64, "sliding_window": 3,
      "attn_logit_softcapping": 2.0, "final_logit_softcapping": 3.0, "query_pre_attn_scalar": 6})";
  }
  auto c = ParseModelConfig(json);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

class FamilyTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FamilyTest, IncrementalDecodingEqualsFullForward) {
  torch::manual_seed(1);
  auto model = CreateCausalLM(TinyConfig(GetParam()));
  ASSERT_TRUE(model.ok()) << model.status();
  torch::NoGradGuard no_grad;
  torch::Tensor ids = torch::randint(0, 50, {2, 9}, torch::kLong);
  torch::Tensor full = (*model)->Forward(ids, {});
  KvCache cache((*model)->config().num_layers);
  ForwardOptions step;
  step.cache = &cache;
  std::vector<torch::Tensor> parts;
  parts.push_back((*model)->Forward(ids.narrow(1, 0, 4), step));
  for (int64_t t = 4; t < 9; ++t) parts.push_back((*model)->Forward(ids.narrow(1, t, 1), step));
  EXPECT_LE((torch::cat(parts, 1) - full).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(cache.length(), 9);
}

TEST_P(FamilyTest, BatchedLeftPaddedGenerationEqualsOneByOne) {
  torch::manual_seed(2);
  auto model = CreateCausalLM(TinyConfig(GetParam()));
  ASSERT_TRUE(model.ok());
  std::vector<std::vector<int64_t>> prompts = {{5, 7, 9, 11, 13}, {3, 4}, {8, 1, 2}};
  GenerationOptions options;
  options.max_new_tokens = 6;
  auto batched = GreedyGenerate(**model, prompts, options);
  ASSERT_TRUE(batched.ok()) << batched.status();
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto single = GreedyGenerate(**model, {prompts[i]}, options);
    ASSERT_TRUE(single.ok());
    EXPECT_EQ((*batched)[i], (*single)[0]) << "row " << i;
  }
}

TEST_P(FamilyTest, LayersSplitOverDevicesGiveTheSameLogits) {
  torch::manual_seed(3);
  auto model = CreateCausalLM(TinyConfig(GetParam()));
  ASSERT_TRUE(model.ok());
  torch::NoGradGuard no_grad;
  torch::Tensor ids = torch::randint(0, 50, {1, 6}, torch::kLong);
  torch::Tensor before = (*model)->Forward(ids, {});
  // Two CPU "devices" exercise the per-layer placement and transfers; the
  // GPU run repeats this with real devices when it has several.
  std::vector<torch::Device> devices = {torch::kCPU, torch::kCPU};
  DeviceMap map = DeviceMap::Even((*model)->config().num_layers, devices);
  ASSERT_TRUE((*model)->Place(map, torch::kFloat).ok());
  EXPECT_TRUE(torch::equal((*model)->Forward(ids, {}), before));
}

TEST_P(FamilyTest, SaveAndLoadRoundTripsEveryParameter) {
  torch::manual_seed(4);
  auto model = CreateCausalLM(TinyConfig(GetParam()));
  ASSERT_TRUE(model.ok());
  const ScopedTempDir scratch(std::string("roundtrip_") + GetParam());
  const std::string dir = scratch.file("model");
  ASSERT_TRUE(SaveHfModel(**model, dir, {}).ok());
  auto loaded = LoadCausalLM(dir, {});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto a = (*model)->HfTensors();
  auto b = (*loaded)->HfTensors();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  }
}

// Loss and the gradient of every trainable parameter for one batch.
std::pair<double, std::map<std::string, torch::Tensor>> LossAndGrads(CausalLM& model,
                                                                     const torch::Tensor& ids) {
  model.zero_grad();
  torch::Tensor mask = torch::ones_like(ids);
  mask[1][0] = 0;  // a left-padded row
  ForwardOptions options;
  options.attention_mask = mask;
  torch::Tensor logits = model.Forward(ids, options);
  torch::Tensor loss = torch::nn::functional::cross_entropy(
      logits.narrow(1, 0, ids.size(1) - 1).reshape({-1, logits.size(-1)}),
      ids.narrow(1, 1, ids.size(1) - 1).reshape({-1}));
  loss.backward();
  std::map<std::string, torch::Tensor> grads;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    if (p.value().requires_grad()) grads[p.key()] = p.value().grad().clone();
  }
  return {loss.item<double>(), grads};
}

// Issue 19: activation checkpointing (every layer, every 2nd) gives the same
// loss and gradients as the plain run, for full fine-tuning and for LoRA
// with a frozen base (whose layer inputs do not require grad).
TEST_P(FamilyTest, ActivationCheckpointingKeepsLossAndGradients) {
  for (const bool lora : {false, true}) {
    torch::manual_seed(5);
    auto model = CreateCausalLM(TinyConfig(GetParam()));
    ASSERT_TRUE(model.ok());
    if (lora) {
      const std::vector<std::string> targets =
          std::string(GetParam()) == "gpt2" ? std::vector<std::string>{"c_attn", "c_fc"}
                                            : std::vector<std::string>{"q_proj", "down_proj"};
      ASSERT_TRUE((*model)->EnableLora(targets, 4, 8).ok());
      for (auto& p : (*model)->named_parameters(true)) {
        p.value().set_requires_grad(p.key().find(".lora_") != std::string::npos);
      }
      // Non-zero B so that A's gradient is not trivially zero.
      torch::NoGradGuard no_grad;
      for (auto& p : (*model)->named_parameters(true)) {
        if (p.key().find("lora_B") != std::string::npos) p.value().normal_(0, 0.1);
      }
    }
    torch::Tensor ids = torch::randint(0, 50, {2, 7}, torch::kLong);
    auto [plain_loss, plain] = LossAndGrads(**model, ids);
    ASSERT_FALSE(plain.empty());
    for (const int64_t every : {1, 2}) {
      (*model)->SetActivationCheckpointing(every);
      auto [loss, grads] = LossAndGrads(**model, ids);
      EXPECT_EQ(loss, plain_loss) << "every " << every << (lora ? " lora" : " full");
      ASSERT_EQ(grads.size(), plain.size());
      double worst = 0;
      for (const auto& [name, g] : plain) {
        ASSERT_TRUE(grads[name].defined()) << name;
        worst = std::max(worst, (grads[name] - g).abs().max().item<double>());
      }
      EXPECT_LE(worst, 1e-6) << "every " << every << (lora ? " lora" : " full");
      if (lora) {
        double norm = 0;
        for (const auto& [name, g] : grads) norm += g.norm().item<double>();
        EXPECT_GT(norm, 0) << "the adapters got no gradient through the checkpoint";
      }
    }
    (*model)->SetActivationCheckpointing(0);
  }
}

// Issue 19: a layer split over 2 and 3 CPU "devices" (as many as the model
// has layers) gives the loss and gradients of one device, LoRA and full.
TEST_P(FamilyTest, LayerSplitTrainsLikeOneDevice) {
  for (const bool lora : {false, true}) {
    torch::manual_seed(7);
    auto model = CreateCausalLM(TinyConfig(GetParam()));
    ASSERT_TRUE(model.ok());
    if (lora) {
      const std::vector<std::string> targets = std::string(GetParam()) == "gpt2"
                                                   ? std::vector<std::string>{"c_attn"}
                                                   : std::vector<std::string>{"v_proj"};
      ASSERT_TRUE((*model)->EnableLora(targets, 2, 4).ok());
      torch::NoGradGuard no_grad;
      for (auto& p : (*model)->named_parameters(true)) {
        const bool adapter = p.key().find(".lora_") != std::string::npos;
        p.value().set_requires_grad(adapter);
        if (p.key().find("lora_B") != std::string::npos) p.value().normal_(0, 0.1);
      }
    }
    torch::Tensor ids = torch::randint(0, 50, {2, 7}, torch::kLong);
    auto [plain_loss, plain] = LossAndGrads(**model, ids);
    const int64_t layers = (*model)->config().num_layers;
    for (int64_t parts = 2; parts <= std::min<int64_t>(3, layers); ++parts) {
      std::vector<torch::Device> devices(parts, torch::kCPU);
      ASSERT_TRUE((*model)->Place(DeviceMap::Even(layers, devices), torch::kFloat).ok());
      auto [loss, grads] = LossAndGrads(**model, ids);
      EXPECT_NEAR(loss, plain_loss, 1e-6) << parts << " devices";
      double worst = 0;
      for (const auto& [name, g] : plain)
        worst = std::max(worst, (grads[name] - g).abs().max().item<double>());
      EXPECT_LE(worst, 1e-6) << parts << " devices" << (lora ? " lora" : " full");
    }
  }
}

// Issue 19: int8 base weights: absmax per output channel, the layer's
// output from the dequantized weight, LoRA on top, and a move keeps int8.
TEST_P(FamilyTest, Int8BaseQuantizesPerOutputChannel) {
  torch::manual_seed(6);
  auto model = CreateCausalLM(TinyConfig(GetParam()));
  ASSERT_TRUE(model.ok());
  torch::Tensor ids = torch::randint(0, 50, {1, 6}, torch::kLong);
  torch::Tensor f32;
  {
    torch::NoGradGuard no_grad;
    f32 = (*model)->Forward(ids, {});
  }
  auto before = (*model)->HfTensors();
  auto quantized = (*model)->QuantizeBaseInt8();
  ASSERT_TRUE(quantized.ok()) << quantized.status();
  EXPECT_EQ(*quantized, std::string(GetParam()) == "gpt2" ? 2 * 4 : 3 * 7);
  int64_t buffers = 0;
  for (const auto& b : (*model)->named_buffers(true)) {
    if (b.key().find("weight_int8") == std::string::npos) continue;
    ++buffers;
    EXPECT_EQ(b.value().scalar_type(), torch::kInt8) << b.key();
    EXPECT_LE(b.value().abs().max().item<int>(), 127);
    // Every row reaches +-127 (its absmax).
    EXPECT_TRUE(b.value().abs().amax(1).eq(127).all().item<bool>()) << b.key();
  }
  EXPECT_EQ(buffers, *quantized);
  // The quantized weights are no longer parameters (never exported).
  EXPECT_LT((*model)->HfTensors().size(), before.size());
  torch::NoGradGuard no_grad;
  torch::Tensor int8 = (*model)->Forward(ids, {});
  const double diff = (int8 - f32).abs().max().item<double>();
  EXPECT_GT(diff, 0);
  EXPECT_LE(diff, 0.05 * f32.abs().max().item<double>());
  // Placement keeps the int8 values (a float conversion would change types).
  ASSERT_TRUE(
      (*model)
          ->Place(DeviceMap::Even((*model)->config().num_layers, {torch::kCPU}), torch::kFloat)
          .ok());
  for (const auto& b : (*model)->named_buffers(true)) {
    if (b.key().find("weight_int8") != std::string::npos) {
      EXPECT_EQ(b.value().scalar_type(), torch::kInt8) << b.key();
    }
  }
  EXPECT_TRUE(torch::equal((*model)->Forward(ids, {}), int8));
}

INSTANTIATE_TEST_SUITE_P(All, FamilyTest,
                         ::testing::Values("llama", "mistral", "qwen2", "gemma2", "gpt2"));

TEST(DeviceMapTest, EvenSplitIsContiguous) {
  DeviceMap map =
      DeviceMap::Even(5, {torch::Device(torch::kCPU, 0), torch::Device(torch::kCPU, 1)});
  ASSERT_EQ(map.layer_devices.size(), 5u);
  EXPECT_EQ(map.layer_devices[0].index(), 0);
  EXPECT_EQ(map.layer_devices[2].index(), 0);
  EXPECT_EQ(map.layer_devices[3].index(), 1);
  EXPECT_EQ(map.layer_devices[4].index(), 1);
}

TEST(AttentionMaskTest, SlidingWindowCausalAndPadding) {
  AttentionMaskSpec spec;
  spec.sliding_window = 2;
  spec.key_valid = torch::tensor({{0, 1, 1, 1}}, torch::kLong).to(torch::kBool);
  torch::Tensor mask = BuildAttentionMask(spec, 4, 4, torch::kCPU);  // [1, 1, 4, 4]
  ASSERT_TRUE(mask.defined());
  for (int q = 0; q < 4; ++q) {
    for (int k = 0; k < 4; ++k) {
      bool expected = k <= q && q - k < 2 && k >= 1;
      if (q == 0 && k == 0) expected = true;  // a pad query keeps its own slot
      EXPECT_EQ(mask[0][0][q][k].item<bool>(), expected) << q << "," << k;
    }
  }
  EXPECT_FALSE(BuildAttentionMask(AttentionMaskSpec{}, 4, 4, torch::kCPU).defined());
}

TEST(LoaderErrorTest, MissingMismatchedAndUnexpectedTensorsAreNamed) {
  torch::manual_seed(5);
  auto model = CreateCausalLM(TinyConfig("llama"));
  ASSERT_TRUE(model.ok());
  const ScopedTempDir scratch("broken_ckpt");
  const std::string dir = scratch.file("model");
  ASSERT_TRUE(SaveHfModel(**model, dir, {}).ok());
  // Rewrite the weights without one tensor, with one of the wrong shape, or
  // with an extra one.
  auto tensors = (*model)->HfTensors();
  auto rewrite = [&](const std::string& drop, const std::string& reshape,
                     const std::string& extra) {
    SafetensorsWriter writer;
    std::vector<torch::Tensor> keep;
    for (auto& [name, t] : tensors) {
      if (name == drop) continue;
      torch::Tensor c = t.detach().contiguous();
      if (name == reshape) c = c.reshape({-1}).contiguous();
      keep.push_back(c);
      EXPECT_TRUE(writer.Add(name, DType::kF32, c.sizes().vec(), c.data_ptr(), c.nbytes()).ok());
    }
    if (!extra.empty()) {
      keep.push_back(torch::zeros({2}));
      EXPECT_TRUE(writer.Add(extra, DType::kF32, {2}, keep.back().data_ptr(), 8).ok());
    }
    EXPECT_TRUE(writer.Write(dir + "/model.safetensors").ok());
  };
  rewrite("model.layers.1.mlp.up_proj.weight", "", "");
  auto missing = LoadCausalLM(dir, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing tensor 'model.layers.1.mlp.up_proj.weight'"),
            std::string::npos)
      << missing.status();

  rewrite("", "model.layers.0.self_attn.k_proj.weight", "");
  auto shape = LoadCausalLM(dir, {});
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(shape.status().message().find("'model.layers.0.self_attn.k_proj.weight': shape [512]"),
            std::string::npos)
      << shape.status();

  rewrite("", "", "model.layers.0.self_attn.q_norm.weight");
  auto extra = LoadCausalLM(dir, {});
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(
      extra.status().message().find("unexpected tensor 'model.layers.0.self_attn.q_norm.weight'"),
      std::string::npos)
      << extra.status();

  std::ofstream(dir + "/config.json") << R"({"model_type": "falcon"})";
  auto arch = LoadCausalLM(dir, {});
  ASSERT_FALSE(arch.ok());
  EXPECT_NE(arch.status().message().find("unsupported architecture 'falcon'"), std::string::npos);
}

TEST(GenerationErrorTest, RejectsBadPrompts) {
  auto model = CreateCausalLM(TinyConfig("llama"));
  ASSERT_TRUE(model.ok());
  GenerationOptions options;
  EXPECT_EQ(GreedyGenerate(**model, {}, options).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GreedyGenerate(**model, {{}}, options).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GreedyGenerate(**model, {{50}}, options).status().code(), StatusCode::kInvalidArgument);
  options.max_new_tokens = 64;
  EXPECT_EQ(GreedyGenerate(**model, {{1}}, options).status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseTest, DtypesAndDevices) {
  EXPECT_EQ(*ParseTorchDtype("bf16"), torch::kBFloat16);
  EXPECT_FALSE(ParseTorchDtype("int8").ok());
  EXPECT_TRUE(ParseTorchDevice("cpu").ok());
  EXPECT_EQ(ParseTorchDevice("tpu").status().code(), StatusCode::kInvalidArgument);
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(ParseTorchDevice("cuda").status().code(), StatusCode::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace cluedrop::model
