#include "service/bad_request_interceptor.h"

#include <string>

#include "document/status.h"
#include "service/grpc_status.h"

namespace micromongo::service {
namespace {

using grpc::experimental::InterceptionHookPoints;

class BadRequestInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit BadRequestInterceptor(const char* method) : method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      // Every status a handler returns carries an ErrorInfo (grpc_status.h); an INTERNAL
      // one without details is gRPC's own "could not deserialize the request".
      if (status.error_code() == grpc::StatusCode::INTERNAL && status.error_details().empty()) {
        methods->ModifySendStatus(ToGrpc(MongoError(
            kBadValue, StrCat("the request to ", method_ == nullptr ? "" : method_,
                              " is not a valid protobuf message (string fields must be UTF-8)"))));
      }
    }
    methods->Proceed();
  }

 private:
  const char* method_;
};

}  // namespace

grpc::experimental::Interceptor* BadRequestInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new BadRequestInterceptor(info->method());
}

}  // namespace micromongo::service
