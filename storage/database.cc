#include "storage/database.h"

#include <algorithm>
#include <chrono>

#include "document/builder.h"
#include "micromongo/document.h"
#include "document/status.h"
#include "storage/change_records.h"
#include "storage/key_codec.h"
#include "storage/transaction.h"

namespace micromongo::storage {
namespace {

constexpr std::string_view kNextIdKey = "mnext_collection_id";
// Change-log limits up to this size are checked by reading the log (the memtables', in
// which such a log can sit whole, have only a sampled size estimate).
constexpr uint64_t kExactLogSizeBelow = uint64_t{64} << 20;

std::string CatalogKey(std::string_view name) {
  std::string key(1, kCatalogPrefix);
  key.append(name);
  return key;
}

std::string CatalogEntry(const Collection& c) {
  bson::Builder b;
  b.AppendString("name", c.name());
  b.AppendInt64("id", c.id());
  b.AppendDocument("options", c.options());
  size_t indexes = b.StartArray("indexes");
  char scratch[24];
  for (size_t i = 0; i < c.indexes().size(); ++i) {
    size_t entry = b.StartDocument(bson::ArrayKey(i, scratch));
    b.AppendInt64("id", c.indexes()[i].id);
    b.AppendDocument("spec", bson::DocView(c.indexes()[i].spec));
    b.AppendInt32("format", static_cast<int32_t>(c.indexes()[i].format));
    b.End(entry);
  }
  b.End(indexes);
  return std::move(b).Finish();
}

// Removes one index's entries, multikey flags and statistics.
void DeleteIndexRanges(KvBatch* batch, uint32_t coll_id, uint32_t index_id) {
  batch->DeleteRange(IndexPrefix(coll_id, index_id), IndexPrefix(coll_id, index_id + 1));
  batch->DeleteRange(MultikeyPrefix(coll_id, index_id), MultikeyPrefix(coll_id, index_id + 1));
  batch->Delete(IndexStatsKey(coll_id, index_id));
}

// Everything stored under a collection's id but its catalog entry: its records, index
// entries, multikey flags, insertion order and statistics (its own and its indexes').
void DeleteCollectionKeys(KvBatch* batch, uint32_t id) {
  batch->DeleteRange(RecordPrefix(id), RecordPrefix(id + 1));
  batch->DeleteRange(IndexPrefix(id, 0), IndexPrefix(id + 1, 0));
  batch->DeleteRange(MultikeyPrefix(id, 0), MultikeyPrefix(id + 1, 0));
  batch->DeleteRange(NaturalPrefix(id), NaturalPrefix(id + 1));
  batch->DeleteRange(NaturalOfPrefix(id), NaturalOfPrefix(id + 1));
  batch->Delete(StatsKey(id));
  // Its indexes' statistics keys (no range deletion may begin at a stream's key: kv.h).
  batch->DeleteRange(StatsKey(id) + '\0', StatsKey(id + 1));
}

}  // namespace

Collection::Collection(std::string name, uint32_t id, std::string options_bson)
    : name_(std::move(name)),
      id_(id),
      options_(options_bson.empty() ? std::string("\x05\0\0\0\0", 5) : std::move(options_bson)) {
  bson::ValueView capped, size, max, timeseries, time_field;
  if (options().Find("timeseries", &timeseries) && timeseries.type == BsonType::kDocument &&
      timeseries.Doc().Find("timeField", &time_field) && time_field.type == BsonType::kString) {
    time_field_ = std::string(time_field.String());
    natural_ = std::make_shared<NaturalOrder>();
  }
  if (options().Find("capped", &capped) && capped.type == BsonType::kBool && capped.Bool()) {
    capped_ = true;
    natural_ = std::make_shared<NaturalOrder>();
    if (options().Find("size", &size) && size.IsNumber()) capped_size_ = static_cast<int64_t>(size.AsDouble());
    if (options().Find("max", &max) && max.IsNumber()) capped_max_ = std::max<int64_t>(0, static_cast<int64_t>(max.AsDouble()));
  }
}

void Collection::InheritFrom(const Collection& c) {
  count_ = c.count();
  if (natural_ != nullptr && c.natural_ != nullptr) natural_ = c.natural_;
}

std::shared_ptr<Collection> Database::Successor(const Collection& c) {
  auto next = std::make_shared<Collection>(c.name(), c.id(), std::string(c.options().bytes()));
  next->InheritFrom(c);
  return next;
}

std::string_view IndexDef::name() const {
  bson::ValueView v;
  if (!bson::DocView(spec).Find("name", &v) || v.type != BsonType::kString) return {};
  return v.String();
}

WriteUnit::WriteUnit(Database* db) : db_(db), batch_(db->kv_->NewBatch()) {}

void WriteUnit::PutIndexEntry(std::string key, std::string value, bool unique) {
  batch_->Put(key, value);
  CountIndexEntry(key, +1, key.size() + value.size());
  if (unique) pending_index_[std::move(key)] = std::move(value);
}

namespace {

void PutMultikey(KvBatch* batch, uint32_t coll_id, uint32_t index_id, uint64_t fields) {
  std::string prefix = MultikeyPrefix(coll_id, index_id);
  for (int i = 0; i < 64; ++i) {
    if (fields & (uint64_t{1} << i)) batch->Put(prefix + static_cast<char>(i), "");
  }
}

}  // namespace

void WriteUnit::MarkMultikey(const Collection& c, const IndexDef& def, uint64_t fields) {
  def.multikey->fields.fetch_or(fields, std::memory_order_acq_rel);
  uint64_t unstored = fields & ~def.multikey->persisted.load(std::memory_order_acquire);
  if (unstored == 0) return;
  PutMultikey(batch_.get(), c.id(), def.id, unstored);
  multikey_.emplace_back(def.multikey, unstored);
}

void WriteUnit::MarkBuildMultikey(const Collection& c, uint32_t index_id, uint64_t fields) {
  uint64_t before = build_multikey_->fields.fetch_or(fields, std::memory_order_acq_rel);
  uint64_t added = fields & ~before;
  if (added == 0) return;
  PutMultikey(batch_.get(), c.id(), index_id, added);
  multikey_.emplace_back(build_multikey_, added);
}

void WriteUnit::DeleteIndexEntry(std::string key, size_t value_bytes, bool unique) {
  batch_->Delete(key);
  CountIndexEntry(key, -1, key.size() + value_bytes);
  if (unique) pending_index_[std::move(key)] = std::nullopt;
}

absl::StatusOr<std::optional<std::string>> WriteUnit::GetIndexEntry(std::string_view key) {
  if (auto it = pending_index_.find(key); it != pending_index_.end()) return it->second;
  if (in_flight_index_ != nullptr) {
    if (auto it = in_flight_index_->find(key); it != in_flight_index_->end()) return it->second;
  }
  std::string value;
  TransactionPart* part = db_->BoundPart();
  auto found = part != nullptr ? db_->GetInPart(part, key, &value) : db_->kv_->Get(key, &value);
  if (!found.ok()) return found.status();
  if (!*found) return std::optional<std::string>();
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<bool> WriteUnit::HasOtherIndexEntry(std::string_view key_prefix, std::string_view own_id) {
  // The byte string after every key that starts with key_prefix.
  std::string end(key_prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  auto names_other = [&](std::string_view key) { return key.substr(key_prefix.size()) != own_id; };
  for (auto it = pending_index_.lower_bound(key_prefix);
       it != pending_index_.end() && std::string_view(it->first).starts_with(key_prefix); ++it) {
    if (it->second.has_value() && names_other(it->first)) return true;
  }
  TransactionPart* part = db_->BoundPart();
  std::unique_ptr<KvIterator> it = part != nullptr ? db_->IteratorInPart(part, std::string(key_prefix), end)
                                                   : db_->kv_->NewIterator(std::string(key_prefix), end);
  for (; it->Valid(); it->Next()) {
    // This unit's own puts and deletes of the key were looked at above.
    if (pending_index_.contains(it->key())) continue;
    if (names_other(it->key())) return true;
  }
  if (auto s = it->status(); !s.ok()) return s;
  return false;
}

namespace {

constexpr std::string_view kTrimmedKey = "mchanges_trimmed_before";

// Whether the collection keeps pre- and post-images for change streams (its
// changeStreamPreAndPostImages option: {enabled: true}).
bool KeepsImages(const Collection& c) {
  bson::ValueView v, enabled;
  return c.options().Find("changeStreamPreAndPostImages", &v) && v.type == BsonType::kDocument &&
         v.Doc().Find("enabled", &enabled) && enabled.type == BsonType::kBool && enabled.Bool();
}

// What one change-log record says (FORMAT.md).
struct Change {
  std::string_view op;
  std::string_view coll;
  int64_t cid = -1;               // the collection's id (-1: none)
  const Collection* c = nullptr;  // the collection whose images option applies
  std::string_view after, before;
  std::string_view desc;          // updateDescription or operationDescription (BSON)
  std::string_view to;            // a rename's new name
  int64_t dropped_cid = -1;       // a rename's dropped target
};

// A change-log record. Documents a change stream can only show as pre- and post-images
// are kept only when the collection keeps images: an insert or replace holds the new
// document, an update its description and a delete its _id.
void AppendChangeRecord(const Change& ch, std::string* out) {
  bool images = ch.c != nullptr && KeepsImages(*ch.c);
  bson::Builder b(bson::Builder::AppendTo{out});
  b.Reserve(80 + ch.after.size() + (images ? ch.before.size() : 0) + ch.desc.size());
  b.AppendString("op", ch.op);
  if (!ch.coll.empty()) b.AppendString("coll", ch.coll);
  if (ch.cid >= 0) b.AppendInt64("cid", ch.cid);
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  b.AppendValue("wall", Value(DateTime{now}));
  if (images) b.AppendBool("images", true);
  if (ch.op == "update" || ch.op == "delete") {
    bson::ValueView id;
    if (bson::DocView(ch.after.empty() ? ch.before : ch.after).Find("_id", &id)) {
      size_t key = b.StartDocument("key");
      b.AppendView("_id", id);
      b.End(key);
    }
  }
  if (!ch.desc.empty()) b.AppendDocument("desc", bson::DocView(ch.desc));
  if (!ch.before.empty() && images) b.AppendDocument("before", bson::DocView(ch.before));
  if (!ch.after.empty() && (ch.op != "update" || images)) b.AppendDocument("after", bson::DocView(ch.after));
  if (!ch.to.empty()) b.AppendString("to", ch.to);
  if (ch.dropped_cid >= 0) b.AppendInt64("dropped_cid", ch.dropped_cid);
  std::move(b).Finish(bson::Builder::AppendTo{out});
}

std::string ChangeRecord(const Change& ch) {
  std::string record;
  AppendChangeRecord(ch, &record);
  return record;
}

// {indexes: [spec]}: the operationDescription of createIndexes and dropIndexes events.
std::string IndexesDescription(std::string_view spec) {
  bson::Builder b;
  size_t arr = b.StartArray("indexes");
  b.AppendDocument("0", bson::DocView(spec));
  b.End(arr);
  return std::move(b).Finish();
}

}  // namespace

void WriteUnit::PutRecord(Collection* c, std::string_view key, std::string_view bson, RecordWrite kind,
                          std::string_view before, std::string_view description) {
  batch_->Put(key, bson);
  int64_t bytes = static_cast<int64_t>(bson.size()) - static_cast<int64_t>(before.size());
  if (kind == RecordWrite::kInsert) {
    uint64_t seq = c->timeseries() && key.size() >= 13 ? ReadBigEndian64(key.data() + key.size() - 8) : 0;
    count_deltas_.push_back({c, 1, bytes, seq, static_cast<int64_t>(key.size())});
    if (c->capped_) {
      // Capped inserts hold the collection's write mutex through their commit, so
      // sequence order is commit order.
      uint64_t seq = c->natural_->next_seq.fetch_add(1, std::memory_order_relaxed);
      std::string_view id = key.substr(5);
      std::string seq_bytes;
      AppendBigEndian64(seq, &seq_bytes);
      batch_->Put(NaturalKey(c->id(), seq), id);
      batch_->Put(NaturalOfKey(c->id(), id), seq_bytes);
    }
  } else if (bytes != 0) {
    count_deltas_.push_back({c, 0, bytes});
  }
  std::string_view op = kind == RecordWrite::kInsert ? "insert" : kind == RecordWrite::kUpdate ? "update" : "replace";
  AppendChangeRecord(
      {.op = op, .coll = c->name(), .cid = c->id(), .c = c, .after = bson, .before = before, .desc = description},
      &changes_);
  ++change_count_;
}

absl::Status WriteUnit::DeleteRecord(Collection* c, std::string_view key, std::string_view before,
                                     std::optional<uint64_t> seq) {
  if (c->capped_) {
    std::string of_key = NaturalOfKey(c->id(), key.substr(5));
    if (!seq.has_value()) {
      std::string value;
      auto found = db_->kv_->Get(of_key, &value);
      if (!found.ok()) return found.status();
      if (*found && value.size() == 8) seq = ReadBigEndian64(value.data());
    }
    if (seq.has_value()) batch_->Delete(NaturalKey(c->id(), *seq));
    batch_->Delete(of_key);
  }
  batch_->Delete(key);
  count_deltas_.push_back({c, -1, -static_cast<int64_t>(before.size()), 0, -static_cast<int64_t>(key.size())});
  AppendChangeRecord({.op = "delete", .coll = c->name(), .cid = c->id(), .c = c, .before = before}, &changes_);
  ++change_count_;
  return absl::OkStatus();
}

Database::Database(std::string name, std::unique_ptr<KvStore> kv, std::unique_ptr<DirLock> lock)
    : name_(std::move(name)), kv_(std::move(kv)), lock_(std::move(lock)) {}

Database::~Database() {
  kv_.reset();  // close RocksDB before releasing the directory lock
  lock_.reset();
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(std::string name,
                                                         std::unique_ptr<KvStore> kv,
                                                         std::unique_ptr<DirLock> lock,
                                                         std::shared_ptr<ChangeClock> clock,
                                                         CrossCommitter* cross) {
  std::unique_ptr<Database> db(new Database(std::move(name), std::move(kv), std::move(lock)));
  db->clock_ = clock != nullptr ? std::move(clock) : std::make_shared<ChangeClock>();
  db->cross_ = cross;
  std::string value;
  auto found = db->kv_->Get(kTrimmedKey, &value);
  if (!found.ok()) return found.status();
  if (*found && value.size() == 8) db->trimmed_before_ = ReadBigEndian64(value.data());
  {
    // The clock never hands out a time this database already holds.
    auto last = db->kv_->NewIterator(std::string(1, kLogPrefix), std::string(1, kLogPrefix + 1));
    last->SeekForPrev(std::string(1, kLogPrefix + 1));
    if (last->Valid() && last->key().size() == 9) {
      uint64_t records = 0;
      ForEachChangeRecord(last->value(), [&](uint64_t, std::string_view) { return ++records, true; });
      db->clock_->Advance(ReadBigEndian64(last->key().data() + 1) + (records > 0 ? records - 1 : 0));
    }
    if (!last->status().ok()) return last->status();
  }
  // Before the catalog loads: a commit applied here may have created collections (and
  // moved the next id on).
  if (auto s = db->ResolvePending(); !s.ok()) return s;
  found = db->kv_->Get(kNextIdKey, &value);
  if (!found.ok()) return found.status();
  if (*found && value.size() == 4) db->next_id_ = ReadBigEndian32(value.data());
  if (auto s = db->RemoveInterruptedBuilds(); !s.ok()) return s;

  std::string lower(1, kCatalogPrefix), upper(1, kCatalogPrefix + 1);
  auto it = db->kv_->NewIterator(lower, upper);
  for (; it->Valid(); it->Next()) {
    bson::DocView entry(it->value());
    bson::ValueView name_v, id_v, options_v;
    if (!entry.Find("name", &name_v) || !entry.Find("id", &id_v)) {
      return MongoError(kInternalError, StrCat("corrupt catalog entry in database ", db->name_));
    }
    std::string options;
    if (entry.Find("options", &options_v) && options_v.type == BsonType::kDocument) {
      options = std::string(options_v.Doc().bytes());
    }
    auto c = std::make_shared<Collection>(std::string(name_v.String()),
                                          static_cast<uint32_t>(id_v.Int64()), std::move(options));
    bson::ValueView indexes;
    if (entry.Find("indexes", &indexes) && indexes.type == BsonType::kArray) {
      for (const bson::ElementView& e : indexes.Doc()) {
        bson::ValueView index_id, spec;
        if (e.value.type != BsonType::kDocument || !e.value.Doc().Find("id", &index_id) ||
            !e.value.Doc().Find("spec", &spec)) {
          return MongoError(kInternalError, StrCat("corrupt index entry in catalog of ", db->name_));
        }
        IndexDef def;
        def.id = static_cast<uint32_t>(index_id.Int64());
        def.spec = std::string(spec.Doc().bytes());
        bson::ValueView format;
        def.format = e.value.Doc().Find("format", &format) && format.IsNumber()
                         ? static_cast<uint32_t>(format.AsDouble())
                         : 1;
        c->indexes_.push_back(std::move(def));
      }
    }
    db->collections_.emplace(c->name(), c);
  }
  if (!it->status().ok()) return it->status();
  // Multikey flags: x<coll id><index id><field>.
  std::string mk_lower(1, kMultikeyPrefix), mk_upper(1, kMultikeyPrefix + 1);
  auto mk = db->kv_->NewIterator(mk_lower, mk_upper);
  for (; mk->Valid(); mk->Next()) {
    std::string_view k = mk->key();
    if (k.size() != 10) continue;
    uint32_t coll_id = ReadBigEndian32(k.data() + 1), index_id = ReadBigEndian32(k.data() + 5);
    int field = static_cast<unsigned char>(k[9]);
    for (auto& [n, c] : db->collections_) {
      if (c->id() != coll_id) continue;
      for (IndexDef& def : c->indexes_) {
        if (def.id != index_id || field >= 64) continue;
        def.multikey->fields |= uint64_t{1} << field;
        def.multikey->persisted |= uint64_t{1} << field;
      }
    }
  }
  if (!mk->status().ok()) return mk->status();
  if (auto s = db->LoadStats(); !s.ok()) return s;
  for (auto& [n, c] : db->collections_) {
    if (!c->capped()) continue;
    auto last = db->kv_->NewIterator(NaturalPrefix(c->id()), NaturalPrefix(c->id() + 1));
    last->SeekToLast();
    if (last->Valid() && last->key().size() == 13) c->natural_->next_seq = ReadBigEndian64(last->key().data() + 5) + 1;
    if (!last->status().ok()) return last->status();
  }
  return db;
}

std::shared_ptr<Collection> Database::FindCollection(std::string_view name) const {
  {
    std::lock_guard<std::mutex> l(catalog_mu_);
    auto it = collections_.find(name);
    if (it != collections_.end()) return it->second;
  }
  // A transaction sees the collections it created.
  if (Transaction* txn = BoundTransaction()) {
    if (TransactionPart* part = txn->FindPart(this)) return CreatedIn(part, name);
  }
  return nullptr;
}

std::shared_ptr<Collection> Database::CreatedIn(const TransactionPart* part, std::string_view name) {
  for (const auto& c : part->created) {
    if (c->name() == name) return c;
  }
  return nullptr;
}

std::shared_ptr<Collection> Database::CreateInTransactionLocked(TransactionPart* part, std::string_view name,
                                                                std::string_view options_bson) {
  // The id is taken now (ids are never reused, so an aborted transaction only skips one);
  // the next-id key is written with the commit.
  uint32_t id = next_id_++;
  auto c = std::make_shared<Collection>(std::string(name), id, std::string(options_bson));
  AppendChangeRecord({.op = "create", .coll = name, .cid = id, .desc = c->options().bytes()}, &part->changes);
  ++part->change_count;
  part->created.push_back(c);
  return c;
}

absl::Status Database::PutCreatedCollectionsLocked(TransactionPart* part, KvBatch* batch) {
  if (part->created.empty()) return absl::OkStatus();
  for (const auto& c : part->created) {
    if (collections_.contains(c->name())) {
      return MongoError(kWriteConflict, StrCat("Collection ", name_, ".", c->name(),
                                               " was created by another operation during the transaction"));
    }
    batch->Put(CatalogKey(c->name()), CatalogEntry(*c));
  }
  std::string next;
  AppendBigEndian32(next_id_, &next);
  batch->Put(kNextIdKey, next);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Collection>> Database::CreateLocked(std::string_view name,
                                                                  std::string_view options_bson) {
  // catalog_mu_ held.
  uint32_t id = next_id_;
  auto c = std::make_shared<Collection>(std::string(name), id, std::string(options_bson));
  auto batch = kv_->NewBatch();
  batch->Put(CatalogKey(name), CatalogEntry(*c));
  std::string next;
  AppendBigEndian32(id + 1, &next);
  batch->Put(kNextIdKey, next);
  if (auto s = WriteWithChanges(batch.get(), ChangeRecord({.op = "create", .coll = name, .cid = id,
                                                             .desc = c->options().bytes()}));
      !s.ok()) {
    return s;
  }
  next_id_ = id + 1;
  collections_.emplace(c->name(), c);
  return c;
}

absl::StatusOr<std::shared_ptr<Collection>> Database::GetOrCreateCollection(
    std::string_view name) {
  TransactionPart* part = BoundPart();
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto it = collections_.find(name);
  if (it != collections_.end()) return it->second;
  if (part != nullptr) {
    if (auto mine = CreatedIn(part, name)) return mine;
    return CreateInTransactionLocked(part, name, {});
  }
  return CreateLocked(name, {});
}

absl::Status Database::CreateCollection(std::string_view name, std::string_view options_bson) {
  if (TransactionPart* part = BoundPart()) {
    bson::DocView options(options_bson.empty() ? std::string_view("\x05\0\0\0\0", 5) : options_bson);
    for (std::string_view special : {"capped", "timeseries", "viewOn", "clusteredIndex"}) {
      bson::ValueView v;
      if (options.Find(special, &v)) {
        return MongoError(kOperationNotSupportedInTransaction,
                          StrCat("Cannot create a collection with option '", special, "' in a multi-document transaction."));
      }
    }
    std::lock_guard<std::mutex> l(catalog_mu_);
    if (collections_.contains(name) || CreatedIn(part, name) != nullptr) {
      return MongoError(kNamespaceExists, StrCat("Collection ", name_, ".", name, " already exists."));
    }
    CreateInTransactionLocked(part, name, options_bson);
    return absl::OkStatus();
  }
  std::unique_lock<std::shared_mutex> ddl(ddl_mu_);
  std::lock_guard<std::mutex> l(catalog_mu_);
  if (collections_.count(name)) {
    return MongoError(kNamespaceExists, StrCat("Collection ", name_, ".", name, " already exists."));
  }
  return CreateLocked(name, options_bson).status();
}

absl::Status Database::SetCollectionOptions(std::string_view name, std::string_view options_bson) {
  return ChangeCollectionOptions(
      name, [&](bson::DocView) -> absl::StatusOr<std::string> { return std::string(options_bson); });
}

absl::Status Database::ChangeCollectionOptions(std::string_view name, const OptionsChange& change) {
  std::unique_lock<std::shared_mutex> ddl(ddl_mu_);
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto it = collections_.find(name);
  if (it == collections_.end()) {
    return MongoError(kNamespaceNotFound, StrCat("ns does not exist: ", name_, ".", name));
  }
  auto options = change(it->second->options());
  if (!options.ok()) return options.status();
  auto changed = std::make_shared<Collection>(std::string(name), it->second->id(),
                                              *std::move(options));
  changed->InheritFrom(*it->second);
  changed->indexes_ = it->second->indexes_;
  auto batch = kv_->NewBatch();
  batch->Put(CatalogKey(name), CatalogEntry(*changed));
  if (auto s = WriteWithChanges(batch.get(), ChangeRecord({.op = "modify", .coll = name, .cid = changed->id(),
                                                             .desc = changed->options().bytes()}));
      !s.ok()) {
    return s;
  }
  it->second = std::move(changed);
  return absl::OkStatus();
}

absl::StatusOr<bool> Database::DropCollection(std::string_view name) {
  std::unique_lock<std::shared_mutex> ddl(ddl_mu_);
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto it = collections_.find(name);
  if (it == collections_.end()) return false;
  uint32_t id = it->second->id();
  auto batch = kv_->NewBatch();
  batch->Delete(CatalogKey(name));
  // Records and index entries of the id go with it; ids are never reused.
  DeleteCollectionKeys(batch.get(), id);
  if (auto s = WriteWithChanges(batch.get(), ChangeRecord({.op = "drop", .coll = name, .cid = id})); !s.ok()) {
    return s;
  }
  collections_.erase(it);
  if (auto s = kv_->Flush(); !s.ok()) return s;  // keep point lookups fast (see KvStore)
  return true;
}

absl::Status Database::RenameCollection(std::string_view from, std::string_view to,
                                        bool drop_target) {
  std::unique_lock<std::shared_mutex> ddl(ddl_mu_);
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto src = collections_.find(from);
  if (src == collections_.end()) {
    return MongoError(kNamespaceNotFound, StrCat("source namespace ", name_, ".", from, " does not exist"));
  }
  if (from == to) {
    return MongoError(kIllegalOperation, "Can't rename a collection to itself");
  }
  auto batch = kv_->NewBatch();
  auto dst = collections_.find(to);
  bool dropped_target = false;
  if (dst != collections_.end()) {
    if (!drop_target) {
      return MongoError(kNamespaceExists, StrCat("target namespace ", name_, ".", to, " exists"));
    }
    DeleteCollectionKeys(batch.get(), dst->second->id());
    dropped_target = true;
  }
  std::shared_ptr<Collection> moved = src->second;
  auto renamed = std::make_shared<Collection>(std::string(to), moved->id(),
                                              std::string(moved->options().bytes()));
  renamed->InheritFrom(*moved);
  renamed->indexes_ = moved->indexes_;
  batch->Delete(CatalogKey(from));
  batch->Put(CatalogKey(to), CatalogEntry(*renamed));
  Change rename{.op = "rename", .coll = from, .cid = moved->id(), .to = to};
  if (dropped_target) rename.dropped_cid = dst->second->id();
  if (auto s = WriteWithChanges(batch.get(), ChangeRecord(rename)); !s.ok()) return s;
  collections_.erase(src);
  collections_.erase(std::string(to));
  collections_.emplace(renamed->name(), renamed);
  if (dropped_target) return kv_->Flush();
  return absl::OkStatus();
}

absl::Status Database::CreateIndex(std::string_view coll, std::string spec_bson,
                                   const IndexBuilder& build) {
  if (TransactionPart* part = BoundPart()) {
    // MongoDB builds indexes in a transaction only on a collection that is new and empty:
    // one this transaction created (or creates now) and wrote nothing to, so the index has
    // no entries to build.
    std::shared_ptr<Collection> target;
    {
      std::lock_guard<std::mutex> l(catalog_mu_);
      if (!collections_.contains(coll)) {
        target = CreatedIn(part, coll);
        if (target == nullptr) target = CreateInTransactionLocked(part, coll, {});
      }
    }
    std::string prefix = RecordPrefix(target == nullptr ? 0 : target->id());
    auto written = part->writes.lower_bound(prefix);
    if (target == nullptr || (written != part->writes.end() && written->first.starts_with(prefix))) {
      return MongoError(kOperationNotSupportedInTransaction,
                        StrCat("Cannot create new indexes on existing collection ", name_, ".", coll,
                               " in a multi-document transaction."));
    }
    IndexDef def{0, spec_bson};
    for (const IndexDef& d : target->indexes_) {
      if (d.name() == def.name()) return MongoError(kIndexOptionsConflict, StrCat("index ", d.name(), " already exists"));
    }
    {
      std::lock_guard<std::mutex> l(catalog_mu_);
      def.id = next_id_++;
    }
    // An empty collection: the builder finds nothing, but checks the spec against it.
    WriteUnit unit(this);
    unit.build_multikey_ = def.multikey;
    IndexBuildSink sink(this, &unit, /*batched=*/false);
    if (auto s = build(*target, def.id, &sink); !s.ok()) return s;
    AppendChangeRecord({.op = "createIndexes", .coll = coll, .cid = target->id(), .desc = IndexesDescription(def.spec)},
                       &part->changes);
    ++part->change_count;
    target->indexes_.push_back(std::move(def));  // not shared yet: only this transaction sees it
    return absl::OkStatus();
  }
  // Readers go on (ddl shared); writers wait at the gate, so the scan sees every record
  // and no write commits without the new index's entries.
  std::shared_lock<std::shared_mutex> ddl(ddl_mu_);
  std::unique_lock<std::shared_mutex> gate(write_gate_);
  auto found = GetOrCreateCollection(coll);
  if (!found.ok()) return found.status();
  std::shared_ptr<Collection> current = *std::move(found);
  uint32_t index_id;
  {
    std::lock_guard<std::mutex> l(catalog_mu_);
    for (const IndexDef& def : current->indexes_) {
      if (def.name() == IndexDef{0, spec_bson}.name()) {
        return MongoError(kIndexOptionsConflict, StrCat("index ", def.name(), " already exists"));
      }
    }
    // The id is taken and the build marked in one batch, before any entry is written.
    index_id = next_id_;
    auto batch = kv_->NewBatch();
    std::string next;
    AppendBigEndian32(index_id + 1, &next);
    batch->Put(kNextIdKey, next);
    batch->Put(BuildMarkerKey(current->id(), index_id), "");
    if (auto s = kv_->Write(batch.get()); !s.ok()) return s;
    next_id_ = index_id + 1;
  }
  IndexDef def;
  def.id = index_id;
  def.spec = std::move(spec_bson);
  WriteUnit unit(this);
  unit.build_multikey_ = def.multikey;
  IndexBuildSink sink(this, &unit, /*batched=*/true, current->id(), index_id);
  absl::Status built = build(*current, index_id, &sink);
  if (built.ok()) built = sink.Flush();
  if (!built.ok()) {
    (void)sink.Wait();  // no batch may land after the removal
    (void)DropBuildEntries(current->id(), index_id);
    return built;
  }
  {
    std::lock_guard<std::mutex> l(catalog_mu_);
    auto changed = Successor(*current);
    changed->indexes_ = current->indexes_;
    changed->indexes_.push_back(std::move(def));
    unit.batch()->Put(CatalogKey(coll), CatalogEntry(*changed));
    unit.batch()->Delete(BuildMarkerKey(current->id(), index_id));
    // Its statistics, counted as its batches went in: no writer ran meanwhile.
    unit.batch()->Put(IndexStatsKey(current->id(), index_id),
                      IndexStatsOperand(sink.written_stats_.entries, sink.written_stats_.bytes));
    std::string created = IndexesDescription(changed->indexes_.back().spec);
    if (auto s = WriteWithChanges(unit.batch(), ChangeRecord({.op = "createIndexes", .coll = coll,
                                                               .cid = current->id(), .desc = created}));
        !s.ok()) {
      (void)DropBuildEntries(current->id(), index_id);
      return s;
    }
    for (auto& [flags, fields] : unit.multikey_) flags->persisted.fetch_or(fields, std::memory_order_acq_rel);
    collections_[std::string(coll)] = std::move(changed);
  }
  MergeBuiltIndex(current->id(), index_id);
  return absl::OkStatus();
}

void Database::MergeBuiltIndex(uint32_t coll_id, uint32_t index_id) {
  // A build writes its entries as sorted files of 32 MiB, each ingested where it fits: an
  // index whose entries come out of the record scan in key order (an ascending _id, a
  // field increasing with it) as disjoint files in the last level, any other (a compound,
  // multikey or text index, a field unrelated to _id) as files overlapping one another,
  // which RocksDB puts in level 0. There every seek of every query on the index merges
  // all of them, until enough level-0 files pile up for an automatic compaction, which
  // may never come in a store that is mostly read. A compaction scheduled now makes the
  // index one sorted run soon, as MongoDB's external sorter makes it before the build
  // ends, without holding the build up. A failure leaves the index correct, only slower
  // to read until RocksDB compacts. Only the build's own files count: a memtable flush
  // in level 0 spans every kind of key, and RocksDB's own triggers compact those.
  std::string lo = IndexPrefix(coll_id, index_id), hi = IndexPrefix(coll_id, index_id + 1);
  for (const KvStore::TableFile& f : kv_->TableFiles()) {
    if (f.level == 0 && f.smallest >= lo && f.largest < hi) {
      (void)kv_->ScheduleCompaction(lo, hi);
      return;
    }
  }
}

IndexBuildSink::~IndexBuildSink() { (void)Wait(); }

absl::Status IndexBuildSink::RecordDone() {
  // Big enough that a file's fixed costs vanish and a build makes few of them (each lands
  // in level 0 until compaction merges them), small enough to bound the memory a build of
  // any size holds (two batches: the one written and the one filled).
  constexpr size_t kBytesPerBatch = 32 << 20;
  if (!batched_ || unit_->batch()->ByteSize() < kBytesPerBatch) return absl::OkStatus();
  return StartWrite();
}

absl::Status IndexBuildSink::Flush() {
  if (!batched_) return absl::OkStatus();
  if (auto s = StartWrite(); !s.ok()) return s;
  return Wait();
}

absl::Status IndexBuildSink::StartWrite() {
  if (auto s = Wait(); !s.ok()) return s;
  for (const WriteUnit::IndexDelta& d : unit_->index_deltas_) {
    written_stats_.entries += d.change.entries;
    written_stats_.bytes += d.change.bytes;
  }
  unit_->index_deltas_.clear();
  if (unit_->empty()) return absl::OkStatus();
  // The entries (and multikey marks) of a new index: no other write touches its keys
  // while it builds, so they go in as a sorted file rather than through the memtable.
  in_flight_batch_ = std::move(unit_->batch_);
  in_flight_multikey_ = std::move(unit_->multikey_);
  in_flight_index_ = std::move(unit_->pending_index_);
  // The batch written before is filled again: a fresh one of 32 MiB would be faulted in
  // page by page, and grown by copying, a tenth of a text index build.
  unit_->Reset(std::move(spare_batch_));
  unit_->in_flight_index_ = &in_flight_index_;
  std::string prefix = IndexPrefix(coll_id_, index_id_);
  KvBatch* batch = in_flight_batch_.get();
  try {
    writer_ = std::thread([this, batch, prefix] { written_ = db_->kv_->Ingest(batch, prefix); });
  } catch (const std::system_error&) {
    return Written(db_->kv_->Ingest(batch, prefix));  // no thread to be had: write it here
  }
  return absl::OkStatus();
}

absl::Status IndexBuildSink::Wait() {
  if (!writer_.joinable()) return absl::OkStatus();
  writer_.join();
  return Written(written_);
}

absl::Status IndexBuildSink::Written(absl::Status written) {
  unit_->in_flight_index_ = nullptr;  // stored now, or the build fails
  in_flight_index_.clear();
  if (in_flight_batch_ != nullptr) {
    in_flight_batch_->Clear();
    spare_batch_ = std::move(in_flight_batch_);
  }
  if (!written.ok()) return written;
  for (auto& [flags, fields] : in_flight_multikey_) flags->persisted.fetch_or(fields, std::memory_order_acq_rel);
  in_flight_multikey_.clear();
  return absl::OkStatus();
}

void WriteUnit::Reset(std::unique_ptr<KvBatch> empty_batch) {
  batch_ = empty_batch != nullptr ? std::move(empty_batch) : db_->kv_->NewBatch();
  stats_in_batch_ = false;
  count_deltas_.clear();
  index_deltas_.clear();
  multikey_.clear();
  pending_index_.clear();
  changes_.clear();
  change_count_ = 0;
}

absl::Status Database::DropBuildEntries(uint32_t coll_id, uint32_t index_id) {
  auto batch = kv_->NewBatch();
  DeleteIndexRanges(batch.get(), coll_id, index_id);
  batch->Delete(BuildMarkerKey(coll_id, index_id));
  return kv_->Write(batch.get());
}

absl::Status Database::RemoveInterruptedBuilds() {
  std::vector<std::pair<uint32_t, uint32_t>> builds;
  auto it = kv_->NewIterator(std::string(1, kBuildPrefix), std::string(1, kBuildPrefix + 1));
  for (; it->Valid(); it->Next()) {
    std::string_view k = it->key();
    if (k.size() != 9) continue;
    builds.emplace_back(ReadBigEndian32(k.data() + 1), ReadBigEndian32(k.data() + 5));
  }
  if (!it->status().ok()) return it->status();
  for (auto [coll_id, index_id] : builds) {
    if (auto s = DropBuildEntries(coll_id, index_id); !s.ok()) return s;
  }
  // Range deletions in the memtable slow every point read (see KvStore::Flush).
  return builds.empty() ? absl::OkStatus() : kv_->Flush();
}

absl::Status Database::ChangeIndex(std::string_view coll, std::string_view index_name, const IndexChange& change) {
  std::unique_lock<std::shared_mutex> ddl(ddl_mu_);
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto it = collections_.find(coll);
  if (it == collections_.end()) {
    return MongoError(kNamespaceNotFound, StrCat("ns does not exist: ", name_, ".", coll));
  }
  const Collection& current = *it->second;
  auto changed = Successor(current);
  changed->indexes_ = current.indexes_;
  bool found = false;
  for (IndexDef& def : changed->indexes_) {
    if (def.name() != index_name) continue;
    auto spec = change(bson::DocView(def.spec));
    if (!spec.ok()) return spec.status();
    def.spec = *std::move(spec);
    found = true;
  }
  if (!found) return MongoError(kIndexNotFound, StrCat("cannot find index ", index_name, " for ns ", name_, ".", coll));
  auto batch = kv_->NewBatch();
  batch->Put(CatalogKey(coll), CatalogEntry(*changed));
  std::string modified;
  for (const IndexDef& def : changed->indexes_) {
    if (def.name() != index_name) continue;
    bson::Builder d;
    d.AppendDocument("index", bson::DocView(def.spec));
    modified = std::move(d).Finish();
  }
  if (auto s = WriteWithChanges(batch.get(), ChangeRecord({.op = "modify", .coll = coll, .cid = changed->id(),
                                                             .desc = modified}));
      !s.ok()) {
    return s;
  }
  it->second = std::move(changed);
  return absl::OkStatus();
}

absl::Status Database::DropIndex(std::string_view coll, std::string_view index_name) {
  std::unique_lock<std::shared_mutex> ddl(ddl_mu_);
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto it = collections_.find(coll);
  if (it == collections_.end()) {
    return MongoError(kNamespaceNotFound, StrCat("ns not found ", name_, ".", coll));
  }
  const Collection& current = *it->second;
  auto changed = Successor(current);
  auto batch = kv_->NewBatch();
  bool found = false;
  for (const IndexDef& def : current.indexes_) {
    if (def.name() == index_name) {
      DeleteIndexRanges(batch.get(), current.id(), def.id);
      found = true;
    } else {
      changed->indexes_.push_back(def);
    }
  }
  if (!found) {
    return MongoError(kIndexNotFound, StrCat("index not found with name [", index_name, "]"));
  }
  batch->Put(CatalogKey(coll), CatalogEntry(*changed));
  std::string dropped;
  for (const IndexDef& def : current.indexes_) {
    if (def.name() == index_name) dropped = IndexesDescription(def.spec);
  }
  if (auto s = WriteWithChanges(batch.get(), ChangeRecord({.op = "dropIndexes", .coll = coll, .cid = current.id(),
                                                             .desc = dropped}));
      !s.ok()) {
    return s;
  }
  it->second = std::move(changed);
  (void)kv_->Flush();  // keeps point lookups fast (KvStore::Flush); the drop has happened
  return absl::OkStatus();
}

std::vector<std::string> Database::CollectionNames() const {
  std::lock_guard<std::mutex> l(catalog_mu_);
  std::vector<std::string> names;
  for (const auto& [n, c] : collections_) names.push_back(n);
  return names;
}

std::shared_ptr<const KvSnapshot> Database::Snapshot() {
  if (TransactionPart* part = BoundPart()) return part->snapshot;
  return kv_->GetSnapshot();
}

absl::StatusOr<bool> Database::GetRecord(const Collection& c, std::string_view key,
                                         std::string* bson, const KvSnapshot* snapshot) {
  if (TransactionPart* part = BoundPart()) return GetInPart(part, key, bson);
  return kv_->Get(key, bson, snapshot);
}

absl::Status Database::GetRecords(const std::vector<std::string_view>& keys, std::vector<std::string>* bson,
                                  std::vector<bool>* found, const KvSnapshot* snapshot, bool* scattered) {
  TransactionPart* part = BoundPart();
  if (part == nullptr) return kv_->MultiGet(keys, bson, found, snapshot, scattered);
  // The transaction's own writes first; the rest from its snapshot.
  bson->assign(keys.size(), std::string());
  found->assign(keys.size(), false);
  std::vector<std::string_view> rest;
  std::vector<size_t> rest_at;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = part->writes.find(keys[i]);
    if (it == part->writes.end()) {
      rest.push_back(keys[i]);
      rest_at.push_back(i);
    } else if (it->second.has_value()) {
      (*bson)[i] = *it->second;
      (*found)[i] = true;
    }
  }
  if (rest.empty()) return absl::OkStatus();
  std::vector<std::string> values;
  std::vector<bool> present;
  if (auto s = kv_->MultiGet(rest, &values, &present, part->snapshot.get(), scattered); !s.ok()) return s;
  for (size_t j = 0; j < rest.size(); ++j) {
    (*found)[rest_at[j]] = present[j];
    if (present[j]) (*bson)[rest_at[j]] = std::move(values[j]);
  }
  return absl::OkStatus();
}

absl::Status Database::RecordsExist(const Collection& c, const std::vector<std::string_view>& keys,
                                    std::vector<bool>* exist) {
  if (BoundPart() == nullptr) return kv_->KeysExist(keys, exist, RecordPrefix(c.id() + 1));
  std::vector<std::string> values;
  return GetRecords(keys, &values, exist);
}

std::unique_ptr<KvIterator> Database::ScanIndex(const Collection& c, uint32_t index_id,
                                                std::string_view lo, std::string_view hi) {
  std::string prefix = IndexPrefix(c.id(), index_id);
  if (TransactionPart* part = BoundPart()) {
    return IteratorInPart(part, prefix + std::string(lo), prefix + std::string(hi));
  }
  return kv_->NewIterator(prefix + std::string(lo), prefix + std::string(hi));
}

std::unique_ptr<KvIterator> Database::ScanIndex(const Collection& c, uint32_t index_id,
                                                const KvSnapshot* snapshot) {
  if (TransactionPart* part = BoundPart()) {
    return IteratorInPart(part, IndexPrefix(c.id(), index_id), IndexPrefix(c.id(), index_id + 1));
  }
  return kv_->NewIterator(IndexPrefix(c.id(), index_id), IndexPrefix(c.id(), index_id + 1), snapshot);
}

std::unique_ptr<KvIterator> Database::ScanAllIndexEntries(const Collection& c, const KvSnapshot* snapshot) {
  if (TransactionPart* part = BoundPart()) {
    return IteratorInPart(part, IndexPrefix(c.id(), 0), IndexPrefix(c.id() + 1, 0));
  }
  return kv_->NewIterator(IndexPrefix(c.id(), 0), IndexPrefix(c.id() + 1, 0), snapshot);
}

uint64_t Database::RecordBytes(const Collection& c) {
  return kv_->ApproximateSize(RecordPrefix(c.id()), RecordPrefix(c.id() + 1));
}

uint64_t Database::IndexBytes(const Collection& c) {
  return kv_->ApproximateSize(IndexPrefix(c.id(), 0), IndexPrefix(c.id() + 1, 0));
}

std::unique_ptr<KvIterator> Database::ScanRecords(const Collection& c, const KvSnapshot* snapshot) {
  if (TransactionPart* part = BoundPart()) return IteratorInPart(part, RecordPrefix(c.id()), RecordPrefix(c.id() + 1));
  return kv_->NewIterator(RecordPrefix(c.id()), RecordPrefix(c.id() + 1), snapshot);
}

absl::StatusOr<Database::NaturalOrderCheck> Database::CheckNaturalOrder(const Collection& c,
                                                                        const KvSnapshot* snapshot) {
  NaturalOrderCheck out;
  std::string value;
  auto n = kv_->NewIterator(NaturalPrefix(c.id()), NaturalPrefix(c.id() + 1), snapshot);
  for (; n->Valid(); n->Next()) {
    std::string_view key = n->key();
    auto record = kv_->Get(RecordPrefix(c.id()) + std::string(n->value()), &value, snapshot);
    if (!record.ok()) return record.status();
    bool good = *record && key.size() == 13;
    if (good) {
      auto of = kv_->Get(NaturalOfKey(c.id(), n->value()), &value, snapshot);
      if (!of.ok()) return of.status();
      good = *of && value == key.substr(5);
    }
    ++(good ? out.placed : out.dangling);
  }
  if (!n->status().ok()) return n->status();
  int64_t of_entries = 0;
  auto of = kv_->NewIterator(NaturalOfPrefix(c.id()), NaturalOfPrefix(c.id() + 1), snapshot);
  for (; of->Valid(); of->Next()) ++of_entries;
  if (!of->status().ok()) return of->status();
  // Every o entry of a placed record was matched above; the others dangle.
  out.dangling += std::max<int64_t>(0, of_entries - out.placed);
  return out;
}

std::unique_ptr<NaturalIterator> Database::ScanNatural(const Collection& c, const KvSnapshot* snapshot) {
  // Capped collections take no writes in a transaction: its snapshot is all there is.
  if (TransactionPart* part = BoundPart()) snapshot = part->snapshot.get();
  return std::make_unique<NaturalIterator>(kv_.get(), c.id(), snapshot);
}

absl::Status Database::WriteWithChanges(KvBatch* batch, std::string_view records, uint32_t count, bool sync) {
  if (count == 0) return sync ? kv_->Write(batch) : kv_->WriteWithoutSync(batch);
  // One entry per commit (its records back to back, each a BSON document, timed first,
  // first + 1, ...): a write of many documents adds one memtable entry, not one per record.
  uint64_t first = clock_->Reserve(count);
  batch->Put(ChangeKey(first), records);
  absl::Status s = sync ? kv_->Write(batch) : kv_->WriteWithoutSync(batch);
  clock_->Release(first);
  return s;
}


absl::Status Database::ReadChanges(uint64_t after, uint64_t upto, const ChangeVisitor& fn) {
  if (upto <= after) return absl::OkStatus();
  auto it = kv_->NewIterator(std::string(1, kLogPrefix), ChangeKey(upto + 1));
  // The entry holding after + 1 may start before it.
  it->SeekForPrev(ChangeKey(after + 1));
  if (!it->Valid()) it->Seek(ChangeKey(after + 1));
  bool go_on = true;
  for (; go_on && it->Valid(); it->Next()) {
    if (it->key().size() != 9) continue;
    uint64_t first = ReadBigEndian64(it->key().data() + 1);
    bool ok = ForEachChangeRecord(it->value(), [&](uint64_t i, std::string_view record) {
      uint64_t time = first + i;
      if (time <= after) return true;
      if (time > upto) return go_on = false;
      return go_on = fn(time, record);
    });
    if (!ok) return MongoError(kInternalError, StrCat("corrupt change log entry in database ", name_));
  }
  return it->status();
}

absl::Status Database::LogDropDatabase() {
  auto batch = kv_->NewBatch();
  return WriteWithChanges(batch.get(), ChangeRecord({.op = "dropDatabase"}));
}

absl::Status Database::TrimChanges(uint64_t before) {
  if (before <= changes_trimmed_before()) return absl::OkStatus();
  auto batch = kv_->NewBatch();
  // A range deletion costs every read of the store while it is in a memtable, which a
  // store that is only read never flushes: RocksDB's MultiGet skips a memtable's bloom
  // filter once it holds one (each record a FETCH reads walks the skiplist), and every
  // iterator merges it. The retention pass moves the age cut forward every interval
  // whether or not any record is older than it, so the deletion is written only when it
  // deletes something, and then flushed (as after a collection's drop).
  std::string lo(1, kLogPrefix), hi = ChangeKey(before);
  bool deletes = false;
  {
    auto it = kv_->NewIterator(lo, hi);
    if (!it->status().ok()) return it->status();
    deletes = it->Valid();
  }
  if (deletes) batch->DeleteRange(lo, hi);
  std::string value;
  AppendBigEndian64(before, &value);
  batch->Put(kTrimmedKey, value);
  if (auto s = kv_->Write(batch.get()); !s.ok()) return s;
  trimmed_before_.store(before, std::memory_order_release);
  // Best effort: the trim has happened; a failing flush (a full disk) fails later writes.
  if (deletes) (void)kv_->Flush();
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Database::EnforceChangeRetention(uint64_t max_bytes, uint64_t min_time) {
  uint64_t cut = std::max(min_time, changes_trimmed_before());
  std::string lo(1, kLogPrefix), hi(1, kLogPrefix + 1);
  {
    // Entries go whole: one that holds times at or after the cut stays.
    auto it = kv_->NewIterator(lo, hi);
    it->SeekForPrev(ChangeKey(cut));
    if (it->Valid() && it->key().size() == 9) {
      uint64_t first = ReadBigEndian64(it->key().data() + 1), records = 0;
      ForEachChangeRecord(it->value(), [&](uint64_t, std::string_view) { return ++records, true; });
      if (first + records > cut) cut = first;
    }
    if (!it->status().ok()) return it->status();
  }
  uint64_t size = kv_->ApproximateSize(ChangeKey(cut), hi);
  if (size <= max_bytes && max_bytes <= kExactLogSizeBelow) {
    // The memtables' part of the estimate counts a sample of their entries: a log of a few
    // hundred entries, all still in memtables, can be estimated at 0 bytes. A limit small
    // enough to fit in the memtables is checked by reading the log up to it instead.
    size = 0;
    auto it = kv_->NewIterator(ChangeKey(cut), hi);
    for (it->Seek(ChangeKey(cut)); it->Valid() && size <= max_bytes; it->Next()) {
      size += it->key().size() + it->value().size();
    }
    if (!it->status().ok()) return it->status();
  }
  if (size > max_bytes) {
    // Walk the oldest records until what they hold covers the excess (and a tenth more, so
    // that trimming does not run for every few new records).
    // Entries go whole: the cut is the first time of the entry after the last one trimmed.
    uint64_t excess = size - max_bytes + max_bytes / 10, seen = 0;
    auto it = kv_->NewIterator(ChangeKey(cut), hi);
    for (it->Seek(ChangeKey(cut)); it->Valid() && seen < excess; it->Next()) {
      seen += it->key().size() + it->value().size();
    }
    if (!it->status().ok()) return it->status();
    cut = it->Valid() ? ReadBigEndian64(it->key().data() + 1) : clock_->Visible() + 1;
  }
  if (cut > changes_trimmed_before()) {
    if (auto s = TrimChanges(cut); !s.ok()) return s;
  }
  return changes_trimmed_before();
}

void Database::MarkOpened(CrossCommitter::Opened opened) {
  std::lock_guard<std::mutex> l(open_snapshot_mu_);
  open_sequence_ = opened.number;
  if (opened.transactions_reading) {
    open_snapshot_ = kv_->GetSnapshot();
    open_snapshot_held_.store(true, std::memory_order_release);
  }
}

std::shared_ptr<const KvSnapshot> Database::OpenSnapshotIfOpenedAfter(uint64_t open_sequence) {
  std::lock_guard<std::mutex> l(open_snapshot_mu_);
  return open_sequence_ > open_sequence ? open_snapshot_ : nullptr;
}

void Database::ReleaseUnreadOpenSnapshot() {
  if (!open_snapshot_held_.load(std::memory_order_acquire)) return;
  std::shared_ptr<const KvSnapshot> unread;  // released outside the lock
  std::lock_guard<std::mutex> l(open_snapshot_mu_);
  if (cross_ != nullptr && cross_->ReadingSince(open_sequence_)) return;
  unread = std::move(open_snapshot_);
  open_snapshot_held_.store(false, std::memory_order_release);
}

absl::Status Database::Commit(WriteUnit* unit) {
  if (unit->empty()) return absl::OkStatus();
  ReleaseUnreadOpenSnapshot();
  if (TransactionPart* part = BoundPart()) return ApplyToTransaction(unit, part);
  unit->AddStatsMerges();
  RetryScope* retry = BoundRetryScope();
  {
    std::shared_lock<std::shared_mutex> gate(txn_gate_);
    if (txn_lock_count_.load(std::memory_order_acquire) > 0) {
      if (auto s = CheckTransactionLocks(*unit->batch_); !s.ok()) return s;
    }
    // A retryable write's record commits with its write (retry_history.h), added once the
    // write is sure to go in (a conflict leaves the scope as if nothing was tried); the
    // write is made durable with its reply's record, or when the scope ends.
    if (retry != nullptr) retry->AddTo(unit->batch_.get(), this, unit->changes_);
    if (auto s = WriteWithChanges(unit->batch_.get(), unit->changes_, unit->change_count_, retry == nullptr); !s.ok()) {
      return s;
    }
  }
  if (retry != nullptr) retry->Committed();
  for (const WriteUnit::Delta& d : unit->count_deltas_) {
    d.c->count_.fetch_add(d.count, std::memory_order_relaxed);
    if (d.c->capped_) d.c->natural_->bytes.fetch_add(d.bytes, std::memory_order_relaxed);
  }
  for (auto& [flags, fields] : unit->multikey_) flags->persisted.fetch_or(fields, std::memory_order_acq_rel);
  return absl::OkStatus();
}

absl::Status Database::RebuildIndex(std::string_view coll, uint32_t index_id, const IndexBuilder& build,
                                    std::string new_spec) {
  std::unique_lock<std::shared_mutex> ddl(ddl_mu_);
  std::shared_ptr<Collection> current;
  {
    std::lock_guard<std::mutex> l(catalog_mu_);
    auto it = collections_.find(coll);
    if (it == collections_.end()) return MongoError(kNamespaceNotFound, StrCat("ns not found ", name_, ".", coll));
    current = it->second;
  }
  const IndexDef* old = nullptr;
  for (const IndexDef& def : current->indexes_) {
    if (def.id == index_id) old = &def;
  }
  if (old == nullptr) return MongoError(kIndexNotFound, StrCat("index ", index_id, " not found"));
  WriteUnit unit(this);
  DeleteIndexRanges(unit.batch(), current->id(), index_id);
  IndexDef fresh;
  fresh.id = index_id;
  fresh.spec = new_spec.empty() ? old->spec : std::move(new_spec);
  unit.build_multikey_ = fresh.multikey;
  IndexBuildSink sink(this, &unit, /*batched=*/false);
  if (auto s = build(*current, index_id, &sink); !s.ok()) return s;
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto changed = Successor(*current);
  for (const IndexDef& def : current->indexes_) changed->indexes_.push_back(def.id == index_id ? fresh : def);
  unit.batch()->Put(CatalogKey(coll), CatalogEntry(*changed));
  // The unit holds every entry of the index (the old ones are range-deleted before them).
  IndexStats built;
  for (const WriteUnit::IndexDelta& d : unit.index_deltas_) {
    if (d.coll_id == current->id() && d.index_id == index_id) built = d.change;
  }
  unit.batch()->Put(IndexStatsKey(current->id(), index_id), IndexStatsOperand(built.entries, built.bytes));
  if (auto s = kv_->Write(unit.batch()); !s.ok()) return s;
  for (auto& [flags, fields] : unit.multikey_) flags->persisted.fetch_or(fields, std::memory_order_acq_rel);
  collections_[std::string(coll)] = std::move(changed);
  return absl::OkStatus();
}

}  // namespace micromongo::storage
