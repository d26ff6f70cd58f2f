#include "runtime/metrics.h"

#include <prometheus/gauge.h>

#include <chrono>
#include <exception>

#include "absl/strings/str_cat.h"
#include "runtime/build_info.h"
#include "runtime/thread_stack_floor.h"

namespace cluedrop {

const prometheus::Histogram::BucketBoundaries& RpcLatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
  return *buckets;
}

ProcessMetrics::ProcessMetrics(std::string component,
                               std::shared_ptr<prometheus::Registry> registry)
    : component_(std::move(component)), registry_(std::move(registry)) {
  prometheus::BuildGauge()
      .Name("cluedrop_build_info")
      .Help("Constant 1, labelled with the binary's component, version and git commit.")
      .Register(*registry_)
      .Add({{"component", component_},
            {"version", std::string(BuildVersion())},
            {"git_commit", std::string(BuildGitCommit())}})
      .Set(1);
  const double start_seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  prometheus::BuildGauge()
      .Name("cluedrop_process_start_time_seconds")
      .Help("Start time of the process since the Unix epoch, in seconds.")
      .Register(*registry_)
      .Add({{"component", component_}})
      .Set(start_seconds);
  rpc_handled_ = &prometheus::BuildCounter()
                      .Name("cluedrop_rpc_server_handled_total")
                      .Help("Server RPCs completed, by service, method and status code.")
                      .Register(*registry_);
  rpc_latency_ = &prometheus::BuildHistogram()
                      .Name("cluedrop_rpc_server_latency_seconds")
                      .Help("Server RPC latency from receipt to status, in seconds.")
                      .Register(*registry_);
}

absl::StatusOr<std::unique_ptr<ProcessMetrics>> ProcessMetrics::Start(std::string component,
                                                                      std::string metrics_address) {
  std::unique_ptr<ProcessMetrics> metrics(
      new ProcessMetrics(std::move(component), std::make_shared<prometheus::Registry>()));
  if (!metrics_address.empty()) {
    // civetweb's threads must fit libtorch's static TLS (thread_stack_floor.h).
    (void)ThreadStackFloorBytes();
    try {
      metrics->exposer_ = std::make_unique<prometheus::Exposer>(metrics_address);
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("cannot serve metrics on ", metrics_address, ": ", e.what()));
    }
    metrics->exposer_->RegisterCollectable(metrics->registry_);
  }
  return metrics;
}

int ProcessMetrics::port() const {
  if (exposer_ == nullptr) return 0;
  std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

void ProcessMetrics::RecordServerRpc(absl::string_view full_method, absl::string_view code,
                                     absl::Duration latency) {
  // "/cluedrop.v1.JobService/SubmitJob" -> service, method.
  absl::string_view path = full_method;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  absl::string_view service = path, method;
  if (size_t slash = path.find('/'); slash != absl::string_view::npos) {
    service = path.substr(0, slash);
    method = path.substr(slash + 1);
  }
  rpc_handled_
      ->Add({{"service", std::string(service)},
             {"method", std::string(method)},
             {"code", std::string(code)}})
      .Increment();
  rpc_latency_
      ->Add({{"service", std::string(service)}, {"method", std::string(method)}},
            RpcLatencyBuckets())
      .Observe(absl::ToDoubleSeconds(latency));
}

}  // namespace cluedrop
