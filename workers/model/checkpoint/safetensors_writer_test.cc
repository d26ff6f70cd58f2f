#include "workers/model/checkpoint/safetensors_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "workers/model/checkpoint/checkpoint_test_util.h"
#include "workers/model/checkpoint/safetensors_file.h"

namespace cluedrop::model {
namespace {

constexpr DType kAllDTypes[] = {DType::kF64, DType::kF32, DType::kF16, DType::kBF16, DType::kI64,
                                DType::kI32, DType::kI16, DType::kI8,  DType::kU8,   DType::kBool};

// Deterministic bytes that differ per tensor.
std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed * 31 + i * 7 + 1);
  return out;
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

uint64_t HeaderLength(const std::string& file) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(file[i]);
  return n;
}

TEST(SafetensorsWriterTest, EveryDTypeRoundTrips) {
  const std::string path = testing::MakeTempDir() + "/all.safetensors";
  SafetensorsWriter writer;
  std::vector<std::vector<uint8_t>> buffers;
  for (DType dtype : kAllDTypes) {
    const std::vector<int64_t> shape = {2, 3};
    buffers.push_back(Pattern(6 * DTypeSize(dtype), static_cast<uint8_t>(buffers.size())));
    if (dtype == DType::kBool) {
      for (uint8_t& b : buffers.back()) b &= 1;
    }
    ASSERT_TRUE(writer
                    .Add(std::string("t_") + DTypeName(dtype), dtype, shape, buffers.back().data(),
                         buffers.back().size())
                    .ok());
  }
  ASSERT_TRUE(writer.Write(path).ok());

  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ((*file)->tensors().size(), std::size(kAllDTypes));
  for (size_t i = 0; i < std::size(kAllDTypes); ++i) {
    const DType dtype = kAllDTypes[i];
    SCOPED_TRACE(DTypeName(dtype));
    auto view = (*file)->Get(std::string("t_") + DTypeName(dtype));
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(view->info->dtype, dtype);
    EXPECT_EQ(view->info->shape, (std::vector<int64_t>{2, 3}));
    ASSERT_EQ(view->nbytes, buffers[i].size());
    EXPECT_EQ(std::memcmp(view->data, buffers[i].data(), view->nbytes), 0);
  }
}

TEST(SafetensorsWriterTest, ScalarsAndZeroSizeTensorsRoundTrip) {
  const std::string path = testing::MakeTempDir() + "/edge.safetensors";
  const double scalar = 2.5;
  const int32_t one = 7;
  SafetensorsWriter writer;
  ASSERT_TRUE(writer.Add("scalar", DType::kF64, {}, &scalar, 8).ok());
  ASSERT_TRUE(writer.Add("empty_rows", DType::kF32, {0, 3}, nullptr, 0).ok());
  ASSERT_TRUE(writer.Add("empty_cols", DType::kBF16, {4, 0}, nullptr, 0).ok());
  ASSERT_TRUE(writer.Add("one", DType::kI32, {1, 1, 1}, &one, 4).ok());
  EXPECT_EQ(writer.data_bytes(), 12u);
  ASSERT_TRUE(writer.Write(path).ok());

  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto s = (*file)->Get("scalar");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->info->shape.empty());
  EXPECT_EQ(s->info->numel(), 1);
  double got;
  std::memcpy(&got, s->data, 8);
  EXPECT_EQ(got, 2.5);
  for (const char* name : {"empty_rows", "empty_cols"}) {
    auto e = (*file)->Get(name);
    ASSERT_TRUE(e.ok()) << name;
    EXPECT_EQ(e->nbytes, 0u);
    EXPECT_EQ(e->info->numel(), 0);
  }
  EXPECT_EQ((*file)->Find("empty_rows")->shape, (std::vector<int64_t>{0, 3}));
}

TEST(SafetensorsWriterTest, LayoutIsPaddedHeaderThenTensorsInNameOrder) {
  const std::string path = testing::MakeTempDir() + "/layout.safetensors";
  const std::vector<uint8_t> a = Pattern(3, 1), b = Pattern(5, 2), c = Pattern(2, 3);
  SafetensorsWriter writer;
  // Added out of order; the file holds them by name.
  ASSERT_TRUE(writer.Add("c", DType::kU8, {2}, c.data(), 2).ok());
  ASSERT_TRUE(writer.Add("a", DType::kU8, {3}, a.data(), 3).ok());
  ASSERT_TRUE(writer.Add("b", DType::kI8, {5}, b.data(), 5).ok());
  ASSERT_TRUE(writer.Write(path).ok());

  const std::string bytes = testing::ReadFile(path);
  const uint64_t n = HeaderLength(bytes);
  EXPECT_EQ(n % 8, 0u);
  ASSERT_EQ(bytes.size(), 8 + n + 10);
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.rfind("{\"__metadata__\":{\"format\":\"pt\"},\"a\":", 0), 0u) << header;
  const size_t last = header.find_last_not_of(' ');
  EXPECT_EQ(header[last], '}');
  EXPECT_LT(n - 1 - last, 8u);  // At most 7 padding spaces.
  EXPECT_EQ(bytes.substr(8 + n), std::string(a.begin(), a.end()) + std::string(b.begin(), b.end()) +
                                     std::string(c.begin(), c.end()));

  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  const auto& t = (*file)->tensors();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].name, "a");
  EXPECT_EQ(t[0].begin, 0u);
  EXPECT_EQ(t[1].name, "b");
  EXPECT_EQ(t[1].begin, 3u);
  EXPECT_EQ(t[2].name, "c");
  EXPECT_EQ(t[2].begin, 8u);
  EXPECT_EQ(t[2].end, 10u);
}

TEST(SafetensorsWriterTest, HeaderLengthIsAMultipleOfEightForEveryNameLength) {
  for (size_t len = 1; len <= 16; ++len) {
    SafetensorsWriter writer;
    const uint8_t byte = 1;
    ASSERT_TRUE(writer.Add(std::string(len, 'x'), DType::kU8, {1}, &byte, 1).ok());
    auto header = writer.SerializeHeader();
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(HeaderLength(*header), header->size() - 8);
    EXPECT_EQ((header->size() - 8) % 8, 0u) << len;
    auto file = SafetensorsFile::FromBuffer(*header + "\x01", "mem");
    EXPECT_TRUE(file.ok()) << file.status();
  }
}

TEST(SafetensorsWriterTest, MetadataDefaultsToFormatPtAndCanBeSet) {
  const std::string dir = testing::MakeTempDir();
  {
    SafetensorsWriter writer;
    ASSERT_TRUE(writer.Write(dir + "/default.safetensors").ok());
    auto file = SafetensorsFile::Open(dir + "/default.safetensors");
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ((*file)->metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
    EXPECT_TRUE((*file)->tensors().empty());
  }
  {
    SafetensorsWriter writer;
    writer.SetMetadata("format", "np");
    writer.SetMetadata("step", "1200");
    writer.SetMetadata("quote\"d", "line\nbreak \xc3\xa9");
    ASSERT_TRUE(writer.Write(dir + "/set.safetensors").ok());
    auto file = SafetensorsFile::Open(dir + "/set.safetensors");
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ((*file)->metadata(),
              (std::map<std::string, std::string>{
                  {"format", "np"}, {"step", "1200"}, {"quote\"d", "line\nbreak \xc3\xa9"}}));
  }
}

TEST(SafetensorsWriterTest, MetadataThatIsNotUtf8FailsAtWrite) {
  const std::string dir = testing::MakeTempDir();
  SafetensorsWriter writer;
  writer.SetMetadata("k", "\xff\xfe");
  Status status = writer.Write(dir + "/bad.safetensors");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("metadata value of 'k' is not valid UTF-8"), std::string::npos)
      << status;
  EXPECT_FALSE(Exists(dir + "/bad.safetensors"));
  EXPECT_FALSE(Exists(dir + "/bad.safetensors.tmp"));
}

TEST(SafetensorsWriterTest, AddRejectsBadTensors) {
  SafetensorsWriter writer;
  const float data[6] = {};
  ASSERT_TRUE(writer.Add("ok", DType::kF32, {2, 3}, data, 24).ok());
  const struct {
    const char* label;
    std::string name;
    std::vector<int64_t> shape;
    const void* data;
    size_t nbytes;
    const char* message_part;
  } kCases[] = {
      {"nbytes too small", "x", {2, 3}, data, 20, "nbytes 20 != 6 elements * 4 bytes of F32"},
      {"nbytes too large", "x", {2}, data, 12, "nbytes 12 != 2 elements * 4 bytes of F32"},
      {"duplicate", "ok", {2, 3}, data, 24, "'ok': duplicate tensor name"},
      {"negative dim", "x", {2, -3}, data, 24, "shape[1] is negative (-3)"},
      {"overflow", "x", {1ll << 40, 1ll << 40}, data, 24, "overflows"},
      {"empty name", "", {2}, data, 8, "empty tensor name"},
      {"reserved name", "__metadata__", {2}, data, 8, "reserved"},
      {"not UTF-8", "bad\xff", {2}, data, 8, "not valid UTF-8"},
      {"null data", "x", {2}, nullptr, 8, "null data"},
  };
  for (const auto& c : kCases) {
    Status status = writer.Add(c.name, DType::kF32, c.shape, c.data, c.nbytes);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.label << ": " << status;
    EXPECT_NE(status.message().find(c.message_part), std::string::npos)
        << c.label << ": " << status;
  }
  EXPECT_EQ(writer.data_bytes(), 24u);  // Rejected tensors left no trace.
}

TEST(SafetensorsWriterTest, WriteIsAtomicAndLeavesNoTmp) {
  const std::string dir = testing::MakeTempDir();
  const std::string path = dir + "/w.safetensors";
  const int64_t v1 = 1, v2 = 2;
  SafetensorsWriter first;
  ASSERT_TRUE(first.Add("v", DType::kI64, {}, &v1, 8).ok());
  ASSERT_TRUE(first.Write(path).ok());
  EXPECT_FALSE(Exists(path + ".tmp"));

  // Replacing an existing file: the old one stays mapped and intact.
  auto old_file = SafetensorsFile::Open(path);
  ASSERT_TRUE(old_file.ok());
  SafetensorsWriter second;
  ASSERT_TRUE(second.Add("v", DType::kI64, {}, &v2, 8).ok());
  ASSERT_TRUE(second.Write(path).ok());
  EXPECT_FALSE(Exists(path + ".tmp"));
  int64_t got;
  std::memcpy(&got, (*old_file)->Get("v")->data, 8);
  EXPECT_EQ(got, 1);
  auto new_file = SafetensorsFile::Open(path);
  ASSERT_TRUE(new_file.ok());
  std::memcpy(&got, (*new_file)->Get("v")->data, 8);
  EXPECT_EQ(got, 2);

  // Same content twice gives the same bytes.
  const std::string before = testing::ReadFile(path);
  ASSERT_TRUE(second.Write(path).ok());
  EXPECT_EQ(testing::ReadFile(path), before);

  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"w.safetensors"}));
}

TEST(SafetensorsWriterTest, WriteIntoMissingDirectoryFailsWithThePath) {
  const std::string path = testing::MakeTempDir() + "/no/such/dir/w.safetensors";
  SafetensorsWriter writer;
  Status status = writer.Write(path);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status;
  EXPECT_NE(status.message().find(path + ".tmp"), std::string::npos) << status;
}

}  // namespace
}  // namespace cluedrop::model
