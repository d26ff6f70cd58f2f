// CPU memory of scoring with random-init large and small models, measured
// exactly (workers/scorer/score_memory.h), next to the memory planner's
// estimate for a scorer (modelspec/memory_plan.h). One JSON line.
//
//   score_memory_bench --large config.json --small config.json [--batch_tokens 4096]
//       [--docs 2] [--doc_tokens 1024] [--threads 0]
#include <ATen/Parallel.h>

#include <iostream>
#include <map>
#include <string>

#include "bench/bench_flags.h"
#include "modelspec/memory_plan.h"
#include "modelspec/model_config.h"
#include "workers/scorer/score_memory.h"

using namespace cluedrop;

int main(int argc, char** argv) {
  std::map<std::string, std::string> f = {
      {"large", ""}, {"small", ""},          {"batch_tokens", "4096"},
      {"docs", "2"}, {"doc_tokens", "1024"}, {"threads", "0"}};
  if (!bench::ParseBenchFlags(argc, argv, f)) return 2;
  if (f["large"].empty() || f["small"].empty()) {
    std::cerr << "usage: score_memory_bench --large config.json --small config.json ...\n";
    return 2;
  }
  if (std::stoi(f["threads"]) > 0) at::set_num_threads(std::stoi(f["threads"]));
  StatusOr<model::ModelConfig> large = model::LoadModelConfig(f["large"]);
  StatusOr<model::ModelConfig> small = model::LoadModelConfig(f["small"]);
  if (!large.ok() || !small.ok()) {
    std::cerr << "score_memory_bench: " << (large.ok() ? small.status() : large.status()) << "\n";
    return 1;
  }
  const int64_t batch_tokens = std::stoll(f["batch_tokens"]);
  StatusOr<scorer::ScoreMemory> m = scorer::MeasureScoreMemory(
      *large, *small, batch_tokens, std::stoll(f["docs"]), std::stoll(f["doc_tokens"]));
  if (!m.ok()) {
    std::cerr << "score_memory_bench: " << m.status() << "\n";
    return 1;
  }
  model::ScorerMemoryInput in;
  in.batch_tokens = batch_tokens;
  in.large_dtype_bytes = 4;
  in.small_dtype_bytes = 4;
  StatusOr<std::vector<model::DeviceMemory>> plan = model::PlanScorerMemory(*large, *small, in);
  if (!plan.ok()) {
    std::cerr << "score_memory_bench: " << plan.status() << "\n";
    return 1;
  }
  int64_t estimate = 0;
  for (const model::DeviceMemory& d : *plan) estimate += d.peak;
  std::cout << "{\"estimate_peak_bytes\": " << estimate
            << ", \"weights_bytes\": " << m->weights_bytes << ", \"peak_bytes\": " << m->peak_bytes
            << "}" << std::endl;
  return 0;
}
