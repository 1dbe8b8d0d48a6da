#pragma once

// Tailable cursors (find with tailable, and awaitData): a cursor over a capped collection
// that stays open at its end, like `tail -f`, and whose getMores return the documents
// inserted since. Without awaitData a getMore with nothing new returns an empty batch at
// once; with it, it waits up to its maxTimeMS (1 s by default) for an insert.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "query/matcher.h"
#include "query/projection.h"
#include "service/cursor.h"
#include "storage/engine.h"

namespace micromongo::service {

struct TailableFind {
  std::string db, collection;
  std::shared_ptr<const query::Matcher> filter;
  std::shared_ptr<const query::Projection> projection;  // null: none
  int64_t skip = 0;
  int64_t limit = 0;  // 0: none
  bool await_data = false;
};

// Opens the cursor. Errors as MongoDB's: 2 (BadValue) when the collection is not capped
// (or does not exist), or with a sort other than {$natural: 1} (the caller checks that).
class TailableCursor;
absl::StatusOr<std::unique_ptr<TailableCursor>> OpenTailable(storage::Engine* engine, TailableFind find);

class TailableCursor final : public Cursor {
 public:
  TailableCursor(storage::Engine* engine, TailableFind find, uint32_t collection_id, bool empty_at_open);

  // Reads on from the last document it examined. Errors: 136 (CappedPositionLost) when
  // that document has been removed since (capped deletes overtook the cursor), 175
  // (QueryPlanKilled) when the collection was dropped or renamed.
  absl::Status NextBatch(size_t max_docs, size_t max_bytes, std::vector<std::string>* out) override;
  // Ends only when its limit is reached or on an error.
  bool exhausted() const override { return exhausted_; }
  // A getMore's maxTimeMS is how long an awaitData cursor waits for inserts.
  void set_deadline(const Deadline& deadline) override;
  // The collection had no documents when the cursor opened: MongoDB does not keep such a
  // cursor.
  bool empty_at_open() const { return empty_at_open_; }

 private:
  // One pass from the last position; sets *visible to the change clock's visible time
  // before it read.
  absl::Status Scan(size_t max_docs, size_t max_bytes, std::vector<std::string>* out,
                    std::shared_ptr<storage::Database>* db, uint64_t* visible);

  storage::Engine* engine_;
  TailableFind find_;
  uint32_t collection_id_;
  uint64_t last_seq_ = 0;  // the last document examined (0: none yet)
  int64_t skipped_ = 0, returned_ = 0;
  bool first_ = true, exhausted_ = false, empty_at_open_;
  std::chrono::milliseconds await_{1000};
};

}  // namespace micromongo::service
