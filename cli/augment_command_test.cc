// `cluedrop augment` through its command function: a scores JSONL made with
// a small WordLevel tokenizer.json in, JSONL samples out; exit codes and
// file:line errors for bad input, and no output file after a failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "workers/trainer/tokenizer_text_encoder.h"

namespace cluedrop::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Words split on whitespace and punctuation; [CLS] text [SEP] around it.
constexpr char kTokenizerJson[] = R"({
  "version": "1.0",
  "added_tokens": [
    {"id": 0, "content": "[UNK]", "special": true, "single_word": false, "lstrip": false,
     "rstrip": false, "normalized": false},
    {"id": 1, "content": "[CLS]", "special": true, "single_word": false, "lstrip": false,
     "rstrip": false, "normalized": false},
    {"id": 2, "content": "[SEP]", "special": true, "single_word": false, "lstrip": false,
     "rstrip": false, "normalized": false}],
  "normalizer": null,
  "pre_tokenizer": {"type": "Whitespace"},
  "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
  "decoder": null,
  "model": {"type": "WordLevel", "unk_token": "[UNK]", "vocab": {
    "[UNK]": 0, "[CLS]": 1, "[SEP]": 2, ",": 3, ".": 4, "Liam": 5, "Thompson": 6, "was": 7,
    "born": 8, "on": 9, "January": 10, "5": 11, "1990": 12, "He": 13, "worked": 14, "at": 15,
    "the": 16, "British": 17, "Museum": 18, "in": 19, "São": 20, "Paulo": 21, "Ana": 22,
    "studied": 23, "Marketing": 24}}
})";

const char* const kTexts[] = {
    "Liam Thompson was born on January 5, 1990.",
    "He worked at the British Museum, in São Paulo.",
    "Ana studied Marketing in São Paulo, at the British Museum.",
};

size_t Characters(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

class AugmentCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("augment_command_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "tokenizer.json") << kTokenizerJson;
    auto encoder = TokenizerTextEncoder::FromPath(dir_.string());
    ASSERT_TRUE(encoder.ok()) << encoder.status();
    encoder_ = std::move(*encoder);
    std::string lines;
    for (int d = 0; d < 3; ++d) lines += ScoreLine("bio-" + std::to_string(d), kTexts[d]) + "\n";
    Write("scores.jsonl", lines);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A line as `cluedrop score` writes it (contrast null at the last token).
  std::string ScoreLine(const std::string& id, const std::string& text) {
    EncodedText enc = *encoder_->Encode(text);
    Json j;
    j["id"] = id;
    j["text"] = text;
    j["tokens"] = enc.ids;
    j["offsets"] = Json::array();
    for (const auto& [b, e] : enc.offsets) j["offsets"].push_back({b, e});
    std::vector<Json> scores;
    for (size_t i = 0; i < enc.ids.size(); ++i) scores.push_back(0.1 * ((i * 7) % 5));
    scores.back() = nullptr;
    j["received_large"] = scores;
    j["received_small"] = scores;
    j["contrast"] = scores;
    return j.dump();
  }
  void Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
  }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_ / name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::vector<std::string> Args(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--scores",    (dir_ / "scores.jsonl").string(),
                                     "--tokenizer", dir_.string(),
                                     "--output",    (dir_ / "out.jsonl").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  // Runs the command; returns its exit code and keeps its stderr.
  int Run(const std::vector<std::string>& args) {
    ::testing::internal::CaptureStderr();
    const int code = RunAugment(args);
    err_ = ::testing::internal::GetCapturedStderr();
    return code;
  }

  fs::path dir_;
  std::unique_ptr<TokenizerTextEncoder> encoder_;
  std::string err_;
};

TEST_F(AugmentCommandTest, WritesTheOriginalThenCopiesPerDocument) {
  ASSERT_EQ(
      Run(Args({"--mode", "contrast", "--alpha", "0.9", "--beta", "0.3", "--copies", "3", "--seed",
                "5", "--form", "blank", "--keep-original", "--epoch", "1", "--resample", "epoch"})),
      0)
      << err_;
  EXPECT_NE(err_.find("12 samples of 3 documents"), std::string::npos) << err_;
  std::istringstream lines(Read("out.jsonl"));
  std::string line;
  int n = 0;
  size_t total_dropped = 0;
  while (std::getline(lines, line)) {
    const Json j = Json::parse(line);
    const int d = n / 4, copy = n % 4 - 1;
    EXPECT_EQ(j["id"], "bio-" + std::to_string(d));
    EXPECT_EQ(j["copy"], copy);
    const std::string text = j["text"];
    EncodedText original = *encoder_->Encode(kTexts[d]);
    EXPECT_EQ(j["tokens"].get<std::vector<int32_t>>(), encoder_->Encode(text)->ids) << line;
    EXPECT_EQ(Characters(text), Characters(kTexts[d])) << line;  // one space per character
    for (int32_t pos : j["dropped"].get<std::vector<int32_t>>()) {
      ASSERT_LT(static_cast<size_t>(pos), original.ids.size());
      EXPECT_FALSE(original.special[pos]) << line;
      EXPECT_GT(original.ids[pos], 4) << "a protected ',' or '.' dropped: " << line;
      ++total_dropped;
    }
    if (copy == -1) {
      EXPECT_EQ(text, kTexts[d]);
      EXPECT_TRUE(j["dropped"].empty());
    }
    ++n;
  }
  EXPECT_EQ(n, 12);
  EXPECT_GT(total_dropped, 5u);
  // Deterministic: the same flags write the same bytes.
  const std::string first = Read("out.jsonl");
  ASSERT_EQ(Run(Args({"--mode", "contrast", "--alpha", "0.9", "--beta", "0.3", "--copies", "3",
                      "--seed", "5", "--keep_original", "--epoch", "1"})),
            0);
  EXPECT_EQ(Read("out.jsonl"), first);
}

TEST_F(AugmentCommandTest, DeleteFormRemovesIds) {
  ASSERT_EQ(Run(Args({"--mode", "random", "--alpha", "0.5", "--copies", "2", "--form", "delete"})),
            0)
      << err_;
  std::istringstream lines(Read("out.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const Json j = Json::parse(line);
    EXPECT_GE(j["copy"].get<int>(), 0);  // no original without --keep_original
    const size_t tokens = encoder_->Encode(kTexts[n / 2])->ids.size();
    EXPECT_EQ(j["tokens"].size() + j["dropped"].size(), tokens) << line;
    ++n;
  }
  EXPECT_EQ(n, 6);
}

TEST_F(AugmentCommandTest, MalformedLineExits2NamingFileAndLineAndWritesNothing) {
  Write("scores.jsonl", ScoreLine("a", kTexts[0]) + "\n{\"id\": \"b\", \"text\": 3}\n");
  EXPECT_EQ(Run(Args({})), 2);
  EXPECT_NE(err_.find((dir_ / "scores.jsonl").string() + ":2: \"text\" must be a string"),
            std::string::npos)
      << err_;
  EXPECT_FALSE(fs::exists(dir_ / "out.jsonl"));
  EXPECT_FALSE(fs::exists(dir_ / "out.jsonl.tmp"));

  // Tokens that are not the tokenizer's encoding of the text.
  Json j = Json::parse(ScoreLine("c", kTexts[1]));
  j["tokens"][2] = 7;
  Write("scores.jsonl", ScoreLine("a", kTexts[0]) + "\n\n" + j.dump() + "\n");
  EXPECT_EQ(Run(Args({})), 2);
  EXPECT_NE(err_.find("scores.jsonl:3: document 'c': its tokens are not"), std::string::npos)
      << err_;
  EXPECT_FALSE(fs::exists(dir_ / "out.jsonl"));
  EXPECT_FALSE(fs::exists(dir_ / "out.jsonl.tmp"));
}

TEST_F(AugmentCommandTest, UsageErrorsExit2OtherFailuresExit1) {
  EXPECT_EQ(Run({"--scores", "x.jsonl"}), 2);  // --tokenizer, --output missing
  EXPECT_EQ(Run(Args({"--mode", "attention"})), 2);
  EXPECT_NE(err_.find("--mode: unknown value 'attention'"), std::string::npos) << err_;
  EXPECT_EQ(Run(Args({"--alpha", "1.5"})), 2);
  EXPECT_NE(err_.find("alpha"), std::string::npos) << err_;
  EXPECT_EQ(Run(Args({"--copies", "0"})), 2);  // no sample at all
  EXPECT_EQ(Run(Args({"stray"})), 2);
  std::vector<std::string> missing = Args({});
  missing[3] = (dir_ / "no-such-dir").string();
  EXPECT_EQ(Run(missing), 1);
  EXPECT_FALSE(fs::exists(dir_ / "out.jsonl"));
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(RunAugment({"--help"}), 0);
  EXPECT_NE(::testing::internal::GetCapturedStdout().find("--keep_original"), std::string::npos);
}

}  // namespace
}  // namespace cluedrop::cli
