// A gRPC server interceptor that turns gRPC's answer to request bytes that do
// not parse as the method's request message (a bare INTERNAL with no details,
// sent before any handler runs) into INVALID_ARGUMENT naming the method, so a
// malformed RPC gets the same code as any other bad input. Applies to unary
// and server-streaming methods (a client stream's bad message ends the stream
// inside the handler, which answers for itself). Install it before the
// metrics interceptor so the metrics count the code the caller sees.
#ifndef CLUEDROP_RUNTIME_REQUEST_PARSE_INTERCEPTOR_H_
#define CLUEDROP_RUNTIME_REQUEST_PARSE_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

namespace cluedrop {

class RequestParseInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace cluedrop

#endif  // CLUEDROP_RUNTIME_REQUEST_PARSE_INTERCEPTOR_H_
