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

std::string CatalogEntry(std::string_view name, uint32_t id, bson::DocView options) {
  bson::Builder b;
  b.AppendString("name", name);
  b.AppendInt64("id", id);
  b.AppendDocument("options", options);
  return std::move(b).Finish();
}

}  // namespace

WriteUnit::WriteUnit(Database* db) : batch_(db->kv_->NewBatch()) {}

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
    db->collections_.emplace(c->name(), c);
  }
  if (!it->status().ok()) return it->status();
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
  batch->Put(CatalogKey(name), CatalogEntry(name, id, c->options()));
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
  std::unique_lock<std::shared_mutex> ddl(ddl_mu_);
  std::lock_guard<std::mutex> l(catalog_mu_);
  auto it = collections_.find(name);
  if (it == collections_.end()) {
    return MongoError(kNamespaceNotFound, StrCat("ns does not exist: ", name_, ".", name));
  }
  auto changed = std::make_shared<Collection>(std::string(name), it->second->id(),
                                              std::string(options_bson));
  changed->count_ = it->second->count();
  auto batch = kv_->NewBatch();
  batch->Put(CatalogKey(name), CatalogEntry(name, changed->id(), changed->options()));
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
  std::string index_lo(1, kIndexPrefix), index_hi(1, kIndexPrefix);
  AppendBigEndian32(id, &index_lo);
  AppendBigEndian32(id + 1, &index_hi);
  batch->DeleteRange(index_lo, index_hi);
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
    dropped_target = true;
  }
  std::shared_ptr<Collection> moved = src->second;
  batch->Delete(CatalogKey(from));
  batch->Put(CatalogKey(to), CatalogEntry(to, moved->id(), moved->options()));
  if (auto s = kv_->Write(batch.get()); !s.ok()) return s;
  auto renamed = std::make_shared<Collection>(std::string(to), moved->id(),
                                              std::string(moved->options().bytes()));
  renamed->count_ = moved->count();
  collections_.erase(src);
  collections_.erase(std::string(to));
  collections_.emplace(renamed->name(), renamed);
  if (dropped_target) return kv_->Flush();
  return absl::OkStatus();
}

std::vector<std::string> Database::CollectionNames() const {
  std::lock_guard<std::mutex> l(catalog_mu_);
  std::vector<std::string> names;
  for (const auto& [n, c] : collections_) names.push_back(n);
  return names;
}

absl::StatusOr<bool> Database::GetRecord(const Collection& c, std::string_view key,
                                         std::string* bson) {
  return kv_->Get(key, bson);
}

std::unique_ptr<KvIterator> Database::ScanRecords(const Collection& c) {
  return kv_->NewIterator(RecordPrefix(c.id()), RecordPrefix(c.id() + 1));
}

absl::Status Database::Commit(WriteUnit* unit) {
  if (unit->empty()) return absl::OkStatus();
  if (auto s = kv_->Write(unit->batch_.get()); !s.ok()) return s;
  for (auto& [c, d] : unit->count_deltas_) c->count_.fetch_add(d, std::memory_order_relaxed);
  return absl::OkStatus();
}

}  // namespace micromongo::storage
