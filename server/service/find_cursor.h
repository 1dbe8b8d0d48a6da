#pragma once

// A find's result stream over a snapshot of the collection (or over documents already
// computed, for aggregations and views).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "query/matcher.h"
#include "query/projection.h"
#include "query/sort.h"
#include "service/deadline.h"
#include "storage/engine.h"

namespace micromongo::service {

struct FindSpec {
  std::unique_ptr<query::Matcher> matcher;
  std::optional<query::SortSpec> sort;
  std::unique_ptr<query::Projection> projection;
  int64_t skip = 0;
  int64_t limit = 0;  // 0: none
  Deadline deadline;
};

// A find's result stream. Not thread-safe; the cursor manager serialises access.
class FindCursor {
 public:
  // A cursor over documents already computed (an aggregation's results).
  static std::unique_ptr<FindCursor> FromDocuments(std::vector<std::string> docs);
  static absl::StatusOr<std::unique_ptr<FindCursor>> Open(storage::Engine* engine,
                                                          std::string_view db,
                                                          std::string_view coll, FindSpec spec);
  // Appends up to `max_docs` documents (projected) or about `max_bytes`, whichever first.
  absl::Status NextBatch(size_t max_docs, size_t max_bytes, std::vector<std::string>* out);
  bool exhausted() const { return exhausted_; }
  // A GetMore's own time limit replaces the find's.
  void set_deadline(const Deadline& d) { spec_.deadline = d; }

 private:
  // The next matching document (before skip/limit/projection), from the sorted buffer or
  // the scan; false at the end.
  absl::StatusOr<bool> NextMatch(std::string* doc);
  // The next document past skip: the lookahead, or the next match.
  absl::StatusOr<bool> NextUnskipped(std::string* doc);

  FindSpec spec_;
  std::shared_ptr<storage::Database> db_;
  std::unique_ptr<storage::KvIterator> it_;
  std::vector<std::string> sorted_;
  size_t sorted_pos_ = 0;
  bool use_sorted_ = false;
  int64_t skipped_ = 0;
  int64_t returned_ = 0;
  uint32_t scanned_ = 0;
  std::optional<std::string> pending_;  // one-document lookahead
  bool exhausted_ = false;
};

}  // namespace micromongo::service
