// Shared helpers of the trainer's torch tests: a tiny Llama-config model,
// deterministic token sequences, a temporary directory, and running W ranks
// as threads over a real TCPStore + ProcessGroupGloo on 127.0.0.1.
#ifndef CLUEDROP_WORKERS_TRAINER_TRAIN_TEST_UTIL_H_
#define CLUEDROP_WORKERS_TRAINER_TRAIN_TEST_UTIL_H_

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/scoped_temp_dir.h"
#include "base/status.h"
#include "workers/model/causal_lm.h"
#include "workers/trainer/process_group.h"

namespace cluedrop::trainer::testing {

inline constexpr int64_t kTinyVocab = 50;

// Llama family: vocab 50, hidden 32, 2 layers, 4 heads / 2 KV heads,
// intermediate 48, untied head.
model::ModelConfig TinyLlamaConfig();
// A random-initialised tiny model (torch::manual_seed(seed) first).
std::shared_ptr<model::CausalLM> TinyLlama(uint64_t seed);
// `count` sequences of token ids in [1, kTinyVocab) with lengths in
// [min_len, max_len], a pure function of `seed`.
std::vector<std::vector<int64_t>> RandomSequences(int count, int min_len, int max_len,
                                                  uint64_t seed);

// Runs fn(rank, collectives) for every rank on its own thread, the ranks
// joined by a TCPStore (rank 0, port 0) and ProcessGroupGloo on 127.0.0.1.
// Returns the first non-OK status (of setup or of a rank).
Status RunRanks(int world_size, const std::function<Status(int, Collectives&)>& fn);

// A fresh directory under $TMPDIR, removed by the destructor.
using TempDir = ::cluedrop::ScopedTempDir;

}  // namespace cluedrop::trainer::testing

#endif  // CLUEDROP_WORKERS_TRAINER_TRAIN_TEST_UTIL_H_
