#include "coordinator/fingerprint.h"

#include <gtest/gtest.h>

namespace cluedrop::coordinator {
namespace {

// Test vectors published with the reference implementation (test_fnv.c,
// FNV-1a 64-bit).
TEST(FingerprintTest, PublishedFnv1a64Vectors) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(FingerprintTest, ContinuesOverSplitInput) {
  EXPECT_EQ(Fnv1a64("bar", Fnv1a64("foo")), Fnv1a64("foobar"));
  EXPECT_NE(Fnv1a64("foobaz"), Fnv1a64("foobar"));
  // Bytes above 0x7f hash as unsigned values.
  EXPECT_EQ(Fnv1a64("\xff"), (kFnv1a64Offset ^ 0xffULL) * kFnv1a64Prime);
}

TEST(FingerprintTest, Hex64) {
  EXPECT_EQ(Hex64(0x85944171f73967e8ULL), "85944171f73967e8");
  EXPECT_EQ(Hex64(0), "0000000000000000");
  EXPECT_EQ(Hex64(0xf), "000000000000000f");
}

}  // namespace
}  // namespace cluedrop::coordinator
