#pragma once

// Observes every RPC the worker serves: counts it (MongoDB's opcounters, requests in
// flight), gives its handler an OpDebug that query executors report into, and logs it as a
// slow operation when it took at least --slow-ms (MongoDB's "Slow query" line: the
// operation, namespace, filter, plan summary, keys and documents examined, documents
// returned, duration, outcome).
//
// Contract: constructed on the thread that runs the handler, before it runs (the OpDebug
// is that thread's until Finish or destruction); `method` ("/micromongo.v1.DataService/
// Find") must outlive the object, and `request` must stay unchanged until Finish (a slow
// request's namespace and filter are read from it then, so that fast ones copy nothing).

#include <grpcpp/support/status.h>

#include <memory>
#include <string>
#include <string_view>

#include "service/request_counters.h"
#include "util/op_debug.h"

namespace google::protobuf {
class Message;
}

namespace micromongo::service {

class RequestObservation {
 public:
  // `request` is null for a request that could not be parsed (counted, not observed).
  RequestObservation(std::string_view method, const google::protobuf::Message* request);
  ~RequestObservation();

  RequestObservation(const RequestObservation&) = delete;
  RequestObservation& operator=(const RequestObservation&) = delete;

  // The handler returned `status`: ends the OpDebug and logs a slow unary call.
  void Finish(const grpc::Status& status);

 private:
  void Count(const google::protobuf::Message& request);
  void LogSlow(const grpc::Status& status);

  std::string_view method_;
  std::string_view name_;
  bool streaming_ = false;
  bool finished_ = false;
  const google::protobuf::Message* request_ = nullptr;
  std::shared_ptr<OpDebug> op_ = std::make_shared<OpDebug>();
};

}  // namespace micromongo::service
