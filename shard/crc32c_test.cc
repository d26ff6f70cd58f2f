#include "shard/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace cluedrop::shard {
namespace {

// Check value of the CRC catalogue (CRC-32/ISCSI).
TEST(Crc32cTest, CheckValue) { EXPECT_EQ(Crc32c("123456789"), 0xE3069283u); }

// RFC 3720, appendix B.4 (the RFC prints each CRC least significant byte
// first: "aa 36 91 8a" is 0x8A9136AA).
TEST(Crc32cTest, Rfc3720Vectors) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending += static_cast<char>(i);
    descending += static_cast<char>(31 - i);
  }
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
  const unsigned char kReadPdu[48] = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                      0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(Crc32c(std::string(reinterpret_cast<const char*>(kReadPdu), 48)), 0xD9963A56u);
}

// Every split point and length exercises both the 8-byte and the byte loop.
TEST(Crc32cTest, ExtendEqualsWholeAtEverySplit) {
  std::string data;
  for (int i = 0; i < 100; ++i) data += static_cast<char>(i * 37 + 11);
  const uint32_t whole = Crc32c(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    absl::string_view v(data);
    EXPECT_EQ(Crc32c(v.substr(split), Crc32c(v.substr(0, split))), whole) << split;
  }
  data[50] ^= 1;
  EXPECT_NE(Crc32c(data), whole);
}

}  // namespace
}  // namespace cluedrop::shard
