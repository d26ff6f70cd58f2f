// Forward-pass throughput of the cluedrop model runtime on one checkpoint.
// Prints one JSON line (the driver bench/model_forward.py tabulates it next
// to transformers on the same checkpoint, threads and inputs).
//
//   model_forward_bench --model DIR [--device cpu|cuda] [--dtype float32|bfloat16]
//                       [--threads N] [--batch B] [--tokens T] [--iters K] [--warmup W]
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "workers/model/model_loader.h"

using namespace cluedrop::model;

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags = {
      {"device", "cpu"}, {"dtype", "float32"}, {"threads", "0"}, {"batch", "1"},
      {"tokens", "512"}, {"iters", "5"},       {"warmup", "2"},  {"model", ""}};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || flags.count(key.substr(2)) == 0) {
      std::cerr << "unknown flag " << key << "\n";
      return 2;
    }
    flags[key.substr(2)] = argv[i + 1];
  }
  if (flags["model"].empty()) {
    std::cerr
        << "usage: model_forward_bench --model DIR [--device D] [--dtype T] [--threads N] ...\n";
    return 2;
  }
  const int threads = std::stoi(flags["threads"]);
  if (threads > 0) at::set_num_threads(threads);
  auto device = ParseTorchDevice(flags["device"]);
  auto dtype = ParseTorchDtype(flags["dtype"]);
  if (!device.ok() || !dtype.ok()) {
    std::cerr << (device.ok() ? dtype.status() : device.status()) << "\n";
    return 2;
  }
  LoadOptions options;
  options.devices = {*device};
  options.dtype = *dtype;
  auto model = LoadCausalLM(flags["model"], options);
  if (!model.ok()) {
    std::cerr << model.status() << "\n";
    return 1;
  }
  const int64_t batch = std::stoll(flags["batch"]), tokens = std::stoll(flags["tokens"]);
  torch::manual_seed(0);
  torch::Tensor ids =
      torch::randint(0, (*model)->config().vocab_size, {batch, tokens}, torch::kLong).to(*device);
  torch::InferenceMode guard;
  auto sync = [&] {
    if (device->is_cuda()) torch::cuda::synchronize();
  };
  for (int i = 0; i < std::stoi(flags["warmup"]); ++i) (*model)->Forward(ids, {});
  sync();
  const int iters = std::stoi(flags["iters"]);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) (*model)->Forward(ids, {});
  sync();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t params = 0;
  for (const auto& p : (*model)->parameters()) params += p.numel();
  std::printf(
      "{\"impl\": \"cluedrop\", \"tokens_per_s\": %.1f, \"ms_per_forward\": %.2f, \"params\": "
      "%lld, "
      "\"threads\": %d, \"device\": \"%s\", \"dtype\": \"%s\", \"batch\": %lld, \"tokens\": "
      "%lld}\n",
      batch * tokens * iters / seconds, 1000 * seconds / iters, static_cast<long long>(params),
      at::get_num_threads(), flags["device"].c_str(), flags["dtype"].c_str(),
      static_cast<long long>(batch), static_cast<long long>(tokens));
  return 0;
}
