#include "shard/shard_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "base/scoped_temp_dir.h"
#include "shard/crc32c.h"

namespace cluedrop::shard {
namespace {

namespace fs = std::filesystem;

v1::ScoredDocument Doc(int i, int tokens = 3) {
  v1::ScoredDocument d;
  d.set_id("bio.csv:" + std::to_string(100 + i));  // equal sizes for i < 900
  d.set_text("Ann was born in Oslo " + std::to_string(100 + i));
  for (int t = 0; t < tokens; ++t) {
    d.add_tokens(100 + t);
    d.add_offsets(t);
    d.add_offsets(t + 1);
    d.add_received_large(0.5f + t);
    d.add_received_small(0.25f);
    d.add_contrast(0.25f + t);
  }
  auto* qa = d.add_qa_items();
  qa->set_subject("Ann");
  qa->set_field("city");
  qa->set_answer("Oslo");
  return d;
}

std::vector<v1::ScoredDocument> Docs(int n, int tokens = 3) {
  std::vector<v1::ScoredDocument> docs;
  for (int i = 0; i < n; ++i) docs.push_back(Doc(i, tokens));
  return docs;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

uint32_t Le32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(s[at + i])} << (8 * i);
  return v;
}

class ShardStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    auto store = ShardStore::Open(dir_ + "/shards");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  const ScopedTempDir scratch_{"shard_store_test"};
  const std::string dir_ = scratch_.path();
  std::unique_ptr<ShardStore> store_;
};

TEST_F(ShardStoreTest, RoundTrip) {
  const auto docs = Docs(3);
  auto crc = store_->Write("job-1", "shard-00000-0123456789abcdef", docs);
  ASSERT_TRUE(crc.ok()) << crc.status();
  EXPECT_TRUE(store_->Exists("job-1", "shard-00000-0123456789abcdef"));
  auto read = store_->Read("job-1", "shard-00000-0123456789abcdef");
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ((*read)[i].SerializeAsString(), docs[i].SerializeAsString());
  auto info = store_->Info("job-1", "shard-00000-0123456789abcdef");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->document_count, 3u);
  EXPECT_EQ(info->checksum, *crc);
  EXPECT_EQ(store_->PathFor("job-1", "s"), dir_ + "/shards/job-1/s.shard");
}

// The bytes on disk are exactly docs/shard-format.md.
TEST_F(ShardStoreTest, FileLayoutMatchesTheDocumentedFormat) {
  const auto docs = Docs(2);
  auto crc = store_->Write("j", "s", docs);
  ASSERT_TRUE(crc.ok());
  const std::string file = ReadBytes(store_->PathFor("j", "s"));
  std::string payload;
  for (const auto& d : docs) {
    const std::string bytes = d.SerializeAsString();
    const uint32_t n = bytes.size();
    payload += std::string{static_cast<char>(n), static_cast<char>(n >> 8),
                           static_cast<char>(n >> 16), static_cast<char>(n >> 24)};
    payload += bytes;
  }
  ASSERT_EQ(file.size(), 32 + payload.size());
  EXPECT_EQ(file.substr(0, 8), std::string("CLDSHRD\0", 8));
  EXPECT_EQ(Le32(file, 8), 1u);                           // version
  EXPECT_EQ(Le32(file, 12), 2u);                          // documents
  EXPECT_EQ(Le32(file, 16), payload.size());              // payload bytes, low half
  EXPECT_EQ(Le32(file, 20), 0u);                          // payload bytes, high half
  EXPECT_EQ(Le32(file, 24), Crc32c(payload));             // payload checksum
  EXPECT_EQ(Le32(file, 28), Crc32c(file.substr(0, 28)));  // header checksum
  EXPECT_EQ(file.substr(32), payload);
  EXPECT_EQ(*crc, Crc32c(payload));
}

TEST_F(ShardStoreTest, EmptyShardAndOverwrite) {
  ASSERT_TRUE(store_->Write("j", "s", {}).ok());
  auto empty = store_->Read("j", "s");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(store_->Write("j", "s", Docs(4)).ok());
  auto read = store_->Read("j", "s");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->size(), 4u);
  int files = 0;
  for (const auto& f : fs::directory_iterator(dir_ + "/shards/j")) files += f.is_regular_file();
  EXPECT_EQ(files, 1);  // no temp file left behind
}

TEST_F(ShardStoreTest, MissingShardIsNotFound) {
  auto read = store_->Read("job-1", "nope");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(read.status().message(),
            "shard job-1/nope not found (" + dir_ + "/shards/job-1/nope.shard)");
  EXPECT_FALSE(store_->Exists("job-1", "nope"));
  EXPECT_EQ(store_->Info("job-1", "nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ShardStoreTest, IdsMustBeSafeFileNames) {
  for (const std::string& bad : std::vector<std::string>{
           "", ".hidden", "..", "../etc", "a/b", "a b", "\xc3\xa9", std::string(201, 'a')}) {
    EXPECT_EQ(store_->Write(bad, "s", {}).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_EQ(store_->Write("j", bad, {}).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_EQ(store_->Read("j", bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->RemoveJob(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_FALSE(store_->Exists(bad, "s"));
  }
  EXPECT_EQ(store_->Write("j", "../x", {}).status().message(),
            "shard_id: \"../x\" is not a valid file name (1 to 200 bytes of [A-Za-z0-9._-], no "
            "leading '.')");
  EXPECT_TRUE(store_->Write("Job_1.a-b", std::string(200, 's'), {}).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/x.shard"));
}

TEST_F(ShardStoreTest, EveryCorruptedByteIsDataLoss) {
  ASSERT_TRUE(store_->Write("j", "s", Docs(2, 2)).ok());
  const std::string path = store_->PathFor("j", "s");
  const std::string good = ReadBytes(path);
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x20;
    WriteBytes(path, bad);
    auto read = store_->Read("j", "s");
    ASSERT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << "byte " << i;
    EXPECT_EQ(read.status().message().rfind(path + ": ", 0), 0u) << read.status();
  }
  std::string bad = good;
  bad[0] = 'X';
  WriteBytes(path, bad);
  EXPECT_EQ(store_->Read("j", "s").status().message(),
            path + ": bad magic (not a cluedrop shard file)");
  bad = good;
  bad[40] ^= 1;
  WriteBytes(path, bad);
  EXPECT_EQ(
      store_->Read("j", "s").status().message().rfind(path + ": payload checksum mismatch", 0), 0u);
  EXPECT_EQ(store_->Info("j", "s").status().code(), absl::StatusCode::kOk);  // header only
}

TEST_F(ShardStoreTest, UnknownVersionIsDataLoss) {
  ASSERT_TRUE(store_->Write("j", "s", Docs(1)).ok());
  const std::string path = store_->PathFor("j", "s");
  std::string file = ReadBytes(path);
  file[8] = 2;  // version 2, with a header checksum that matches it
  const uint32_t crc = Crc32c(file.substr(0, 28));
  for (int i = 0; i < 4; ++i) file[28 + i] = static_cast<char>(crc >> (8 * i));
  WriteBytes(path, file);
  EXPECT_EQ(store_->Read("j", "s").status().message(),
            path + ": unsupported version 2 (this build reads 1)");
}

TEST_F(ShardStoreTest, TruncationAndTrailingBytesAreDataLoss) {
  ASSERT_TRUE(store_->Write("j", "s", Docs(2)).ok());
  const std::string path = store_->PathFor("j", "s");
  const std::string good = ReadBytes(path);
  for (size_t n = 0; n < good.size(); ++n) {
    WriteBytes(path, good.substr(0, n));
    EXPECT_EQ(store_->Read("j", "s").status().code(), absl::StatusCode::kDataLoss) << n;
  }
  WriteBytes(path, good.substr(0, 10));
  EXPECT_EQ(store_->Read("j", "s").status().message(),
            path + ": truncated: 10 bytes, the header alone is 32");
  WriteBytes(path, good + "x");
  EXPECT_EQ(store_->Read("j", "s").status().message(), path + ": 1 bytes after the payload");
}

TEST_F(ShardStoreTest, LeftoverTempFilesAreIgnoredAndCleanedOnOpen) {
  ASSERT_TRUE(store_->Write("j", "s", Docs(1)).ok());
  const std::string temp = dir_ + "/shards/j/.t.shard.tmp-1-0";  // a crash before rename
  WriteBytes(temp, "partial");
  EXPECT_FALSE(store_->Exists("j", "t"));
  EXPECT_EQ(store_->Read("j", "t").status().code(), absl::StatusCode::kNotFound);
  auto reopened = ShardStore::Open(dir_ + "/shards");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_FALSE(fs::exists(temp));
  auto read = (*reopened)->Read("j", "s");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size(), 1u);
}

TEST_F(ShardStoreTest, ChunksRespectTheByteBudget) {
  const auto docs = Docs(10);
  auto crc = store_->Write("j", "s", docs);
  ASSERT_TRUE(crc.ok());
  const size_t doc_bytes = docs[0].ByteSizeLong();
  for (size_t i = 1; i < docs.size(); ++i) ASSERT_EQ(docs[i].ByteSizeLong(), doc_bytes);
  struct Case {
    size_t max_chunk_bytes;
    std::vector<size_t> sizes;
  };
  for (const Case& c :
       {Case{0, std::vector<size_t>(10, 1)}, Case{doc_bytes * 5 / 2, {2, 2, 2, 2, 2}},
        Case{doc_bytes * 3, {3, 3, 3, 1}}, Case{doc_bytes * 100, {10}}}) {
    std::vector<size_t> sizes;
    std::vector<std::string> ids;
    int lasts = 0;
    absl::Status status = store_->ReadChunks(
        "j", "s", c.max_chunk_bytes,
        [&](std::vector<v1::ScoredDocument>&& chunk, bool last, uint32_t checksum) {
          EXPECT_EQ(checksum, *crc);
          sizes.push_back(chunk.size());
          for (const auto& d : chunk) ids.push_back(d.id());
          lasts += last;
          EXPECT_EQ(last, sizes.size() == c.sizes.size());
          return true;
        });
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(sizes, c.sizes) << c.max_chunk_bytes;
    EXPECT_EQ(lasts, 1);
    ASSERT_EQ(ids.size(), 10u);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(ids[i], docs[i].id());
  }
}

TEST_F(ShardStoreTest, EmptyShardIsOneLastChunkAndSinkCanStop) {
  ASSERT_TRUE(store_->Write("j", "empty", {}).ok());
  int calls = 0;
  ASSERT_TRUE(store_
                  ->ReadChunks("j", "empty", 100,
                               [&](std::vector<v1::ScoredDocument>&& chunk, bool last, uint32_t) {
                                 ++calls;
                                 EXPECT_TRUE(chunk.empty());
                                 EXPECT_TRUE(last);
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(store_->Write("j", "s", Docs(5)).ok());
  calls = 0;
  absl::Status stopped = store_->ReadChunks(
      "j", "s", 0, [&](std::vector<v1::ScoredDocument>&&, bool, uint32_t) { return ++calls < 2; });
  EXPECT_EQ(stopped.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);
}

TEST_F(ShardStoreTest, CorruptShardNeverReachesTheSink) {
  ASSERT_TRUE(store_->Write("j", "s", Docs(5)).ok());
  const std::string path = store_->PathFor("j", "s");
  std::string file = ReadBytes(path);
  file[file.size() - 3] ^= 1;  // in the last document
  WriteBytes(path, file);
  int calls = 0;
  absl::Status status = store_->ReadChunks(
      "j", "s", 0, [&](std::vector<v1::ScoredDocument>&&, bool, uint32_t) { return ++calls > 0; });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(calls, 0);
}

TEST_F(ShardStoreTest, RemoveJob) {
  ASSERT_TRUE(store_->Write("a", "s1", Docs(1)).ok());
  ASSERT_TRUE(store_->Write("a", "s2", Docs(1)).ok());
  ASSERT_TRUE(store_->Write("b", "s1", Docs(1)).ok());
  ASSERT_TRUE(store_->RemoveJob("a").ok());
  EXPECT_FALSE(store_->Exists("a", "s1"));
  EXPECT_FALSE(fs::exists(dir_ + "/shards/a"));
  EXPECT_TRUE(store_->Exists("b", "s1"));
  EXPECT_TRUE(store_->RemoveJob("a").ok());             // idempotent
  ASSERT_TRUE(store_->Write("a", "s1", Docs(2)).ok());  // the job directory comes back
  EXPECT_EQ(store_->Read("a", "s1")->size(), 2u);
}

TEST_F(ShardStoreTest, ConcurrentWritersAndReaders) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 5; ++i) {
        const std::string shard = "s" + std::to_string(i);
        EXPECT_TRUE(store_->Write("j" + std::to_string(t % 2), shard, Docs(i + 1)).ok());
        auto read = store_->Read("j" + std::to_string(t % 2), shard);
        ASSERT_TRUE(read.ok()) << read.status();
        EXPECT_EQ(read->size(), static_cast<size_t>(i + 1));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(store_->Read("j1", "s" + std::to_string(i))->size(), i + 1u);
}

TEST(ShardStoreOpenTest, FailsWhenTheDirectoryIsAFile) {
  const ScopedTempDir scratch("shard_store_test");
  const std::string file = scratch.file("file");
  WriteBytes(file, "x");
  EXPECT_FALSE(ShardStore::Open(file).ok());
  EXPECT_FALSE(ShardStore::Open(file + "/sub").ok());
  EXPECT_EQ(ShardStore::Open("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cluedrop::shard
