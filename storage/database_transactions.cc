// Database's side of transactions (transaction.h): reads through a transaction's overlay,
// statements replayed into it under first-writer-wins conflict checks, and the commit.

#include <algorithm>
#include <utility>

#include "document/builder.h"
#include "document/status.h"
#include "storage/cross_commit.h"
#include "storage/database.h"
#include "storage/key_codec.h"
#include "storage/transaction.h"

namespace micromongo::storage {

namespace {

absl::Status WriteConflict() {
  return MongoError(kWriteConflict,
                    "Write conflict during plan execution and yielding is disabled. :: Please retry your "
                    "operation or multi-document transaction.");
}

// Multikey flags are idempotent puts of "" that every writer of an array may make: they
// never conflict.
bool IsMultikeyFlag(std::string_view key) { return !key.empty() && key[0] == kMultikeyPrefix; }

// The statement's change records, each with the transaction's lsid and txnNumber when it
// has them ("lsid", "txn"; FORMAT.md's change log).
void AppendTransactionChanges(std::string_view records, TransactionPart* part) {
  Transaction* txn = BoundTransaction();
  if (txn == nullptr || txn->origin_lsid().empty()) {
    part->changes.append(records);
    return;
  }
  while (records.size() >= 5) {
    bson::DocView record(records);
    bson::Builder b(bson::Builder::AppendTo{&part->changes});
    for (const bson::ElementView& e : record) b.AppendView(e.key, e.value);
    b.AppendDocument("lsid", bson::DocView(txn->origin_lsid()));
    b.AppendInt64("txn", txn->origin_txn_number());
    std::move(b).Finish(bson::Builder::AppendTo{&part->changes});
    records.remove_prefix(record.size());
  }
}

}  // namespace

TransactionPart* Database::BoundPart() {
  Transaction* txn = BoundTransaction();
  // A finished transaction holds nothing more (its parts are gone with their locks).
  return txn == nullptr || txn->finished() ? nullptr : txn->Part(this);
}

absl::StatusOr<bool> Database::GetInPart(TransactionPart* part, std::string_view key, std::string* value) {
  if (auto it = part->writes.find(key); it != part->writes.end()) {
    if (!it->second.has_value()) return false;
    *value = *it->second;
    return true;
  }
  return kv_->Get(key, value, part->snapshot.get());
}

std::unique_ptr<KvIterator> Database::IteratorInPart(TransactionPart* part, std::string lower, std::string upper) {
  auto base = kv_->NewIterator(lower, upper, part->snapshot.get());
  return NewOverlayIterator(std::move(base), part->writes, lower, upper);
}

absl::Status Database::ApplyToTransaction(WriteUnit* unit, TransactionPart* part) {
  // The collections written must still be the catalog's (no DDL came between).
  for (const WriteUnit::Delta& d : unit->count_deltas_) {
    std::shared_ptr<Collection> current = FindCollection(d.c->name());
    if (current.get() != d.c) return WriteConflict();
    if (d.c->capped() || d.c->timeseries()) {
      return MongoError(kOperationNotSupportedInTransaction,
                        StrCat("Collection '", name_, ".", d.c->name(),
                               "' is a capped or time series collection: writes in transactions are not "
                               "allowed on it"));
    }
  }
  struct Op {
    KvBatch::OpKind kind;
    std::string_view key, value;
  };
  std::vector<Op> ops;
  ops.reserve(unit->batch_->Count());
  bool ranged = false;
  unit->batch_->ForEach([&](KvBatch::OpKind kind, std::string_view key, std::string_view value) {
    // (Statistics merges are added at commit, from the part's deltas.)
    if (kind == KvBatch::OpKind::kDeleteRange || kind == KvBatch::OpKind::kMerge) ranged = true;
    ops.push_back({kind, key, value});
  });
  if (ranged) {
    return MongoError(kOperationNotSupportedInTransaction, "this operation cannot run in a transaction");
  }
  {
    std::unique_lock<std::shared_mutex> gate(txn_gate_);
    std::lock_guard<std::mutex> l(txn_mu_);
    // First writer wins: a key another open transaction wrote, or one committed after
    // this transaction's snapshot, is a conflict.
    std::vector<std::string_view> fresh;
    std::string latest, seen;
    for (const Op& op : ops) {
      if (IsMultikeyFlag(op.key)) continue;
      if (auto it = txn_locks_.find(op.key); it != txn_locks_.end()) {
        if (it->second != part) return WriteConflict();
        continue;
      }
      auto now = kv_->Get(op.key, &latest);
      if (!now.ok()) return now.status();
      auto then = kv_->Get(op.key, &seen, part->snapshot.get());
      if (!then.ok()) return then.status();
      if (*now != *then || (*now && latest != seen)) return WriteConflict();
      fresh.push_back(op.key);
    }
    for (std::string_view key : fresh) {
      if (txn_locks_.emplace(std::string(key), part).second) part->locked.emplace_back(key);
    }
    txn_lock_count_.store(txn_locks_.size(), std::memory_order_release);
  }
  for (const Op& op : ops) {
    if (op.kind == KvBatch::OpKind::kPut) {
      part->writes[std::string(op.key)] = std::string(op.value);
    } else {
      part->writes[std::string(op.key)] = std::nullopt;
    }
  }
  AppendTransactionChanges(unit->changes_, part);
  part->change_count += unit->change_count_;
  for (const WriteUnit::Delta& d : unit->count_deltas_) {
    bool merged = false;
    for (TransactionPart::Delta& mine : part->deltas) {
      if (mine.coll.get() == d.c) {
        mine.count += d.count;
        mine.bytes += d.bytes;
        mine.key_bytes += d.key_bytes;
        merged = true;
      }
    }
    if (!merged) part->deltas.push_back({FindCollection(d.c->name()), d.count, d.bytes, d.key_bytes});
  }
  for (const WriteUnit::IndexDelta& d : unit->index_deltas_) {
    IndexStats& mine = part->index_deltas[{d.coll_id, d.index_id}];
    mine.entries += d.change.entries;
    mine.bytes += d.change.bytes;
  }
  return absl::OkStatus();
}

absl::Status Database::PrepareCommit(TransactionPart* part, PreparedCommit* prepared) {
  prepared->ddl = std::shared_lock<std::shared_mutex>(ddl_mu_);
  prepared->writes = std::shared_lock<std::shared_mutex>(write_gate_);
  for (const TransactionPart::Delta& d : part->deltas) {
    if (CreatedIn(part, d.coll->name()) != d.coll && FindCollection(d.coll->name()) != d.coll) return WriteConflict();
  }
  std::vector<Collection*> written;
  for (const TransactionPart::Delta& d : part->deltas) written.push_back(d.coll.get());
  std::sort(written.begin(), written.end(), [](const Collection* a, const Collection* b) { return a->id() < b->id(); });
  written.erase(std::unique(written.begin(), written.end()), written.end());
  for (Collection* c : written) prepared->records.emplace_back(c->write_mutex());
  prepared->batch = kv_->NewBatch();
  for (const auto& [key, value] : part->writes) {
    if (value.has_value()) {
      prepared->batch->Put(key, *value);
    } else {
      prepared->batch->Delete(key);
    }
  }
  for (const TransactionPart::Delta& d : part->deltas) {
    if (d.count != 0 || d.bytes != 0 || d.key_bytes != 0) {
      prepared->batch->Merge(StatsKey(d.coll->id()), StatsOperand(d.count, d.bytes, 0, d.key_bytes));
    }
  }
  for (const auto& [ids, change] : part->index_deltas) {
    if (change != IndexStats{}) {
      prepared->batch->Merge(IndexStatsKey(ids.first, ids.second), IndexStatsOperand(change.entries, change.bytes));
    }
  }
  // Every key written is locked by this transaction: nobody else can have written it
  // since the statement that did, so the batch goes in without further checks. The
  // catalog lock is held across the write when the transaction made collections, as
  // creating one outside transactions does.
  if (!part->created.empty()) {
    prepared->catalog = std::unique_lock<std::mutex>(catalog_mu_);
    if (auto s = PutCreatedCollectionsLocked(part, prepared->batch.get()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void Database::PublishCommit(TransactionPart* part, PreparedCommit* prepared) {
  for (const auto& c : part->created) collections_.emplace(c->name(), c);
  if (prepared->catalog.owns_lock()) prepared->catalog.unlock();
  for (const TransactionPart::Delta& d : part->deltas) d.coll->count_.fetch_add(d.count, std::memory_order_relaxed);
  ReleaseTransactionLocks(part);
}

absl::Status Database::CommitTransaction(TransactionPart* part) {
  PreparedCommit prepared;
  if (auto s = PrepareCommit(part, &prepared); !s.ok()) return s;
  if (auto s = WriteWithChanges(prepared.batch.get(), part->changes, part->change_count); !s.ok()) return s;
  PublishCommit(part, &prepared);
  return absl::OkStatus();
}

absl::Status Database::WritePending(std::string_view id, std::string_view part) {
  auto batch = kv_->NewBatch();
  batch->Put(PendingKey(id), part);
  return kv_->Write(batch.get());
}

absl::Status Database::DropPending(std::string_view id) {
  auto batch = kv_->NewBatch();
  batch->Delete(PendingKey(id));
  return kv_->Write(batch.get());
}

absl::Status Database::ApplyPrepared(TransactionPart* part, PreparedCommit* prepared, std::string_view id,
                                     uint64_t first_time) {
  KvBatch* batch = prepared->batch.get();
  if (part->change_count > 0) batch->Put(ChangeKey(first_time), part->changes);
  batch->Delete(PendingKey(id));
  return kv_->Write(batch);
}

absl::Status Database::ResolvePending() {
  if (cross_ == nullptr) return absl::OkStatus();  // nobody to ask: left as they are
  std::string lower(1, kPendingPrefix), upper(1, static_cast<char>(kPendingPrefix + 1));
  std::vector<std::pair<std::string, std::string>> pending;
  auto it = kv_->NewIterator(lower, upper);
  for (; it->Valid(); it->Next()) pending.emplace_back(std::string(it->key()), std::string(it->value()));
  if (!it->status().ok()) return it->status();
  for (const auto& [key, value] : pending) {
    std::string_view id = std::string_view(key).substr(1);
    auto batch = kv_->NewBatch();
    batch->Delete(key);
    if (!cross_->Decided(id)) {
      // Never committed: the worker stopped before the decision.
      if (auto s = kv_->Write(batch.get()); !s.ok()) return s;
      continue;
    }
    PendingPart part;
    if (!part.Decode(value)) {
      return MongoError(kInternalError, StrCat("corrupt pending commit ", id, " in database ", name_));
    }
    for (const PendingPart::Op& op : part.ops) {
      switch (op.kind) {
        case KvBatch::OpKind::kPut: batch->Put(op.key, op.value); break;
        case KvBatch::OpKind::kDelete: batch->Delete(op.key); break;
        case KvBatch::OpKind::kDeleteRange: batch->DeleteRange(op.key, op.value); break;
        case KvBatch::OpKind::kMerge: batch->Merge(op.key, op.value); break;
      }
    }
    if (auto s = WriteWithChanges(batch.get(), part.changes, part.change_count); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void Database::ReleaseTransactionLocks(TransactionPart* part) {
  if (part->locked.empty()) return;
  std::lock_guard<std::mutex> l(txn_mu_);
  for (const std::string& key : part->locked) {
    auto it = txn_locks_.find(key);
    if (it != txn_locks_.end() && it->second == part) txn_locks_.erase(it);
  }
  part->locked.clear();
  txn_lock_count_.store(txn_locks_.size(), std::memory_order_release);
}

absl::Status Database::CheckTransactionLocks(const KvBatch& batch) {
  std::lock_guard<std::mutex> l(txn_mu_);
  bool conflict = false;
  batch.ForEach([&](KvBatch::OpKind kind, std::string_view key, std::string_view end) {
    if (conflict) return;
    if (kind == KvBatch::OpKind::kDeleteRange) {
      auto it = txn_locks_.lower_bound(key);
      conflict = it != txn_locks_.end() && it->first < end;
      return;
    }
    conflict = !IsMultikeyFlag(key) && txn_locks_.contains(key);
  });
  return conflict ? WriteConflict() : absl::OkStatus();
}

}  // namespace micromongo::storage
