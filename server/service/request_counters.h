#pragma once

// The worker's request counters (MongoDB's opcounters, requests in flight), counted by
// every transport and read by ServerStatus.

#include <atomic>
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

}  // namespace micromongo::service
