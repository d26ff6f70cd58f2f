#include "workers/trainer/train_test_util.h"

#include <random>
#include <stdexcept>
#include <thread>

namespace cluedrop::trainer::testing {

model::ModelConfig TinyLlamaConfig() {
  auto config = model::ParseModelConfig(R"({"model_type": "llama", "vocab_size": 50,
      "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
      "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64,
      "tie_word_embeddings": false})");
  if (!config.ok()) throw std::runtime_error(config.status().ToString());
  return *config;
}

std::shared_ptr<model::CausalLM> TinyLlama(uint64_t seed) {
  torch::manual_seed(seed);
  auto model = model::CreateCausalLM(TinyLlamaConfig());
  if (!model.ok()) throw std::runtime_error(model.status().ToString());
  return *model;
}

std::vector<std::vector<int64_t>> RandomSequences(int count, int min_len, int max_len,
                                                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> len(min_len, max_len);
  std::uniform_int_distribution<int64_t> token(1, kTinyVocab - 1);
  std::vector<std::vector<int64_t>> out(count);
  for (auto& seq : out) {
    seq.resize(len(rng));
    for (auto& t : seq) t = token(rng);
  }
  return out;
}

Status RunRanks(int world_size, const std::function<Status(int, Collectives&)>& fn) {
  StoreOptions store_options;
  store_options.host = "127.0.0.1";
  store_options.port = 0;
  store_options.world_size = world_size;
  store_options.timeout = std::chrono::seconds(30);
  auto root_store = RendezvousStore::Create(store_options);
  if (!root_store.ok()) return root_store.status();
  const int port = (*root_store)->port();
  std::vector<Status> results(world_size);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world_size; ++rank) {
    threads.emplace_back([&, rank] {
      std::shared_ptr<RendezvousStore> store;
      if (rank == 0) {
        store = *root_store;
      } else {
        StoreOptions o = store_options;
        o.rank = rank;
        o.port = port;
        auto s = RendezvousStore::Create(o);
        if (!s.ok()) {
          results[rank] = s.status();
          return;
        }
        store = *s;
      }
      ProcessGroupOptions pg_options;
      pg_options.gloo_hostname = "127.0.0.1";
      pg_options.timeout = std::chrono::seconds(30);
      auto pg = CreateProcessGroup(store, pg_options);
      if (!pg.ok()) {
        results[rank] = pg.status();
        return;
      }
      results[rank] = fn(rank, **pg).Annotated("rank " + std::to_string(rank));
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& s : results) {
    if (!s.ok()) return s;
  }
  return OkStatus();
}

}  // namespace cluedrop::trainer::testing
