// TrainRunOptionsFromSpec: every field lands in its option, unset fields
// take the coordinator's defaults, and unsupported values are rejected.
#include "workers/trainer/train_spec.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

namespace cluedrop::trainer {
namespace {

v1::JobSpec Parse(const std::string& text) {
  v1::JobSpec spec;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &spec));
  return spec;
}

TEST(TrainSpecTest, MapsEveryField) {
  absl::StatusOr<TrainRunOptions> o = TrainRunOptionsFromSpec(Parse(R"pb(
    target_model {
      checkpoint_dir: "/m"
      lora { rank: 16 alpha: 32 target_modules: "q_proj" target_modules: "o_proj" }
    }
    augmentation {
      mode: AUGMENTATION_MODE_RANDOM
      alpha: 0.5
      beta: 0.1
      copies: 3
      keep_original: false
      form: DROP_FORM_DELETE
      resample: RESAMPLE_FIXED
      protected_tokens: ";"
      seed: 9
    }
    training {
      epochs: 4
      batch_size: 8
      learning_rate: 0.001
      schedule: LR_SCHEDULE_COSINE
      warmup_steps: 7
      grad_clip: 1.5
      grad_accumulation: 2
      precision: PRECISION_BF16
      checkpoint_interval_steps: 50
      weight_decay: 0.01
      max_seq_len: 256
      seed: 3
    }
    evaluation { shots: 2 max_new_tokens: 6 }
    output_dir: "/out"
  )pb"));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->model_dir, "/m");
  EXPECT_EQ(o->lora_rank, 16);
  EXPECT_DOUBLE_EQ(o->lora_alpha, 32);
  EXPECT_EQ(o->lora_targets, (std::vector<std::string>{"q_proj", "o_proj"}));
  EXPECT_EQ(o->augmentation.mode, AugmentMode::kRandom);
  EXPECT_FLOAT_EQ(o->augmentation.alpha, 0.5);
  EXPECT_EQ(o->augmentation.copies, 3u);
  EXPECT_FALSE(o->augmentation.keep_original);
  EXPECT_EQ(o->augmentation.form, DropForm::kDelete);
  EXPECT_EQ(o->augmentation.resample, Resample::kFixed);
  EXPECT_EQ(o->augmentation.protected_tokens, (std::vector<std::string>{";"}));
  EXPECT_EQ(o->augmentation.seed, 9u);
  EXPECT_EQ(o->epochs, 4);
  EXPECT_EQ(o->batch_size, 8);
  EXPECT_FLOAT_EQ(o->learning_rate, 0.001);
  EXPECT_EQ(o->schedule, TrainSchedule::kCosine);
  EXPECT_EQ(o->warmup_steps, 7);
  EXPECT_FLOAT_EQ(o->grad_clip, 1.5);
  EXPECT_EQ(o->grad_accumulation, 2);
  EXPECT_EQ(o->precision, TrainPrecision::kBf16);
  EXPECT_EQ(o->checkpoint_interval_steps, 50);
  EXPECT_FLOAT_EQ(o->weight_decay, 0.01);
  EXPECT_EQ(o->max_seq_len, 256);
  EXPECT_EQ(o->seed, 3u);
  EXPECT_EQ(o->eval.prompts.shots, 2u);
  EXPECT_EQ(o->eval.max_new_tokens, 6);
  EXPECT_EQ(o->output_dir, "/out");
  EXPECT_EQ(o->checkpoint_root, "/out/checkpoints");
}

TEST(TrainSpecTest, UnsetFieldsTakeDefaults) {
  absl::StatusOr<TrainRunOptions> o =
      TrainRunOptionsFromSpec(Parse(R"pb(target_model { checkpoint_dir: "/m" })pb"));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->augmentation.mode, AugmentMode::kContrast);
  EXPECT_EQ(o->augmentation.copies, 10u);
  EXPECT_TRUE(o->augmentation.keep_original);
  EXPECT_EQ(o->grad_accumulation, 1);
  EXPECT_EQ(o->epochs, 1);
  EXPECT_EQ(o->lora_rank, 0);
  EXPECT_EQ(o->checkpoint_root, "");
}

TEST(TrainSpecTest, RejectsLoraDropoutAndMissingModel) {
  absl::StatusOr<TrainRunOptions> o = TrainRunOptionsFromSpec(Parse(R"pb(
    target_model {
      checkpoint_dir: "/m"
      lora { rank: 4 alpha: 8 dropout: 0.1 }
    }
  )pb"));
  ASSERT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find("target_model.lora.dropout"), std::string::npos)
      << o.status();
  EXPECT_EQ(TrainRunOptionsFromSpec(v1::JobSpec()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cluedrop::trainer
