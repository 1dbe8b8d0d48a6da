#pragma once

// The plan cache (MongoDB's): the winner of a multi-planner trial, by query shape, so that
// the next query of the shape skips the trial. Keys name the collection and the state of
// its indexes (ids and multikey flags), so an index change makes its entries unreachable;
// an entry whose plan works ten times more than when it won is evicted and replanned.
// Thread-safe; bounded in size.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace micromongo::exec {

class PlanCache {
 public:
  struct Entry {
    std::string signature;  // planner::SolutionSignature of the winner
    int64_t works = 0;      // what the winner's trial took
    std::string created_from;  // BSON {query, sort, projection} of the query that planned it
    int64_t created_millis = 0;  // Unix time
  };

  static PlanCache& Global();

  std::optional<Entry> Get(const std::string& key);
  void Put(const std::string& key, Entry entry);
  void Evict(const std::string& key);
  // The entries whose keys start with `prefix` (one collection's), with their keys.
  std::vector<std::pair<std::string, Entry>> List(const std::string& prefix);

 private:
  static constexpr size_t kMaxEntries = 5000;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_;
};

}  // namespace micromongo::exec
