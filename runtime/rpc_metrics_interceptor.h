// A gRPC server interceptor that records every RPC's status code and latency
// in ProcessMetrics (cluedrop_rpc_server_*). Install it through
// ServerBuilder::experimental().SetInterceptorCreators.
#ifndef CLUEDROP_RUNTIME_RPC_METRICS_INTERCEPTOR_H_
#define CLUEDROP_RUNTIME_RPC_METRICS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include "runtime/metrics.h"

namespace cluedrop {

class RpcMetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `metrics` is not owned and must outlive the server.
  explicit RpcMetricsInterceptorFactory(ProcessMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  ProcessMetrics* metrics_;
};

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_RPC_METRICS_INTERCEPTOR_H_
