#include "modelspec/model_config.h"

#include <gtest/gtest.h>

namespace cluedrop::model {
namespace {

const char* kLlama3 = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256,
  "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
  "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 131072,
  "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": false,
  "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "torch_dtype": "bfloat16"})";

TEST(ModelConfigTest, ParsesLlama31_8B) {
  auto c = ParseModelConfig(kLlama3);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->family, ModelFamily::kLlama);
  EXPECT_EQ(c->num_kv_heads, 8);
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_EQ(c->rope_scaling.type, "llama3");
  EXPECT_EQ(c->rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c->eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_FALSE(c->sliding_window.has_value());
  // Llama-3.1-8B has 8.03 billion parameters.
  EXPECT_NEAR(static_cast<double>(c->NumParameters()), 8.03e9, 0.01e9);
}

TEST(ModelConfigTest, Gemma2DefaultsAlternateSlidingLayersAndScale) {
  auto c = ParseModelConfig(R"({"model_type": "gemma2", "vocab_size": 256000, "hidden_size": 2304,
    "intermediate_size": 9216, "num_hidden_layers": 26, "num_attention_heads": 8,
    "num_key_value_heads": 4, "head_dim": 256, "sliding_window": 4096,
    "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0, "query_pre_attn_scalar": 256})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_EQ(c->hidden_act, "gelu_pytorch_tanh");
  EXPECT_TRUE(c->layer_sliding[0]);
  EXPECT_FALSE(c->layer_sliding[1]);
  EXPECT_DOUBLE_EQ(c->AttentionScale(), 1.0 / 16.0);
  // Gemma-2-2B: 2.61 billion parameters.
  EXPECT_NEAR(static_cast<double>(c->NumParameters()), 2.61e9, 0.01e9);
}

TEST(ModelConfigTest, Gpt2SmallHas124MParameters) {
  auto c = ParseModelConfig(R"({"model_type": "gpt2", "vocab_size": 50257, "n_embd": 768,
    "n_layer": 12, "n_head": 12, "n_positions": 1024})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->intermediate_size, 3072);
  EXPECT_NEAR(static_cast<double>(c->NumParameters()), 124.44e6, 0.01e6);
}

TEST(ModelConfigTest, Qwen2HasQkvBiasAndNoWindowUnlessEnabled) {
  auto c = ParseModelConfig(R"({"model_type": "qwen2", "vocab_size": 1000, "hidden_size": 64,
    "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "sliding_window": 4096, "use_sliding_window": false})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->qkv_bias);
  EXPECT_FALSE(c->o_bias);
  EXPECT_FALSE(c->sliding_window.has_value());
}

TEST(ModelConfigTest, JsonRoundTripKeepsTheArchitecture) {
  auto c = ParseModelConfig(kLlama3);
  ASSERT_TRUE(c.ok());
  auto again = ParseModelConfig(ModelConfigToJson(*c));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->NumParameters(), c->NumParameters());
  EXPECT_EQ(again->rope_scaling.factor, 8.0);
  EXPECT_EQ(again->eos_token_ids, c->eos_token_ids);
}

struct BadConfig {
  const char* json;
  StatusCode code;
  const char* message;
};

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, NamesTheField) {
  auto c = ParseModelConfig(GetParam().json, "m/config.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), GetParam().code) << c.status();
  EXPECT_NE(c.status().message().find(GetParam().message), std::string::npos) << c.status();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BadConfigTest,
    ::testing::Values(
        BadConfig{"{not json", StatusCode::kInvalidArgument, "m/config.json: not valid JSON"},
        BadConfig{"[1]", StatusCode::kInvalidArgument, "must be a JSON object"},
        BadConfig{R"({"model_type": "mamba"})", StatusCode::kInvalidArgument,
                  "model_type: unsupported architecture 'mamba'"},
        BadConfig{R"({"model_type": "llama", "vocab_size": 10})", StatusCode::kInvalidArgument,
                  "hidden_size: is required"},
        BadConfig{R"({"model_type": "llama", "vocab_size": "10", "hidden_size": 8})",
                  StatusCode::kInvalidArgument, "vocab_size: must be an integer"},
        BadConfig{R"({"model_type": "llama", "vocab_size": 10, "hidden_size": 64,
                      "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 8,
                      "num_key_value_heads": 3})",
                  StatusCode::kInvalidArgument, "num_key_value_heads: 3 does not divide"},
        BadConfig{R"({"model_type": "llama", "vocab_size": 10, "hidden_size": 64,
                      "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 8,
                      "rope_scaling": {"rope_type": "yarn", "factor": 4}})",
                  StatusCode::kUnimplemented, "rope_scaling.rope_type: 'yarn' is not supported"},
        BadConfig{R"({"model_type": "llama", "vocab_size": 10, "hidden_size": 64,
                      "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 8,
                      "hidden_act": "relu6"})",
                  StatusCode::kInvalidArgument, "hidden_act: unsupported activation"},
        BadConfig{R"({"model_type": "gemma2", "vocab_size": 10, "hidden_size": 64,
                      "intermediate_size": 8, "num_hidden_layers": 2, "num_attention_heads": 4,
                      "layer_types": ["full_attention"]})",
                  StatusCode::kInvalidArgument, "layer_types: must list 2"}));

}  // namespace
}  // namespace cluedrop::model
