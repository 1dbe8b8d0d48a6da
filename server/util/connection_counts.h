#pragma once

// The connections of the server's listeners (gRPC's and the MongoDB wire protocol's), for
// serverStatus's `connections` section: each listener registers a function that counts
// its own, and serverStatus sums them.

#include <cstdint>
#include <functional>

namespace micromongo {

struct ConnectionCounts {
  int64_t current = 0;        // open now
  int64_t max = 0;            // the listener's cap
  int64_t total_created = 0;  // accepted since the listener started
  int64_t rejected = 0;       // closed at once because the cap was reached

  ConnectionCounts& operator+=(const ConnectionCounts& o) {
    current += o.current;
    max += o.max;
    total_created += o.total_created;
    rejected += o.rejected;
    return *this;
  }
};

// Registers `counts` (called from any thread, so it must lock what it reads) while alive.
class ConnectionCountsSource {
 public:
  explicit ConnectionCountsSource(std::function<ConnectionCounts()> counts);
  ~ConnectionCountsSource();

  ConnectionCountsSource(const ConnectionCountsSource&) = delete;
  ConnectionCountsSource& operator=(const ConnectionCountsSource&) = delete;

 private:
  std::function<ConnectionCounts()> counts_;
  friend ConnectionCounts AllConnectionCounts();
};

// The sum over the sources registered now.
ConnectionCounts AllConnectionCounts();

}  // namespace micromongo
