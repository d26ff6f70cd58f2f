// Prometheus metrics for a cluedrop process: one registry, an HTTP exposer
// serving /metrics, and the metrics every process exports:
//   cluedrop_build_info{component,version,git_commit}           gauge (1)
//   cluedrop_process_start_time_seconds                          gauge
//   cluedrop_rpc_server_handled_total{service,method,code}       counter
//   cluedrop_rpc_server_latency_seconds{service,method}          histogram
//
// Example:
//   absl::StatusOr<std::unique_ptr<ProcessMetrics>> metrics =
//       ProcessMetrics::Start("coordinator", "127.0.0.1:9464");
//   prometheus::Registry& registry = (*metrics)->registry();
//
// Thread-safe (prometheus-cpp metrics are).
#ifndef CLUEDROP_RUNTIME_METRICS_H_
#define CLUEDROP_RUNTIME_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cluedrop {

class ProcessMetrics {
 public:
  // Creates the registry with the common metrics and, unless
  // `metrics_address` is empty, serves it at http://<address>/metrics.
  // Port 0 picks a free port (see port()). UNAVAILABLE if it cannot bind.
  static absl::StatusOr<std::unique_ptr<ProcessMetrics>> Start(std::string component,
                                                               std::string metrics_address);

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }
  // Bound port, or 0 when not serving.
  int port() const;

  // Records one finished server RPC. `full_method` is "/pkg.Service/Method".
  void RecordServerRpc(absl::string_view full_method, absl::string_view code,
                       absl::Duration latency);

 private:
  ProcessMetrics(std::string component, std::shared_ptr<prometheus::Registry> registry);

  std::string component_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Family<prometheus::Counter>* rpc_handled_;
  prometheus::Family<prometheus::Histogram>* rpc_latency_;
};

// Latency buckets, seconds, from 100 us to 60 s.
const prometheus::Histogram::BucketBoundaries& RpcLatencyBuckets();

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_METRICS_H_
