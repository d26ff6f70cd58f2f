// Scoring cost of the cluedrop scorer on one sequence of T random tokens:
// the plain forward of both reference models (SDPA, no head) vs scoring
// (the same forwards plus received attention: the tiles or the fused kernel,
// --attention_kernel auto|tiled|fused). Prints one JSON line;
// bench/score.py tabulates it next to the reference method.
//
//   score_bench --large DIR --small DIR [--tokens T] [--device cpu|cuda]
//               [--dtype float32|bfloat16] [--threads N] [--iters K] [--tile N (0: by device)]
//               [--attention_kernel auto|tiled|fused]
//               [--dump FILE]   (writes the contrast vector, one value per line)
#include <ATen/Parallel.h>
#if __has_include(<c10/cuda/CUDACachingAllocator.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define CLUEDROP_HAVE_C10_CUDA 1
#endif
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "bench/bench_flags.h"
#include "bench/proc_memory.h"
#include "workers/model/model_loader.h"
#include "workers/scorer/scorer.h"

using namespace cluedrop;
using cluedrop::bench::ProcStatusBytes;
using cluedrop::bench::ResetPeakRss;

namespace {}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> f = {{"large", ""},        {"small", ""},
                                          {"tokens", "512"},    {"device", "cpu"},
                                          {"dtype", "float32"}, {"threads", "0"},
                                          {"iters", "3"},       {"tile", "0"},
                                          {"dump", ""},         {"attention_kernel", "auto"}};
  if (!bench::ParseBenchFlags(argc, argv, f)) return 2;
  if (f["large"].empty() || f["small"].empty()) {
    std::cerr << "usage: score_bench --large DIR --small DIR [--tokens T] [--device D] ...\n";
    return 2;
  }
  if (std::stoi(f["threads"]) > 0) at::set_num_threads(std::stoi(f["threads"]));
  auto device = model::ParseTorchDevice(f["device"]);
  auto dtype = model::ParseTorchDtype(f["dtype"]);
  if (!device.ok() || !dtype.ok()) {
    std::cerr << (device.ok() ? dtype.status() : device.status()) << "\n";
    return 2;
  }
  model::LoadOptions load{{*device}, *dtype};
  auto large = model::LoadCausalLM(f["large"], load);
  auto small = model::LoadCausalLM(f["small"], load);
  if (!large.ok() || !small.ok()) {
    std::cerr << (large.ok() ? small.status() : large.status()) << "\n";
    return 1;
  }
  const int64_t tokens = std::stoll(f["tokens"]);
  torch::manual_seed(0);
  torch::Tensor ids = torch::randint(3, (*large)->config().vocab_size, {1, tokens}, torch::kLong);
  std::vector<std::vector<int32_t>> docs(1);
  for (int64_t i = 0; i < tokens; ++i)
    docs[0].push_back(static_cast<int32_t>(ids[0][i].item<int64_t>()));
  const bool cuda = device->is_cuda();
  auto sync = [&] {
    if (cuda) torch::cuda::synchronize();
  };
  scorer::ScoreOptions options;
  options.tile = std::stoll(f["tile"]);
  if (auto kernel = scorer::ParseAttentionKernel(f["attention_kernel"])) {
    options.kernel = *kernel;
  } else {
    std::cerr << scorer::AttentionKernelFlagError(f["attention_kernel"]) << "\n";
    return 2;
  }
  options.batch_tokens = std::max<int64_t>(tokens, 8192);
  scorer::Scorer scorer(options);
  const int iters = std::stoi(f["iters"]);

  auto time_it = [&](auto&& fn) {
    fn();  // warm-up
    sync();
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) fn();
    sync();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / iters;
  };
  model::ForwardOptions plain;
  plain.skip_lm_head = true;
  torch::Tensor dev_ids = ids.to(*device);
  double forward_s = time_it([&] {
    torch::InferenceMode guard;
    (*large)->Forward(dev_ids, plain);
    (*small)->Forward(dev_ids, plain);
  });
  const int gpu = device->index() < 0 ? 0 : device->index();
  double gpu_before = 0;
#ifdef CLUEDROP_HAVE_C10_CUDA
  if (cuda) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(gpu);
    gpu_before = static_cast<double>(
        c10::cuda::CUDACachingAllocator::getDeviceStats(gpu).allocated_bytes[0].current);
  }
#endif
  const double rss_before = ProcStatusBytes("VmRSS");
  ResetPeakRss();
  StatusOr<std::vector<scorer::DocumentScores>> scores = InternalError("not run");
  double score_s = time_it([&] { scores = scorer.Score(**large, **small, docs); });
  if (!scores.ok()) {
    std::cerr << scores.status() << "\n";
    return 1;
  }
  // Memory the scoring needs beyond the loaded models.
  double peak = ProcStatusBytes("VmHWM") - rss_before;
#ifdef CLUEDROP_HAVE_C10_CUDA
  if (cuda) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(gpu);
    peak = static_cast<double>(stats.allocated_bytes[0].peak) - gpu_before;
  }
#endif
  if (!f["dump"].empty()) {
    std::ofstream out(f["dump"]);
    for (float v : (*scores)[0].contrast) out << v << "\n";
  }
  std::printf(
      "{\"impl\": \"cluedrop\", \"kernel\": \"%s\", \"tokens\": %lld, \"device\": \"%s\", "
      "\"dtype\": \"%s\", \"threads\": %d, "
      "\"forward_ms\": %.2f, \"score_ms\": %.2f, \"score_tokens_per_s\": %.1f, \"peak_bytes\": "
      "%.0f, "
      "\"peak_kind\": \"%s\"}\n",
      f["attention_kernel"].c_str(), static_cast<long long>(tokens), f["device"].c_str(),
      f["dtype"].c_str(), at::get_num_threads(), 1000 * forward_s, 1000 * score_s, tokens / score_s,
      peak, cuda ? "cuda_peak_allocated" : "peak_rss_above_loaded");
  return 0;
}
