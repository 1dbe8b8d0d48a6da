#include "storage/transaction.h"

#include <utility>

#include "storage/cross_commit.h"
#include "storage/database.h"
#include "document/status.h"

namespace micromongo::storage {

namespace {

thread_local Transaction* bound_transaction = nullptr;

// The merge of a snapshot iterator with a sorted copy of a transaction's writes: an
// overlay entry hides the base's entry of the same key, a delete hides it without showing
// itself. Changing direction re-seeks at the current key (scans rarely do).
class OverlayIterator final : public KvIterator {
 public:
  OverlayIterator(std::unique_ptr<KvIterator> base,
                  std::vector<std::pair<std::string, std::optional<std::string>>> entries)
      : base_(std::move(base)), entries_(std::move(entries)) {
    SeekToFirst();
  }

  bool Valid() const override { return current_ != Current::kNone; }

  void Seek(std::string_view key) override {
    base_->Seek(key);
    index_ = LowerBound(key);
    forward_ = true;
    SettleForward();
  }
  void SeekForPrev(std::string_view key) override {
    base_->SeekForPrev(key);
    index_ = UpperBound(key) - 1;
    forward_ = false;
    SettleBackward();
  }
  void SeekToFirst() override {
    base_->SeekToFirst();
    index_ = 0;
    forward_ = true;
    SettleForward();
  }
  void SeekToLast() override {
    base_->SeekToLast();
    index_ = static_cast<ptrdiff_t>(entries_.size()) - 1;
    forward_ = false;
    SettleBackward();
  }
  void Next() override {
    if (!forward_) {
      std::string at(key());
      Seek(at);  // lands on `at` itself: it is visible
      if (!Valid()) return;
    }
    Advance(+1);
    SettleForward();
  }
  void Prev() override {
    if (forward_) {
      std::string at(key());
      SeekForPrev(at);
      if (!Valid()) return;
    }
    Advance(-1);
    SettleBackward();
  }
  std::string_view key() const override {
    return current_ == Current::kOverlay ? std::string_view(entries_[index_].first) : base_->key();
  }
  std::string_view value() const override {
    return current_ == Current::kOverlay ? std::string_view(*entries_[index_].second) : base_->value();
  }
  absl::Status status() const override { return base_->status(); }

 private:
  enum class Current { kNone, kBase, kOverlay };

  ptrdiff_t LowerBound(std::string_view key) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                               [](const auto& e, std::string_view k) { return e.first < k; });
    return it - entries_.begin();
  }
  ptrdiff_t UpperBound(std::string_view key) const {
    auto it = std::upper_bound(entries_.begin(), entries_.end(), key,
                               [](std::string_view k, const auto& e) { return k < e.first; });
    return it - entries_.begin();
  }
  bool InOverlay() const { return index_ >= 0 && index_ < static_cast<ptrdiff_t>(entries_.size()); }

  // Moves past the current entry (both sides, when the overlay shadows the base there).
  void Advance(int step) {
    if (current_ == Current::kOverlay) {
      index_ += step;
    } else if (current_ == Current::kBase) {
      step > 0 ? base_->Next() : base_->Prev();
    }
  }

  void SettleForward() { Settle(+1); }
  void SettleBackward() { Settle(-1); }

  // Makes the entry at the positions current, or the next one in direction `step`: the
  // overlay's when it comes first or ties (the tied base entry is stepped over), skipping
  // the overlay's deletes.
  void Settle(int step) {
    while (true) {
      bool b = base_->Valid(), o = InOverlay();
      if (!b && !o) {
        current_ = Current::kNone;
        return;
      }
      int order = b && o ? std::string_view(entries_[index_].first).compare(base_->key()) : 0;
      if (o && (!b || (step > 0 ? order <= 0 : order >= 0))) {
        if (b && order == 0) step > 0 ? base_->Next() : base_->Prev();
        if (!entries_[index_].second.has_value()) {
          index_ += step;
          continue;
        }
        current_ = Current::kOverlay;
        return;
      }
      current_ = Current::kBase;
      return;
    }
  }

  std::unique_ptr<KvIterator> base_;
  std::vector<std::pair<std::string, std::optional<std::string>>> entries_;
  ptrdiff_t index_ = 0;
  bool forward_ = true;
  Current current_ = Current::kNone;
};

}  // namespace

std::unique_ptr<KvIterator> NewOverlayIterator(std::unique_ptr<KvIterator> base,
                                               const TransactionPart::Overlay& overlay,
                                               std::string_view lower, std::string_view upper) {
  std::vector<std::pair<std::string, std::optional<std::string>>> entries;
  for (auto it = overlay.lower_bound(lower); it != overlay.end() && it->first < upper; ++it) {
    entries.emplace_back(it->first, it->second);
  }
  if (entries.empty()) return base;
  return std::make_unique<OverlayIterator>(std::move(base), std::move(entries));
}

Transaction::Transaction() = default;

Transaction::~Transaction() { Abort(); }

TransactionPart* Transaction::Part(Database* db) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& part : parts_) {
    if (part->db.get() == db) return part.get();
  }
  if (all_at_once_ && parts_.empty() && db->cross_ != nullptr) {
    TransactionPart* mine = nullptr;
    reading_in_ = db->cross_;
    for (auto& [open, snapshot] : db->cross_->SnapshotOpenDatabases(&opens_before_)) {
      auto part = std::make_unique<TransactionPart>();
      part->db = std::move(open);
      part->snapshot = std::move(snapshot);
      if (part->db.get() == db) mine = part.get();
      parts_.push_back(std::move(part));
    }
    if (mine != nullptr) return mine;
  }
  auto part = std::make_unique<TransactionPart>();
  part->db = db->shared_from_this();
  // A database that opened after this transaction's snapshots were taken is read as it
  // was then: as it opened.
  if (reading_in_ != nullptr) part->snapshot = db->OpenSnapshotIfOpenedAfter(opens_before_);
  if (part->snapshot == nullptr) part->snapshot = db->kv_->GetSnapshot();
  parts_.push_back(std::move(part));
  return parts_.back().get();
}

TransactionPart* Transaction::FindPart(const Database* db) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& part : parts_) {
    if (part->db.get() == db) return part.get();
  }
  return nullptr;
}

void Transaction::EndReads() {
  if (reading_in_ == nullptr) return;
  reading_in_->TransactionEnded(opens_before_);
  reading_in_ = nullptr;
}

absl::Status Transaction::Commit() {
  if (finished_) return absl::OkStatus();
  EndReads();
  std::vector<TransactionPart*> written;
  for (auto& part : parts_) {
    // Nothing reads the snapshots from here on; let go of them, so that a store whose
    // write fails with an error that needs it reopened (RocksDB's after a failed log
    // write) can be.
    part->snapshot.reset();
    if (part->writes.empty() && part->change_count == 0 && part->created.empty()) continue;
    written.push_back(part.get());
  }
  absl::Status s;
  if (written.size() == 1) {
    s = written[0]->db->CommitTransaction(written[0]);
  } else if (written.size() > 1) {
    CrossCommitter* cross = written[0]->db->cross_;
    s = cross != nullptr ? cross->Commit(written)
                         : MongoError(kOperationNotSupportedInTransaction,
                                      "this transaction writes to several databases, and they were not "
                                      "opened by one storage engine");
  }
  Abort();  // releases the locks; the writes, if committed, are in the store
  return s;
}

void Transaction::Abort() {
  if (finished_) return;
  finished_ = true;
  EndReads();
  std::lock_guard<std::mutex> l(mu_);
  for (auto& part : parts_) part->db->ReleaseTransactionLocks(part.get());
  // The snapshots and databases go now, not when the session does.
  parts_.clear();
}

TransactionScope::TransactionScope(Transaction* txn) : previous_(bound_transaction) {
  bound_transaction = txn;
}

TransactionScope::~TransactionScope() { bound_transaction = previous_; }

Transaction* BoundTransaction() { return bound_transaction; }

}  // namespace micromongo::storage
