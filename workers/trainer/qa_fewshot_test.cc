#include "workers/trainer/qa_fewshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cluedrop::trainer {
namespace {

using ::testing::HasSubstr;

std::vector<corpus::QaItem> People(int n) {
  std::vector<corpus::QaItem> items;
  for (int i = 0; i < n; ++i) {
    const std::string name = "P" + std::to_string(i);
    items.push_back({name, "city", "City" + std::to_string(i)});
    if (i % 2 == 0) items.push_back({name, "date", "Day" + std::to_string(i)});
  }
  return items;
}

TEST(QaFewShotPoolTest, CountsPeoplePerFieldKeepingFirstAnswers) {
  std::vector<corpus::QaItem> items = People(5);
  items.push_back({"P0", "city", "Second city"});  // ignored: P0 has a city
  items.push_back({"", "city", "No subject"});     // ignored
  QaFewShotPool pool(items);
  EXPECT_EQ(pool.PeopleWithField("city"), 5u);
  EXPECT_EQ(pool.PeopleWithField("date"), 3u);  // P0, P2, P4
  EXPECT_EQ(pool.PeopleWithField("major"), 0u);
  StatusOr<std::vector<QaShot>> all = pool.Draw("city", "nobody", 5, 1);
  ASSERT_TRUE(all.ok()) << all.status();
  for (const QaShot& shot : *all) {
    EXPECT_EQ(shot.answer, "City" + shot.subject.substr(1));
  }
}

TEST(QaFewShotPoolTest, DrawIsDistinctDeterministicAndExcludesTheSubject) {
  QaFewShotPool pool(People(10));
  for (int s = 0; s < 10; ++s) {
    const std::string subject = "P" + std::to_string(s);
    StatusOr<std::vector<QaShot>> a = pool.Draw("city", subject, 5, 42);
    StatusOr<std::vector<QaShot>> b = pool.Draw("city", subject, 5, 42);
    ASSERT_TRUE(a.ok() && b.ok());
    std::set<std::string> names;
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_NE((*a)[i].subject, subject);
      EXPECT_EQ((*a)[i].subject, (*b)[i].subject);
      names.insert((*a)[i].subject);
    }
    EXPECT_EQ(names.size(), 5u);
  }
  // 9 candidates, 5 drawn in order: 15120 outcomes, so other seeds differ.
  int differing = 0;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    auto x = pool.Draw("city", "P0", 5, seed), y = pool.Draw("city", "P0", 5, seed + 100);
    bool same = true;
    for (size_t i = 0; i < 5; ++i) same = same && (*x)[i].subject == (*y)[i].subject;
    differing += !same;
  }
  EXPECT_GE(differing, 7);
}

TEST(QaFewShotPoolTest, TooFewPeopleIsAnError) {
  QaFewShotPool pool(People(5));
  // date: P0, P2, P4; excluding P2 leaves 2.
  StatusOr<std::vector<QaShot>> shots = pool.Draw("date", "P2", 3, 0);
  ASSERT_FALSE(shots.ok());
  EXPECT_EQ(shots.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(shots.status().message(),
              HasSubstr("the few-shot pool has 2 people with field \"date\" besides \"P2\""));
  EXPECT_TRUE(pool.Draw("date", "P2", 2, 0).ok());
  EXPECT_TRUE(pool.Draw("major", "P2", 0, 0).ok());  // zero shots always work
}

}  // namespace
}  // namespace cluedrop::trainer
