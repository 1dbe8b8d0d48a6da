// Database's statistics (FORMAT.md's k keys): each collection's records and bytes and each
// secondary index's entries and bytes, merged into by every commit, read instead of
// counted, and counted once for a store written before they were kept.

#include <algorithm>
#include <string>
#include <vector>

#include "document/status.h"
#include "storage/counters.h"
#include "storage/database.h"
#include "storage/key_codec.h"

namespace micromongo::storage {

namespace {

// Present once every collection's statistics are kept in its k key (FORMAT.md).
constexpr std::string_view kStatsFormatKey = "mcollection_stats";
// The marker's value: every collection's statistics hold the four fields of FORMAT.md,
// and every secondary index has its own (\x01, written before the records' key bytes
// were kept, and \x02, before the indexes' statistics, count again at open).
constexpr std::string_view kStatsFormat = "\x03";

}  // namespace

absl::Status Database::LoadStats() {
  std::string value;
  auto kept = kv_->Get(kStatsFormatKey, &value);
  if (!kept.ok()) return kept.status();
  if (*kept && value == kStatsFormat) {
    for (auto& [n, c] : collections_) {
      auto stats = StoredStats(*c);
      if (!stats.ok()) return stats.status();
      SetStats(c.get(), *stats);
    }
    return absl::OkStatus();
  }
  // Written before statistics were kept, before they held the records' key bytes (marker
  // \x01) or the indexes' (\x02): count once, and keep them from now on (before any
  // write: the database is not open to anyone yet). The store itself is read: a
  // transaction bound to the thread that opens the database has nothing in it yet.
  auto batch = kv_->NewBatch();
  for (auto& [n, c] : collections_) {
    for (const IndexDef& def : c->indexes_) {
      IndexStats index;
      auto it = kv_->NewIterator(IndexPrefix(c->id(), def.id), IndexPrefix(c->id(), def.id + 1));
      for (; it->Valid(); it->Next()) {
        ++index.entries;
        index.bytes += static_cast<int64_t>(it->key().size() + it->value().size());
      }
      if (!it->status().ok()) return it->status();
      batch->Put(IndexStatsKey(c->id(), def.id), IndexStatsOperand(index.entries, index.bytes));
    }
    CollectionStats stats;
    auto rit = kv_->NewIterator(RecordPrefix(c->id()), RecordPrefix(c->id() + 1));
    for (; rit->Valid(); rit->Next()) {
      ++stats.count;
      stats.bytes += static_cast<int64_t>(rit->value().size());
      stats.key_bytes += static_cast<int64_t>(rit->key().size());
      if (c->timeseries() && rit->key().size() >= 13) {
        stats.max_seq = std::max(stats.max_seq, ReadBigEndian64(rit->key().data() + rit->key().size() - 8));
      }
    }
    if (!rit->status().ok()) return rit->status();
    batch->Put(StatsKey(c->id()), StatsOperand(stats.count, stats.bytes, stats.max_seq, stats.key_bytes));
    SetStats(c.get(), stats);
  }
  batch->Put(kStatsFormatKey, kStatsFormat);
  return kv_->Write(batch.get());
}

absl::Status Database::DiscardStats(KvStore* kv) {
  auto batch = kv->NewBatch();
  batch->DeleteRange(std::string(1, kStatsPrefix), std::string(1, kStatsPrefix + 1));
  batch->Delete(kStatsFormatKey);
  return kv->Write(batch.get());
}

void Database::SetStats(Collection* c, const CollectionStats& stats) {
  c->count_ = stats.count;
  if (c->capped()) c->natural_->bytes = stats.bytes;
  if (c->timeseries()) c->natural_->next_seq = stats.max_seq + 1;
}

absl::StatusOr<CollectionStats> Database::StoredStats(const Collection& c, const KvSnapshot* snapshot) {
  std::string value;
  auto found = kv_->Get(StatsKey(c.id()), &value, snapshot);
  if (!found.ok()) return found.status();
  CollectionStats stats;
  if (!*found) return stats;  // nothing written since statistics were kept
  std::vector<Counter> fields;
  if (!DecodeCounters(value, &fields) || fields.size() < 2 || fields.size() > 4) {
    return MongoError(kInternalError, StrCat("corrupt statistics of collection ", name_, ".", c.name()));
  }
  stats.count = fields[0].value;
  stats.bytes = fields[1].value;
  if (fields.size() >= 3) stats.max_seq = static_cast<uint64_t>(fields[2].value);
  if (fields.size() == 4) stats.key_bytes = fields[3].value;
  return stats;
}

absl::StatusOr<IndexStats> Database::StoredIndexStats(const Collection& c, uint32_t index_id,
                                                      const KvSnapshot* snapshot) {
  std::string value;
  auto found = kv_->Get(IndexStatsKey(c.id(), index_id), &value, snapshot);
  if (!found.ok()) return found.status();
  IndexStats stats;
  if (!*found) return stats;  // no entry written yet
  std::vector<Counter> fields;
  if (!DecodeCounters(value, &fields) || fields.size() != 2) {
    return MongoError(kInternalError, StrCat("corrupt statistics of an index of collection ", name_, ".", c.name()));
  }
  stats.entries = fields[0].value;
  stats.bytes = fields[1].value;
  return stats;
}

void WriteUnit::CountIndexEntry(std::string_view key, int64_t sign, size_t bytes) {
  if (key.size() < kIndexPrefixBytes || key[0] != kIndexPrefix) return;
  const uint32_t coll_id = ReadBigEndian32(key.data() + 1), index_id = ReadBigEndian32(key.data() + 5);
  auto it = std::find_if(index_deltas_.begin(), index_deltas_.end(),
                         [&](const IndexDelta& d) { return d.index_id == index_id && d.coll_id == coll_id; });
  if (it == index_deltas_.end()) it = index_deltas_.insert(it, {coll_id, index_id, {}});
  it->change.entries += sign;
  it->change.bytes += sign * static_cast<int64_t>(bytes);
}

void WriteUnit::AddStatsMerges() {
  if (stats_in_batch_) return;
  stats_in_batch_ = true;
  std::vector<Delta> sums;  // one per collection: few (mostly one) per unit
  for (const Delta& d : count_deltas_) {
    auto it = std::find_if(sums.begin(), sums.end(), [&](const Delta& s) { return s.c == d.c; });
    if (it == sums.end()) {
      sums.push_back(d);
      continue;
    }
    it->count += d.count;
    it->bytes += d.bytes;
    it->seq = std::max(it->seq, d.seq);
    it->key_bytes += d.key_bytes;
  }
  for (const Delta& d : sums) {
    if (d.count != 0 || d.bytes != 0 || d.seq != 0 || d.key_bytes != 0) {
      batch_->Merge(StatsKey(d.c->id()), StatsOperand(d.count, d.bytes, d.seq, d.key_bytes));
    }
  }
  for (const IndexDelta& d : index_deltas_) {
    if (d.change != IndexStats{}) {
      batch_->Merge(IndexStatsKey(d.coll_id, d.index_id), IndexStatsOperand(d.change.entries, d.change.bytes));
    }
  }
}

}  // namespace micromongo::storage
