#include "workers/model/checkpoint/checkpoint_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "workers/model/checkpoint/checkpoint_test_util.h"
#include "workers/model/checkpoint/safetensors_writer.h"

namespace cluedrop::model {
namespace {

// Writes a safetensors file holding I32 scalars named `names` (value = index).
void WriteScalars(const std::string& path, const std::vector<std::string>& names) {
  static const int32_t kValues[] = {0, 1, 2, 3, 4, 5, 6, 7};
  SafetensorsWriter writer;
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_TRUE(writer.Add(names[i], DType::kI32, {}, &kValues[i], 4).ok());
  }
  ASSERT_TRUE(writer.Write(path).ok());
}

int32_t ScalarOf(const CheckpointReader& reader, const std::string& name) {
  auto view = reader.Get(name);
  EXPECT_TRUE(view.ok()) << view.status();
  if (!view.ok()) return -1;
  int32_t value;
  std::memcpy(&value, view->data, 4);
  return value;
}

// A two-shard checkpoint: a,b in shard 1; c in shard 2.
std::string ShardedDir() {
  const std::string dir = testing::MakeTempDir();
  WriteScalars(dir + "/model-00001-of-00002.safetensors", {"a", "b"});
  WriteScalars(dir + "/model-00002-of-00002.safetensors", {"c"});
  testing::WriteFile(dir + "/model.safetensors.index.json", R"({
  "metadata": {"total_size": 12},
  "weight_map": {"a": "model-00001-of-00002.safetensors",
                 "b": "model-00001-of-00002.safetensors",
                 "c": "model-00002-of-00002.safetensors"}
})");
  return dir;
}

void ExpectError(const StatusOr<std::unique_ptr<CheckpointReader>>& reader, StatusCode code,
                 const std::vector<std::string>& parts) {
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), code) << reader.status();
  for (const std::string& part : parts) {
    EXPECT_NE(reader.status().message().find(part), std::string::npos)
        << "got: " << reader.status() << "\nwant part: " << part;
  }
}

TEST(CheckpointReaderTest, OpensADirectoryWithModelSafetensors) {
  const std::string dir = testing::MakeTempDir();
  WriteScalars(dir + "/model.safetensors", {"z", "a"});
  auto reader = CheckpointReader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->path(), dir);
  EXPECT_EQ((*reader)->TensorNames(), (std::vector<std::string>{"a", "z"}));
  EXPECT_TRUE((*reader)->Has("z"));
  EXPECT_FALSE((*reader)->Has("y"));
  EXPECT_EQ((*reader)->Find("a")->dtype, DType::kI32);
  EXPECT_EQ(ScalarOf(**reader, "z"), 0);
  EXPECT_EQ(ScalarOf(**reader, "a"), 1);
  EXPECT_EQ((*reader)->FileOf("a"), dir + "/model.safetensors");
  EXPECT_EQ((*reader)->FileOf("y"), "");
  auto missing = (*reader)->Get("y");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), dir + ": no tensor 'y'");
}

TEST(CheckpointReaderTest, OpensASafetensorsFileByPath) {
  const std::string dir = testing::MakeTempDir();
  const std::string path = dir + "/adapter_model.safetensors";
  WriteScalars(path, {"lora_A", "lora_B"});
  for (bool open_file : {false, true}) {
    auto reader = open_file ? CheckpointReader::OpenFile(path) : CheckpointReader::Open(path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ((*reader)->path(), path);
    EXPECT_EQ((*reader)->TensorNames(), (std::vector<std::string>{"lora_A", "lora_B"}));
    EXPECT_EQ(ScalarOf(**reader, "lora_B"), 1);
    EXPECT_EQ((*reader)->FileOf("lora_A"), path);
  }
}

TEST(CheckpointReaderTest, OpensAShardedCheckpointByDirectoryOrIndex) {
  const std::string dir = ShardedDir();
  for (const std::string& path : {dir, dir + "/model.safetensors.index.json"}) {
    auto reader = CheckpointReader::Open(path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ((*reader)->TensorNames(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ((*reader)->files().size(), 2u);
    EXPECT_EQ(ScalarOf(**reader, "b"), 1);
    EXPECT_EQ(ScalarOf(**reader, "c"), 0);
    EXPECT_EQ((*reader)->FileOf("c"), dir + "/model-00002-of-00002.safetensors");
    auto missing = (*reader)->Get("d");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(missing.status().message(), path + ": no tensor 'd'");
  }
}

TEST(CheckpointReaderTest, PrefersModelSafetensorsOverAnIndex) {
  const std::string dir = ShardedDir();
  WriteScalars(dir + "/model.safetensors", {"only"});
  auto reader = CheckpointReader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->TensorNames(), (std::vector<std::string>{"only"}));
}

TEST(CheckpointReaderTest, IndexListsTheTensorsEvenIfAShardHasMore) {
  const std::string dir = testing::MakeTempDir();
  WriteScalars(dir + "/s.safetensors", {"a", "extra"});
  testing::WriteFile(dir + "/model.safetensors.index.json",
                     R"({"weight_map": {"a": "s.safetensors"}})");
  auto reader = CheckpointReader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->TensorNames(), (std::vector<std::string>{"a"}));
}

TEST(CheckpointReaderTest, MissingPathsAreNotFound) {
  const std::string dir = testing::MakeTempDir();
  ExpectError(CheckpointReader::Open(dir + "/nope"), StatusCode::kNotFound,
              {dir + "/nope: no such checkpoint"});
  ExpectError(CheckpointReader::Open(dir), StatusCode::kNotFound,
              {dir + ": checkpoint directory has neither model.safetensors nor "
                     "model.safetensors.index.json"});
}

TEST(CheckpointReaderTest, RejectsBadIndexFiles) {
  const struct {
    const char* label;
    std::string index;
    StatusCode code;
    std::vector<std::string> parts;
  } kCases[] = {
      {"not JSON",
       "{",
       StatusCode::kInvalidArgument,
       {"model.safetensors.index.json: not valid JSON"}},
      {"not an object", "[]", StatusCode::kInvalidArgument, {"must be a JSON object, got array"}},
      {"no weight_map",
       R"({"metadata": {}})",
       StatusCode::kInvalidArgument,
       {"model.safetensors.index.json: missing 'weight_map'"}},
      {"weight_map not an object",
       R"({"weight_map": []})",
       StatusCode::kInvalidArgument,
       {"'weight_map' must be an object, got array"}},
      {"file not a string",
       R"({"weight_map": {"a": 1}})",
       StatusCode::kInvalidArgument,
       {"'weight_map' entry 'a' must be a file name string, got number"}},
      {"escapes the directory",
       R"({"weight_map": {"a": "../x.safetensors"}})",
       StatusCode::kInvalidArgument,
       {"'../x.safetensors'", "not a relative path"}},
      {"absolute",
       R"({"weight_map": {"a": "/etc/passwd"}})",
       StatusCode::kInvalidArgument,
       {"'/etc/passwd'", "not a relative path"}},
      {"shard missing",
       R"({"weight_map": {"a": "gone.safetensors"}})",
       StatusCode::kNotFound,
       {"model.safetensors.index.json: shard 'gone.safetensors' listed in weight_map",
        "gone.safetensors: cannot open"}},
      {"tensor absent from its shard",
       R"({"weight_map": {"a": "model-00001-of-00002.safetensors",
                          "c": "model-00001-of-00002.safetensors"}})",
       StatusCode::kDataLoss,
       {"model.safetensors.index.json: weight_map puts tensor 'c' in "
        "'model-00001-of-00002.safetensors', but ",
        "model-00001-of-00002.safetensors has no such tensor"}},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.label);
    const std::string dir = ShardedDir();
    testing::WriteFile(dir + "/model.safetensors.index.json", c.index);
    ExpectError(CheckpointReader::Open(dir), c.code, c.parts);
  }
}

TEST(CheckpointReaderTest, CorruptShardNamesIndexAndShard) {
  const std::string dir = ShardedDir();
  testing::WriteFile(dir + "/model-00002-of-00002.safetensors", "junk");
  ExpectError(CheckpointReader::Open(dir), StatusCode::kDataLoss,
              {"model.safetensors.index.json: shard 'model-00002-of-00002.safetensors' listed in "
               "weight_map: ",
               "model-00002-of-00002.safetensors: file is 4 bytes"});
}

}  // namespace
}  // namespace cluedrop::model
