#include "cli/yaml_tree.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace cluedrop::cli {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(const std::string& text, const YamlLimits& limits = YamlLimits()) {
  absl::StatusOr<std::vector<YamlNode>> parsed = ParseYaml(text, "f.yaml", limits);
  EXPECT_FALSE(parsed.ok()) << text;
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(YamlTreeTest, BuildsMappingsListsAndScalarsWithLines) {
  absl::StatusOr<std::vector<YamlNode>> docs =
      ParseYaml("name: bio\ncorpus:\n  paths: [a.csv, \"b c.csv\"]\n  shard: 3\n", "f.yaml");
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 1u);
  const YamlNode& root = (*docs)[0];
  ASSERT_TRUE(root.IsMap());
  ASSERT_EQ(root.entries().size(), 2u);
  EXPECT_EQ(root.entries()[0].first.scalar(), "name");
  EXPECT_EQ(root.entries()[0].second.scalar(), "bio");
  const YamlNode& corpus = root.entries()[1].second;
  EXPECT_EQ(root.entries()[1].first.line(), 2);
  ASSERT_TRUE(corpus.IsMap());
  const YamlNode& paths = corpus.entries()[0].second;
  ASSERT_TRUE(paths.IsSequence());
  EXPECT_EQ(paths.line(), 3);
  ASSERT_EQ(paths.items().size(), 2u);
  EXPECT_EQ(paths.items()[1].scalar(), "b c.csv");
  EXPECT_EQ(corpus.entries()[1].second.scalar(), "3");
  EXPECT_EQ(corpus.entries()[1].second.line(), 4);
}

TEST(YamlTreeTest, PlainNullWordsAreNullQuotedOnesAreText) {
  absl::StatusOr<std::vector<YamlNode>> docs =
      ParseYaml("a:\nb: ~\nc: null\nd: NULL\ne: \"null\"\nf: ''\ng: nil\n", "f.yaml");
  ASSERT_TRUE(docs.ok()) << docs.status();
  const auto& e = (*docs)[0].entries();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(e[i].second.IsNull()) << i;
  EXPECT_TRUE(e[4].second.IsScalar());
  EXPECT_EQ(e[4].second.scalar(), "null");
  EXPECT_TRUE(e[5].second.IsScalar());
  EXPECT_EQ(e[5].second.scalar(), "");
  EXPECT_EQ(e[6].second.scalar(), "nil");
}

TEST(YamlTreeTest, DocumentsAndDuplicateKeysAreKept) {
  absl::StatusOr<std::vector<YamlNode>> docs = ParseYaml("a: 1\na: 2\n---\nb: 3\n", "f.yaml");
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].entries().size(), 2u);
  EXPECT_EQ((*docs)[1].line(), 4);
  EXPECT_TRUE(ParseYaml("# nothing\n", "f.yaml")->empty());
  EXPECT_TRUE(ParseYaml("", "f.yaml")->empty());
}

TEST(YamlTreeTest, SyntaxErrorsNameLineAndColumn) {
  EXPECT_EQ(ErrorOf("a: [1, 2\nb: 3\n"),
            "f.yaml:2:2: invalid YAML: did not find expected ',' or ']' while parsing a flow "
            "sequence");
  EXPECT_THAT(ErrorOf("a: b: c\n"), HasSubstr("f.yaml:1:5: invalid YAML: "));
}

TEST(YamlTreeTest, TagsAnchorsAndAliasesAreRefused) {
  const std::string refused = "YAML tags, anchors and aliases are not supported in job specs";
  EXPECT_EQ(ErrorOf("a: !!str 1\n"), "f.yaml:1: " + refused);
  EXPECT_EQ(ErrorOf("a: &x 1\nb: *x\n"), "f.yaml:1: " + refused);
  EXPECT_EQ(ErrorOf("a:\n  - 1\nb: *x\n"), "f.yaml:3: " + refused);  // undefined, too
  EXPECT_EQ(ErrorOf("a: &x [1]\n"), "f.yaml:1: " + refused);
}

TEST(YamlTreeTest, DepthAndSizeAreCapped) {
  YamlLimits limits;
  limits.max_depth = 4;
  limits.max_nodes = 10;
  EXPECT_TRUE(ParseYaml("[[[[1]]]]", "f.yaml", limits).ok());
  EXPECT_EQ(ErrorOf("[[[[[1]]]]]", limits),
            "f.yaml:1: invalid YAML: lists and mappings nested deeper than 4 levels");
  EXPECT_TRUE(ParseYaml("[1, 2, 3, 4, 5, 6, 7, 8, 9]", "f.yaml", limits).ok());
  EXPECT_EQ(ErrorOf("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", limits),
            "f.yaml:1: invalid YAML: more than 10 values");
  // The defaults take a deep, wide document quickly and refuse a deeper one.
  EXPECT_TRUE(ParseYaml(std::string(32, '[') + std::string(32, ']'), "f.yaml").ok());
  EXPECT_THAT(ErrorOf(std::string(100000, '[')), HasSubstr("nested deeper than 32 levels"));
}

}  // namespace
}  // namespace cluedrop::cli
