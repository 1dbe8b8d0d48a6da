#include "service/snapshot_reads.h"

#include "document/status.h"

namespace micromongo::service {

namespace {

constexpr int kSnapshotTooOld = 239;
constexpr size_t kMaxViews = 10'000;

}  // namespace

SnapshotHistory::SnapshotHistory(storage::Engine* engine, std::chrono::seconds window)
    : engine_(engine), window_(window) {}

void SnapshotHistory::PruneLocked(std::chrono::steady_clock::time_point now) {
  while (!views_.empty() && (now - views_.begin()->second.taken > window_ || views_.size() > kMaxViews)) {
    views_.erase(views_.begin());
  }
}

absl::StatusOr<SnapshotHistory::View> SnapshotHistory::Now(std::string_view db_name) {
  // The time first: every commit at or below it is in the snapshot taken after it.
  uint64_t time = engine_->change_clock().Visible();
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> l(mu_);
  PruneLocked(now);
  auto& entry = views_[time];
  if (entry.txn == nullptr) {
    entry.txn = std::make_shared<storage::Transaction>();
    entry.txn->MarkReadOnlyView();
    entry.taken = now;
  }
  auto db = engine_->GetDatabase(db_name, /*create=*/false);
  if (!db.ok()) return db.status();
  if (*db != nullptr) {
    storage::TransactionScope scope(entry.txn.get());
    (void)(*db)->Snapshot();  // the database's part, snapshot taken now
  }
  return View{entry.txn, time};
}

absl::StatusOr<SnapshotHistory::View> SnapshotHistory::At(uint64_t time, std::string_view db) {
  {
    std::lock_guard<std::mutex> l(mu_);
    PruneLocked(std::chrono::steady_clock::now());
    auto it = views_.find(time);
    if (it != views_.end()) return View{it->second.txn, time};
  }
  // Nothing committed since that time: now is that time.
  if (engine_->change_clock().Visible() == time) return Now(db);
  return MongoError(kSnapshotTooOld,
                    StrCat("Read timestamp ", time >> 32, ":", time & 0xffffffff,
                           " is older than the oldest available timestamp kept for snapshot reads"));
}

}  // namespace micromongo::service
