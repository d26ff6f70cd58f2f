#include "runtime/rpc_metrics_interceptor.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "runtime/grpc_status.h"

namespace cluedrop {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RpcMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(grpc::experimental::ServerRpcInfo* info, ProcessMetrics* metrics)
      : method_(info->method() != nullptr ? info->method() : ""),
        metrics_(metrics),
        start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      absl::Status status = FromGrpcStatus(methods->GetSendStatus());
      metrics_->RecordServerRpc(method_, absl::StatusCodeToString(status.code()),
                                absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  ProcessMetrics* metrics_;
  absl::Time start_;
};

}  // namespace

grpc::experimental::Interceptor* RpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RpcMetricsInterceptor(info, metrics_);
}

}  // namespace cluedrop
