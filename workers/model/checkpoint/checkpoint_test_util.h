// Helpers shared by the checkpoint tests: build safetensors bytes by hand
// (to make corrupt files) and manage scratch files. Test-only.
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_TEST_UTIL_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace cluedrop::model::testing {

// The 8-byte little-endian length prefix.
inline std::string LittleEndian64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

// A safetensors file: length prefix, `header` verbatim, then `data`.
inline std::string SafetensorsBytes(std::string_view header, std::string_view data = "") {
  return LittleEndian64(header.size()) + std::string(header) + std::string(data);
}

// A fresh empty directory under the test's temporary directory.
inline std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "checkpoint_test_XXXXXX";
  char* dir = ::mkdtemp(pattern.data());
  EXPECT_NE(dir, nullptr) << "mkdtemp " << pattern;
  return pattern;
}

inline void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace cluedrop::model::testing

#endif  // CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_TEST_UTIL_H_
