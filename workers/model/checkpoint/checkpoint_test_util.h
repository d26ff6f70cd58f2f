// Helpers shared by the checkpoint tests: build safetensors bytes by hand
// (to make corrupt files) and manage scratch files. Test-only.
#ifndef CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_TEST_UTIL_H_
#define CLUEDROP_WORKERS_MODEL_CHECKPOINT_CHECKPOINT_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "base/scoped_temp_dir.h"

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

// A fresh empty directory under $TMPDIR, removed when the test binary exits.
inline std::string MakeTempDir() {
  static std::deque<ScopedTempDir> dirs;
  return dirs.emplace_back("checkpoint_test").path();
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
