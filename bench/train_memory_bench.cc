// CPU memory of one training step of a random-init model, measured exactly
// with the CPU allocator's own accounting (workers/model/cpu_memory_meter.h):
// the bytes of the weights, and the peak during TrainStep::Run (forward,
// backward with the gradient buckets, clipping, AdamW) above everything
// allocated before it, for a config and a batch, with or without LoRA, an
// int8 base, activation checkpointing and a layer split over CPU "devices".
// Prints one JSON line with the planner's estimate (workers/model/
// memory_plan.h) next to the measurement, and the process's peak RSS above
// its RSS before the steps ("+train"); bench/train_memory.py tabulates it
// next to PyTorch + PEFT.
//
//   train_memory_bench --config config.json [--batch 4] [--seq 128] [--lora_rank 0]
//       [--lora_targets q_proj,v_proj] [--int8 0|1] [--checkpointing K] [--split N]
//       [--steps 2] [--threads 0]
#include <ATen/Parallel.h>

#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_flags.h"
#include "bench/proc_memory.h"
#include "modelspec/memory_plan.h"
#include "modelspec/model_config.h"
#include "workers/trainer/step_memory.h"

using namespace cluedrop;

namespace {

int Fail(const std::string& what, const Status& status) {
  std::cerr << "train_memory_bench: " << what << ": " << status << "\n";
  return 1;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> f = {
      {"config", ""},         {"batch", "4"},
      {"seq", "128"},         {"lora_rank", "0"},
      {"int8", "0"},          {"split", "1"},
      {"checkpointing", "0"}, {"steps", "2"},
      {"threads", "0"},       {"lora_targets", "q_proj,v_proj"}};
  if (!bench::ParseBenchFlags(argc, argv, f)) return 2;
  if (f["config"].empty()) {
    std::cerr << "usage: train_memory_bench --config config.json [--batch B] [--seq T] ...\n";
    return 2;
  }
  if (std::stoi(f["threads"]) > 0) at::set_num_threads(std::stoi(f["threads"]));
  const int64_t batch = std::stoll(f["batch"]), seq = std::stoll(f["seq"]);
  const int64_t rank = std::stoll(f["lora_rank"]), split = std::stoll(f["split"]);
  const int steps = std::stoi(f["steps"]);

  StatusOr<model::ModelConfig> config = model::LoadModelConfig(f["config"]);
  if (!config.ok()) return Fail("config", config.status());
  trainer::StepMemoryOptions o;
  o.batch_size = batch;
  o.seq_len = seq;
  o.lora_rank = rank;
  if (rank > 0) o.lora_targets = Split(f["lora_targets"]);
  o.int8_base = f["int8"] == "1";
  o.checkpoint_every = std::stoll(f["checkpointing"]);
  o.split = split;
  o.steps = steps;
  double rss_before = 0, rss_train = 0;
  o.before_steps = [&] {
    rss_before = bench::ProcStatusBytes("VmRSS");
    bench::ResetPeakRss();
  };
  o.after_steps = [&] { rss_train = bench::ProcStatusBytes("VmHWM") - rss_before; };
  StatusOr<trainer::StepMemory> m = trainer::MeasureStepMemory(*config, o);
  if (!m.ok()) return Fail("measuring", m.status());
  const int timed = steps > 1 ? steps - 1 : 1;
  const model::TrainMemoryInput plan_in = trainer::PlanInputFor(o);
  StatusOr<std::vector<model::DeviceMemory>> plan = model::PlanTrainerMemory(*config, plan_in);
  if (!plan.ok()) return Fail("plan", plan.status());
  int64_t estimate = 0, estimate_weights = 0;
  for (const model::DeviceMemory& d : *plan) {
    estimate += d.peak;
    estimate_weights += d.weights + (rank > 0 ? d.trainable : 0);
  }
  std::cout << "{\"estimate_peak_bytes\": " << estimate
            << ", \"estimate_weights_bytes\": " << estimate_weights
            << ", \"weights_bytes\": " << m->weights_bytes
            << ", \"before_run_bytes\": " << m->before_run_bytes
            << ", \"peak_bytes\": " << m->peak_bytes
            << ", \"after_run_bytes\": " << m->after_run_bytes
            << ", \"rss_train_bytes\": " << rss_train
            << ", \"tokens_per_second\": " << static_cast<double>(batch * seq) * timed / m->seconds
            << ", \"loss\": " << m->loss << "}" << std::endl;
  return 0;
}
