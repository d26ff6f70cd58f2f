#include "corpus/document_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

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

TEST(DocumentReaderTest, LinesAndIdOrigin) {
  auto csv = ParseDocuments("id,text\na,\"x\ny\"\nb,z\n", "a.csv");
  ASSERT_TRUE(csv.ok()) << csv.status();
  ASSERT_EQ(csv->size(), 2u);
  EXPECT_EQ((*csv)[0].line, 2u);
  EXPECT_EQ((*csv)[1].line, 4u);
  EXPECT_TRUE((*csv)[1].id_from_input);
  auto jsonl = ParseDocuments("\n{\"text\": \"a\"}\n{\"id\": 7, \"text\": \"b\"}\n", "d.jsonl");
  ASSERT_TRUE(jsonl.ok()) << jsonl.status();
  EXPECT_EQ((*jsonl)[0].line, 2u);
  EXPECT_FALSE((*jsonl)[0].id_from_input);
  EXPECT_EQ((*jsonl)[1].id, "7");
  EXPECT_TRUE((*jsonl)[1].id_from_input);
  auto text = ParseDocuments("\n\none\ntwo\n\nthree\n", "t.txt");
  ASSERT_TRUE(text.ok()) << text.status();
  ASSERT_EQ(text->size(), 2u);
  EXPECT_EQ((*text)[0].line, 3u);
  EXPECT_EQ((*text)[1].line, 6u);
  EXPECT_FALSE((*text)[1].id_from_input);
}

TEST(DocumentReaderTest, ExplicitFormatOverridesTheExtension) {
  ReadOptions options;
  options.format = Format::kCsv;
  auto docs = ParseDocuments("text\n\"a, b\"\n", "bios.txt", options);
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].text, "a, b");
  options.format = Format::kText;
  docs = ParseDocuments("{\"text\": 1}\n", "d.jsonl", options);
  ASSERT_TRUE(docs.ok()) << docs.status();
  EXPECT_EQ((*docs)[0].text, "{\"text\": 1}");
  options.format = Format::kJsonl;
  EXPECT_EQ(ParseDocuments("text\n", "a.csv", options).status().message(),
            "a.csv:1: not a JSON object");
  EXPECT_EQ(FormatForPath("x.jsonl"), Format::kJsonl);
  EXPECT_EQ(FormatForPath("x.csv"), Format::kCsv);
  EXPECT_EQ(FormatForPath("x.json"), Format::kText);
}

TEST(DocumentReaderTest, FieldTagsBecomeQaItems) {
  ReadOptions options;
  options.field_tags = true;
  auto docs =
      ParseDocuments("text\n\"<name>Ann</name> lives in <city>Oslo</city>.\"\n", "b.csv", options);
  ASSERT_TRUE(docs.ok()) << docs.status();
  EXPECT_EQ((*docs)[0].text, "Ann lives in Oslo.");
  ASSERT_EQ((*docs)[0].qa_items.size(), 1u);
  EXPECT_EQ((*docs)[0].qa_items[0].subject, "Ann");
  EXPECT_EQ((*docs)[0].qa_items[0].field, "city");
  EXPECT_EQ((*docs)[0].qa_items[0].answer, "Oslo");
  // Without the option the same text is stripped and has no items.
  auto plain = ParseDocuments("text\n\"<name>Ann</name> lives in <city>Oslo</city>.\"\n", "b.csv");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)[0].text, "Ann lives in Oslo.");
  EXPECT_TRUE((*plain)[0].qa_items.empty());
}

TEST(DocumentReaderTest, MalformedFieldTagsNameFileAndLine) {
  ReadOptions options;
  options.field_tags = true;
  EXPECT_EQ(ParseDocuments("text\nok\n\"<name>Ann\"\n", "b.csv", options).status().message(),
            "b.csv:3: field tag <name> at byte 0 is not closed");
  // Lenient stripping accepts the same input.
  EXPECT_TRUE(ParseDocuments("text\nok\n\"<name>Ann\"\n", "b.csv").ok());
}

#ifdef CLUEDROP_PAPER_DATA_DIR
TEST(DocumentReaderTest, PaperBiographiesParseIntoFiveQaItemsEach) {
  const std::string dir = CLUEDROP_PAPER_DATA_DIR;
  ReadOptions options;
  options.field_tags = true;
  for (const char* name : {"biography_synthetic.csv", "biography_real.csv"}) {
    auto docs = ReadDocuments(dir + "/" + name, options);
    ASSERT_TRUE(docs.ok()) << docs.status();
    ASSERT_GE(docs->size(), 10u) << name;
    for (const Document& doc : *docs) {
      EXPECT_EQ(doc.text.find('<'), std::string::npos) << doc.id;
      ASSERT_EQ(doc.qa_items.size(), 5u) << doc.id;
      const char* fields[] = {"date", "city", "university", "major", "company"};
      for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(doc.qa_items[i].field, fields[i]) << doc.id;
        EXPECT_FALSE(doc.qa_items[i].subject.empty()) << doc.id;
        EXPECT_NE(doc.text.find(doc.qa_items[i].answer), std::string::npos) << doc.id;
      }
    }
  }
  auto synthetic = ReadDocuments(dir + "/biography_synthetic.csv", options);
  ASSERT_TRUE(synthetic.ok());
  EXPECT_EQ((*synthetic)[0].qa_items[1].subject, "Liam Thompson");
  EXPECT_EQ((*synthetic)[0].qa_items[1].answer, "Melbourne, Australia");
}
#endif

}  // namespace
}  // namespace cluedrop::corpus
