// Reads files that the Python `safetensors` package and huggingface_hub wrote
// (tests/oracle/safetensors_oracle.py write, run by the ctest fixture
// oracle.safetensors_fixtures) and checks every tensor against the manifest
// Python wrote beside them: dtype, shape, raw bytes and decoded values.
//
// CLUEDROP_ORACLE_DIR must name the fixture's parent directory; a missing
// directory or manifest fails the test (it must never pass vacuously).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "workers/model/checkpoint/checkpoint_reader.h"
#include "workers/model/checkpoint/safetensors_file.h"

namespace cluedrop::model {
namespace {

using Json = nlohmann::json;

std::string FixtureDir() {
  const char* root = std::getenv("CLUEDROP_ORACLE_DIR");
  if (root == nullptr || *root == '\0') return "";
  return std::string(root) + "/safetensors";
}

// Loads the manifest, or fails the test and returns null.
Json LoadManifest() {
  const std::string dir = FixtureDir();
  if (dir.empty()) {
    ADD_FAILURE() << "CLUEDROP_ORACLE_DIR is not set; run through ctest (fixture "
                     "oracle.safetensors_fixtures)";
    return nullptr;
  }
  std::ifstream in(dir + "/manifest.json");
  if (!in) {
    ADD_FAILURE() << dir << "/manifest.json is missing: the oracle fixture did not run";
    return nullptr;
  }
  Json manifest = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded()) {
    ADD_FAILURE() << dir << "/manifest.json is not JSON";
    return nullptr;
  }
  return manifest;
}

std::string Hex(const uint8_t* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

template <typename T>
T Load(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

// IEEE half -> double, written out here rather than shared with the code
// under test.
double HalfToDouble(uint16_t h) {
  const int sign = h >> 15;
  const int exponent = (h >> 10) & 0x1F;
  const int mantissa = h & 0x3FF;
  double value;
  if (exponent == 0) {
    value = std::ldexp(mantissa, -24);
  } else if (exponent == 31) {
    value = mantissa ? NAN : INFINITY;
  } else {
    value = std::ldexp(mantissa + 1024, exponent - 25);
  }
  return sign ? -value : value;
}

// Element i of the view as JSON (double, integer or bool).
Json Element(const TensorView& view, size_t i) {
  const uint8_t* p = view.data + i * DTypeSize(view.info->dtype);
  switch (view.info->dtype) {
    case DType::kF64:
      return Load<double>(p);
    case DType::kF32:
      return static_cast<double>(Load<float>(p));
    case DType::kF16:
      return HalfToDouble(Load<uint16_t>(p));
    case DType::kBF16: {
      const uint32_t bits = static_cast<uint32_t>(Load<uint16_t>(p)) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return static_cast<double>(f);
    }
    case DType::kI64:
      return Load<int64_t>(p);
    case DType::kI32:
      return Load<int32_t>(p);
    case DType::kI16:
      return Load<int16_t>(p);
    case DType::kI8:
      return Load<int8_t>(p);
    case DType::kU8:
      return Load<uint8_t>(p);
    case DType::kBool:
      EXPECT_LE(*p, 1) << "bool byte";
      return *p != 0;
  }
  return nullptr;
}

void ExpectTensorMatches(const TensorView& view, const Json& spec, const std::string& where) {
  SCOPED_TRACE(where + ": " + spec["name"].get<std::string>());
  ASSERT_NE(view.info, nullptr);
  EXPECT_EQ(DTypeName(view.info->dtype), spec["dtype"].get<std::string>());
  EXPECT_EQ(view.info->shape, spec["shape"].get<std::vector<int64_t>>());
  EXPECT_EQ(Hex(view.data, view.nbytes), spec["hex"].get<std::string>());
  const Json& values = spec["values"];
  ASSERT_EQ(static_cast<size_t>(view.info->numel()), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const Json got = Element(view, i);
    if (got.is_number_float()) {
      const double g = got.get<double>(), w = values[i].get<double>();
      EXPECT_EQ(g, w) << "element " << i;
      EXPECT_EQ(std::signbit(g), std::signbit(w)) << "element " << i;
    } else if (got.is_boolean()) {
      EXPECT_EQ(got.get<bool>(), values[i].get<bool>()) << "element " << i;
    } else {
      EXPECT_EQ(got.get<int64_t>(), values[i].get<int64_t>()) << "element " << i;
    }
  }
}

TEST(SafetensorsOracleTest, ReadsFilesWrittenByPythonSafetensors) {
  const Json manifest = LoadManifest();
  ASSERT_FALSE(manifest.is_null());
  ASSERT_GE(manifest["files"].size(), 3u);
  for (const Json& entry : manifest["files"]) {
    const std::string path = FixtureDir() + "/" + entry["path"].get<std::string>();
    auto file = SafetensorsFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ((*file)->metadata(), (entry["metadata"].get<std::map<std::string, std::string>>()))
        << path;
    std::vector<std::string> order;
    for (const TensorInfo& info : (*file)->tensors()) order.push_back(info.name);
    EXPECT_EQ(order, entry["header_order"].get<std::vector<std::string>>()) << path;
    EXPECT_EQ(order.size(), entry["tensors"].size()) << path;
    for (const Json& spec : entry["tensors"]) {
      auto view = (*file)->Get(spec["name"].get<std::string>());
      ASSERT_TRUE(view.ok()) << view.status();
      ExpectTensorMatches(*view, spec, path);
    }
  }
}

TEST(SafetensorsOracleTest, ReadsACheckpointShardedByHuggingFaceHub) {
  const Json manifest = LoadManifest();
  ASSERT_FALSE(manifest.is_null());
  ASSERT_GE(manifest["checkpoints"].size(), 1u);
  for (const Json& entry : manifest["checkpoints"]) {
    const std::string dir = FixtureDir() + "/" + entry["path"].get<std::string>();
    auto reader = CheckpointReader::Open(dir);
    ASSERT_TRUE(reader.ok()) << reader.status();
    std::vector<std::string> names;
    for (const Json& spec : entry["tensors"]) names.push_back(spec["name"].get<std::string>());
    std::sort(names.begin(), names.end());
    EXPECT_EQ((*reader)->TensorNames(), names);
    EXPECT_GE((*reader)->files().size(), 2u);
    for (const Json& spec : entry["tensors"]) {
      const std::string name = spec["name"].get<std::string>();
      EXPECT_EQ((*reader)->FileOf(name), dir + "/" + spec["file"].get<std::string>());
      auto view = (*reader)->Get(name);
      ASSERT_TRUE(view.ok()) << view.status();
      ExpectTensorMatches(*view, spec, dir);
    }
  }
}

}  // namespace
}  // namespace cluedrop::model
