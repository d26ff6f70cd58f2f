// Exponential backoff with jitter for clients that retry a remote call: each
// wait is drawn uniformly from [w/2, w] milliseconds, w starting at `initial`
// and doubling up to `max` with every wait; Reset() starts over (after a
// success). The scorer's lease loop and the trainer's shard stream use it.
//
// Example:
//   Backoff backoff(/*initial_ms=*/200, /*max_ms=*/5000);
//   while (!(status = Call()).ok() && IsTransient(status)) {
//     std::this_thread::sleep_for(std::chrono::milliseconds(backoff.NextMs()));
//   }
//
// Not thread-safe: one per retry loop. Header-only, standard library only.
#ifndef CLUEDROP_BASE_BACKOFF_H_
#define CLUEDROP_BASE_BACKOFF_H_

#include <algorithm>
#include <cstdint>
#include <random>

namespace cluedrop {

class Backoff {
 public:
  // `initial_ms` is raised to 1 and `max_ms` to `initial_ms` when smaller.
  // `seed` fixes the jitter (tests); by default it is random per object, so
  // that clients restarted together do not retry in lockstep.
  Backoff(int64_t initial_ms, int64_t max_ms, uint64_t seed = std::random_device{}())
      : initial_ms_(std::max<int64_t>(1, initial_ms)),
        max_ms_(std::max(initial_ms_, max_ms)),
        next_ms_(initial_ms_),
        random_(seed) {}

  // The next wait in milliseconds, in [w/2, w] for the current w; then w
  // doubles (capped at max).
  int64_t NextMs() {
    const int64_t w = next_ms_;
    next_ms_ = std::min(max_ms_, 2 * next_ms_);
    return std::uniform_int_distribution<int64_t>(w / 2, w)(random_);
  }
  // The next NextMs() draws from [initial/2, initial] again.
  void Reset() { next_ms_ = initial_ms_; }

 private:
  int64_t initial_ms_, max_ms_, next_ms_;
  std::mt19937_64 random_;
};

}  // namespace cluedrop

#endif  // CLUEDROP_BASE_BACKOFF_H_
