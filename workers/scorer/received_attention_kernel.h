// The fused received-attention kernel's algorithm, written once for the GPU
// (received_attention_cuda.cu) and for a host emulation that runs the very
// same block code on the CPU (received_attention_host.cc), so the kernel's
// indexing, masks and reductions are tested on every build. Torch-free; no
// CUDA header is needed to compile it for the host.
//
// For one layer, with s(i, j) = scale * q_i . k_j (soft-capped: softcap *
// tanh(s / softcap)) over the keys query i may see (causal by slot, real
// keys, sliding window), it adds
//
//   column_sum[b, j] += column_weight * sum_h sum_{i >= j real} exp(s - lse_i)
//
// where lse_i is the row log-sum-exp. Two passes, neither stores a T x T
// value anywhere (docs/design.md section 1.1):
//   1. RowLseBlock: one block per (64 query rows, query head, batch row)
//      walks the key tiles the rows can see, keeping a running row max and
//      sum (online softmax), and writes lse [B, H, T] (float32).
//   2. ColumnSumBlock: one block per (64 key columns, query head, batch row)
//      walks the query tiles that can see those keys, recomputes the tile's
//      scores, sums exp(s - lse_i) down each column in float32 and adds the
//      block's column totals to column_sum with one atomic add per column.
// Grouped-query attention indexes key head h / (H / KV); keys are never
// repeated. Scores of a tile are q.k over head-dim chunks staged in shared
// memory; the product is the executor's (tensor-core MMA for 16-bit inputs
// on the GPU, float32 FMA otherwise), everything after it is float32.
//
// A block is a sequence of phases; every thread runs a phase, then all
// threads meet at a barrier. Executors supply Phase (run f(tid) for every
// thread, then synchronise) and ScoreTile (S (+)= Q K^T of the staged chunk).
#ifndef CLUEDROP_WORKERS_SCORER_RECEIVED_ATTENTION_KERNEL_H_
#define CLUEDROP_WORKERS_SCORER_RECEIVED_ATTENTION_KERNEL_H_

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define CLUEDROP_HD __host__ __device__
#else
#define CLUEDROP_HD
#endif

namespace cluedrop::scorer::kernel {

constexpr int kThreads = 128;            // per block (4 warps)
constexpr int kTileRows = 64;            // query rows per tile
constexpr int kTileCols = 64;            // key columns per tile
constexpr int kScoreLd = kTileCols + 4;  // padded row of the score tile (floats)

// One layer's inputs and outputs, all device (or, emulated, host) pointers.
struct Problem {
  int batch = 0, heads = 0, kv_heads = 0, tokens = 0, head_dim = 0;
  // Element strides of query [B, H, T, D] and key [B, KV, T, D]; D's is 1.
  int64_t q_stride_b = 0, q_stride_h = 0, q_stride_t = 0;
  int64_t k_stride_b = 0, k_stride_h = 0, k_stride_t = 0;
  const void* query = nullptr;
  const void* key = nullptr;
  const uint8_t* key_valid = nullptr;  // [B, T] contiguous, nonzero = real; null = all real
  float scale = 1.0f;
  float softcap = 0.0f;  // <= 0: none
  int64_t window = 0;    // keys with q - k >= window are hidden; <= 0: none
  bool include_self = true;
  float column_weight = 1.0f;   // multiplies every head's column sums (1/H)
  float* row_lse = nullptr;     // [B, H, T] float32 scratch written by pass 1
  float* column_sum = nullptr;  // [B, T] float32, accumulated into by pass 2
};

// Head-dim elements staged per step and the padded shared-memory row: 16-bit
// inputs take 64 (a row of 144 bytes keeps every 16 x 16 MMA fragment
// 32-byte aligned), float32 takes 32 so a block stays under 48 KiB, in rows
// of 33 so the scalar product's column reads hit 32 different banks.
template <typename T>
struct Staging {
  static constexpr int kChunk = sizeof(T) == 2 ? 64 : 32;
  static constexpr int kLd = kChunk + (sizeof(T) == 2 ? 8 : 1);
};

template <typename T>
struct SharedTiles {
  alignas(128) T q[kTileRows][Staging<T>::kLd];
  alignas(128) T k[kTileCols][Staging<T>::kLd];
  alignas(128) float s[kTileRows][kScoreLd];             // scores q.k (unscaled) of the tile
  float part_max[kTileRows][2], part_sum[kTileRows][2];  // pass 1: per half row
  float row_max[kTileRows], row_sum[kTileRows];          // pass 1: running state
  float lse[kTileRows];                                  // pass 2: of the query tile
  float col_acc[2][kTileCols];                           // pass 2: per half column
  uint8_t q_real[kTileRows], k_real[kTileCols];
};

CLUEDROP_HD inline float Logit(const Problem& p, float dot) {
  float x = dot * p.scale;
  return p.softcap > 0.0f ? p.softcap * tanhf(x / p.softcap) : x;
}

// Whether query slot q may attend to key slot k (both real, in range).
CLUEDROP_HD inline bool Visible(const Problem& p, int q, int k) {
  return k <= q && (p.window <= 0 || q - k < p.window);
}

CLUEDROP_HD inline bool RealToken(const Problem& p, int b, int t) {
  return t < p.tokens && (p.key_valid == nullptr || p.key_valid[int64_t(b) * p.tokens + t] != 0);
}

// Stages head-dim chunk [d0, d0 + kChunk) of `rows` consecutive slots from
// `first` of one head into dst (zeros past the sequence or the head dim).
template <typename T>
CLUEDROP_HD inline void StageRows(const T* head, int64_t stride_t, int first, int tokens,
                                  int head_dim, int d0, T (*dst)[Staging<T>::kLd], int tid) {
  constexpr int kChunk = Staging<T>::kChunk;
  for (int e = tid; e < kTileRows * kChunk; e += kThreads) {
    const int r = e / kChunk, c = e % kChunk, t = first + r, d = d0 + c;
    dst[r][c] = (t < tokens && d < head_dim) ? head[int64_t(t) * stride_t + d] : T(0.0f);
  }
}

template <typename T>
CLUEDROP_HD inline const T* QueryHead(const Problem& p, int b, int h) {
  return static_cast<const T*>(p.query) + b * p.q_stride_b + h * p.q_stride_h;
}
template <typename T>
CLUEDROP_HD inline const T* KeyHead(const Problem& p, int b, int h) {
  const int kv = h / (p.heads / p.kv_heads);
  return static_cast<const T*>(p.key) + b * p.k_stride_b + kv * p.k_stride_h;
}

// The float32 product S (+)= Q K^T of the staged chunk, one score per
// thread-step. The host executor's product and the GPU's for float32 inputs.
template <typename T, typename ToFloat>
CLUEDROP_HD inline void ScoreTileScalar(SharedTiles<T>& s, bool first, int tid, ToFloat to_float) {
  for (int e = tid; e < kTileRows * kTileCols; e += kThreads) {
    const int r = e / kTileCols, c = e % kTileCols;
    float acc = 0.0f;
    for (int x = 0; x < Staging<T>::kChunk; ++x) acc += to_float(s.q[r][x]) * to_float(s.k[c][x]);
    s.s[r][c] = first ? acc : s.s[r][c] + acc;
  }
}

// Scores q.k (unscaled) of query slots [r0, r0 + 64) against key slots
// [c0, c0 + 64) into s.s, staging the head dim chunk by chunk. With one
// chunk, an operand whose stage_* is false stays from the block's previous
// tile; with several, both are staged every chunk. on_first_chunk(tid) runs
// in the first staging phase (the tile's flags).
#if defined(__CUDACC__)
#pragma nv_exec_check_disable
#endif
template <typename T, typename Exec, typename F>
CLUEDROP_HD void ScoreQueryKeyTile(const Problem& p, SharedTiles<T>& s, Exec& ex, const T* qh,
                                   int r0, bool stage_q, const T* kh, int c0, bool stage_k,
                                   F on_first_chunk) {
  constexpr int kChunk = Staging<T>::kChunk;
  const bool one_chunk = p.head_dim <= kChunk;
  for (int d0 = 0; d0 < p.head_dim; d0 += kChunk) {
    ex.Phase([&](int tid) {
      if (stage_q || !one_chunk) {
        StageRows<T>(qh, p.q_stride_t, r0, p.tokens, p.head_dim, d0, s.q, tid);
      }
      if (stage_k || !one_chunk) {
        StageRows<T>(kh, p.k_stride_t, c0, p.tokens, p.head_dim, d0, s.k, tid);
      }
      if (d0 == 0) on_first_chunk(tid);
    });
    ex.ScoreTile(s, d0 == 0);
  }
}

// Pass 1. Block (query tile `qt`, head h, batch row b).
#if defined(__CUDACC__)
#pragma nv_exec_check_disable
#endif
template <typename T, typename Exec>
CLUEDROP_HD void RowLseBlock(const Problem& p, SharedTiles<T>& s, int qt, int h, int b, Exec& ex) {
  const int r0 = qt * kTileRows;
  const int r_last = (r0 + kTileRows < p.tokens ? r0 + kTileRows : p.tokens) - 1;
  const int k_first = p.window > 0 && r0 - p.window + 1 > 0 ? int(r0 - p.window + 1) : 0;
  const T* qh = QueryHead<T>(p, b, h);
  const T* kh = KeyHead<T>(p, b, h);
  ex.Phase([&](int tid) {
    if (tid < kTileRows) {
      s.row_max[tid] = -INFINITY;
      s.row_sum[tid] = 0.0f;
    }
  });
  for (int kt = k_first / kTileCols; kt <= r_last / kTileCols; ++kt) {
    const int c0 = kt * kTileCols;
    ScoreQueryKeyTile<T>(p, s, ex, qh, r0, kt == k_first / kTileCols, kh, c0, true, [&](int tid) {
      if (tid < kTileCols) s.k_real[tid] = RealToken(p, b, c0 + tid);
    });
    // Two threads per row, 32 columns each: the half row's max and sum. The
    // first loop turns its scores into logits in place (-inf where hidden).
    ex.Phase([&](int tid) {
      const int r = tid >> 1, half = tid & 1, q = r0 + r;
      float m = -INFINITY, l = 0.0f;
      if (q < p.tokens) {
        for (int c = half * 32; c < half * 32 + 32; ++c) {
          const float x = s.k_real[c] && Visible(p, q, c0 + c) ? Logit(p, s.s[r][c]) : -INFINITY;
          s.s[r][c] = x;
          m = fmaxf(m, x);
        }
        if (m > -INFINITY) {
          for (int c = half * 32; c < half * 32 + 32; ++c) {
            if (s.s[r][c] > -INFINITY) l += expf(s.s[r][c] - m);
          }
        }
      }
      s.part_max[r][half] = m;
      s.part_sum[r][half] = l;
    });
    ex.Phase([&](int tid) {
      if (tid >= kTileRows) return;
      const float m_old = s.row_max[tid];
      const float m = fmaxf(m_old, fmaxf(s.part_max[tid][0], s.part_max[tid][1]));
      if (m == -INFINITY) return;
      float l = m_old == -INFINITY ? 0.0f : s.row_sum[tid] * expf(m_old - m);
      for (int half = 0; half < 2; ++half) {
        if (s.part_max[tid][half] > -INFINITY) {
          l += s.part_sum[tid][half] * expf(s.part_max[tid][half] - m);
        }
      }
      s.row_max[tid] = m;
      s.row_sum[tid] = l;
    });
  }
  ex.Phase([&](int tid) {
    const int q = r0 + tid;
    if (tid >= kTileRows || q >= p.tokens) return;
    // A row that sees no key (a padded slot's) gets +inf: exp(s - lse) = 0.
    p.row_lse[(int64_t(b) * p.heads + h) * p.tokens + q] =
        s.row_sum[tid] > 0.0f ? s.row_max[tid] + logf(s.row_sum[tid]) : INFINITY;
  });
}

// Pass 2. Block (key tile `kt`, head h, batch row b).
#if defined(__CUDACC__)
#pragma nv_exec_check_disable
#endif
template <typename T, typename Exec, typename AtomicAdd>
CLUEDROP_HD void ColumnSumBlock(const Problem& p, SharedTiles<T>& s, int kt, int h, int b, Exec& ex,
                                AtomicAdd atomic_add) {
  const int c0 = kt * kTileCols;
  const int c_last = (c0 + kTileCols < p.tokens ? c0 + kTileCols : p.tokens) - 1;
  const int q_last = p.window > 0 && c_last + p.window - 1 < p.tokens - 1
                         ? int(c_last + p.window - 1)
                         : p.tokens - 1;
  const T* qh = QueryHead<T>(p, b, h);
  const T* kh = KeyHead<T>(p, b, h);
  const float* lse = p.row_lse + (int64_t(b) * p.heads + h) * p.tokens;
  ex.Phase([&](int tid) {
    s.col_acc[tid >> 6][tid & 63] = 0.0f;
    if (tid < kTileCols) s.k_real[tid] = RealToken(p, b, c0 + tid);
  });
  for (int qt = c0 / kTileRows; qt <= q_last / kTileRows; ++qt) {
    const int r0 = qt * kTileRows;
    ScoreQueryKeyTile<T>(p, s, ex, qh, r0, true, kh, c0, qt == c0 / kTileRows, [&](int tid) {
      if (tid < kTileRows) {
        const bool real = RealToken(p, b, r0 + tid);
        s.q_real[tid] = real;
        s.lse[tid] = real ? lse[r0 + tid] : INFINITY;
      }
    });
    // Two threads per column, 32 query rows each; consecutive threads read
    // consecutive columns of a score row.
    ex.Phase([&](int tid) {
      const int c = tid & 63, half = tid >> 6, k = c0 + c;
      if (!s.k_real[c]) return;
      float acc = 0.0f;
      for (int r = half * 32; r < half * 32 + 32; ++r) {
        const int q = r0 + r;
        if (!s.q_real[r] || !Visible(p, q, k) || (!p.include_self && q == k)) continue;
        acc += expf(Logit(p, s.s[r][c]) - s.lse[r]);
      }
      s.col_acc[half][c] += acc;
    });
  }
  ex.Phase([&](int tid) {
    if (tid >= kTileCols || !s.k_real[tid]) return;
    atomic_add(p.column_sum + int64_t(b) * p.tokens + c0 + tid,
               (s.col_acc[0][tid] + s.col_acc[1][tid]) * p.column_weight);
  });
}

// Tiles along the sequence (the grid's x for both passes).
CLUEDROP_HD inline int Tiles(int tokens) { return (tokens + kTileRows - 1) / kTileRows; }

}  // namespace cluedrop::scorer::kernel

#endif  // CLUEDROP_WORKERS_SCORER_RECEIVED_ATTENTION_KERNEL_H_
