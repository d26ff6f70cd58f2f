#include "jobspec/job_spec_validator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"

namespace cluedrop::jobspec {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// A score-only job: corpus and reference models.
v1::JobSpec ScoreOnlySpec() {
  v1::JobSpec spec;
  spec.set_name("bios");
  spec.mutable_corpus()->add_paths("/data/bios.csv");
  spec.mutable_reference_models()->mutable_large()->set_checkpoint_dir("/models/large");
  spec.mutable_reference_models()->mutable_small()->set_checkpoint_dir("/models/small");
  return spec;
}

// A training job with evaluation.
v1::JobSpec TrainingSpec() {
  v1::JobSpec spec = ScoreOnlySpec();
  spec.mutable_target_model()->set_checkpoint_dir("/models/target");
  spec.mutable_training()->set_epochs(3);
  spec.mutable_training()->set_batch_size(8);
  spec.mutable_training()->set_learning_rate(1e-4f);
  spec.mutable_evaluation()->set_prompt_table("/data/prompts.csv");
  spec.set_output_dir("/out");
  return spec;
}

// The INVALID_ARGUMENT message of ValidateJobSpec, or "OK".
std::string Check(const v1::JobSpec& spec) {
  absl::Status status = ValidateJobSpec(spec);
  if (status.ok()) return "OK";
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

TEST(JobSpecValidatorTest, ValidSpecsPass) {
  EXPECT_EQ(Check(ScoreOnlySpec()), "OK");
  EXPECT_EQ(Check(TrainingSpec()), "OK");
  v1::JobSpec spec = TrainingSpec();
  spec.clear_training();  // an evaluation-only run of the target model
  EXPECT_EQ(Check(spec), "OK");
}

TEST(JobSpecValidatorTest, DefaultedSpecsStayValid) {
  for (v1::JobSpec spec : {ScoreOnlySpec(), TrainingSpec()}) {
    ApplyJobSpecDefaults(&spec);
    EXPECT_EQ(Check(spec), "OK") << spec.DebugString();
  }
}

TEST(JobSpecValidatorTest, Name) {
  v1::JobSpec spec = ScoreOnlySpec();
  spec.set_name(std::string(128, 'n'));
  EXPECT_EQ(Check(spec), "OK");
  spec.set_name(std::string(129, 'n'));
  EXPECT_EQ(Check(spec), "name: must be at most 128 bytes, got 129");
}

TEST(JobSpecValidatorTest, Corpus) {
  v1::JobSpec spec = ScoreOnlySpec();
  spec.mutable_corpus()->clear_paths();
  EXPECT_EQ(Check(spec), "corpus.paths: at least one path required");
  spec.mutable_corpus()->add_paths("a.csv");
  spec.mutable_corpus()->add_paths("");
  EXPECT_EQ(Check(spec), "corpus.paths[1]: must not be empty");
  spec = ScoreOnlySpec();
  spec.mutable_corpus()->set_format(static_cast<v1::CorpusFormat>(4));
  EXPECT_EQ(Check(spec), "corpus.format: unknown value 4");
}

TEST(JobSpecValidatorTest, ReferenceModelsRequiredAndDistinct) {
  v1::JobSpec spec = ScoreOnlySpec();
  spec.clear_reference_models();
  EXPECT_EQ(Check(spec),
            "reference_models.large.checkpoint_dir: required; "
            "reference_models.small.checkpoint_dir: required");
  spec = ScoreOnlySpec();
  spec.mutable_reference_models()->mutable_small()->set_checkpoint_dir("/models/large/");
  EXPECT_EQ(Check(spec),
            "reference_models.small.checkpoint_dir: must differ from "
            "reference_models.large.checkpoint_dir");
}

TEST(JobSpecValidatorTest, ReferenceModelOptions) {
  v1::JobSpec spec = ScoreOnlySpec();
  auto* ref = spec.mutable_reference_models();
  ref->mutable_large()->set_dtype(static_cast<v1::DType>(7));
  ref->mutable_small()->mutable_device_map()->set_device("gpu");
  ref->add_layers(3);
  ref->add_layers(5);
  ref->add_layers(3);
  ref->set_batch_tokens((1u << 24) + 1);
  EXPECT_EQ(Check(spec),
            "reference_models.large.dtype: unknown value 7; "
            "reference_models.small.device_map.device: must be \"cpu\", \"cuda\" or \"cuda:N\", "
            "got \"gpu\"; "
            "reference_models.layers[2]: duplicate layer 3; "
            "reference_models.batch_tokens: must be at most 16777216, got 16777217");
  ref->set_batch_tokens(1u << 24);
  ref->clear_layers();
  ref->mutable_large()->set_dtype(v1::DTYPE_BFLOAT16);
  for (const char* ok : {"", "cpu", "cuda", "cuda:0", "cuda:7", "cuda:15"}) {
    ref->mutable_small()->mutable_device_map()->set_device(ok);
    EXPECT_EQ(Check(spec), "OK") << ok;
  }
  for (const char* bad : {"CPU", "cuda:", "cuda:-1", "cuda:01", "cuda:1x", "cuda:12345", "tpu"}) {
    ref->mutable_small()->mutable_device_map()->set_device(bad);
    EXPECT_NE(Check(spec), "OK") << bad;
  }
}

TEST(JobSpecValidatorTest, LayerSplit) {
  v1::JobSpec spec = ScoreOnlySpec();
  auto* map = spec.mutable_reference_models()->mutable_large()->mutable_device_map();
  map->add_layer_split(16);
  map->add_layer_split(0);
  EXPECT_EQ(Check(spec), "reference_models.large.device_map.layer_split[1]: must be > 0, got 0");
  map->set_layer_split(1, 16);
  map->set_device("cpu");
  EXPECT_EQ(Check(spec),
            "reference_models.large.device_map.layer_split: must be empty when device is \"cpu\"");
}

TEST(JobSpecValidatorTest, DeviceValuesAreEscapedAndCut) {
  v1::JobSpec spec = ScoreOnlySpec();
  spec.mutable_reference_models()->mutable_large()->mutable_device_map()->set_device(
      "a\n" + std::string(100, 'x'));
  EXPECT_EQ(Check(spec),
            "reference_models.large.device_map.device: must be \"cpu\", \"cuda\" or "
            "\"cuda:N\", got \"a\\n" +
                std::string(62, 'x') + "\"...");
}

TEST(JobSpecValidatorTest, ScoreOnlyRulesForTrainingAndEvaluation) {
  v1::JobSpec spec = TrainingSpec();
  spec.clear_target_model();
  EXPECT_EQ(Check(spec),
            "target_model: required when training is set; "
            "target_model: required when evaluation is set");
  spec.clear_evaluation();
  EXPECT_EQ(Check(spec), "target_model: required when training is set");
  spec = TrainingSpec();
  spec.clear_output_dir();
  EXPECT_EQ(Check(spec), "output_dir: required when target_model is set");
  spec = ScoreOnlySpec();  // output_dir is optional for score-only jobs
  EXPECT_EQ(Check(spec), "OK");
}

TEST(JobSpecValidatorTest, TargetModelSource) {
  v1::JobSpec spec = TrainingSpec();
  spec.mutable_target_model()->clear_source();
  EXPECT_EQ(Check(spec), "target_model: checkpoint_dir or from_scratch_config required");
  spec.mutable_target_model()->set_checkpoint_dir("");
  EXPECT_EQ(Check(spec), "target_model.checkpoint_dir: must not be empty");
  spec.mutable_target_model()->set_from_scratch_config("/cfg/config.json");
  EXPECT_EQ(Check(spec), "target_model.tokenizer_dir: required with from_scratch_config");
  spec.mutable_target_model()->set_tokenizer_dir("/tok");
  EXPECT_EQ(Check(spec), "OK");
  spec.mutable_target_model()->set_from_scratch_config("");
  EXPECT_EQ(Check(spec), "target_model.from_scratch_config: must not be empty");
  spec = TrainingSpec();
  spec.mutable_target_model()->set_dtype(static_cast<v1::DType>(-1));
  EXPECT_EQ(Check(spec), "target_model.dtype: unknown value -1");
}

TEST(JobSpecValidatorTest, Lora) {
  v1::JobSpec spec = TrainingSpec();
  v1::LoraSpec* lora = spec.mutable_target_model()->mutable_lora();
  lora->set_rank(0);
  EXPECT_EQ(Check(spec), "OK");  // LoRA off: alpha 0 is fine
  lora->set_rank(8);
  lora->set_dropout(1.0f);
  lora->add_target_modules("");
  EXPECT_EQ(Check(spec),
            "target_model.lora.alpha: must be finite and > 0 when rank > 0, got 0; "
            "target_model.lora.dropout: must be in [0, 1), got 1; "
            "target_model.lora.target_modules[0]: must not be empty");
  lora->set_alpha(kNaN);
  lora->set_dropout(kNaN);
  lora->set_target_modules(0, "q_proj");
  EXPECT_EQ(Check(spec),
            "target_model.lora.alpha: must be finite and > 0 when rank > 0, got nan; "
            "target_model.lora.dropout: must be in [0, 1), got nan");
  lora->set_alpha(16);
  lora->set_dropout(0.05f);
  EXPECT_EQ(Check(spec), "OK");
}

// Issue 19: the target's device map, int8 base and activation checkpointing.
TEST(JobSpecValidatorTest, TargetPlacementQuantizationAndCheckpointing) {
  v1::JobSpec spec = TrainingSpec();
  v1::TargetModelSpec* target = spec.mutable_target_model();
  target->set_quantization(v1::QUANTIZATION_INT8);
  EXPECT_EQ(Check(spec),
            "target_model.quantization: int8 needs a LoRA adapter to train "
            "(target_model.lora.rank > 0): the int8 base is frozen");
  target->mutable_lora()->set_rank(16);
  target->mutable_lora()->set_alpha(32);
  EXPECT_EQ(Check(spec), "OK");
  target->mutable_device_map()->set_device("cuda");
  target->mutable_device_map()->add_layer_split(40);
  target->mutable_device_map()->add_layer_split(0);
  spec.mutable_training()->set_activation_checkpointing(5000);
  target->set_quantization(static_cast<v1::Quantization>(9));
  EXPECT_EQ(Check(spec),
            "target_model.device_map.layer_split[1]: must be > 0, got 0; "
            "target_model.quantization: unknown value 9; "
            "training.activation_checkpointing: must be <= 1024 (0: off, k: every k-th layer), "
            "got 5000");
  target->mutable_device_map()->set_layer_split(1, 40);
  target->set_quantization(v1::QUANTIZATION_INT8);
  spec.mutable_training()->set_activation_checkpointing(1);
  EXPECT_EQ(Check(spec), "OK");
  target->mutable_device_map()->set_memory_gib(-1);
  EXPECT_EQ(Check(spec), "target_model.device_map.memory_gib: must be finite and >= 0, got -1");
  target->mutable_device_map()->set_memory_gib(80);
  EXPECT_EQ(Check(spec), "OK");
}

TEST(JobSpecValidatorTest, Augmentation) {
  v1::JobSpec spec = ScoreOnlySpec();
  auto* aug = spec.mutable_augmentation();
  aug->set_alpha(1.3f);
  EXPECT_EQ(Check(spec), "augmentation.alpha: must be in [0, 1], got 1.3");
  aug->set_alpha(kNaN);
  EXPECT_EQ(Check(spec), "augmentation.alpha: must be in [0, 1], got nan");
  aug->set_alpha(0);  // explicitly 0 (no dropout) is valid
  aug->set_beta(-0.5f);
  EXPECT_EQ(Check(spec), "augmentation.beta: must be finite and >= 0, got -0.5");
  aug->set_beta(kInf);
  EXPECT_EQ(Check(spec), "augmentation.beta: must be finite and >= 0, got inf");
  aug->set_beta(0);
  aug->set_copies(0);
  EXPECT_EQ(Check(spec), "augmentation.copies: must be in [1, 1000], got 0");
  aug->set_copies(1001);
  EXPECT_EQ(Check(spec), "augmentation.copies: must be in [1, 1000], got 1001");
  aug->set_copies(1000);
  EXPECT_EQ(Check(spec), "OK");
  aug->set_mode(static_cast<v1::AugmentationMode>(7));
  aug->set_form(static_cast<v1::DropForm>(3));
  aug->set_resample(static_cast<v1::Resample>(9));
  EXPECT_EQ(Check(spec),
            "augmentation.mode: unknown value 7; augmentation.form: unknown value 3; "
            "augmentation.resample: unknown value 9");
}

TEST(JobSpecValidatorTest, Training) {
  v1::JobSpec spec = TrainingSpec();
  auto* t = spec.mutable_training();
  t->set_epochs(0);
  t->set_batch_size(0);
  t->set_learning_rate(0);
  t->set_schedule(static_cast<v1::LrSchedule>(4));
  t->set_grad_clip(-1);
  t->set_precision(static_cast<v1::Precision>(3));
  t->set_world_size(1025);
  t->set_weight_decay(kNaN);
  t->set_shuffle_buffer((1 << 20) + 1);
  EXPECT_EQ(Check(spec),
            "training.epochs: must be in [1, 10000], got 0; "
            "training.batch_size: must be in [1, 65536], got 0; "
            "training.learning_rate: must be finite and > 0, got 0; "
            "training.schedule: unknown value 4; "
            "training.grad_clip: must be finite and >= 0, got -1; "
            "training.precision: unknown value 3; "
            "training.world_size: must be in [1, 1024], got 1025; "
            "training.weight_decay: must be finite and >= 0, got nan; "
            "training.shuffle_buffer: must be <= 1048576, got 1048577");
  spec = TrainingSpec();
  spec.mutable_training()->set_shuffle_buffer(1 << 20);
  EXPECT_EQ(Check(spec), "OK");
  spec = TrainingSpec();
  spec.mutable_training()->set_learning_rate(kNaN);
  EXPECT_EQ(Check(spec), "training.learning_rate: must be finite and > 0, got nan");
  spec.mutable_training()->set_learning_rate(kInf);
  EXPECT_EQ(Check(spec), "training.learning_rate: must be finite and > 0, got inf");
  spec = TrainingSpec();
  spec.mutable_training()->set_world_size(1024);
  spec.mutable_training()->set_grad_clip(kInf);
  EXPECT_EQ(Check(spec), "training.grad_clip: must be finite and >= 0, got inf");
}

TEST(JobSpecValidatorTest, Evaluation) {
  v1::JobSpec spec = TrainingSpec();
  auto* e = spec.mutable_evaluation();
  e->clear_prompt_table();
  e->set_shots(65);
  e->set_max_new_tokens(0);
  EXPECT_EQ(Check(spec),
            "evaluation.prompt_table: required when evaluation is set; "
            "evaluation.shots: must be at most 64, got 65; "
            "evaluation.max_new_tokens: must be in [1, 512], got 0");
  e->set_prompt_table("p.csv");
  e->set_shots(0);  // zero-shot is valid
  e->set_max_new_tokens(513);
  EXPECT_EQ(Check(spec), "evaluation.max_new_tokens: must be in [1, 512], got 513");
  e->set_max_new_tokens(512);
  EXPECT_EQ(Check(spec), "OK");
}

TEST(JobSpecValidatorTest, Labels) {
  v1::JobSpec spec = ScoreOnlySpec();
  (*spec.mutable_labels())["team.ml-1_a"] = "x";
  (*spec.mutable_labels())[std::string(63, 'k')] = std::string(256, 'v');
  EXPECT_EQ(Check(spec), "OK");
  (*spec.mutable_labels())["Zed"] = "x";
  (*spec.mutable_labels())["a"] = std::string(257, 'v');
  (*spec.mutable_labels())[""] = "x";
  (*spec.mutable_labels())[std::string(64, 'k')] = "x";
  EXPECT_EQ(Check(spec),
            "labels[\"\"]: key must match [a-z0-9_.-]{1,63}; "
            "labels[\"Zed\"]: key must match [a-z0-9_.-]{1,63}; "
            "labels[\"a\"]: value must be at most 256 bytes, got 257; "
            "labels[\"" +
                std::string(64, 'k') + "\"]: key must match [a-z0-9_.-]{1,63}");
}

// Issue 18 row 14: sizes no real job needs, a NUL inside a path, the root
// as output directory and thousands of labels were accepted.
TEST(JobSpecValidatorTest, SizesPathsAndLabelsAreBounded) {
  v1::JobSpec spec = TrainingSpec();
  auto* t = spec.mutable_training();
  t->set_epochs(4000000000u);
  t->set_batch_size(1u << 20);
  t->set_max_seq_len(1000000000u);
  t->set_grad_accumulation(1u << 17);
  spec.set_output_dir("//");
  spec.mutable_corpus()->set_paths(0, std::string("/data/a.jsonl\0/etc/passwd", 25));
  EXPECT_EQ(Check(spec),
            "corpus.paths[0]: must not contain a NUL byte, got \"/data/a.jsonl\\x00/etc/passwd\"; "
            "training.epochs: must be in [1, 10000], got 4000000000; "
            "training.batch_size: must be in [1, 65536], got 1048576; "
            "training.grad_accumulation: must be in [0, 65536], got 131072; "
            "training.max_seq_len: must be in [0, 1048576], got 1000000000; "
            "output_dir: must not be the root directory");
  v1::JobSpec labels = TrainingSpec();
  for (int i = 0; i < 10000; ++i) (*labels.mutable_labels())[absl::StrCat("k", i)] = "v";
  EXPECT_EQ(Check(labels), "labels: at most 64 labels, got 10000");
  v1::JobSpec long_path = TrainingSpec();
  long_path.mutable_target_model()->set_checkpoint_dir(std::string(5000, 'x'));
  EXPECT_EQ(Check(long_path), "target_model.checkpoint_dir: must be at most 4096 bytes, got 5000");
}

TEST(JobSpecValidatorTest, ReportsEveryViolationInFieldOrder) {
  v1::JobSpec spec = TrainingSpec();
  spec.set_name(std::string(200, 'n'));
  spec.mutable_augmentation()->set_alpha(2);
  spec.mutable_training()->set_epochs(0);
  spec.clear_output_dir();
  (*spec.mutable_labels())["BAD"] = "";
  spec.mutable_corpus()->clear_paths();
  EXPECT_EQ(Check(spec),
            "name: must be at most 128 bytes, got 200; "
            "corpus.paths: at least one path required; "
            "augmentation.alpha: must be in [0, 1], got 2; "
            "training.epochs: must be in [1, 10000], got 0; "
            "output_dir: required when target_model is set; "
            "labels[\"BAD\"]: key must match [a-z0-9_.-]{1,63}");
}

TEST(JobSpecValidatorTest, DefaultsForAScoreOnlyJob) {
  v1::JobSpec spec = ScoreOnlySpec();
  ApplyJobSpecDefaults(&spec);
  EXPECT_EQ(spec.corpus().shard_size_docs(), 1000u);
  EXPECT_EQ(spec.corpus().max_document_bytes(), 1u << 20);
  EXPECT_TRUE(spec.reference_models().has_include_self());
  EXPECT_TRUE(spec.reference_models().include_self());
  EXPECT_EQ(spec.reference_models().batch_tokens(), 16384u);
  const v1::AugmentationSpec& a = spec.augmentation();
  EXPECT_EQ(a.mode(), v1::AUGMENTATION_MODE_CONTRAST);
  EXPECT_FLOAT_EQ(a.alpha(), 0.7f);
  EXPECT_FLOAT_EQ(a.beta(), 0.05f);
  EXPECT_EQ(a.copies(), 10u);
  EXPECT_TRUE(a.has_keep_original() && a.keep_original());
  EXPECT_EQ(a.form(), v1::DROP_FORM_BLANK);
  EXPECT_EQ(a.resample(), v1::RESAMPLE_EPOCH);
  ASSERT_EQ(a.protected_tokens_size(), 2);
  EXPECT_EQ(a.protected_tokens(0), ",");
  EXPECT_EQ(a.protected_tokens(1), ".");
  // Absence of these sections is what makes the job score-only.
  EXPECT_FALSE(spec.has_target_model());
  EXPECT_FALSE(spec.has_training());
  EXPECT_FALSE(spec.has_evaluation());
  EXPECT_EQ(spec.reference_models().large().dtype(), v1::DTYPE_UNSPECIFIED);
}

TEST(JobSpecValidatorTest, DefaultsForATrainingJob) {
  v1::JobSpec spec = TrainingSpec();
  spec.mutable_target_model()->mutable_lora()->set_rank(8);
  ApplyJobSpecDefaults(&spec);
  EXPECT_EQ(spec.training().world_size(), 1u);
  EXPECT_EQ(spec.training().grad_accumulation(), 1u);
  EXPECT_EQ(spec.training().schedule(), v1::LR_SCHEDULE_UNSPECIFIED);
  EXPECT_EQ(spec.training().precision(), v1::PRECISION_UNSPECIFIED);
  EXPECT_EQ(spec.evaluation().shots(), 5u);
  EXPECT_EQ(spec.evaluation().max_new_tokens(), 10u);
  const auto& modules = spec.target_model().lora().target_modules();
  ASSERT_EQ(modules.size(), 2);
  EXPECT_EQ(modules[0], "q_proj");
  EXPECT_EQ(modules[1], "v_proj");
}

TEST(JobSpecValidatorTest, DefaultsKeepExplicitValues) {
  v1::JobSpec spec = TrainingSpec();
  spec.mutable_corpus()->set_shard_size_docs(7);
  spec.mutable_reference_models()->set_include_self(false);
  auto* a = spec.mutable_augmentation();
  a->set_alpha(0);
  a->set_beta(0);
  a->set_copies(1);
  a->set_keep_original(false);
  a->set_mode(v1::AUGMENTATION_MODE_RANDOM);
  a->add_protected_tokens(";");
  spec.mutable_training()->set_world_size(4);
  spec.mutable_evaluation()->set_shots(0);
  spec.mutable_target_model()->mutable_lora()->set_rank(4);
  spec.mutable_target_model()->mutable_lora()->add_target_modules("o_proj");
  v1::JobSpec once = spec;
  ApplyJobSpecDefaults(&once);
  EXPECT_EQ(once.corpus().shard_size_docs(), 7u);
  EXPECT_FALSE(once.reference_models().include_self());
  EXPECT_EQ(once.augmentation().alpha(), 0.0f);
  EXPECT_EQ(once.augmentation().beta(), 0.0f);
  EXPECT_EQ(once.augmentation().copies(), 1u);
  EXPECT_FALSE(once.augmentation().keep_original());
  EXPECT_EQ(once.augmentation().mode(), v1::AUGMENTATION_MODE_RANDOM);
  ASSERT_EQ(once.augmentation().protected_tokens_size(), 1);
  EXPECT_EQ(once.training().world_size(), 4u);
  EXPECT_EQ(once.evaluation().shots(), 0u);
  ASSERT_EQ(once.target_model().lora().target_modules_size(), 1);
  // Idempotent.
  v1::JobSpec twice = once;
  ApplyJobSpecDefaults(&twice);
  EXPECT_EQ(twice.SerializeAsString(), once.SerializeAsString());
}

}  // namespace
}  // namespace cluedrop::jobspec
