#include "workers/trainer/scored_jsonl.h"

#include <gtest/gtest.h>

#include <cmath>

namespace cluedrop {
namespace {

constexpr char kLine[] =
    R"({"id":"bio-1","text":"Hi, you.","tokens":[1,50,51,52,53],)"
    R"("offsets":[[0,0],[0,2],[2,3],[3,7],[7,8]],"received_large":[0.5,0.25,null,1,2],)"
    R"("received_small":[0,0,0,0,0],"contrast":[null,0.25,null,1e-3,-2],"qa_items":[]})";

TEST(ScoredJsonlTest, ParsesTheScoreFormatWithNullAsNan) {
  const std::string content =
      std::string(kLine) + "\n\n" + R"({"id": 7, "text": "", "tokens": [], "offsets": []})" + "\n";
  StatusOr<std::vector<ScoredRecord>> records = ParseScoredJsonl(content, "s.jsonl");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  const ScoredDocument& d = (*records)[0].document;
  EXPECT_EQ((*records)[0].line, 1u);
  EXPECT_EQ(d.id, "bio-1");
  EXPECT_EQ(d.text, "Hi, you.");
  EXPECT_EQ(d.tokens, (std::vector<int32_t>{1, 50, 51, 52, 53}));
  EXPECT_EQ(d.offsets[3], (std::pair<size_t, size_t>{3, 7}));
  ASSERT_EQ(d.received_large.size(), 5u);
  EXPECT_TRUE(std::isnan(d.received_large[2]));
  EXPECT_FLOAT_EQ(d.contrast[3], 1e-3f);
  EXPECT_TRUE(std::isnan(d.contrast[0]));
  EXPECT_TRUE(d.special.empty());
  EXPECT_EQ((*records)[1].line, 3u);
  EXPECT_EQ((*records)[1].document.id, "7");
  EXPECT_TRUE((*records)[1].document.contrast.empty());
}

// Each malformed input names the file and line.
TEST(ScoredJsonlTest, ErrorsNameFileAndLine) {
  const std::pair<std::string, std::string> cases[] = {
      {"{oops", "s.jsonl:2: not valid JSON"},
      {"[1]", "s.jsonl:2: expected a JSON object"},
      {R"({"text":"a","tokens":[],"offsets":[]})", "s.jsonl:2: \"id\" is missing"},
      {R"({"id":"b","tokens":[],"offsets":[]})", "s.jsonl:2: \"text\" must be a string"},
      {R"({"id":"b","text":"a","tokens":[-1],"offsets":[[0,1]]})", "\"tokens\"[0]"},
      {R"({"id":"b","text":"a","tokens":[3],"offsets":[[0,1],[1,1]]})", "2 entries for 1"},
      {R"({"id":"b","text":"a","tokens":[3],"offsets":[[0,2]]})", "not a byte span"},
      {R"({"id":"b","text":"a","tokens":[3],"offsets":[[0,1]],"contrast":[1,2]})",
       "\"contrast\" has 2 entries"},
      {R"({"id":"b","text":"a","tokens":[3],"offsets":[[0,1]],"contrast":["x"]})",
       "\"contrast\"[0] must be a number or null"},
      {R"({"id":"bio-1","text":"a","tokens":[3],"offsets":[[0,1]]})",
       "s.jsonl:2: duplicate id 'bio-1' (first on line 1)"},
  };
  for (const auto& [line, want] : cases) {
    Status s = ParseScoredJsonl(std::string(kLine) + "\n" + line + "\n", "s.jsonl").status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << line;
    EXPECT_NE(s.message().find(want), std::string::npos) << s << "\n  want: " << want;
  }
  EXPECT_EQ(ParseScoredJsonl("\n \n", "e.jsonl").status().message(), "e.jsonl: no documents");
}

TEST(ScoredJsonlTest, WritesOneSampleLine) {
  AugmentedSample s;
  s.copy = 2;
  s.text = "Hi,    .";
  s.tokens = {1, 50, 51, 60, 53};
  s.dropped = {3};
  EXPECT_EQ(AugmentedSampleJsonLine("bio-1", s),
            R"({"id":"bio-1","copy":2,"text":"Hi,    .","tokens":[1,50,51,60,53],"dropped":[3]})"
            "\n");
  s.copy = AugmentedSample::kOriginal;
  s.dropped.clear();
  EXPECT_NE(AugmentedSampleJsonLine("x", s).find(R"("copy":-1)"), std::string::npos);
  EXPECT_NE(AugmentedSampleJsonLine("x", s).find(R"("dropped":[])"), std::string::npos);
}

}  // namespace
}  // namespace cluedrop
