#include "workers/trainer/qa_proto.h"

#include <gtest/gtest.h>

namespace cluedrop::trainer {
namespace {

TEST(QaProtoTest, QaItemsFromProtoCopiesEveryField) {
  v1::Document doc;
  v1::QaItem* item = doc.add_qa_items();
  item->set_subject("Liam Thompson");
  item->set_field("city");
  item->set_answer("Melbourne, Australia");
  std::vector<corpus::QaItem> items = QaItemsFromProto(doc.qa_items());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].subject, "Liam Thompson");
  EXPECT_EQ(items[0].field, "city");
  EXPECT_EQ(items[0].answer, "Melbourne, Australia");
}

TEST(QaProtoTest, AppendFieldScoresFillsTheEvaluationResult) {
  v1::EvaluationResult result;
  AppendFieldScores({{"city", 2, 0.5, 0.75}, {"overall", 2, 0.5, 0.75}}, result.mutable_fields());
  ASSERT_EQ(result.fields_size(), 2);
  EXPECT_EQ(result.fields(0).field(), "city");
  EXPECT_EQ(result.fields(0).questions(), 2u);
  EXPECT_DOUBLE_EQ(result.fields(0).exact_match(), 0.5);
  EXPECT_DOUBLE_EQ(result.fields(0).f1(), 0.75);
  EXPECT_EQ(result.fields(1).field(), "overall");
}

}  // namespace
}  // namespace cluedrop::trainer
