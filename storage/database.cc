#include "storage/database.h"

#include "document/builder.h"
#include "document/status.h"
#include "storage/key_codec.h"

namespace micromongo::storage {
namespace {

constexpr std::string_view kNextIdKey = "mnext_collection_id";

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

// Removes one index's entries and multikey flags.
void DeleteIndexRanges(KvBatch* batch, uint32_t coll_id, uint32_t index_id) {
  batch->DeleteRange(IndexPrefix(coll_id, index_id), IndexPrefix(coll_id, index_id + 1));
  batch->DeleteRange(MultikeyPrefix(coll_id, index_id), MultikeyPrefix(coll_id, index_id + 1));
}

}  // namespace

std::shared_ptr<Collection> Database::Successor(const Collection& c) {
  auto next = std::make_shared<Collection>(c.name(), c.id(), std::string(c.options().bytes()));
  next->count_ = c.count();
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

void WriteUnit::DeleteIndexEntry(std::string key, bool unique) {
  batch_->Delete(key);
  if (unique) pending_index_[std::move(key)] = std::nullopt;
}

absl::StatusOr<std::optional<std::string>> WriteUnit::GetIndexEntry(std::string_view key) {
  if (auto it = pending_index_.find(key); it != pending_index_.end()) return it->second;
  std::string value;
  auto found = db_->kv_->Get(key, &value);
  if (!found.ok()) return found.status();
  if (!*found) return std::optional<std::string>();
  return std::optional<std::string>(std::move(value));
}

void WriteUnit::PutRecord(Collection* c, std::string_view key, std::string_view bson,
                          bool is_insert) {
  batch_->Put(key, bson);
  if (is_insert) count_deltas_.emplace_back(c, 1);
}

void WriteUnit::DeleteRecord(Collection* c, std::string_view key) {
  batch_->Delete(key);
  count_deltas_.emplace_back(c, -1);
}

Database::Database(std::string name, std::unique_ptr<KvStore> kv, std::unique_ptr<DirLock> lock)
    : name_(std::move(name)), kv_(std::move(kv)), lock_(std::move(lock)) {}

Database::~Database() {
  kv_.reset();  // close RocksDB before releasing the directory lock
  lock_.reset();
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(std::string name,
                                                         std::unique_ptr<KvStore> kv,
                                                         std::unique_ptr<DirLock> lock) {
  std::unique_ptr<Database> db(new Database(std::move(name), std::move(kv), std::move(lock)));
  std::string value;
  auto found = db->kv_->Get(kNextIdKey, &value);
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
  for (auto& [n, c] : db->collections_) {
    int64_t count = 0;
    auto rit = db->ScanRecords(*c);
    for (; rit->Valid(); rit->Next()) ++count;
    if (!rit->status().ok()) return rit->status();
    c->count_ = count;
  }
  return db;
}

std::shared_ptr<Collection> Database::FindCollection(std::string_view name) const {
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto it = collections_.find(name);
  return it == collections_.end() ? nullptr : it->second;
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
  if (auto s = kv_->Write(batch.get()); !s.ok()) return s;
  next_id_ = id + 1;
  collections_.emplace(c->name(), c);
  return c;
}

absl::StatusOr<std::shared_ptr<Collection>> Database::GetOrCreateCollection(
    std::string_view name) {
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto it = collections_.find(name);
  if (it != collections_.end()) return it->second;
  return CreateLocked(name, {});
}

absl::Status Database::CreateCollection(std::string_view name, std::string_view options_bson) {
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
  changed->count_ = it->second->count();
  changed->indexes_ = it->second->indexes_;
  auto batch = kv_->NewBatch();
  batch->Put(CatalogKey(name), CatalogEntry(*changed));
  if (auto s = kv_->Write(batch.get()); !s.ok()) return s;
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
  batch->DeleteRange(RecordPrefix(id), RecordPrefix(id + 1));
  batch->DeleteRange(IndexPrefix(id, 0), IndexPrefix(id + 1, 0));
  batch->DeleteRange(MultikeyPrefix(id, 0), MultikeyPrefix(id + 1, 0));
  if (auto s = kv_->Write(batch.get()); !s.ok()) return s;
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
    uint32_t id = dst->second->id();
    batch->DeleteRange(RecordPrefix(id), RecordPrefix(id + 1));
    batch->DeleteRange(IndexPrefix(id, 0), IndexPrefix(id + 1, 0));
    batch->DeleteRange(MultikeyPrefix(id, 0), MultikeyPrefix(id + 1, 0));
    dropped_target = true;
  }
  std::shared_ptr<Collection> moved = src->second;
  auto renamed = std::make_shared<Collection>(std::string(to), moved->id(),
                                              std::string(moved->options().bytes()));
  renamed->count_ = moved->count();
  renamed->indexes_ = moved->indexes_;
  batch->Delete(CatalogKey(from));
  batch->Put(CatalogKey(to), CatalogEntry(*renamed));
  if (auto s = kv_->Write(batch.get()); !s.ok()) return s;
  collections_.erase(src);
  collections_.erase(std::string(to));
  collections_.emplace(renamed->name(), renamed);
  if (dropped_target) return kv_->Flush();
  return absl::OkStatus();
}

absl::Status Database::CreateIndex(std::string_view coll, std::string spec_bson,
                                   const IndexBuilder& build) {
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
  IndexBuildSink sink(this, &unit, /*batched=*/true);
  if (auto s = build(*current, index_id, &sink); !s.ok()) {
    (void)DropBuildEntries(current->id(), index_id);
    return s;
  }
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto changed = Successor(*current);
  changed->indexes_ = current->indexes_;
  changed->indexes_.push_back(std::move(def));
  unit.batch()->Put(CatalogKey(coll), CatalogEntry(*changed));
  unit.batch()->Delete(BuildMarkerKey(current->id(), index_id));
  if (auto s = kv_->Write(unit.batch()); !s.ok()) {
    (void)DropBuildEntries(current->id(), index_id);
    return s;
  }
  for (auto& [flags, fields] : unit.multikey_) flags->persisted.fetch_or(fields, std::memory_order_acq_rel);
  collections_[std::string(coll)] = std::move(changed);
  return absl::OkStatus();
}

absl::Status IndexBuildSink::RecordDone() {
  // Big enough that a batch's fixed costs vanish, small enough to bound the memory a
  // build of any size holds.
  constexpr size_t kEntriesPerBatch = 20000;
  if (!batched_ || unit_->batch()->Count() < kEntriesPerBatch) return absl::OkStatus();
  if (auto s = db_->Commit(unit_); !s.ok()) return s;
  unit_->Reset();
  return absl::OkStatus();
}

void WriteUnit::Reset() {
  batch_ = db_->kv_->NewBatch();
  count_deltas_.clear();
  multikey_.clear();
  pending_index_.clear();
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
  if (auto s = kv_->Write(batch.get()); !s.ok()) return s;
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
  if (auto s = kv_->Write(batch.get()); !s.ok()) return s;
  it->second = std::move(changed);
  return absl::OkStatus();
}

std::vector<std::string> Database::CollectionNames() const {
  std::lock_guard<std::mutex> l(catalog_mu_);
  std::vector<std::string> names;
  for (const auto& [n, c] : collections_) names.push_back(n);
  return names;
}

absl::StatusOr<bool> Database::GetRecord(const Collection& c, std::string_view key,
                                         std::string* bson, const KvSnapshot* snapshot) {
  return kv_->Get(key, bson, snapshot);
}

std::unique_ptr<KvIterator> Database::ScanIndex(const Collection& c, uint32_t index_id,
                                                std::string_view lo, std::string_view hi) {
  std::string prefix = IndexPrefix(c.id(), index_id);
  return kv_->NewIterator(prefix + std::string(lo), prefix + std::string(hi));
}

std::unique_ptr<KvIterator> Database::ScanIndex(const Collection& c, uint32_t index_id,
                                                const KvSnapshot* snapshot) {
  return kv_->NewIterator(IndexPrefix(c.id(), index_id), IndexPrefix(c.id(), index_id + 1), snapshot);
}

std::unique_ptr<KvIterator> Database::ScanRecords(const Collection& c, const KvSnapshot* snapshot) {
  return kv_->NewIterator(RecordPrefix(c.id()), RecordPrefix(c.id() + 1), snapshot);
}

absl::Status Database::Commit(WriteUnit* unit) {
  if (unit->empty()) return absl::OkStatus();
  if (auto s = kv_->Write(unit->batch_.get()); !s.ok()) return s;
  for (auto& [c, d] : unit->count_deltas_) c->count_.fetch_add(d, std::memory_order_relaxed);
  for (auto& [flags, fields] : unit->multikey_) flags->persisted.fetch_or(fields, std::memory_order_acq_rel);
  return absl::OkStatus();
}

absl::Status Database::RebuildIndex(std::string_view coll, uint32_t index_id, const IndexBuilder& build) {
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
  fresh.spec = old->spec;
  unit.build_multikey_ = fresh.multikey;
  IndexBuildSink sink(this, &unit, /*batched=*/false);
  if (auto s = build(*current, index_id, &sink); !s.ok()) return s;
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto changed = Successor(*current);
  for (const IndexDef& def : current->indexes_) changed->indexes_.push_back(def.id == index_id ? fresh : def);
  unit.batch()->Put(CatalogKey(coll), CatalogEntry(*changed));
  if (auto s = kv_->Write(unit.batch()); !s.ok()) return s;
  for (auto& [flags, fields] : unit.multikey_) flags->persisted.fetch_or(fields, std::memory_order_acq_rel);
  collections_[std::string(coll)] = std::move(changed);
  return absl::OkStatus();
}

}  // namespace micromongo::storage
