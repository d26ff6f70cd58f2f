// The fused received-attention kernel on the GPU: the block code of
// received_attention_kernel.h with a CUDA executor (phases end in
// __syncthreads; 16-bit score tiles on tensor cores through WMMA, float32
// accumulation; float32 inputs use FMA). Shared memory per block is about
// 38 KiB, so no opt-in is needed; no T x T buffer exists anywhere.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include "workers/scorer/received_attention_launch.h"

namespace cluedrop::scorer::kernel {
namespace {

// Float32 inputs only: 16-bit tiles take the tensor-core path.
struct Identity {
  __device__ float operator()(float x) const { return x; }
};

struct DeviceAtomicAdd {
  __device__ void operator()(float* sum, float v) const { atomicAdd(sum, v); }
};

// S (+)= Q K^T of the staged 64 x 64 tile: warp w owns score rows
// [16w, 16w + 16), four 16 x 16 accumulators across the columns.
template <typename T>
__device__ void WmmaScoreTile(SharedTiles<T>& s, bool first) {
  using namespace nvcuda;
  static_assert(kTileRows == 16 * (kThreads / 32), "one 16-row strip per warp");
  constexpr int kChunk = Staging<T>::kChunk, kLd = Staging<T>::kLd;
  const int row = 16 * (threadIdx.x / 32);
  for (int col = 0; col < kTileCols; col += 16) {
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    float* out = &s.s[row][col];
    if (first) {
      wmma::fill_fragment(acc, 0.0f);
    } else {
      wmma::load_matrix_sync(acc, out, kScoreLd, wmma::mem_row_major);
    }
    for (int x = 0; x < kChunk; x += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> b;  // K^T
      wmma::load_matrix_sync(a, &s.q[row][x], kLd);
      wmma::load_matrix_sync(b, &s.k[col][x], kLd);
      wmma::mma_sync(acc, a, b, acc);
    }
    wmma::store_matrix_sync(out, acc, kScoreLd, wmma::mem_row_major);
  }
}

struct DeviceExecutor {
  template <typename F>
  __device__ void Phase(F&& f) {
    f(static_cast<int>(threadIdx.x));
    __syncthreads();
  }
  template <typename T>
  __device__ void ScoreTile(SharedTiles<T>& s, bool first) {
    if constexpr (sizeof(T) == 2) {
      WmmaScoreTile(s, first);
    } else {
      ScoreTileScalar(s, first, static_cast<int>(threadIdx.x), Identity());
    }
    __syncthreads();
  }
};

template <typename T>
__global__ void __launch_bounds__(kThreads) RowLseKernel(Problem p) {
  __shared__ SharedTiles<T> tiles;
  DeviceExecutor ex;
  RowLseBlock<T>(p, tiles, blockIdx.x, blockIdx.y, blockIdx.z, ex);
}

template <typename T>
__global__ void __launch_bounds__(kThreads) ColumnSumKernel(Problem p) {
  __shared__ SharedTiles<T> tiles;
  DeviceExecutor ex;
  ColumnSumBlock<T>(p, tiles, blockIdx.x, blockIdx.y, blockIdx.z, ex, DeviceAtomicAdd());
}

template <typename T>
std::string Launch(const Problem& p, cudaStream_t stream) {
  const dim3 grid(Tiles(p.tokens), p.heads, p.batch);
  cudaGetLastError();  // clear an earlier, unrelated error so it is not blamed on this launch
  RowLseKernel<T><<<grid, kThreads, 0, stream>>>(p);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) {
    return std::string("row log-sum-exp pass: ") + cudaGetErrorString(e);
  }
  ColumnSumKernel<T><<<grid, kThreads, 0, stream>>>(p);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) {
    return std::string("column-sum pass: ") + cudaGetErrorString(e);
  }
  return "";
}

}  // namespace

std::string LaunchReceivedAttention(const Problem& p, ElementType type, void* stream) {
  if (p.heads > 65535 || p.batch > 65535) return "more than 65535 heads or batch rows";
  auto s = static_cast<cudaStream_t>(stream);
  switch (type) {
    case ElementType::kFloat32:
      return Launch<float>(p, s);
    case ElementType::kFloat16:
      return Launch<__half>(p, s);
    case ElementType::kBFloat16:
      return Launch<__nv_bfloat16>(p, s);
  }
  return "unknown element type";
}

}  // namespace cluedrop::scorer::kernel
