// Compares the C++ tokenizer with the Hugging Face `tokenizers` library on
// the fixtures written by tests/oracle/make_tokenizer_fixtures.py (ctest
// fixture `tokenizer_oracle`). Every id, token string, byte offset, special
// flag and decoded string must be identical. A missing fixture directory is
// a failure, not a skip.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "workers/model/tokenizer/tokenizer.h"

namespace cluedrop::model {
namespace {

using Json = nlohmann::json;

// The fixtures make_tokenizer_fixtures.py writes (keep in sync with FIXTURES).
const char* const kFamilies[] = {"gpt2",    "llama3",          "qwen2",     "llama2",  "gemma",
                                 "mistral", "metaspace_split", "wordlevel", "roberta", "splits"};

std::string OracleDir() {
  const char* dir = std::getenv("CLUEDROP_ORACLE_DIR");
  return dir == nullptr ? std::string() : std::string(dir) + "/tokenizers";
}

bool ReadJson(const std::string& path, Json* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    *out = Json::parse(buffer.str());
  } catch (const std::exception& e) {
    *error = path + ": " + e.what();
    return false;
  }
  return true;
}

std::string Show(const std::string& text) { return Json(text).dump(); }

// Compares one encoding; returns "" or a description of the first difference.
std::string Diff(const Encoding& got, const Json& want) {
  std::vector<int32_t> ids = want["ids"].get<std::vector<int32_t>>();
  std::vector<std::string> tokens = want["tokens"].get<std::vector<std::string>>();
  std::vector<std::pair<size_t, size_t>> offsets;
  for (const Json& o : want["offsets"])
    offsets.emplace_back(o[0].get<size_t>(), o[1].get<size_t>());
  std::vector<uint8_t> special;
  for (const Json& s : want["special"]) special.push_back(static_cast<uint8_t>(s.get<int>()));
  std::ostringstream out;
  if (got.ids != ids) {
    out << "ids differ: got " << Json(got.ids).dump() << "\n  want " << Json(ids).dump();
  } else if (got.tokens != tokens) {
    out << "tokens differ: got " << Json(got.tokens).dump() << "\n  want " << Json(tokens).dump();
  } else if (got.offsets != offsets) {
    out << "offsets differ: got " << Json(got.offsets).dump() << "\n  want "
        << Json(offsets).dump();
  } else if (got.special != special) {
    out << "special differs: got " << Json(got.special).dump() << "\n  want "
        << Json(special).dump();
  }
  return out.str();
}

class TokenizerOracleTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerOracleTest, MatchesTokenizersLibrary) {
  const std::string root = OracleDir();
  ASSERT_FALSE(root.empty()) << "CLUEDROP_ORACLE_DIR is not set (run through ctest, which runs "
                                "oracle.tokenizer_fixtures first)";
  const std::string dir = root + "/" + GetParam();
  Json expected;
  std::string error;
  ASSERT_TRUE(ReadJson(dir + "/expected.json", &expected, &error))
      << error << " (fixture missing: run tests/oracle/make_tokenizer_fixtures.py --out " << root
      << ")";

  auto tokenizer = Tokenizer::FromDirectory(dir);
#ifndef CLUEDROP_TOKENIZER_HAVE_ICU
  if (!tokenizer.ok() && tokenizer.status().message().find("needs ICU") != std::string::npos) {
    GTEST_SKIP() << "this build has no ICU: " << tokenizer.status();
  }
#endif
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Tokenizer& tok = **tokenizer;

  EXPECT_EQ(tok.vocab_size(), expected["vocab_size"].get<int32_t>());
  for (auto it = expected["token_to_id"].begin(); it != expected["token_to_id"].end(); ++it) {
    const std::optional<int32_t> got = tok.TokenToId(it.key());
    if (it.value().is_null()) {
      EXPECT_FALSE(got.has_value()) << "TokenToId(" << Show(it.key()) << ")";
    } else {
      EXPECT_EQ(got, std::optional<int32_t>(it.value().get<int32_t>()))
          << "TokenToId(" << Show(it.key()) << ")";
    }
  }

  int matched = 0;
  int total = 0;
  for (const Json& c : expected["cases"]) {
    const std::string text = c["text"].get<std::string>();
    ++total;
    std::string problem;
    for (bool add_special : {true, false}) {
      auto encoding = tok.Encode(text, add_special);
      if (!encoding.ok()) {
        problem += "Encode failed: " + encoding.status().ToString() + "\n";
        continue;
      }
      const std::string diff = Diff(*encoding, c[add_special ? "with_special" : "without_special"]);
      if (!diff.empty()) {
        problem += std::string(add_special ? "[special] " : "[no special] ") + diff + "\n";
      }
    }
    const std::vector<int32_t> ids = c["with_special"]["ids"].get<std::vector<int32_t>>();
    for (bool skip : {false, true}) {
      auto decoded = tok.Decode(ids, skip);
      const std::string want = c[skip ? "decode_skip" : "decode"].get<std::string>();
      if (!decoded.ok()) {
        problem += "Decode failed: " + decoded.status().ToString() + "\n";
      } else if (*decoded != want) {
        problem += std::string("Decode(skip=") + (skip ? "true" : "false") + ") got " +
                   Show(*decoded) + "\n  want " + Show(want) + "\n";
      }
    }
    if (problem.empty()) {
      ++matched;
    } else {
      ADD_FAILURE() << GetParam() << ": text " << Show(text) << "\n" << problem;
    }
  }
  for (const Json& c : expected["decode_cases"]) {
    const std::vector<int32_t> ids = c["ids"].get<std::vector<int32_t>>();
    const bool skip = c["skip_special_tokens"].get<bool>();
    auto decoded = tok.Decode(ids, skip);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, c["text"].get<std::string>())
        << "Decode(" << Json(ids).dump() << ", skip=" << skip << ")";
  }
  std::cout << GetParam() << ": " << matched << "/" << total
            << " texts identical (ids, tokens, offsets, special, decode)" << std::endl;
  EXPECT_EQ(matched, total);
  EXPECT_GT(total, 30);
}

INSTANTIATE_TEST_SUITE_P(Families, TokenizerOracleTest, ::testing::ValuesIn(kFamilies),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

TEST(TokenizerOracleManifestTest, ListsExactlyTheTestedFamilies) {
  const std::string root = OracleDir();
  ASSERT_FALSE(root.empty()) << "CLUEDROP_ORACLE_DIR is not set";
  Json manifest;
  std::string error;
  ASSERT_TRUE(ReadJson(root + "/manifest.json", &manifest, &error)) << error;
  std::vector<std::string> want(std::begin(kFamilies), std::end(kFamilies));
  EXPECT_EQ(manifest["tokenizers"].get<std::vector<std::string>>(), want);
}

}  // namespace
}  // namespace cluedrop::model
