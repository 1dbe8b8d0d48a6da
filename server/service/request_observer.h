#pragma once

// Observes every RPC the worker serves: counts it (MongoDB's opcounters, requests in
// flight), gives its handler an OpDebug that query executors report into, and logs it as a
// slow operation when it took at least --slow-ms (MongoDB's "Slow query" line: the
// operation, namespace, filter, plan summary, keys and documents examined, documents
// returned, duration, outcome).

#include <grpcpp/support/server_interceptor.h>

#include "service/request_counters.h"

#include <atomic>
#include <chrono>
#include <cstdint>

namespace micromongo::service {


class RequestObserverFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace micromongo::service
