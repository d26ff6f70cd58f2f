#include "workers/model/checkpoint/safetensors_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "workers/model/checkpoint/checkpoint_test_util.h"

namespace cluedrop::model {
namespace {

using testing::LittleEndian64;
using testing::SafetensorsBytes;

constexpr char kName[] = "t.safetensors";

// Two F32 tensors, "b" listed before "a" in the header.
std::string ValidFile() {
  std::string data(16, '\0');
  const float values[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  std::memcpy(data.data(), values, sizeof(values));
  return SafetensorsBytes(R"({"__metadata__":{"format":"pt","k":"v"},)"
                          R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                          R"("a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}})",
                          data);
}

TEST(SafetensorsFileTest, ReadsTensorsInHeaderOrderWithMetadata) {
  const std::string bytes = ValidFile();
  auto file = SafetensorsFile::FromBuffer(bytes, kName);
  ASSERT_TRUE(file.ok()) << file.status();
  const SafetensorsFile& f = **file;
  EXPECT_EQ(f.path(), kName);
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.tensors()[0].name, "b");
  EXPECT_EQ(f.tensors()[1].name, "a");
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"k", "v"}}));

  const TensorInfo* a = f.Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, DType::kF32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(a->numel(), 2);
  EXPECT_EQ(a->begin, 0u);
  EXPECT_EQ(a->end, 8u);

  auto view = f.Get("b");
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->info, f.Find("b"));
  ASSERT_EQ(view->nbytes, 8u);
  float values[2];
  std::memcpy(values, view->data, 8);
  EXPECT_EQ(values[0], 3.0f);
  EXPECT_EQ(values[1], 4.0f);
  // The view points into the caller's buffer: no copy.
  EXPECT_EQ(reinterpret_cast<const char*>(view->data), bytes.data() + bytes.size() - 8);
}

TEST(SafetensorsFileTest, GetOfMissingTensorIsNotFound) {
  const std::string bytes = ValidFile();
  auto file = SafetensorsFile::FromBuffer(bytes, kName);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->Find("zzz"), nullptr);
  auto view = (*file)->Get("zzz");
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(view.status().message(), "t.safetensors: no tensor 'zzz'");
}

TEST(SafetensorsFileTest, AcceptsEdgeCasesTheFormatAllows) {
  // Empty header object; padding spaces; null metadata; scalars; zero-size
  // tensors sharing an offset; a gap and trailing bytes.
  for (const std::string& header : {
           std::string("{}"),
           std::string("{}      "),
           std::string(R"({"__metadata__":null})"),
           std::string(R"({"s":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})"),
           std::string(R"({"z":{"dtype":"F16","shape":[0,4],"data_offsets":[8,8]},)"
                       R"("y":{"dtype":"F32","shape":[3,0],"data_offsets":[8,8]},)"
                       R"("x":{"dtype":"U8","shape":[2],"data_offsets":[10,12]}})"),
       }) {
    const std::string bytes = SafetensorsBytes(header, std::string(16, 'd'));
    auto file = SafetensorsFile::FromBuffer(bytes, kName);
    EXPECT_TRUE(file.ok()) << header << " -> " << file.status();
  }
}

TEST(SafetensorsFileTest, ScalarHasOneElement) {
  const std::string bytes = SafetensorsBytes(
      R"({"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]}})", std::string(8, '\0'));
  auto file = SafetensorsFile::FromBuffer(bytes, kName);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->Find("s")->numel(), 1);
  EXPECT_EQ((*file)->Get("s")->nbytes, 8u);
}

struct BadCase {
  const char* label;
  std::string bytes;
  StatusCode code;
  std::string message_part;
};

std::string Entry(const std::string& fields) { return R"({"a":{)" + fields + "}}"; }

std::vector<BadCase> BadCases() {
  const std::string kData(16, '\0');
  const std::string kOk = R"("dtype":"F32","shape":[2],"data_offsets":[0,8])";
  return {
      {"shorter than 8 bytes", "abc", StatusCode::kDataLoss,
       "t.safetensors: file is 3 bytes, shorter than the 8-byte header length"},
      {"empty", "", StatusCode::kDataLoss, "t.safetensors: file is 0 bytes"},
      {"header over 100 MB", LittleEndian64(100'000'001) + "{}", StatusCode::kInvalidArgument,
       "t.safetensors: header length 100000001 exceeds the limit of 100000000 bytes"},
      {"huge header length", LittleEndian64(~0ull) + "{}", StatusCode::kInvalidArgument,
       "exceeds the limit"},
      {"header past end of file", LittleEndian64(100) + "{}", StatusCode::kDataLoss,
       "t.safetensors: header length 100 runs past the end of the file (2 bytes"},
      {"not JSON", SafetensorsBytes("{not json"), StatusCode::kInvalidArgument,
       "t.safetensors: header is not valid JSON"},
      {"empty header", SafetensorsBytes(""), StatusCode::kInvalidArgument,
       "t.safetensors: header is not valid JSON"},
      {"trailing garbage", SafetensorsBytes("{}x"), StatusCode::kInvalidArgument,
       "header is not valid JSON"},
      {"not an object", SafetensorsBytes("[1,2]"), StatusCode::kInvalidArgument,
       "t.safetensors: header must be a JSON object, got array"},
      {"entry not an object", SafetensorsBytes(R"({"a":5})"), StatusCode::kInvalidArgument,
       "t.safetensors: header: tensor 'a': entry must be an object, got number"},
      {"missing dtype", SafetensorsBytes(Entry(R"("shape":[2],"data_offsets":[0,8])"), kData),
       StatusCode::kInvalidArgument, "t.safetensors: header: tensor 'a': missing 'dtype'"},
      {"missing shape", SafetensorsBytes(Entry(R"("dtype":"F32","data_offsets":[0,8])"), kData),
       StatusCode::kInvalidArgument, "tensor 'a': missing 'shape'"},
      {"missing data_offsets", SafetensorsBytes(Entry(R"("dtype":"F32","shape":[2])"), kData),
       StatusCode::kInvalidArgument, "tensor 'a': missing 'data_offsets'"},
      {"dtype not a string",
       SafetensorsBytes(Entry(R"("dtype":4,"shape":[2],"data_offsets":[0,8])"), kData),
       StatusCode::kInvalidArgument, "tensor 'a': 'dtype' must be a string, got number"},
      {"unknown dtype",
       SafetensorsBytes(Entry(R"("dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2])"), kData),
       StatusCode::kInvalidArgument, "tensor 'a': 'dtype': unsupported dtype 'F8_E4M3'"},
      {"shape not an array",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":"2","data_offsets":[0,8])"), kData),
       StatusCode::kInvalidArgument,
       "tensor 'a': 'shape' must be an array of integers, got string"},
      {"shape of floats",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":[2.0],"data_offsets":[0,8])"), kData),
       StatusCode::kInvalidArgument, "tensor 'a': 'shape'[0] must be an integer, got number"},
      {"shape of strings",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":[1,"2"],"data_offsets":[0,8])"), kData),
       StatusCode::kInvalidArgument, "tensor 'a': 'shape'[1] must be an integer, got string"},
      {"negative dim",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":[2,-1],"data_offsets":[0,8])"), kData),
       StatusCode::kInvalidArgument, "tensor 'a': 'shape'[1] is negative (-1)"},
      {"dim over int64",
       SafetensorsBytes(
           Entry(R"("dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8])"), kData),
       StatusCode::kInvalidArgument, "tensor 'a': 'shape'[0] = 18446744073709551615 is too large"},
      {"numel overflow",
       SafetensorsBytes(
           Entry(R"("dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8])"), kData),
       StatusCode::kInvalidArgument,
       "tensor 'a': 'shape' [4294967296, 4294967296] overflows the element count"},
      {"byte count overflow",
       SafetensorsBytes(
           Entry(R"("dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8])"), kData),
       StatusCode::kInvalidArgument,
       "tensor 'a': 'shape' [4611686018427387904] of F64 overflows the byte count"},
      {"data_offsets not an array",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":[2],"data_offsets":"0,8")"), kData),
       StatusCode::kInvalidArgument,
       "tensor 'a': 'data_offsets' must be [begin, end] of two non-negative integers, got string"},
      {"data_offsets of one",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":[2],"data_offsets":[8])"), kData),
       StatusCode::kInvalidArgument, "got an array of 1 elements"},
      {"data_offsets of three",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":[2],"data_offsets":[0,8,9])"), kData),
       StatusCode::kInvalidArgument, "got an array of 3 elements"},
      {"negative offset",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":[2],"data_offsets":[-8,0])"), kData),
       StatusCode::kInvalidArgument, "got [negative integer, integer]"},
      {"float offset",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":[2],"data_offsets":[0,8.0])"), kData),
       StatusCode::kInvalidArgument, "got [integer, number]"},
      {"begin after end",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":[0],"data_offsets":[8,0])"), kData),
       StatusCode::kInvalidArgument, "tensor 'a': 'data_offsets' begin 8 > end 0"},
      {"end beyond data section",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":[6],"data_offsets":[0,24])"), kData),
       StatusCode::kDataLoss,
       "t.safetensors: header: tensor 'a': 'data_offsets' end 24 is beyond the data section "
       "(16 bytes"},
      {"huge end",
       SafetensorsBytes(Entry(R"("dtype":"U8","shape":[2],"data_offsets":[18446744073709551614,)"
                              R"(18446744073709551615])"),
                        kData),
       StatusCode::kDataLoss, "is beyond the data section"},
      {"lying header",
       SafetensorsBytes(Entry(R"("dtype":"F32","shape":[3],"data_offsets":[0,8])"), kData),
       StatusCode::kInvalidArgument,
       "tensor 'a': 'data_offsets' [0, 8) span 8 bytes but shape [3] of F32 needs 12"},
      {"overlap",
       SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                        kData),
       StatusCode::kInvalidArgument,
       "t.safetensors: header: tensors 'a' [0, 8) and 'b' [4, 12) overlap"},
      {"same range twice",
       SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
                        kData),
       StatusCode::kInvalidArgument, "overlap"},
      {"duplicate tensor", SafetensorsBytes(R"({"a":{)" + kOk + R"(},"a":{)" + kOk + "}}", kData),
       StatusCode::kInvalidArgument, "t.safetensors: header: duplicate key 'a'"},
      {"metadata not an object", SafetensorsBytes(R"({"__metadata__":[1]})"),
       StatusCode::kInvalidArgument,
       "t.safetensors: header: '__metadata__' must be an object of strings, got array"},
      {"metadata value not a string", SafetensorsBytes(R"({"__metadata__":{"k":"v","n":1}})"),
       StatusCode::kInvalidArgument,
       "t.safetensors: header: '__metadata__' value for 'n' must be a string, got number"},
      {"metadata nested", SafetensorsBytes(R"({"__metadata__":{"k":{"x":"y"}}})"),
       StatusCode::kInvalidArgument, "value for 'k' must be a string, got object"},
  };
}

TEST(SafetensorsFileTest, RejectsEveryKindOfCorruptHeader) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.label);
    auto file = SafetensorsFile::FromBuffer(c.bytes, kName);
    ASSERT_FALSE(file.ok());
    EXPECT_EQ(file.status().code(), c.code) << file.status();
    EXPECT_NE(file.status().message().find(c.message_part), std::string::npos)
        << "got: " << file.status() << "\nwant part: " << c.message_part;
    EXPECT_EQ(file.status().message().rfind("t.safetensors: ", 0), 0u) << file.status();
  }
}

TEST(SafetensorsFileTest, EveryTruncationOfAValidFileFailsCleanly) {
  const std::string bytes = ValidFile();
  for (size_t n = 0; n < bytes.size(); ++n) {
    // A copy of exactly n bytes, so sanitizers catch any read past it.
    std::vector<char> prefix(bytes.begin(), bytes.begin() + n);
    auto file = SafetensorsFile::FromBuffer(std::string_view(prefix.data(), n), kName);
    EXPECT_FALSE(file.ok()) << "prefix of " << n << " bytes";
  }
}

TEST(SafetensorsFileTest, LongTensorNamesAreCutInMessages) {
  const std::string name(5000, 'n');
  const std::string bytes = SafetensorsBytes(R"({")" + name + R"(":5})");
  auto file = SafetensorsFile::FromBuffer(bytes, kName);
  ASSERT_FALSE(file.ok());
  EXPECT_LT(file.status().message().size(), 400u) << file.status();
}

TEST(SafetensorsFileTest, OpenMapsAFile) {
  const std::string dir = testing::MakeTempDir();
  const std::string path = dir + "/m.safetensors";
  testing::WriteFile(path, ValidFile());
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->path(), path);
  auto view = (*file)->Get("a");
  ASSERT_TRUE(view.ok());
  float values[2];
  std::memcpy(values, view->data, 8);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], 2.0f);
}

TEST(SafetensorsFileTest, OpenReportsFileSystemErrorsWithThePath) {
  const std::string dir = testing::MakeTempDir();
  auto missing = SafetensorsFile::Open(dir + "/none.safetensors");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir + "/none.safetensors"), std::string::npos);

  auto directory = SafetensorsFile::Open(dir);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(directory.status().message().find("not a regular file"), std::string::npos);

  testing::WriteFile(dir + "/empty.safetensors", "");
  auto empty = SafetensorsFile::Open(dir + "/empty.safetensors");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(empty.status().message().find(dir + "/empty.safetensors: file is 0 bytes"),
            std::string::npos);

  // A file truncated after its header promised more data.
  const std::string whole = ValidFile();
  testing::WriteFile(dir + "/cut.safetensors", whole.substr(0, whole.size() - 1));
  auto cut = SafetensorsFile::Open(dir + "/cut.safetensors");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(cut.status().message().find("beyond the data section"), std::string::npos);
}

// The fuzz seed corpus doubles as a regression suite: valid_* seeds parse,
// bad_* seeds fail.
TEST(SafetensorsFileTest, SeedCorpusParsesAsNamed) {
  int valid = 0, bad = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CLUEDROP_SAFETENSORS_CORPUS_DIR)) {
    const std::string name = entry.path().filename().string();
    auto file = SafetensorsFile::Open(entry.path().string());
    if (name.rfind("valid_", 0) == 0) {
      EXPECT_TRUE(file.ok()) << name << ": " << file.status();
      if (!file.ok()) continue;
      for (const TensorInfo& info : (*file)->tensors()) EXPECT_TRUE((*file)->Get(info.name).ok());
      ++valid;
    } else {
      EXPECT_FALSE(file.ok()) << name;
      ++bad;
    }
  }
  EXPECT_GE(valid, 3);
  EXPECT_GE(bad, 10);
}

}  // namespace
}  // namespace cluedrop::model
