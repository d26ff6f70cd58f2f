// Training throughput of cluedrop's TrainStep on one checkpoint: full
// fine-tuning with AdamW, a constant learning rate, global-norm clipping and
// token-weighted cross-entropy, world size 1 (a 1-rank Gloo group on
// 127.0.0.1, as a single-rank job runs, or FakeCollectives). Prints one JSON
// line (the driver bench/train.py tabulates it next to a PyTorch eager loop
// on the same checkpoint, threads and batches).
//
//   train_bench --model DIR [--ids FILE] [--batch B] [--seq T] [--steps N] [--warmup W]
//               [--threads N] [--lr 1e-4] [--grad_clip 1.0] [--weight_decay 0]
//               [--collectives gloo|fake]
//
// FILE holds K >= 1 batches of raw little-endian int64 token ids, [K, B, T]
// row-major; step i trains on batch i % K (without --ids: random ids from
// torch::manual_seed(0)). Every sequence is full length (no padding), so a
// step has B * T input tokens and B * (T - 1) target tokens.
//
// The timed part of a step is TrainStep::Run alone (forward, loss, backward
// with the bucketed all-reduce, clipping, AdamW); the first W steps are not
// timed. The JSON carries the median step time, the loss of every step (the
// first is the loss of the initial weights on batch 0), and the process's RSS
// after loading (VmRSS) and at its peak (VmHWM), in bytes.
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_flags.h"
#include "bench/proc_memory.h"
#include "workers/model/model_loader.h"
#include "workers/trainer/process_group.h"
#include "workers/trainer/process_group_fake.h"
#include "workers/trainer/train_step.h"

using namespace cluedrop;
using cluedrop::bench::ProcStatusBytes;

namespace {

int Fail(const std::string& what, const Status& status) {
  std::cerr << "train_bench: " << what << ": " << status << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> f = {
      {"model", ""},        {"ids", ""},           {"batch", "4"},         {"seq", "128"},
      {"steps", "5"},       {"warmup", "2"},       {"threads", "0"},       {"lr", "1e-4"},
      {"grad_clip", "1.0"}, {"weight_decay", "0"}, {"collectives", "gloo"}};
  if (!bench::ParseBenchFlags(argc, argv, f)) return 2;
  if (f["model"].empty() || (f["collectives"] != "gloo" && f["collectives"] != "fake")) {
    std::cerr << "usage: train_bench --model DIR [--ids FILE] [--batch B] [--seq T] [--steps N] "
                 "[--warmup W] [--threads N] [--lr LR] [--grad_clip C] [--collectives gloo|fake]\n";
    return 2;
  }
  const int threads = std::stoi(f["threads"]);
  if (threads > 0) at::set_num_threads(threads);
  const int64_t batch = std::stoll(f["batch"]), seq = std::stoll(f["seq"]);
  const int steps = std::stoi(f["steps"]), warmup = std::stoi(f["warmup"]);
  if (batch <= 0 || seq < 2 || steps <= 0 || warmup < 0) {
    std::cerr << "train_bench: need --batch >= 1, --seq >= 2, --steps >= 1, --warmup >= 0\n";
    return 2;
  }

  auto loaded = model::LoadCausalLM(f["model"], model::LoadOptions{});
  if (!loaded.ok()) return Fail("loading " + f["model"], loaded.status());
  std::shared_ptr<model::CausalLM> lm = *loaded;
  lm->train();
  int64_t params = 0;
  for (const auto& p : lm->parameters()) params += p.numel();

  // The batches, as the trainer builds them (MakeMicroBatch: labels shifted).
  std::vector<std::vector<std::vector<int64_t>>> batches;
  if (!f["ids"].empty()) {
    std::ifstream in(f["ids"], std::ios::binary);
    std::vector<int64_t> flat;
    int64_t v;
    while (in.read(reinterpret_cast<char*>(&v), sizeof(v))) flat.push_back(v);
    if (flat.empty() || flat.size() % (batch * seq) != 0) {
      std::cerr << "train_bench: " << f["ids"] << " holds " << flat.size()
                << " ids, not a positive multiple of batch * seq = " << batch * seq << "\n";
      return 2;
    }
    for (size_t k = 0; k < flat.size() / (batch * seq); ++k) {
      auto& rows = batches.emplace_back();
      for (int64_t b = 0; b < batch; ++b) {
        auto first = flat.begin() + (k * batch + b) * seq;
        rows.emplace_back(first, first + seq);
      }
    }
  } else {
    torch::manual_seed(0);
    torch::Tensor ids = torch::randint(3, lm->config().vocab_size, {batch, seq}, torch::kLong);
    auto& rows = batches.emplace_back();
    for (int64_t b = 0; b < batch; ++b) {
      rows.emplace_back(ids[b].data_ptr<int64_t>(), ids[b].data_ptr<int64_t>() + seq);
    }
  }
  std::vector<trainer::MicroBatch> micro;
  for (const auto& rows : batches) {
    auto mb = trainer::MakeMicroBatch(rows, /*pad_id=*/0);
    if (!mb.ok()) return Fail("MakeMicroBatch", mb.status());
    micro.push_back(*mb);
  }

  // World size 1: a real 1-rank Gloo group (what a single-rank job runs), or
  // the in-process fake.
  std::shared_ptr<trainer::RendezvousStore> store;
  std::unique_ptr<trainer::Collectives> collectives;
  if (f["collectives"] == "gloo") {
    trainer::StoreOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    auto s = trainer::RendezvousStore::Create(so);
    if (!s.ok()) return Fail("TCPStore", s.status());
    store = *s;
    trainer::ProcessGroupOptions po;
    po.gloo_hostname = "127.0.0.1";
    auto pg = trainer::CreateProcessGroup(store, po);
    if (!pg.ok()) return Fail("ProcessGroupGloo", pg.status());
    collectives = std::move(*pg);
  } else {
    collectives = std::make_unique<trainer::FakeCollectives>(0, 1);
  }

  trainer::TrainStepOptions options;
  options.optimizer.learning_rate = std::stod(f["lr"]);
  options.optimizer.weight_decay = std::stod(f["weight_decay"]);
  options.schedule.kind = trainer::LrScheduleKind::kConstant;
  options.schedule.peak_lr = options.optimizer.learning_rate;
  options.grad_clip = std::stod(f["grad_clip"]);
  options.precision = trainer::Precision::kFp32;
  auto step = trainer::TrainStep::Create(lm, collectives.get(), options);
  if (!step.ok()) return Fail("TrainStep::Create", step.status());
  const double rss_loaded = ProcStatusBytes("VmRSS");

  std::vector<double> losses, seconds, allreduce;
  for (int i = 0; i < warmup + steps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto stats = (*step)->Run({micro[i % micro.size()]});
    const double dt =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!stats.ok()) return Fail("step " + std::to_string(i), stats.status());
    losses.push_back(stats->loss);
    std::cerr << "step " << i << (i < warmup ? " (warm-up)" : "") << ": loss " << stats->loss
              << ", grad norm " << stats->grad_norm << ", " << dt * 1000 << " ms\n";
    if (i >= warmup) {
      seconds.push_back(dt);
      allreduce.push_back(stats->allreduce_wait_seconds);
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  const double step_s = median(seconds);
  std::string loss_list, ms_list;
  for (size_t i = 0; i < losses.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s%.9g", i ? ", " : "", losses[i]);
    loss_list += buf;
  }
  for (size_t i = 0; i < seconds.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s%.2f", i ? ", " : "", seconds[i] * 1000);
    ms_list += buf;
  }
  std::printf(
      "{\"impl\": \"cluedrop\", \"tokens_per_s\": %.1f, \"step_ms_median\": %.2f, "
      "\"step_ms\": [%s], \"allreduce_wait_ms_median\": %.3f, \"losses\": [%s], "
      "\"params\": %lld, \"threads\": %d, \"batch\": %lld, \"seq\": %lld, "
      "\"tokens_per_step\": %lld, \"warmup\": %d, \"steps\": %d, \"collectives\": \"%s\", "
      "\"rss_loaded_bytes\": %.0f, \"peak_rss_bytes\": %.0f}\n",
      batch * seq / step_s, step_s * 1000, ms_list.c_str(), median(allreduce) * 1000,
      loss_list.c_str(), static_cast<long long>(params), at::get_num_threads(),
      static_cast<long long>(batch), static_cast<long long>(seq),
      static_cast<long long>(batch * seq), warmup, steps, f["collectives"].c_str(), rss_loaded,
      ProcStatusBytes("VmHWM"));
  return 0;
}
