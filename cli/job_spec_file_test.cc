#include "cli/job_spec_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cli/enum_names.h"
#include "jobspec/job_spec_validator.h"

namespace cluedrop::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kFullYaml[] = R"(# every kind of field
name: bio
labels:
  team: nlp
  run: "7"
corpus:
  paths: [/data/a.csv, /data/b.csv]
  format: csv
  field_tags: true
  shard_size_docs: 500
reference_models:
  large: {checkpoint_dir: /m/large, dtype: DTYPE_BFLOAT16}
  small:
    checkpoint_dir: /m/small
    device_map: {device: "cuda:1", layer_split: [10, 22]}
  include_self: false
target_model:
  checkpoint_dir: /m/target
  lora: {rank: 16, alpha: 32, target_modules: [q_proj, v_proj]}
augmentation:
  mode: Contrast
  alpha: 0.7
  beta: 5e-2
  copies: 0
  form: delete
  resample: FIXED
  seed: 18446744073709551615
training:
  epochs: 20
  learning_rate: 5.0e-4
  schedule: cosine
  precision: bf16
evaluation:
  shots: 0
  max_new_tokens:
output_dir: /out
)";

TEST(JobSpecFileTest, YamlMapsEveryKindOfField) {
  JobSpecLines lines;
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecText(kFullYaml, "job.yaml", &lines);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "bio");
  EXPECT_EQ(spec->labels().at("team"), "nlp");
  EXPECT_EQ(spec->labels().at("run"), "7");
  EXPECT_THAT(spec->corpus().paths(), ElementsAre("/data/a.csv", "/data/b.csv"));
  EXPECT_EQ(spec->corpus().format(), v1::CORPUS_FORMAT_CSV);
  EXPECT_TRUE(spec->corpus().field_tags());
  EXPECT_EQ(spec->corpus().shard_size_docs(), 500u);
  EXPECT_EQ(spec->reference_models().large().dtype(), v1::DTYPE_BFLOAT16);
  EXPECT_EQ(spec->reference_models().small().device_map().device(), "cuda:1");
  EXPECT_THAT(spec->reference_models().small().device_map().layer_split(), ElementsAre(10, 22));
  ASSERT_TRUE(spec->reference_models().has_include_self());
  EXPECT_FALSE(spec->reference_models().include_self());
  EXPECT_EQ(spec->target_model().checkpoint_dir(), "/m/target");
  EXPECT_FLOAT_EQ(spec->target_model().lora().alpha(), 32);
  EXPECT_THAT(spec->target_model().lora().target_modules(), ElementsAre("q_proj", "v_proj"));
  EXPECT_EQ(spec->augmentation().mode(), v1::AUGMENTATION_MODE_CONTRAST);
  EXPECT_FLOAT_EQ(spec->augmentation().alpha(), 0.7f);
  EXPECT_FLOAT_EQ(spec->augmentation().beta(), 0.05f);
  ASSERT_TRUE(spec->augmentation().has_copies());  // an explicit 0 is kept
  EXPECT_EQ(spec->augmentation().copies(), 0u);
  EXPECT_EQ(spec->augmentation().form(), v1::DROP_FORM_DELETE);
  EXPECT_EQ(spec->augmentation().resample(), v1::RESAMPLE_FIXED);
  EXPECT_EQ(spec->augmentation().seed(), 18446744073709551615ull);
  EXPECT_EQ(spec->training().epochs(), 20u);
  EXPECT_FLOAT_EQ(spec->training().learning_rate(), 5e-4f);
  EXPECT_EQ(spec->training().schedule(), v1::LR_SCHEDULE_COSINE);
  EXPECT_EQ(spec->training().precision(), v1::PRECISION_BF16);
  ASSERT_TRUE(spec->evaluation().has_shots());
  EXPECT_EQ(spec->evaluation().shots(), 0u);
  EXPECT_EQ(spec->output_dir(), "/out");
  // Defaults stay untouched, so the coordinator applies its own.
  EXPECT_FALSE(spec->augmentation().has_keep_original());
  EXPECT_FALSE(spec->evaluation().has_max_new_tokens());  // `key:` (null) leaves it unset
  EXPECT_EQ(spec->training().world_size(), 0u);
  EXPECT_EQ(spec->corpus().max_document_bytes(), 0u);
  EXPECT_EQ(spec->reference_models().small().dtype(), v1::DTYPE_UNSPECIFIED);
  // Lines of what was written.
  EXPECT_EQ(lines.file(), "job.yaml");
  EXPECT_EQ(lines.Find("name"), 2);
  EXPECT_EQ(lines.Find("augmentation.alpha"), 22);
  EXPECT_EQ(lines.Find("augmentation.keep_original"), 20);  // the section's line
  EXPECT_EQ(lines.Find("corpus.paths[1]"), 7);
  EXPECT_EQ(lines.Find("reference_models.small.device_map.layer_split"), 15);
  EXPECT_EQ(lines.Find("labels[\"run\"]"), 5);
  EXPECT_EQ(lines.Find("evaluation.max_new_tokens"), 35);
  EXPECT_EQ(lines.Find("bogus"), 0);
}

TEST(JobSpecFileTest, JsonWithCamelCaseNamesTabsAndSurrogates) {
  const std::string json =
      "{\n"
      "\t\"name\": \"bio \\ud83d\\ude00 \\u00e9\\/x\",\n"
      "\t\"corpus\": {\"paths\": [\"/a.csv\"], \"fieldTags\": true, \"format\": \"jsonl\"},\n"
      "\t\"augmentation\": {\"mode\": \"AUGMENTATION_MODE_RANDOM\", \"keepOriginal\": false,\n"
      "\t                  \"alpha\": 1},\n"
      "\t\"training\": {\"epochs\": \"3\", \"maxSeqLen\": 512}\n"
      "}\n";
  JobSpecLines lines;
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecText(json, "job.json", &lines);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "bio \xF0\x9F\x98\x80 \xC3\xA9/x");
  EXPECT_TRUE(spec->corpus().field_tags());
  EXPECT_EQ(spec->corpus().format(), v1::CORPUS_FORMAT_JSONL);
  EXPECT_EQ(spec->augmentation().mode(), v1::AUGMENTATION_MODE_RANDOM);
  ASSERT_TRUE(spec->augmentation().has_keep_original());
  EXPECT_FALSE(spec->augmentation().keep_original());
  EXPECT_FLOAT_EQ(spec->augmentation().alpha(), 1.0f);
  EXPECT_EQ(spec->training().epochs(), 3u);
  EXPECT_EQ(spec->training().max_seq_len(), 512u);
  EXPECT_EQ(lines.Find("augmentation.alpha"), 5);
  EXPECT_EQ(lines.Find("training.max_seq_len"), 6);
}

TEST(JobSpecFileTest, JsonIsDetectedByContentToo) {
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecText("  {\"name\": \"x\"}", "spec.txt");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "x");
  // YAML syntax that is not JSON is refused in a .json file.
  absl::StatusOr<v1::JobSpec> bad = ParseJobSpecText("name: x\n", "job.json");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), StartsWith("job.json: invalid JSON: "));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("line 1"));
}

// The error of parsing `yaml` as job.yaml, expecting INVALID_ARGUMENT.
std::string ErrorOf(const std::string& yaml) {
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecText(yaml, "job.yaml");
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << yaml;
  return std::string(spec.status().message());
}

// Fuzzing (cli/job_spec_fuzz.cc) found that yaml-cpp 0.7 exhausts memory when
// a ',' starts a value in block context; the parser refuses it first.
TEST(JobSpecFileTest, ABlockCommaIsRefusedBeforeYamlCpp) {
  const std::string refused = "invalid YAML: ',' cannot start a value outside [...] or {...}";
  EXPECT_EQ(ErrorOf(",{#n{\"name\": \""), "job.yaml:1: " + refused);
  EXPECT_EQ(ErrorOf("# comment\n\n  ,"), "job.yaml:3: " + refused);
  EXPECT_EQ(ErrorOf("name: a\n---\n,x"), "job.yaml:3: " + refused);
  EXPECT_EQ(ErrorOf("--- ,"), "job.yaml:1: " + refused);
  EXPECT_EQ(ErrorOf("- a\n,"), "job.yaml:2: " + refused);
  EXPECT_EQ(ErrorOf("\"a\"\n,"), "job.yaml:2: " + refused);
  EXPECT_EQ(ErrorOf("\"a\", b"), "job.yaml:1: " + refused);
  EXPECT_EQ(ErrorOf("'a' ,"), "job.yaml:1: " + refused);
  EXPECT_EQ(ErrorOf("[a], b"), "job.yaml:1: " + refused);
  EXPECT_EQ(ErrorOf("name: ,x"), "job.yaml:1: " + refused);
  EXPECT_EQ(ErrorOf(std::string("name: a\n\0,", 10)),
            "job.yaml:2: invalid YAML: control character 0x00");
  EXPECT_EQ(ErrorOf("#\n\xff\xff l)"), "job.yaml:2: invalid YAML: not UTF-8 (byte 0xff)");
  EXPECT_EQ(ErrorOf("name: \xc3("), "job.yaml:1: invalid YAML: not UTF-8 (byte 0xc3)");
  EXPECT_EQ(ErrorOf("name: \xed\xa0\x80"), "job.yaml:1: invalid YAML: not UTF-8 (byte 0xed)");
  EXPECT_EQ(ErrorOf(" !ex,per* r\t)"),
            "job.yaml:1: YAML tags, anchors and aliases ('!') are not supported in job specs");
  EXPECT_EQ(ErrorOf("a: &x 1\nb: *x"),
            "job.yaml:1: YAML tags, anchors and aliases ('&') are not supported in job specs");
  EXPECT_EQ(ErrorOf("\": \"&bio\",tr"),
            "job.yaml:1: invalid YAML: unexpected '&' after a quoted or bracketed value");
  EXPECT_EQ(ErrorOf("a: " + std::string(17, '{')),
            "job.yaml:1: [...] / {...} nested more than 16 deep");
  EXPECT_EQ(ErrorOf(">\n  t\n ,t"), "job.yaml:3: " + refused);  // ends the block scalar
  EXPECT_EQ(ErrorOf("labels: [*x]"),
            "job.yaml:1: YAML tags, anchors and aliases ('*') are not supported in job specs");
  // Commas inside flows, quotes, comments and block scalars are YAML's
  // business as before.
  absl::StatusOr<v1::JobSpec> ok = ParseJobSpecText(
      "name: a, b! & c* \u00e9\U0001F600  # x,\n"
      "corpus:\n"
      "  paths: [/a.csv,\n"
      "          /b.csv]\n"
      "labels: {team: \"x,\n"
      "  ,y\"}\n"
      "output_dir: |\n"
      "  ,out\n",
      "job.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->name(), "a, b! & c* \u00e9\U0001F600");
  EXPECT_EQ(ok->corpus().paths_size(), 2);
  EXPECT_EQ(ok->labels().at("team"), "x, ,y");
  EXPECT_EQ(ok->output_dir(), ",out\n");
}

TEST(JobSpecFileTest, AnOverflowingJsonNumberIsAnError) {
  absl::StatusOr<v1::JobSpec> spec =
      ParseJobSpecText("{\"name\": \"bio\", \"training\": {\"epochs\": 4E422}}", "job.json");
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(), "job.json: invalid JSON: number overflow parsing '4E422'");
}

TEST(JobSpecFileTest, UnknownFieldsNameLineAndPath) {
  EXPECT_EQ(ErrorOf("name: x\naugmentation:\n  mode: contrast\n  alpah: 0.5\n"),
            "job.yaml:4: augmentation.alpah: unknown field (did you mean alpha?)");
  EXPECT_EQ(ErrorOf("name: x\nfrobnicate: 1\n"), "job.yaml:2: frobnicate: unknown field");
}

TEST(JobSpecFileTest, WrongTypesNameLineAndPath) {
  EXPECT_EQ(ErrorOf("training:\n  epochs: ten\n"),
            "job.yaml:2: training.epochs: expected an integer, got \"ten\"");
  EXPECT_EQ(ErrorOf("training:\n  epochs: 2.5\n"),
            "job.yaml:2: training.epochs: expected an integer, got \"2.5\"");
  EXPECT_EQ(ErrorOf("training:\n  epochs: -1\n"),
            "job.yaml:2: training.epochs: expected a non-negative integer, got \"-1\"");
  EXPECT_EQ(ErrorOf("training:\n  epochs: 4294967296\n"),
            "job.yaml:2: training.epochs: expected an integer in [0, 4294967295], got "
            "\"4294967296\"");
  EXPECT_EQ(ErrorOf("augmentation:\n  alpha: lots\n"),
            "job.yaml:2: augmentation.alpha: expected a number, got \"lots\"");
  EXPECT_EQ(ErrorOf("augmentation:\n  alpha: nan\n"),
            "job.yaml:2: augmentation.alpha: expected a finite number, got \"nan\"");
  EXPECT_EQ(ErrorOf("corpus:\n  field_tags: yes\n"),
            "job.yaml:2: corpus.field_tags: expected true or false, got \"yes\"");
  EXPECT_EQ(ErrorOf("corpus:\n  paths: a.csv\n"),
            "job.yaml:2: corpus.paths: expected a list, got \"a.csv\"");
  EXPECT_EQ(ErrorOf("corpus:\n  paths:\n    - a.csv\n    - {x: 1}\n"),
            "job.yaml:4: corpus.paths[1]: expected a string, got a mapping");
  EXPECT_EQ(ErrorOf("augmentation: contrast\n"),
            "job.yaml:1: augmentation: expected a mapping of AugmentationSpec fields, got "
            "\"contrast\"");
  EXPECT_EQ(ErrorOf("- name: x\n"), "job.yaml:1: expected a mapping of JobSpec fields, got a list");
  EXPECT_EQ(ErrorOf("labels: [a]\n"), "job.yaml:1: labels: expected a mapping, got a list");
}

TEST(JobSpecFileTest, BadEnumNamesListTheChoices) {
  EXPECT_EQ(ErrorOf("augmentation:\n  mode: contrst\n"),
            "job.yaml:2: augmentation.mode: expected one of none, random, large, small, "
            "contrast, position, got \"contrst\"");
  EXPECT_EQ(ErrorOf("reference_models:\n  large:\n    dtype: 2\n"),
            "job.yaml:3: reference_models.large.dtype: expected one of float32, bfloat16, "
            "float16, got \"2\"");
}

TEST(JobSpecFileTest, DuplicatesAndOneofConflicts) {
  EXPECT_EQ(ErrorOf("name: a\nname: b\n"), "job.yaml:2: name: duplicate field");
  EXPECT_EQ(ErrorOf("corpus:\n  fieldTags: true\n  field_tags: false\n"),
            "job.yaml:3: corpus.field_tags: duplicate field");
  EXPECT_EQ(ErrorOf("labels: {a: 1, a: 2}\n"), "job.yaml:1: labels[\"a\"]: duplicate key");
  EXPECT_EQ(ErrorOf("target_model:\n  checkpoint_dir: /a\n  from_scratch_config: /b\n"),
            "job.yaml:3: target_model.from_scratch_config: only one of checkpoint_dir and "
            "from_scratch_config may be set (oneof source)");
}

TEST(JobSpecFileTest, ReportsEveryErrorOnePerLine) {
  EXPECT_EQ(ErrorOf("name: x\ntraining:\n  epochs: ten\n  batch_size: many\nbogus: 1\n"),
            "job.yaml:3: training.epochs: expected an integer, got \"ten\"\n"
            "job.yaml:4: training.batch_size: expected an integer, got \"many\"\n"
            "job.yaml:5: bogus: unknown field");
  std::string many;
  for (int i = 0; i < 25; ++i) many += "bogus" + std::to_string(i) + ": 1\n";
  const std::string error = ErrorOf(many);
  EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 20);
  EXPECT_THAT(error, HasSubstr("job.yaml:20: bogus19: unknown field\n"
                               "job.yaml: 5 more errors not shown"));
}

TEST(JobSpecFileTest, SyntaxErrorsAndEmptyFiles) {
  EXPECT_THAT(ErrorOf("name: x\ncorpus: {paths: [a.csv\n"), StartsWith("job.yaml:3:"));
  EXPECT_THAT(ErrorOf("name: x\ncorpus: {paths: [a.csv\n"), HasSubstr("invalid YAML"));
  EXPECT_EQ(ErrorOf(""), "job.yaml: the job spec is empty");
  EXPECT_EQ(ErrorOf("# only a comment\n"), "job.yaml: the job spec is empty");
  EXPECT_EQ(ErrorOf("name: a\n---\nname: b\n"),
            "job.yaml:3: expected one YAML document, found more");
}

TEST(JobSpecFileTest, AnnotatesServerErrorsWithLines) {
  JobSpecLines lines;
  ASSERT_TRUE(ParseJobSpecText(kFullYaml, "job.yaml", &lines).ok());
  EXPECT_EQ(lines.Annotate("augmentation.alpha: must be in [0, 1], got 1.3"),
            "job.yaml:22: augmentation.alpha: must be in [0, 1], got 1.3");
  EXPECT_THAT(
      lines.AnnotateAll("spec.training.epochs: must be > 0; corpus.paths[1]: no such file; "
                        "training.world_size: must be >= 1; no GPU available"),
      ElementsAre("job.yaml:29: spec.training.epochs: must be > 0",
                  "job.yaml:7: corpus.paths[1]: no such file",
                  "job.yaml:28: training.world_size: must be >= 1", "job.yaml: no GPU available"));
  EXPECT_EQ(lines.Annotate("labels[\"team\"]: too long"), "job.yaml:4: labels[\"team\"]: too long");
  EXPECT_EQ(lines.Annotate("labels[\"a b.c\"]: bad key"), "job.yaml:3: labels[\"a b.c\"]: bad key");
  EXPECT_EQ(lines.Annotate("invalid spec: output_dir: required"),
            "job.yaml:36: invalid spec: output_dir: required");
}

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("job_spec_file_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "specs");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  std::filesystem::path dir_;
};

TEST_F(TempDirTest, RelativePathsResolveAgainstTheSpecDirectory) {
  const std::string path = Write("specs/job.yaml", R"(
corpus: {paths: [bios.csv, ../data/more.csv, /abs/x.csv, "s3://bucket/y.csv"]}
reference_models:
  large: {checkpoint_dir: models/large}
target_model:
  from_scratch_config: ./cfg/config.json
  tokenizer_dir: tok
evaluation: {prompt_table: prompts.csv, fewshot_pool: /pool.csv}
output_dir: out
)");
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecFile(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  const std::string specs = (dir_ / "specs").string();
  EXPECT_THAT(spec->corpus().paths(),
              ElementsAre(specs + "/bios.csv", (dir_ / "data/more.csv").string(), "/abs/x.csv",
                          "s3://bucket/y.csv"));
  EXPECT_EQ(spec->reference_models().large().checkpoint_dir(), specs + "/models/large");
  EXPECT_FALSE(spec->reference_models().has_small());
  EXPECT_EQ(spec->target_model().from_scratch_config(), specs + "/cfg/config.json");
  EXPECT_FALSE(spec->target_model().has_checkpoint_dir());
  EXPECT_EQ(spec->target_model().tokenizer_dir(), specs + "/tok");
  EXPECT_EQ(spec->evaluation().prompt_table(), specs + "/prompts.csv");
  EXPECT_EQ(spec->evaluation().fewshot_pool(), "/pool.csv");
  EXPECT_EQ(spec->output_dir(), specs + "/out");
}

TEST_F(TempDirTest, ResolvingKeepsAScoreOnlyJobScoreOnly) {
  const std::string path = Write("score.yaml", "corpus: {paths: [a.csv]}\n");
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecFile(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->has_target_model());
  EXPECT_FALSE(spec->has_evaluation());
  EXPECT_FALSE(spec->has_reference_models());
  EXPECT_EQ(spec->output_dir(), "");
}

TEST_F(TempDirTest, ErrorsNameTheFileAsGiven) {
  const std::string path = Write("bad.yaml", "name: x\ntraining: {epochs: ten}\n");
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecFile(path);
  EXPECT_EQ(spec.status().message(),
            path + ":2: training.epochs: expected an integer, got \"ten\"");
  absl::StatusOr<v1::JobSpec> missing = ParseJobSpecFile((dir_ / "missing.yaml").string());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("missing.yaml"));
}

TEST(JobSpecFileTest, ExamplesParse) {
  const std::string examples = std::string(CLUEDROP_SOURCE_DIR) + "/examples/";
  absl::StatusOr<v1::JobSpec> score = ParseJobSpecFile(examples + "biography-score-only.yaml");
  ASSERT_TRUE(score.ok()) << score.status();
  EXPECT_FALSE(score->has_target_model());
  EXPECT_EQ(score->corpus().format(), v1::CORPUS_FORMAT_CSV);
  EXPECT_TRUE(score->corpus().field_tags());
  ASSERT_EQ(score->corpus().paths_size(), 1);
  EXPECT_TRUE(std::filesystem::path(score->corpus().paths(0)).is_absolute());
  EXPECT_THAT(score->corpus().paths(0), HasSubstr("/examples/paper-data/biography_synthetic.csv"));
  EXPECT_NE(score->reference_models().large().checkpoint_dir(), "");
  EXPECT_NE(score->reference_models().small().checkpoint_dir(), "");

  absl::StatusOr<v1::JobSpec> train = ParseJobSpecFile(examples + "biography-train.yaml");
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(train->augmentation().mode(), v1::AUGMENTATION_MODE_CONTRAST);
  EXPECT_FLOAT_EQ(train->augmentation().alpha(), 0.7f);
  EXPECT_FLOAT_EQ(train->augmentation().beta(), 0.05f);
  EXPECT_EQ(train->augmentation().copies(), 10u);
  EXPECT_EQ(train->training().epochs(), 20u);
  EXPECT_TRUE(train->has_target_model());
  EXPECT_THAT(train->evaluation().prompt_table(), HasSubstr("/examples/paper-data/prompts.csv"));
  EXPECT_NE(train->output_dir(), "");
}

// The paper's GPU set-ups: parsed, accepted by the coordinator's validator
// (every field), and holding the paper's configuration.
TEST(JobSpecFileTest, PaperExamplesValidate) {
  const std::string examples = std::string(CLUEDROP_SOURCE_DIR) + "/examples/";
  for (const char* file : {"paper-llama3-70b-8b.yaml", "paper-gemma2-9b-2b.yaml"}) {
    SCOPED_TRACE(file);
    absl::StatusOr<v1::JobSpec> spec = ParseJobSpecFile(examples + file);
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_TRUE(jobspec::ValidateJobSpec(*spec).ok()) << jobspec::ValidateJobSpec(*spec);
    EXPECT_EQ(spec->target_model().lora().rank(), 16u);
    EXPECT_EQ(spec->target_model().lora().target_modules_size(), 7);
    EXPECT_EQ(spec->augmentation().mode(), v1::AUGMENTATION_MODE_CONTRAST);
    EXPECT_FLOAT_EQ(spec->augmentation().alpha(), 0.7f);
    EXPECT_FLOAT_EQ(spec->augmentation().beta(), 0.05f);
    EXPECT_EQ(spec->augmentation().copies(), 10u);
    EXPECT_EQ(spec->augmentation().resample(), v1::RESAMPLE_FIXED);
    EXPECT_EQ(spec->augmentation().form(), v1::DROP_FORM_BLANK);
    EXPECT_EQ(spec->evaluation().shots(), 5u);
    EXPECT_EQ(spec->evaluation().max_new_tokens(), 10u);
    EXPECT_EQ(spec->training().epochs(), 20u);
    EXPECT_FLOAT_EQ(spec->training().learning_rate(), 5e-4f);
    EXPECT_EQ(spec->training().precision(), v1::PRECISION_BF16);
    EXPECT_TRUE(std::filesystem::exists(spec->corpus().paths(0)));
    EXPECT_TRUE(std::filesystem::exists(spec->evaluation().prompt_table()));
    EXPECT_TRUE(std::filesystem::exists(spec->evaluation().fewshot_pool()));
    // A broken copy is refused with the field named.
    v1::JobSpec broken = *spec;
    broken.mutable_augmentation()->set_alpha(1.5f);
    EXPECT_THAT(std::string(jobspec::ValidateJobSpec(broken).message()),
                HasSubstr("augmentation.alpha"));
  }
}

TEST(EnumNamesTest, FullShortAndAnyCase) {
  const auto* mode = v1::AugmentationMode_descriptor();
  EXPECT_EQ(EnumPrefix(mode), "AUGMENTATION_MODE_");
  EXPECT_EQ(ParseEnumName(mode, "contrast"), v1::AUGMENTATION_MODE_CONTRAST);
  EXPECT_EQ(ParseEnumName(mode, "Position"), v1::AUGMENTATION_MODE_POSITION);
  EXPECT_EQ(ParseEnumName(mode, "AUGMENTATION_MODE_NONE"), v1::AUGMENTATION_MODE_NONE);
  EXPECT_EQ(ParseEnumName(mode, "drop"), std::nullopt);
  EXPECT_EQ(ParseEnumName(mode, ""), std::nullopt);
  EXPECT_EQ(ParseEnumName(v1::DType_descriptor(), "bfloat16"), v1::DTYPE_BFLOAT16);
  EXPECT_EQ(ShortEnumName(v1::JobState_descriptor(), v1::JOB_STATE_SUCCEEDED), "succeeded");
  EXPECT_EQ(ShortEnumName(v1::JobState_descriptor(), 42), "42");
  EXPECT_EQ(EnumChoices(v1::DropForm_descriptor()), "blank, delete");
}

}  // namespace
}  // namespace cluedrop::cli
