#include "workers/scorer/engine_shard_scorer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>
#include <vector>

#include "workers/model/causal_lm.h"
#include "workers/model/tokenizer/tokenizer.h"
#include "workers/scorer/text_scoring.h"

namespace cluedrop::scorer {
// Not in an anonymous namespace: EngineShardScorer::Cache (declared in the
// header) holds CachedModels, and GCC warns about an internal-linkage member
// type there (-Wsubobject-linkage) when this file is part of a unity build.
namespace engine_cache {

struct ModelKey {
  std::string dir;
  std::string dtype;
  std::string device;
  bool operator==(const ModelKey& o) const {
    return dir == o.dir && dtype == o.dtype && device == o.device;
  }
};

struct CachedModel {
  ModelKey key;
  std::shared_ptr<model::CausalLM> model;
};

}  // namespace engine_cache

using engine_cache::CachedModel;
using engine_cache::ModelKey;

namespace {

std::string ResolveDevice(const std::string& device) {
  if (device != "auto") return device;
  return torch::cuda::is_available() ? "cuda" : "cpu";
}

ModelKey KeyOf(const std::string& dir, const std::string& dtype, const std::string& device) {
  std::string resolved = dtype;
  if (resolved.empty()) resolved = device.rfind("cuda", 0) == 0 ? "bfloat16" : "float32";
  return {dir, resolved, device};
}

}  // namespace

struct EngineShardScorer::Cache {
  std::vector<CachedModel> models;
  std::string reference_key;  // large_dir + '\n' + small_dir
  std::unique_ptr<model::Tokenizer> reference;
  std::string target_dir;
  std::unique_ptr<model::Tokenizer> target;
  int64_t loaded = 0;

  // The model for `key`, loading it on a miss (and recording the time).
  StatusOr<std::shared_ptr<model::CausalLM>> Get(const ModelKey& key, const char* which,
                                                 std::vector<double>* load_seconds) {
    for (const CachedModel& m : models) {
      if (m.key == key) return m.model;
    }
    const auto start = std::chrono::steady_clock::now();
    auto loaded_model = LoadScoringModel(key.dir, key.device, key.dtype);
    if (!loaded_model.ok()) {
      return loaded_model.status().Annotated(std::string(which) + " model " + key.dir);
    }
    load_seconds->push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ++loaded;
    models.push_back({key, *loaded_model});
    return *loaded_model;
  }

  // Drops every cached model other than `a` and `b`.
  void KeepOnly(const ModelKey& a, const ModelKey& b) {
    std::erase_if(models, [&](const CachedModel& m) { return !(m.key == a) && !(m.key == b); });
  }

  Status LoadTokenizers(const ShardScoringSettings& s) {
    const std::string key = s.large_checkpoint_dir + "\n" + s.small_checkpoint_dir;
    if (reference == nullptr || reference_key != key) {
      reference.reset();
      CLUEDROP_ASSIGN_OR_RETURN(
          reference, LoadReferenceTokenizer(s.large_checkpoint_dir, s.small_checkpoint_dir));
      reference_key = key;
    }
    if (s.target_tokenizer_dir.empty()) return OkStatus();
    if (target == nullptr || target_dir != s.target_tokenizer_dir) {
      target.reset();
      auto t = model::Tokenizer::FromDirectory(s.target_tokenizer_dir);
      if (!t.ok()) return t.status().Annotated("target tokenizer");
      target = std::move(*t);
      target_dir = s.target_tokenizer_dir;
    }
    return OkStatus();
  }
};

EngineShardScorer::EngineShardScorer(EngineShardScorerOptions options)
    : options_(std::move(options)), cache_(std::make_unique<Cache>()) {}

EngineShardScorer::~EngineShardScorer() = default;

int64_t EngineShardScorer::models_loaded() const { return cache_->loaded; }
int64_t EngineShardScorer::models_cached() const {
  return static_cast<int64_t>(cache_->models.size());
}

StatusOr<ShardScoringResult> EngineShardScorer::Score(const ShardScoringRequest& request,
                                                      const ShardProgressFn& progress) {
  const ShardScoringSettings& s = request.settings;
  if (s.large_checkpoint_dir.empty() || s.small_checkpoint_dir.empty()) {
    return InvalidArgumentError("the lease names no large or small checkpoint directory");
  }
  ShardProgress state;
  state.documents_total = static_cast<int64_t>(request.documents.size());
  if (progress && !progress(state)) return CancelledError("scoring aborted");
  try {
    ShardScoringResult result;
    CLUEDROP_RETURN_IF_ERROR(cache_->LoadTokenizers(s));
    const std::string device = ResolveDevice(options_.device);
    const ModelKey large_key = KeyOf(s.large_checkpoint_dir, s.large_dtype, device);
    const ModelKey small_key = KeyOf(s.small_checkpoint_dir, s.small_dtype, device);
    cache_->KeepOnly(large_key, small_key);
    CLUEDROP_ASSIGN_OR_RETURN(auto large,
                              cache_->Get(large_key, "large", &result.model_load_seconds));
    CLUEDROP_ASSIGN_OR_RETURN(auto small,
                              cache_->Get(small_key, "small", &result.model_load_seconds));

    std::vector<TextDocument> docs;
    docs.reserve(request.documents.size());
    for (const ShardDocument& d : request.documents) docs.push_back({d.id, d.text});
    CLUEDROP_ASSIGN_OR_RETURN(std::vector<model::Encoding> encodings,
                              EncodeDocuments(*cache_->reference, docs));

    TextScoringOptions options;
    options.score.include_self = s.include_self;
    options.score.layers = s.layers;
    options.score.batch_tokens = s.batch_tokens;
    options.score.window_tokens = options_.window_tokens;
    options.score.tile = options_.tile;
    options.score.kernel = options_.kernel;
    options.chunk_documents = options_.chunk_documents;
    options.chunk_tokens = 2 * std::max<int64_t>(1, s.batch_tokens);
    const model::Tokenizer* target =
        s.target_tokenizer_dir.empty() ? nullptr : cache_->target.get();
    result.documents.reserve(docs.size());
    CLUEDROP_RETURN_IF_ERROR(ScoreEncodedDocuments(
        *large, *small, target, docs, encodings, options,
        [&](size_t first, std::vector<ScoredText>& chunk) -> Status {
          for (ScoredText& d : chunk) {
            state.reference_tokens_done += d.reference_tokens;
            result.documents.push_back(std::move(d));
          }
          state.documents_done = static_cast<int64_t>(result.documents.size());
          if (progress && !progress(state)) return CancelledError("scoring aborted");
          return OkStatus();
        }));
    return result;
  } catch (const std::exception& e) {
    return InternalError(std::string("scoring: ") + e.what());
  }
}

}  // namespace cluedrop::scorer
