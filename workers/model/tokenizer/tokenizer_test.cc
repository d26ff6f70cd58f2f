#include "workers/model/tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "base/scoped_temp_dir.h"

namespace cluedrop::model {
namespace {

// A tiny GPT-2 style tokenizer: byte-level BPE with one special token.
constexpr char kByteLevelJson[] = R"({
  "version": "1.0",
  "added_tokens": [{"id": 9, "content": "<|eot|>", "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": true}],
  "normalizer": null,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
                    "use_regex": true},
  "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<|eot|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
      "special_tokens": {"<|eot|>": {"id": "<|eot|>", "ids": [9], "tokens": ["<|eot|>"]}}},
  "decoder": {"type": "ByteLevel"},
  "model": {"type": "BPE", "vocab": {"h": 0, "i": 1, "Ġ": 2, "hi": 3, "Ġhi": 4, "Ã": 5, "©": 6,
                                     "Ã©": 7, "!": 8},
            "merges": ["h i", "Ġ hi", "Ã ©"]}
})";

std::unique_ptr<Tokenizer> Load(std::string_view json = kByteLevelJson) {
  auto tok = Tokenizer::FromJson(json, "test.json");
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? std::move(tok).value() : nullptr;
}

TEST(TokenizerTest, EncodesWithOffsetsAndSpecials) {
  auto tok = Load();
  ASSERT_NE(tok, nullptr);
  auto enc = tok->Encode("hi hi\u00e9!<|eot|>");
  ASSERT_TRUE(enc.ok()) << enc.status();
  EXPECT_EQ(enc->ids, (std::vector<int32_t>{9, 3, 4, 7, 8, 9}));
  EXPECT_EQ(enc->tokens, (std::vector<std::string>{"<|eot|>", "hi", "Ġhi", "Ã©", "!", "<|eot|>"}));
  using O = std::pair<size_t, size_t>;
  EXPECT_EQ(enc->offsets, (std::vector<O>{{0, 0}, {0, 2}, {2, 5}, {5, 7}, {7, 8}, {8, 15}}));
  EXPECT_EQ(enc->special, (std::vector<uint8_t>{1, 0, 0, 0, 0, 1}));
  auto plain = tok->Encode("hi", /*add_special_tokens=*/false);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->ids, (std::vector<int32_t>{3}));
  auto empty = tok->Encode("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->ids, (std::vector<int32_t>{9}));
}

TEST(TokenizerTest, DecodesAndSkipsSpecials) {
  auto tok = Load();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(*tok->Decode({9, 3, 4, 7, 8}), "<|eot|>hi hi\u00e9!");
  EXPECT_EQ(*tok->Decode({9, 3, 4, 7, 8}, /*skip_special_tokens=*/true), "hi hi\u00e9!");
  EXPECT_EQ(*tok->Decode({5, 3}), "\uFFFDhi");   // a lone lead byte
  EXPECT_EQ(*tok->Decode({-1, 1000, 3}), "hi");  // unknown ids are skipped
}

TEST(TokenizerTest, Lookups) {
  auto tok = Load();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->vocab_size(), 10);
  EXPECT_EQ(tok->TokenToId("Ġhi"), 4);
  EXPECT_EQ(tok->TokenToId("<|eot|>"), 9);
  EXPECT_EQ(tok->TokenToId("nope"), std::nullopt);
  EXPECT_EQ(tok->IdToToken(9), "<|eot|>");
  EXPECT_EQ(tok->IdToToken(3), "hi");
  EXPECT_EQ(tok->IdToToken(42), std::nullopt);
  EXPECT_TRUE(tok->IsSpecial(9));
  EXPECT_FALSE(tok->IsSpecial(3));
}

TEST(TokenizerTest, RejectsInvalidUtf8) {
  auto tok = Load();
  ASSERT_NE(tok, nullptr);
  auto enc = tok->Encode("hi\xC3");
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.status().code(), StatusCode::kInvalidArgument);
}

TEST(TokenizerTest, ConcurrentEncodesAgree) {
  auto tok = Load();
  ASSERT_NE(tok, nullptr);
  const std::string text = "hi hi\u00e9! hi<|eot|>hi  hi\n";
  const std::vector<int32_t> want = tok->Encode(text)->ids;
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto enc = tok->Encode(text);
        if (!enc.ok() || enc->ids != want) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

std::string LoadError(std::string_view json) {
  auto tok = Tokenizer::FromJson(json, "tokenizer.json");
  EXPECT_FALSE(tok.ok());
  if (tok.ok()) return "";
  EXPECT_EQ(tok.status().code(), StatusCode::kInvalidArgument) << tok.status();
  return tok.status().message();
}

TEST(TokenizerTest, MalformedFilesGivePreciseErrors) {
  EXPECT_EQ(LoadError("[]"), "tokenizer.json: expected an object, got array");
  EXPECT_NE(LoadError("{\"model\": ").find("tokenizer.json: invalid JSON: "), std::string::npos);
  EXPECT_EQ(LoadError("{}"), "tokenizer.json: model: missing");
  EXPECT_EQ(LoadError(R"({"version": "2.0", "model": {}})"),
            "tokenizer.json: version: unknown tokenizer version '2.0'");
  EXPECT_EQ(LoadError(R"({"model": {"type": "Unigram", "vocab": []}})"),
            "tokenizer.json: model.type: unsupported 'Unigram'");
  EXPECT_EQ(LoadError(R"({"model": {"type": "WordLevel", "vocab": {}},
                          "added_tokens": [{"id": 0, "content": 7}]})"),
            "tokenizer.json: added_tokens[0].content: expected a string, got number");
  EXPECT_EQ(LoadError(R"({"model": {"type": "WordLevel", "vocab": {}},
                          "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                            {"type": "Whitespace"}, {"type": "BertPreTokenizer"}]}})"),
            "tokenizer.json: pre_tokenizer.pretokenizers[1].type: unsupported 'BertPreTokenizer'");
  EXPECT_EQ(LoadError(R"({"model": {"type": "WordLevel", "vocab": {}}, "decoder": 5})"),
            "tokenizer.json: decoder: expected an object, got number");
  EXPECT_EQ(LoadError(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a zz"]}})"),
            "tokenizer.json: model.merges[0]: token 'zz' is not in the vocabulary");
}

TEST(TokenizerTest, FilesAndDirectories) {
  auto missing = Tokenizer::FromDirectory("/nonexistent/dir");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/dir/tokenizer.json"), std::string::npos);

  const ScopedTempDir scratch("tokenizer_test");
  const std::string dir = scratch.path();
  {
    std::ofstream out(dir + "/tokenizer.json");
    out << kByteLevelJson;
  }
  auto tok = Tokenizer::FromDirectory(dir);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->vocab_size(), 10);
  {
    std::ofstream out(dir + "/tokenizer.json");
    out << "{\"model\": 3}";
  }
  auto bad = Tokenizer::FromFile(dir + "/tokenizer.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), dir + "/tokenizer.json: model: expected an object, got number");
}

#ifdef CLUEDROP_TOKENIZER_CORPUS_DIR
// The fuzz seed corpus: the valid files load and encode, the corrupt ones
// fail with INVALID_ARGUMENT.
TEST(TokenizerTest, SeedCorpusLoadsOrFailsCleanly) {
  const std::string dir = CLUEDROP_TOKENIZER_CORPUS_DIR;
  for (const char* name :
       {"gpt2.json", "llama3.json", "qwen2.json", "llama2.json", "mistral.json", "wordlevel.json",
        "roberta.json", "splits.json", "metaspace_suffix.json"}) {
    auto tok = Tokenizer::FromFile(dir + "/" + name);
    ASSERT_TRUE(tok.ok()) << tok.status();
    auto enc = (*tok)->Encode("hi hi\u00e9! <mask> a b");
    EXPECT_TRUE(enc.ok()) << name << ": " << enc.status();
  }
  for (const char* name : {"bad_merge.json", "bad_regex.json", "deep.json", "empty.json",
                           "huge_ids.json", "missing_template_token.json", "not_object.json",
                           "truncated.json", "unsupported.json", "wrong_types.json"}) {
    auto tok = Tokenizer::FromFile(dir + "/" + name);
    ASSERT_FALSE(tok.ok()) << name;
    EXPECT_EQ(tok.status().code(), StatusCode::kInvalidArgument) << tok.status();
  }
}
#endif

}  // namespace
}  // namespace cluedrop::model
