#include "service/tailable_cursor.h"

#include <algorithm>

#include "document/status.h"
#include "service/open_namespace.h"

namespace micromongo::service {

absl::StatusOr<std::unique_ptr<TailableCursor>> OpenTailable(storage::Engine* engine, TailableFind find) {
  auto ns = OpenNamespace(engine, find.db, find.collection, /*create=*/false);
  if (!ns.ok()) return ns.status();
  if (ns->coll == nullptr || !ns->coll->capped()) {
    return MongoError(kBadValue, StrCat("error processing query: ns=", find.db, ".", find.collection,
                                        " tailable cursor requested on non capped collection"));
  }
  return std::make_unique<TailableCursor>(engine, std::move(find), ns->coll->id(), ns->coll->count() == 0);
}

TailableCursor::TailableCursor(storage::Engine* engine, TailableFind find, uint32_t collection_id,
                               bool empty_at_open)
    : engine_(engine), find_(std::move(find)), collection_id_(collection_id), empty_at_open_(empty_at_open) {}

void TailableCursor::set_deadline(const Deadline& deadline) {
  int64_t left = deadline.RemainingMillis();
  await_ = std::chrono::milliseconds(left == INT64_MAX ? 1000 : std::max<int64_t>(left, 0));
}

absl::Status TailableCursor::Scan(size_t max_docs, size_t max_bytes, std::vector<std::string>* out,
                                  std::shared_ptr<storage::Database>* db, uint64_t* visible) {
  auto ns = OpenNamespace(engine_, find_.db, find_.collection, /*create=*/false);
  if (!ns.ok()) return ns.status();
  if (ns->coll == nullptr || ns->coll->id() != collection_id_) {
    return MongoError(kQueryPlanKilled, StrCat("collection dropped. UUID of ", find_.db, ".", find_.collection,
                                               " changed while the tailable cursor was open"));
  }
  *db = ns->db;
  *visible = ns->db->change_clock().Visible();
  auto it = ns->db->ScanNatural(*ns->coll);
  if (last_seq_ == 0) {
    it->SeekToFirst();
  } else {
    it->SeekToSeq(last_seq_);
    if (!it->Valid() || it->seq() != last_seq_) {
      if (!it->status().ok()) return it->status();
      return MongoError(kCappedPositionLost,
                        StrCat("CollectionScan died due to position in capped collection being deleted. "
                               "Last seen record id: RecordId(",
                               last_seq_, ")"));
    }
    it->Next();
  }
  size_t bytes = 0;
  for (; it->Valid(); it->Next()) {
    last_seq_ = it->seq();
    bson::DocView doc(it->value());
    if (!find_.filter->Matches(doc)) continue;
    if (skipped_ < find_.skip) {
      ++skipped_;
      continue;
    }
    std::string result;
    if (find_.projection != nullptr) {
      query::Projection::ApplyContext context{find_.filter.get(), find_.filter->let(), find_.filter->collator(),
                                              nullptr};
      auto projected = find_.projection->Apply(doc, context);
      if (!projected.ok()) return projected.status();
      result = *std::move(projected);
    } else {
      result.assign(it->value());
    }
    bytes += result.size();
    out->push_back(std::move(result));
    if (find_.limit > 0 && ++returned_ >= find_.limit) {
      exhausted_ = true;
      break;
    }
    if ((max_docs > 0 && out->size() >= max_docs) || bytes >= max_bytes) break;
  }
  return it->status();
}

absl::Status TailableCursor::NextBatch(size_t max_docs, size_t max_bytes, std::vector<std::string>* out) {
  // The first batch returns what there is; later ones of an awaitData cursor wait for more.
  auto wait = BoundedAwait(first_ || !find_.await_data ? std::chrono::milliseconds(0) : await_);
  first_ = false;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    std::shared_ptr<storage::Database> db;
    uint64_t visible = 0;
    absl::Status s = Scan(max_docs, max_bytes, out, &db, &visible);
    if (!s.ok()) {
      exhausted_ = true;
      return s;
    }
    auto now = std::chrono::steady_clock::now();
    if (!out->empty() || exhausted_ || now >= deadline) return absl::OkStatus();
    // Nothing new: wait for a commit (of any database) and look again. The namespace (and
    // its hold on DDL) was let go; only the database object is kept.
    db->change_clock().WaitPast(visible, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                                             std::chrono::milliseconds(1));
  }
}

}  // namespace micromongo::service
