#include "runtime/request_parse_interceptor.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace cluedrop {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

class RequestParseInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit RequestParseInterceptor(ServerRpcInfo* info)
      : method_(info->method() != nullptr ? info->method() : ""),
        single_request_(info->type() == ServerRpcInfo::Type::UNARY ||
                        info->type() == ServerRpcInfo::Type::SERVER_STREAMING) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (single_request_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // The sync server hands the interceptor a null message when the bytes
      // did not deserialize.
      unparsed_ = methods->GetRecvMessage() == nullptr;
    }
    if (unparsed_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::INTERNAL) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("request: the bytes sent to ", method_,
                         " do not parse as its request message (protobuf wire format)")));
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  bool single_request_;
  bool unparsed_ = false;
};

}  // namespace

grpc::experimental::Interceptor* RequestParseInterceptorFactory::CreateServerInterceptor(
    ServerRpcInfo* info) {
  return new RequestParseInterceptor(info);
}

}  // namespace cluedrop
