// The scorer daemon's Prometheus metrics:
//   cluedrop_scorer_shards_total{result="completed|failed|released|revoked"}
//   cluedrop_scorer_tokens_scored_total       reference tokens scored (as
//                                              scored, also in shards later
//                                              aborted)
//   cluedrop_scorer_documents_scored_total    documents scored (likewise)
//   cluedrop_scorer_shard_seconds             lease to CompleteShard answer,
//                                              completed shards (histogram)
//   cluedrop_scorer_model_load_seconds        one per model load (histogram)
//   cluedrop_scorer_busy                      1 while holding a lease
//
// Example:
//   ScorerWorkerMetrics metrics(&registry);
//   metrics.shards_completed->Increment();
//
// Thread-safe (prometheus-cpp metrics are). The registry must outlive this.
#ifndef CLUEDROP_WORKERS_SCORER_SCORER_WORKER_METRICS_H_
#define CLUEDROP_WORKERS_SCORER_SCORER_WORKER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace cluedrop::scorer {

struct ScorerWorkerMetrics {
  // Registers the families on `registry`.
  explicit ScorerWorkerMetrics(prometheus::Registry* registry);

  prometheus::Counter* shards_completed;
  prometheus::Counter* shards_failed;
  prometheus::Counter* shards_released;
  prometheus::Counter* shards_revoked;
  prometheus::Counter* tokens_scored;
  prometheus::Counter* documents_scored;
  prometheus::Histogram* shard_seconds;
  prometheus::Histogram* model_load_seconds;
  prometheus::Gauge* busy;
};

}  // namespace cluedrop::scorer

#endif  // CLUEDROP_WORKERS_SCORER_SCORER_WORKER_METRICS_H_
