#include "base/backoff.h"

#include <gtest/gtest.h>

namespace cluedrop {
namespace {

TEST(BackoffTest, WaitsDoubleUpToTheCapWithJitterInTheUpperHalf) {
  Backoff backoff(100, 1000, /*seed=*/7);
  const int64_t windows[] = {100, 200, 400, 800, 1000, 1000};
  for (int64_t w : windows) {
    const int64_t wait = backoff.NextMs();
    EXPECT_GE(wait, w / 2) << "window " << w;
    EXPECT_LE(wait, w) << "window " << w;
  }
}

TEST(BackoffTest, ResetStartsOverAndJitterVaries) {
  Backoff backoff(1000, 64000, /*seed=*/1);
  for (int i = 0; i < 5; ++i) backoff.NextMs();
  backoff.Reset();
  const int64_t first = backoff.NextMs();
  EXPECT_GE(first, 500);
  EXPECT_LE(first, 1000);
  // Not a constant: 50 draws of the first window are not all equal.
  bool varied = false;
  for (int i = 0; i < 50 && !varied; ++i) {
    backoff.Reset();
    varied = backoff.NextMs() != first;
  }
  EXPECT_TRUE(varied);
}

TEST(BackoffTest, BadBoundsAreRaised) {
  Backoff zero(0, 0, 3);
  EXPECT_LE(zero.NextMs(), 1);
  Backoff inverted(50, 10, 3);
  EXPECT_LE(inverted.NextMs(), 50);
  EXPECT_LE(inverted.NextMs(), 50);  // the cap is the initial window
}

}  // namespace
}  // namespace cluedrop
