#include "corpus/document_reader.h"

#include <gtest/gtest.h>

namespace cluedrop::corpus {
namespace {

TEST(DocumentReaderTest, PaperCsvWithQuotedNewlinesAndTags) {
  auto docs = ParseDocuments(
      "text\n\"<name>Liam Thompson</name> was born on <date>January 5, 1990</date>.\"\n"
      "\"Two \"\"quoted\"\"\nlines, <city>Paris</city>\"\n",
      "bios.csv");
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].id, "row-1");
  EXPECT_EQ((*docs)[0].text, "Liam Thompson was born on January 5, 1990.");
  EXPECT_EQ((*docs)[1].text, "Two \"quoted\"\nlines, Paris");
}

TEST(DocumentReaderTest, JsonlIdsAndErrorsNameTheLine) {
  auto docs =
      ParseDocuments("{\"id\": \"a\", \"text\": \"x <b>y</b>\"}\n\n{\"text\": \"z\"}\n", "d.jsonl");
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].text, "x y");
  EXPECT_EQ((*docs)[1].id, "line-3");
  auto bad = ParseDocuments("{\"text\": 1}\n", "d.jsonl");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "d.jsonl:1: \"text\" must be a string");
}

TEST(DocumentReaderTest, CsvErrors) {
  EXPECT_EQ(ParseDocuments("body\nx\n", "a.csv").status().message(),
            "a.csv:1: no \"text\" column in the header");
  EXPECT_EQ(ParseDocuments("text,id\nx\n", "a.csv").status().message(),
            "a.csv:2: 1 fields, the header has 2");
  EXPECT_EQ(ParseDocuments("text\n\"open\n", "a.csv").status().message(),
            "a.csv:2: unterminated quoted field");
  EXPECT_EQ(ParseDocuments("text\n", "a.csv").status().message(), "a.csv: no documents");
}

TEST(DocumentReaderTest, PlainTextParagraphs) {
  auto docs = ParseDocuments("first line\nsecond\n\n\nthird <x>para</x>\n", "notes.txt");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].text, "first line\nsecond");
  EXPECT_EQ((*docs)[1].text, "third para");
}

TEST(DocumentReaderTest, StripKeepsOtherAngleBrackets) {
  EXPECT_EQ(StripFieldTags("a < b and <b>c</b> <not a tag> <A>"), "a < b and c <not a tag> <A>");
}

TEST(DocumentReaderTest, MissingFileIsNotFound) {
  auto missing = ReadDocuments("/nonexistent/file.csv");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cluedrop::corpus
