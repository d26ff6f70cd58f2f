#include "corpus/field_tags.h"

#include <gtest/gtest.h>

namespace cluedrop::corpus {
namespace {

bool operator==(const QaItem& a, const QaItem& b) {
  return a.subject == b.subject && a.field == b.field && a.answer == b.answer;
}

TEST(FieldTagsTest, PaperSentenceBecomesQaItems) {
  auto t = ParseFieldTags(
      "<name>Liam Thompson</name> was born on <date>January 5, 1990</date>. He spent his early "
      "years in <city>Melbourne, Australia</city>.");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->text,
            "Liam Thompson was born on January 5, 1990. He spent his early years in Melbourne, "
            "Australia.");
  ASSERT_EQ(t->qa_items.size(), 2u);
  EXPECT_TRUE((t->qa_items[0] == QaItem{"Liam Thompson", "date", "January 5, 1990"}));
  EXPECT_TRUE((t->qa_items[1] == QaItem{"Liam Thompson", "city", "Melbourne, Australia"}));
}

TEST(FieldTagsTest, SubjectAppliesToItemsBeforeTheNameTag) {
  auto t = ParseFieldTags("In <city>Paris</city> lived <name>Ann</name>, again <name>Ann</name>.");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->text, "In Paris lived Ann, again Ann.");
  ASSERT_EQ(t->qa_items.size(), 1u);
  EXPECT_TRUE((t->qa_items[0] == QaItem{"Ann", "city", "Paris"}));
}

TEST(FieldTagsTest, NoNameMeansEmptySubjectAndOtherBracketsAreText) {
  auto t = ParseFieldTags("a < b, <A>x</A> <not a tag> <birth_date>1990</birth_date>");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->text, "a < b, <A>x</A> <not a tag> 1990");
  ASSERT_EQ(t->qa_items.size(), 1u);
  EXPECT_TRUE((t->qa_items[0] == QaItem{"", "birth_date", "1990"}));
}

TEST(FieldTagsTest, PlainTextHasNoItems) {
  auto t = ParseFieldTags("");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->text, "");
  EXPECT_TRUE(t->qa_items.empty());
}

TEST(FieldTagsTest, MalformedTagsNameTheBytePosition) {
  EXPECT_EQ(ParseFieldTags("ab <city>Paris").status().message(),
            "field tag <city> at byte 3 is not closed");
  EXPECT_EQ(ParseFieldTags("<name>Ann</city>").status().message(),
            "field tag </city> at byte 9 does not match <name> at byte 0");
  EXPECT_EQ(ParseFieldTags("<name>Ann <city>X</city></name>").status().message(),
            "field tag <city> at byte 10 is nested in <name> at byte 0");
  EXPECT_EQ(ParseFieldTags("Paris</city>").status().message(),
            "field tag </city> at byte 5 has no opening tag");
  EXPECT_EQ(ParseFieldTags("x <date></date>").status().message(),
            "field tag <date> at byte 2 is empty");
  EXPECT_EQ(ParseFieldTags("<name>Ann</name> and <name>Bob</name>").status().message(),
            "field tag <name> at byte 21 names \"Bob\" but the document's subject is \"Ann\"");
  EXPECT_EQ(ParseFieldTags("<x>").status().code(), StatusCode::kInvalidArgument);
}

TEST(FieldTagsTest, MatchTagMarker) {
  auto open = MatchTagMarker("a<city>", 1);
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(open->name, "city");
  EXPECT_FALSE(open->closing);
  EXPECT_EQ(open->length, 6u);
  auto close = MatchTagMarker("</b_2>", 0);
  ASSERT_TRUE(close.has_value());
  EXPECT_TRUE(close->closing);
  EXPECT_EQ(close->name, "b_2");
  EXPECT_FALSE(MatchTagMarker("<>", 0).has_value());
  EXPECT_FALSE(MatchTagMarker("</>", 0).has_value());
  EXPECT_FALSE(MatchTagMarker("<city", 0).has_value());
  EXPECT_FALSE(MatchTagMarker("<Ci>", 0).has_value());
  EXPECT_FALSE(MatchTagMarker("<a>", 1).has_value());
  EXPECT_FALSE(MatchTagMarker("<a>", 9).has_value());
}

}  // namespace
}  // namespace cluedrop::corpus
