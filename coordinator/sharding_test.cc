#include "coordinator/sharding.h"

#include <gtest/gtest.h>

#include <string>

#include "coordinator/fingerprint.h"

namespace cluedrop::coordinator {
namespace {

std::vector<v1::Document> Docs(int n) {
  std::vector<v1::Document> docs(n);
  for (int i = 0; i < n; ++i) {
    docs[i].set_id("bio.csv:" + std::to_string(i + 2));
    docs[i].set_text("text " + std::to_string(i));
  }
  return docs;
}

TEST(ShardingTest, SplitsIntoConsecutiveRanges) {
  const auto docs = Docs(7);
  const auto plan = PlanShards(docs, 3);
  ASSERT_EQ(plan.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(plan[i].index, i);
    EXPECT_EQ(plan[i].first_doc, 3 * i);
  }
  EXPECT_EQ(plan[0].doc_count, 3u);
  EXPECT_EQ(plan[2].doc_count, 1u);
  EXPECT_EQ(plan[1].shard_id.rfind("shard-00001-", 0), 0u) << plan[1].shard_id;
  EXPECT_EQ(plan[1].shard_id.size(), std::string("shard-00001-").size() + 16);
  EXPECT_TRUE(PlanShards({}, 3).empty());
}

TEST(ShardingTest, ZeroMeansDefaultSize) {
  const auto docs = Docs(kDefaultShardSizeDocs + 1);
  const auto plan = PlanShards(docs, 0);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].doc_count, kDefaultShardSizeDocs);
  EXPECT_EQ(plan[1].doc_count, 1u);
}

// The documented encoding, recomputed by hand for a one-document shard.
TEST(ShardingTest, IdIsTheDocumentedFingerprint) {
  std::vector<v1::Document> docs(1);
  docs[0].set_id("a");
  docs[0].set_text("xy");
  uint64_t h = Fnv1a64(std::string("\x01\0\0\0\0\0\0\0", 8));
  h = Fnv1a64("a", h);
  h = Fnv1a64(std::string("\x02\0\0\0\0\0\0\0", 8), h);
  h = Fnv1a64("xy", h);
  EXPECT_EQ(PlanShards(docs, 5)[0].shard_id, "shard-00000-" + Hex64(h));
}

TEST(ShardingTest, IdsArePureFunctionsOfContent) {
  auto docs = Docs(6);
  const auto plan = PlanShards(docs, 2);
  EXPECT_EQ(PlanShards(Docs(6), 2)[1].shard_id, plan[1].shard_id);
  EXPECT_NE(plan[0].shard_id.substr(12), plan[1].shard_id.substr(12));
  docs[3].set_text("changed");
  const auto changed = PlanShards(docs, 2);
  EXPECT_EQ(changed[0].shard_id, plan[0].shard_id);
  EXPECT_NE(changed[1].shard_id, plan[1].shard_id);
  EXPECT_EQ(changed[2].shard_id, plan[2].shard_id);
  // Moving bytes between id and text changes the id (lengths are hashed).
  auto moved = Docs(6);
  moved[0].set_id(docs[0].id() + "t");
  moved[0].set_text(docs[0].text().substr(1));
  EXPECT_NE(PlanShards(moved, 2)[0].shard_id, plan[0].shard_id);
  // QA items do not enter the id.
  docs = Docs(6);
  docs[0].add_qa_items()->set_answer("x");
  EXPECT_EQ(PlanShards(docs, 2)[0].shard_id, plan[0].shard_id);
}

TEST(ShardingTest, IndexWidensPastFiveDigits) {
  EXPECT_EQ(ShardId(Docs(1), 123456, 0, 1).rfind("shard-123456-", 0), 0u);
}

}  // namespace
}  // namespace cluedrop::coordinator
