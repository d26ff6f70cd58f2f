#include "coordinator/corpus_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/scoped_temp_dir.h"

namespace cluedrop::coordinator {
namespace {

class CorpusLoaderTest : public testing::Test {
 protected:
  // Writes `content` to dir_/name and returns the path.
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  const ScopedTempDir scratch_{"corpus_loader_test"};
  const std::string dir_ = scratch_.path();
};

v1::CorpusSpec Spec(std::initializer_list<std::string> paths) {
  v1::CorpusSpec spec;
  for (const std::string& p : paths) spec.add_paths(p);
  return spec;
}

TEST_F(CorpusLoaderTest, ReadsFilesInOrderWithStableIds) {
  const auto spec =
      Spec({Write("a.jsonl", "{\"id\": \"x\", \"text\": \"one\"}\n{\"text\": \"two\"}\n"),
            Write("b.csv", "text\n\"three\nlines\"\nfour\n"), Write("c.txt", "five\n\nsix\n")});
  auto docs = LoadCorpus(spec);
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 6u);
  const char* ids[] = {"x", "a.jsonl:2", "b.csv:2", "b.csv:4", "c.txt:1", "c.txt:3"};
  const char* texts[] = {"one", "two", "three\nlines", "four", "five", "six"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ((*docs)[i].id(), ids[i]);
    EXPECT_EQ((*docs)[i].text(), texts[i]);
  }
}

TEST_F(CorpusLoaderTest, SameBasenameUsesThePathAsWritten) {
  const std::string a = Write("one/bio.csv", "text\nx\n"), b = Write("two/bio.csv", "text\ny\n");
  auto docs = LoadCorpus(Spec({a, b}));
  ASSERT_TRUE(docs.ok()) << docs.status();
  EXPECT_EQ((*docs)[0].id(), a + ":2");
  EXPECT_EQ((*docs)[1].id(), b + ":2");
}

TEST_F(CorpusLoaderTest, DuplicateIdsAcrossFilesAreRejected) {
  const std::string a = Write("a.jsonl", "{\"id\": 7, \"text\": \"x\"}\n");
  const std::string b = Write("b.jsonl", "\n{\"id\": \"7\", \"text\": \"y\"}\n");
  auto docs = LoadCorpus(Spec({a, b}));
  EXPECT_EQ(docs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(docs.status().message(), "corpus.paths[1]: " + b +
                                         ":2: duplicate document id \"7\", first at "
                                         "corpus.paths[0]: " +
                                         a + ":1");
  // The same file listed twice collides on its generated ids.
  const std::string c = Write("c.csv", "text\nz\n");
  EXPECT_EQ(LoadCorpus(Spec({c, c})).status().message(),
            "corpus.paths[1]: " + c + ":2: duplicate document id \"" + c +
                ":2\", first at corpus.paths[0]: " + c + ":2");
}

TEST_F(CorpusLoaderTest, EnforcesMaxDocumentBytes) {
  const std::string ok = Write("ok.csv", "text\n0123456789\n");
  const std::string big = Write("big.csv", "text\nshort\n01234567890\n");
  auto spec = Spec({ok, big});
  spec.set_max_document_bytes(10);
  EXPECT_EQ(LoadCorpus(spec).status().message(),
            "corpus.paths[1]: " + big + ":3: document is 11 bytes, limit 10");
  // The limit applies to the text after tag stripping.
  spec = Spec({Write("tags.csv", "text\n<city>0123456789</city>\n")});
  spec.set_max_document_bytes(10);
  EXPECT_TRUE(LoadCorpus(spec).ok());
}

TEST_F(CorpusLoaderTest, DefaultLimitIsOneMebibyte) {
  const std::string exact = Write("exact.txt", std::string(kDefaultMaxDocumentBytes, 'a'));
  EXPECT_TRUE(LoadCorpus(Spec({exact})).ok());
  const std::string over = Write("over.txt", std::string(kDefaultMaxDocumentBytes + 1, 'a'));
  EXPECT_EQ(LoadCorpus(Spec({over})).status().message(),
            "corpus.paths[0]: " + over + ":1: document is 1048577 bytes, limit 1048576");
}

TEST_F(CorpusLoaderTest, FieldTagsBecomeQaItems) {
  const std::string path =
      Write("bio.csv", "text\n\"<name>Ann Lee</name> lives in <city>Oslo</city>.\"\n");
  auto spec = Spec({path});
  spec.set_field_tags(true);
  auto docs = LoadCorpus(spec);
  ASSERT_TRUE(docs.ok()) << docs.status();
  const v1::Document& doc = (*docs)[0];
  EXPECT_EQ(doc.text(), "Ann Lee lives in Oslo.");
  ASSERT_EQ(doc.qa_items_size(), 1);
  EXPECT_EQ(doc.qa_items(0).subject(), "Ann Lee");
  EXPECT_EQ(doc.qa_items(0).field(), "city");
  EXPECT_EQ(doc.qa_items(0).answer(), "Oslo");
  spec.set_field_tags(false);
  docs = LoadCorpus(spec);
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ((*docs)[0].text(), "Ann Lee lives in Oslo.");
  EXPECT_EQ((*docs)[0].qa_items_size(), 0);
}

TEST_F(CorpusLoaderTest, ExplicitFormatOverridesTheExtension) {
  auto spec = Spec({Write("bios.txt", "text\n\"a\n\nb\"\n")});
  spec.set_format(v1::CORPUS_FORMAT_CSV);
  auto docs = LoadCorpus(spec);
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].text(), "a\n\nb");
  EXPECT_EQ((*docs)[0].id(), "bios.txt:2");
  spec.set_format(v1::CORPUS_FORMAT_TEXT);
  docs = LoadCorpus(spec);
  ASSERT_TRUE(docs.ok()) << docs.status();
  EXPECT_EQ(docs->size(), 2u);
}

TEST_F(CorpusLoaderTest, ErrorsNameTheFieldPathAndFile) {
  EXPECT_EQ(LoadCorpus(v1::CorpusSpec()).status().message(),
            "corpus.paths: at least one path required");
  const std::string good = Write("g.csv", "text\nx\n");
  auto spec = Spec({good});
  spec.set_format(static_cast<v1::CorpusFormat>(9));
  EXPECT_EQ(LoadCorpus(spec).status().message(), "corpus.format: unknown value 9");
  EXPECT_EQ(LoadCorpus(Spec({good, ""})).status().message(), "corpus.paths[1]: must not be empty");
  auto missing = LoadCorpus(Spec({good, dir_ + "/none.csv"}));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      missing.status().message().rfind("corpus.paths[1]: " + dir_ + "/none.csv: cannot open", 0),
      0u)
      << missing.status();
  const std::string bad = Write("bad.jsonl", "{\"text\": 1}\n");
  EXPECT_EQ(LoadCorpus(Spec({bad})).status().message(),
            "corpus.paths[0]: " + bad + ":1: \"text\" must be a string");
  const std::string tags = Write("tags.csv", "text\nok\n<name>Ann\n");
  spec = Spec({tags});
  spec.set_field_tags(true);
  EXPECT_EQ(LoadCorpus(spec).status().message(),
            "corpus.paths[0]: " + tags + ":3: field tag <name> at byte 0 is not closed");
  const std::string empty_id = Write("e.csv", "id,text\n,x\n");
  EXPECT_EQ(LoadCorpus(Spec({empty_id})).status().message(),
            "corpus.paths[0]: " + empty_id + ":2: document id is empty");
}

TEST_F(CorpusLoaderTest, RejectsInvalidUtf8) {
  const std::string text = Write("t.csv", "text\nok\n\"ab\xff\"\n");
  EXPECT_EQ(LoadCorpus(Spec({text})).status().message(),
            "corpus.paths[0]: " + text + ":3: text is not valid UTF-8 (byte 2)");
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    const std::string path = Write("u.txt", std::string("x") + bad);
    EXPECT_EQ(LoadCorpus(Spec({path})).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  const std::string id = Write("id.csv", "id,text\n\"\xe2\x82\",x\n");
  EXPECT_EQ(LoadCorpus(Spec({id})).status().message(),
            "corpus.paths[0]: " + id + ":2: id is not valid UTF-8 (byte 0)");
  const std::string good = Write("good.txt", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_TRUE(LoadCorpus(Spec({good})).ok());
}

#ifdef CLUEDROP_PAPER_DATA_DIR
TEST_F(CorpusLoaderTest, PaperBiographies) {
  const std::string data = CLUEDROP_PAPER_DATA_DIR;
  auto spec = Spec({data + "/biography_synthetic.csv", data + "/biography_real.csv"});
  spec.set_field_tags(true);
  auto docs = LoadCorpus(spec);
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 110u);
  EXPECT_EQ((*docs)[0].id(), "biography_synthetic.csv:2");
  EXPECT_EQ((*docs)[100].id(), "biography_real.csv:2");
  EXPECT_EQ((*docs)[100].qa_items(0).subject(), "Isaac Newton");
  EXPECT_EQ((*docs)[100].qa_items(0).field(), "date");
  EXPECT_EQ((*docs)[100].qa_items(0).answer(), "January 4, 1643");
  for (const v1::Document& doc : *docs) EXPECT_EQ(doc.qa_items_size(), 5) << doc.id();
}
#endif

}  // namespace
}  // namespace cluedrop::coordinator
