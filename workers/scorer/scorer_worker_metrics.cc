#include "workers/scorer/scorer_worker_metrics.h"

namespace cluedrop::scorer {
namespace {

// Seconds, 0.1 s to about 2 h, doubling.
prometheus::Histogram::BucketBoundaries SecondsBuckets() {
  prometheus::Histogram::BucketBoundaries buckets;
  for (double b = 0.1; b < 8000; b *= 2) buckets.push_back(b);
  return buckets;
}

}  // namespace

ScorerWorkerMetrics::ScorerWorkerMetrics(prometheus::Registry* registry) {
  auto& shards = prometheus::BuildCounter()
                     .Name("cluedrop_scorer_shards_total")
                     .Help(
                         "Leased shards by outcome: completed (result sent), failed (FailShard), "
                         "released (given back at shutdown), revoked (by the coordinator)")
                     .Register(*registry);
  shards_completed = &shards.Add({{"result", "completed"}});
  shards_failed = &shards.Add({{"result", "failed"}});
  shards_released = &shards.Add({{"result", "released"}});
  shards_revoked = &shards.Add({{"result", "revoked"}});
  tokens_scored = &prometheus::BuildCounter()
                       .Name("cluedrop_scorer_tokens_scored_total")
                       .Help("Reference-model tokens scored")
                       .Register(*registry)
                       .Add({});
  documents_scored = &prometheus::BuildCounter()
                          .Name("cluedrop_scorer_documents_scored_total")
                          .Help("Documents scored")
                          .Register(*registry)
                          .Add({});
  shard_seconds =
      &prometheus::BuildHistogram()
           .Name("cluedrop_scorer_shard_seconds")
           .Help(
               "Seconds from lease to the coordinator's answer to CompleteShard, completed shards")
           .Register(*registry)
           .Add({}, SecondsBuckets());
  model_load_seconds = &prometheus::BuildHistogram()
                            .Name("cluedrop_scorer_model_load_seconds")
                            .Help("Seconds to load one reference model")
                            .Register(*registry)
                            .Add({}, SecondsBuckets());
  busy = &prometheus::BuildGauge()
              .Name("cluedrop_scorer_busy")
              .Help("1 while the worker holds a shard lease")
              .Register(*registry)
              .Add({});
}

}  // namespace cluedrop::scorer
