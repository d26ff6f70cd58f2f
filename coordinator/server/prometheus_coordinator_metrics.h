// The coordinator's Prometheus metrics (docs/coordinator.md, deploy/grafana),
// the daemon's implementation of CoordinatorMetrics (coordinator_metrics.h):
//   cluedrop_coordinator_jobs{state}                      gauge
//   cluedrop_coordinator_shards{state}                    gauge (pending|leased|scored, active
//   jobs) cluedrop_coordinator_workers                          gauge (registered scorers)
//   cluedrop_coordinator_leases_granted_total             counter
//   cluedrop_coordinator_lease_expirations_total          counter
//   cluedrop_coordinator_shard_retries_total              counter (requeued after a failure)
//   cluedrop_coordinator_shard_failures_total{kind}       counter (expired|error|fatal)
//   cluedrop_coordinator_duplicate_completions_total      counter
//   cluedrop_coordinator_shards_completed_total           counter
//   cluedrop_coordinator_tokens_scored_total              counter
//   cluedrop_coordinator_stream_bytes_total               counter (scored shards sent to trainers)
//   cluedrop_coordinator_stream_chunks_total              counter
//   cluedrop_coordinator_auth_denied_total{reason}        counter
//   cluedrop_coordinator_limit_hits_total{limit}          counter
//   cluedrop_coordinator_state_commit_seconds             histogram (SQLite transactions)
//
// Thread-safe (prometheus-cpp metrics are).
#ifndef CLUEDROP_COORDINATOR_SERVER_PROMETHEUS_COORDINATOR_METRICS_H_
#define CLUEDROP_COORDINATOR_SERVER_PROMETHEUS_COORDINATOR_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <string>
#include <string_view>

#include "coordinator/coordinator_metrics.h"

namespace cluedrop::coordinator {

class PrometheusCoordinatorMetrics final : public CoordinatorMetrics {
 public:
  // Registers every metric in `registry`, which must outlive this object.
  explicit PrometheusCoordinatorMetrics(prometheus::Registry& registry);

  void SetJobs(const std::array<uint64_t, 8>& counts) override;
  void SetShards(const std::array<uint64_t, 3>& pending_leased_scored) override;
  void SetWorkers(uint64_t n) override { workers_->Set(static_cast<double>(n)); }
  void LeaseGranted() override { leases_granted_->Increment(); }
  void LeaseExpired() override { lease_expirations_->Increment(); }
  void ShardRetried() override { shard_retries_->Increment(); }
  void ShardFailed(std::string_view kind) override;
  void DuplicateCompletion() override { duplicates_->Increment(); }
  void ShardCompleted(uint64_t tokens) override {
    completed_->Increment();
    tokens_->Increment(static_cast<double>(tokens));
  }
  void StreamChunkSent(uint64_t bytes) override {
    stream_bytes_->Increment(static_cast<double>(bytes));
    stream_chunks_->Increment();
  }
  void StateCommitted(double seconds) override { commit_seconds_->Observe(seconds); }
  void AuthDenied(std::string_view reason) override;
  void LimitHit(std::string_view limit) override;

 private:
  std::array<prometheus::Gauge*, 8> jobs_{};
  std::array<prometheus::Gauge*, 3> shards_{};
  prometheus::Gauge* workers_;
  prometheus::Counter* leases_granted_;
  prometheus::Counter* lease_expirations_;
  prometheus::Counter* shard_retries_;
  prometheus::Family<prometheus::Counter>* failures_family_;
  std::map<std::string, prometheus::Counter*, std::less<>> failures_;
  prometheus::Counter* duplicates_;
  prometheus::Counter* completed_;
  prometheus::Counter* tokens_;
  prometheus::Counter* stream_bytes_;
  prometheus::Counter* stream_chunks_;
  std::map<std::string, prometheus::Counter*, std::less<>> auth_denied_;
  std::map<std::string, prometheus::Counter*, std::less<>> limit_hits_;
  prometheus::Histogram* commit_seconds_;
};

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_SERVER_PROMETHEUS_COORDINATOR_METRICS_H_
