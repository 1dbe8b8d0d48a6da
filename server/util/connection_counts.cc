#include "util/connection_counts.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace micromongo {
namespace {

std::mutex& Mutex() {
  static auto* mu = new std::mutex;
  return *mu;
}

std::vector<const ConnectionCountsSource*>& Sources() {
  static auto* sources = new std::vector<const ConnectionCountsSource*>;
  return *sources;
}

}  // namespace

ConnectionCountsSource::ConnectionCountsSource(std::function<ConnectionCounts()> counts)
    : counts_(std::move(counts)) {
  std::lock_guard<std::mutex> l(Mutex());
  Sources().push_back(this);
}

ConnectionCountsSource::~ConnectionCountsSource() {
  std::lock_guard<std::mutex> l(Mutex());
  auto& s = Sources();
  s.erase(std::remove(s.begin(), s.end(), this), s.end());
}

ConnectionCounts AllConnectionCounts() {
  // Held while counting: a source is not destroyed while its function runs.
  std::lock_guard<std::mutex> l(Mutex());
  ConnectionCounts all;
  for (const ConnectionCountsSource* s : Sources()) all += s->counts_();
  return all;
}

}  // namespace micromongo
