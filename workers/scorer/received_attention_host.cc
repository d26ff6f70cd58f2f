// Host emulation of the fused received-attention kernel: every block of both
// passes in turn, every phase as a loop over the block's threads. Phases
// have no intra-phase data races (each shared value is written by one thread
// and read only after the phase's barrier), so running the threads one
// after another computes what the GPU computes, up to the float32 product
// (tensor cores there for 16-bit inputs) and the order of the atomic adds.
#include <memory>

#include "workers/scorer/received_attention_launch.h"

namespace cluedrop::scorer::kernel {
namespace {

struct HostExecutor {
  template <typename F>
  void Phase(F&& f) {
    for (int tid = 0; tid < kThreads; ++tid) f(tid);
  }
  void ScoreTile(SharedTiles<float>& s, bool first) {
    Phase([&](int tid) { ScoreTileScalar(s, first, tid, [](float x) { return x; }); });
  }
};

}  // namespace

void EmulateReceivedAttention(const Problem& p) {
  auto tiles = std::make_unique<SharedTiles<float>>();
  HostExecutor ex;
  for (int b = 0; b < p.batch; ++b) {
    for (int h = 0; h < p.heads; ++h) {
      for (int t = 0; t < Tiles(p.tokens); ++t) RowLseBlock<float>(p, *tiles, t, h, b, ex);
    }
  }
  for (int b = 0; b < p.batch; ++b) {
    for (int h = 0; h < p.heads; ++h) {
      for (int t = 0; t < Tiles(p.tokens); ++t) {
        ColumnSumBlock<float>(p, *tiles, t, h, b, ex, [](float* sum, float v) { *sum += v; });
      }
    }
  }
}

}  // namespace cluedrop::scorer::kernel
