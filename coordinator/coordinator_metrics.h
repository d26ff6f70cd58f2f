// The coordinator's Prometheus metrics (docs/coordinator.md, deploy/grafana):
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
//   cluedrop_coordinator_state_commit_seconds             histogram (SQLite transactions)
//
// Thread-safe (prometheus-cpp metrics are).
#ifndef CLUEDROP_COORDINATOR_COORDINATOR_METRICS_H_
#define CLUEDROP_COORDINATOR_COORDINATOR_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <string>

namespace cluedrop::coordinator {

class CoordinatorMetrics {
 public:
  explicit CoordinatorMetrics(prometheus::Registry& registry);

  // Sets the per-state job gauge; `counts` is indexed by v1::JobState.
  void SetJobs(const std::array<uint64_t, 8>& counts);
  void SetShards(const std::array<uint64_t, 3>& pending_leased_scored);
  void SetWorkers(uint64_t n) { workers_->Set(static_cast<double>(n)); }

  prometheus::Counter& leases_granted() { return *leases_granted_; }
  prometheus::Counter& lease_expirations() { return *lease_expirations_; }
  prometheus::Counter& shard_retries() { return *shard_retries_; }
  prometheus::Counter& shard_failures(const std::string& kind);
  prometheus::Counter& duplicate_completions() { return *duplicates_; }
  prometheus::Counter& shards_completed() { return *completed_; }
  prometheus::Counter& tokens_scored() { return *tokens_; }
  prometheus::Counter& stream_bytes() { return *stream_bytes_; }
  prometheus::Counter& stream_chunks() { return *stream_chunks_; }
  prometheus::Histogram& commit_seconds() { return *commit_seconds_; }

 private:
  std::array<prometheus::Gauge*, 8> jobs_{};
  std::array<prometheus::Gauge*, 3> shards_{};
  prometheus::Gauge* workers_;
  prometheus::Counter* leases_granted_;
  prometheus::Counter* lease_expirations_;
  prometheus::Counter* shard_retries_;
  prometheus::Family<prometheus::Counter>* failures_family_;
  std::map<std::string, prometheus::Counter*> failures_;
  prometheus::Counter* duplicates_;
  prometheus::Counter* completed_;
  prometheus::Counter* tokens_;
  prometheus::Counter* stream_bytes_;
  prometheus::Counter* stream_chunks_;
  prometheus::Histogram* commit_seconds_;
};

}  // namespace cluedrop::coordinator

#endif  // CLUEDROP_COORDINATOR_COORDINATOR_METRICS_H_
