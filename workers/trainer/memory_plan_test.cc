// The memory planner (workers/model/memory_plan.h) against the CPU
// allocator's exact peak of real training steps, on shapes other than the
// ones its coefficients were fitted on, and its refusals.
#include "modelspec/memory_plan.h"

#include <gtest/gtest.h>

#include <cmath>

#include "workers/trainer/step_memory.h"

namespace cluedrop::trainer {
namespace {

model::ModelConfig Config(const std::string& json) {
  StatusOr<model::ModelConfig> c = model::ParseModelConfig(json);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

const char* kShapes[] = {
    // Llama with grouped-query attention, a gated MLP wider than 3h.
    R"({"model_type": "llama", "vocab_size": 2000, "hidden_size": 192, "intermediate_size": 640,
        "num_hidden_layers": 3, "num_attention_heads": 6, "num_key_value_heads": 2,
        "max_position_embeddings": 512})",
    // Qwen2 shape with biases and an explicit head_dim.
    R"({"model_type": "qwen2", "vocab_size": 1500, "hidden_size": 128, "intermediate_size": 320,
        "num_hidden_layers": 5, "num_attention_heads": 4, "num_key_value_heads": 4,
        "head_dim": 48, "max_position_embeddings": 512})",
};

struct Mode {
  const char* name;
  int64_t lora_rank;
  bool int8;
  int64_t checkpoint_every;
};

TEST(MemoryPlanTest, EstimatesMatchTheMeasuredPeakWithin15Percent) {
  const Mode modes[] = {{"full", 0, false, 0},
                        {"lora", 8, false, 0},
                        {"int8 lora", 8, true, 0},
                        {"full ckpt 1", 0, false, 1},
                        {"lora ckpt 2", 8, false, 2}};
  for (const char* shape : kShapes) {
    const model::ModelConfig config = Config(shape);
    for (const Mode& mode : modes) {
      StepMemoryOptions o;
      o.batch_size = 3;
      o.seq_len = 96;
      o.lora_rank = mode.lora_rank;
      o.int8_base = mode.int8;
      o.checkpoint_every = mode.checkpoint_every;
      StatusOr<StepMemory> measured = MeasureStepMemory(config, o);
      ASSERT_TRUE(measured.ok()) << measured.status();
      StatusOr<std::vector<model::DeviceMemory>> plan =
          model::PlanTrainerMemory(config, PlanInputFor(o));
      ASSERT_TRUE(plan.ok()) << plan.status();
      ASSERT_EQ(plan->size(), 1u);
      const model::DeviceMemory& d = (*plan)[0];
      // Weights to the byte but RoPE's small inverse-frequency table; the
      // peak within 15%.
      EXPECT_NEAR(static_cast<double>(d.weights + (mode.lora_rank > 0 ? d.trainable : 0)),
                  static_cast<double>(measured->weights_bytes), 1024)
          << config.model_type << " " << mode.name;
      const double ratio = static_cast<double>(d.peak) / static_cast<double>(measured->peak_bytes);
      std::cout << config.model_type << " " << mode.name << ": estimate " << d.peak << ", measured "
                << measured->peak_bytes << ", ratio " << ratio << "\n";
      EXPECT_NEAR(ratio, 1.0, 0.15) << config.model_type << " " << mode.name;
    }
  }
}

TEST(MemoryPlanTest, SplitsPlaceLayersEmbeddingsAndHeadAndRefuseBadSplits) {
  const model::ModelConfig config = Config(kShapes[0]);
  model::TrainMemoryInput in;
  in.batch_size = 2;
  in.seq_len = 64;
  in.lora_rank = 4;
  in.layer_split = {1, 2};
  in.cuda = true;
  StatusOr<std::vector<model::DeviceMemory>> plan = model::PlanTrainerMemory(config, in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0].device, "cuda:0");
  EXPECT_EQ((*plan)[1].device, "cuda:1");
  EXPECT_EQ((*plan)[0].layers, 1);
  EXPECT_EQ((*plan)[1].layers, 2);
  // The embedding (2000 x 192 floats) on the first device, the untied head
  // on the last, the gradient buckets of every adapter on the first.
  EXPECT_GT((*plan)[0].weights, 2000 * 192 * 4);
  EXPECT_GT((*plan)[1].weights, 2000 * 192 * 4);
  EXPECT_EQ((*plan)[0].gradients,
            (*plan)[0].trainable + (*plan)[0].trainable + (*plan)[1].trainable);
  EXPECT_EQ((*plan)[0].workspace, int64_t{1} << 30);
  in.layer_split = {1, 1};
  EXPECT_EQ(model::PlanTrainerMemory(config, in).status().message(),
            "device_map.layer_split: sums to 2, the model has 3 layers");
  in.layer_split = {};
  in.lora_rank = 0;
  in.int8_base = true;
  EXPECT_EQ(model::PlanTrainerMemory(config, in).status().code(), StatusCode::kInvalidArgument);
  in.lora_rank = 4;
  in.lora_targets = {"c_attn"};
  EXPECT_EQ(model::PlanTrainerMemory(config, in).status().message(),
            "lora.target_modules: 'c_attn' matches no linear layer of this model");
  EXPECT_EQ(model::FormatBytes(int64_t{3} << 30), "3.0 GiB");
  EXPECT_EQ(model::FormatBytes(96), "96 B");
}

}  // namespace
}  // namespace cluedrop::trainer
