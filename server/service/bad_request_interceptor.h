#pragma once

// Requests that protobuf cannot parse (a `string` field holding invalid UTF-8, a truncated
// or corrupt message) never reach a handler: gRPC answers them INTERNAL with an empty
// message. They are the client's fault, so this interceptor answers them as MongoDB would
// answer bad input: INVALID_ARGUMENT, "[2 BadValue] ...", with an ErrorInfo in the details
// like every other error of the worker.

#include <grpcpp/support/server_interceptor.h>

namespace micromongo::service {

class BadRequestInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace micromongo::service
