#pragma once

// Observes every RPC the worker serves: counts it (MongoDB's opcounters, requests in
// flight), gives its handler an OpDebug that query executors report into, and logs it as a
// slow operation when it took at least --slow-ms (MongoDB's "Slow query" line: the
// operation, namespace, filter, plan summary, keys and documents examined, documents
// returned, duration, outcome).

#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace micromongo::service {

// The worker's counters, read by ServerStatus.
struct RequestCounters {
  std::atomic<int64_t> insert{0};    // documents inserted (InsertOne models and Insert documents)
  std::atomic<int64_t> query{0};     // Find
  std::atomic<int64_t> update{0};    // Update requests and update models
  std::atomic<int64_t> remove{0};    // Delete requests and delete models ("delete")
  std::atomic<int64_t> getmore{0};
  std::atomic<int64_t> command{0};   // every other request
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> total{0};
  std::atomic<int64_t> slow{0};      // requests logged as slow
};

RequestCounters& GlobalRequestCounters();

// The slow-operation threshold (--slow-ms; 100 ms by default, MongoDB's slowms).
void SetSlowOpThreshold(std::chrono::milliseconds threshold);

class RequestObserverFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace micromongo::service
