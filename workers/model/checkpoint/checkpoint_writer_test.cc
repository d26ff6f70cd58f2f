#include "workers/model/checkpoint/checkpoint_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "workers/model/checkpoint/checkpoint_reader.h"
#include "workers/model/checkpoint/checkpoint_test_util.h"

namespace cluedrop::model {
namespace {

// Entries of U8 tensors with the given byte sizes, named t0, t1, ...; the
// bytes live in `storage`.
std::vector<WriterEntry> U8Entries(const std::vector<size_t>& sizes,
                                   std::vector<std::vector<uint8_t>>* storage) {
  std::vector<WriterEntry> entries;
  storage->clear();
  storage->reserve(sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    storage->emplace_back(sizes[i], static_cast<uint8_t>(i + 1));
    entries.push_back({"t" + std::to_string(i),
                       DType::kU8,
                       {static_cast<int64_t>(sizes[i])},
                       storage->back().data(),
                       sizes[i]});
  }
  return entries;
}

std::set<std::string> DirNames(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

TEST(PlanCheckpointShardsTest, FollowsHuggingFaceSplitting) {
  std::vector<std::vector<uint8_t>> storage;
  // The docstring example of split_state_dict_into_shards_factory.
  EXPECT_EQ(PlanCheckpointShards(U8Entries({6, 6, 2, 6, 2, 2}, &storage), 10),
            (std::vector<std::string>{
                "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
                "model-00003-of-00003.safetensors", "model-00003-of-00003.safetensors"}));
  // An oversized tensor gets its own shard, placed before the open one.
  EXPECT_EQ(PlanCheckpointShards(U8Entries({4, 20, 4}, &storage), 10),
            (std::vector<std::string>{"model-00002-of-00002.safetensors",
                                      "model-00001-of-00002.safetensors",
                                      "model-00002-of-00002.safetensors"}));
  // Exactly full is still one shard.
  EXPECT_EQ(PlanCheckpointShards(U8Entries({5, 5}, &storage), 10),
            (std::vector<std::string>{"model.safetensors", "model.safetensors"}));
  // Unlimited.
  EXPECT_EQ(PlanCheckpointShards(U8Entries({100, 100}, &storage), 0),
            (std::vector<std::string>{"model.safetensors", "model.safetensors"}));
  EXPECT_TRUE(PlanCheckpointShards({}, 10).empty());
}

TEST(WriteCheckpointTest, SingleFileWhenItFits) {
  const std::string dir = testing::MakeTempDir() + "/ckpt";  // Created by the writer.
  std::vector<std::vector<uint8_t>> storage;
  ASSERT_TRUE(WriteCheckpoint(dir, U8Entries({3, 4}, &storage), 0).ok());
  EXPECT_EQ(DirNames(dir), (std::set<std::string>{"model.safetensors"}));
  auto reader = CheckpointReader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->TensorNames(), (std::vector<std::string>{"t0", "t1"}));
  EXPECT_EQ((*reader)->FileOf("t1"), dir + "/model.safetensors");
}

TEST(WriteCheckpointTest, ShardedRoundTripWithIndex) {
  const std::string dir = testing::MakeTempDir();
  std::vector<std::vector<uint8_t>> storage;
  const std::vector<WriterEntry> entries = U8Entries({6, 6, 2, 6, 2, 2}, &storage);
  ASSERT_TRUE(WriteCheckpoint(dir, entries, 10).ok());
  EXPECT_EQ(
      DirNames(dir),
      (std::set<std::string>{"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                             "model-00003-of-00003.safetensors", "model.safetensors.index.json"}));
  EXPECT_EQ(testing::ReadFile(dir + "/model.safetensors.index.json"),
            "{\n"
            "  \"metadata\": {\n"
            "    \"total_size\": 24\n"
            "  },\n"
            "  \"weight_map\": {\n"
            "    \"t0\": \"model-00001-of-00003.safetensors\",\n"
            "    \"t1\": \"model-00002-of-00003.safetensors\",\n"
            "    \"t2\": \"model-00002-of-00003.safetensors\",\n"
            "    \"t3\": \"model-00003-of-00003.safetensors\",\n"
            "    \"t4\": \"model-00003-of-00003.safetensors\",\n"
            "    \"t5\": \"model-00003-of-00003.safetensors\"\n"
            "  }\n"
            "}\n");

  auto reader = CheckpointReader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->TensorNames(),
            (std::vector<std::string>{"t0", "t1", "t2", "t3", "t4", "t5"}));
  EXPECT_EQ((*reader)->files().size(), 3u);
  EXPECT_EQ((*reader)->FileOf("t2"), dir + "/model-00002-of-00003.safetensors");
  for (size_t i = 0; i < entries.size(); ++i) {
    auto view = (*reader)->Get(entries[i].name);
    ASSERT_TRUE(view.ok()) << view.status();
    ASSERT_EQ(view->nbytes, entries[i].nbytes);
    EXPECT_EQ(std::memcmp(view->data, storage[i].data(), view->nbytes), 0) << entries[i].name;
  }
}

TEST(WriteCheckpointTest, ReplacesAnEarlierSaveWithoutLeftovers) {
  const std::string dir = testing::MakeTempDir();
  testing::WriteFile(dir + "/config.json", "{}");  // Not a weight file: kept.
  std::vector<std::vector<uint8_t>> storage;
  ASSERT_TRUE(WriteCheckpoint(dir, U8Entries({6, 6, 6, 6}, &storage), 10).ok());
  EXPECT_EQ(DirNames(dir).size(), 6u);

  // Sharded -> fewer shards: the old third and fourth shard go.
  ASSERT_TRUE(WriteCheckpoint(dir, U8Entries({6, 6}, &storage), 10).ok());
  EXPECT_EQ(DirNames(dir), (std::set<std::string>{"config.json", "model-00001-of-00002.safetensors",
                                                  "model-00002-of-00002.safetensors",
                                                  "model.safetensors.index.json"}));

  // Sharded -> single: shards and index go.
  ASSERT_TRUE(WriteCheckpoint(dir, U8Entries({6, 6}, &storage), 0).ok());
  EXPECT_EQ(DirNames(dir), (std::set<std::string>{"config.json", "model.safetensors"}));

  // Single -> sharded: model.safetensors goes (readers would prefer it).
  ASSERT_TRUE(WriteCheckpoint(dir, U8Entries({6, 6, 1}, &storage), 10).ok());
  EXPECT_EQ(DirNames(dir), (std::set<std::string>{"config.json", "model-00001-of-00002.safetensors",
                                                  "model-00002-of-00002.safetensors",
                                                  "model.safetensors.index.json"}));
  auto reader = CheckpointReader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->TensorNames(), (std::vector<std::string>{"t0", "t1", "t2"}));
}

TEST(WriteCheckpointTest, InvalidEntriesWriteNothing) {
  const std::string dir = testing::MakeTempDir() + "/ckpt";
  std::vector<std::vector<uint8_t>> storage;
  std::vector<WriterEntry> entries = U8Entries({6, 6, 6}, &storage);
  entries[2].name = "t0";
  Status status = WriteCheckpoint(dir, entries, 10);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("duplicate tensor name 't0'"), std::string::npos) << status;
  EXPECT_FALSE(std::filesystem::exists(dir));

  entries = U8Entries({6, 6}, &storage);
  entries[1].nbytes = 5;
  status = WriteCheckpoint(dir, entries, 10);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("nbytes 5 != 6 elements"), std::string::npos) << status;
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(WriteCheckpointTest, EmptyCheckpointIsAnEmptyModelFile) {
  const std::string dir = testing::MakeTempDir();
  ASSERT_TRUE(WriteCheckpoint(dir, {}, 10).ok());
  auto reader = CheckpointReader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_TRUE((*reader)->TensorNames().empty());
}

}  // namespace
}  // namespace cluedrop::model
