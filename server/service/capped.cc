#include "service/capped.h"

#include <mutex>
#include <shared_mutex>
#include <vector>

#include "document/status.h"
#include "service/collection_options.h"
#include "service/crud.h"
#include "storage/namespace.h"

namespace micromongo::service {

absl::Status CheckFitsCap(const Namespace& ns, int64_t bytes) {
  if (bytes > ns.coll->capped_size()) return MongoError(kBadValue, "object to insert exceeds cappedMaxSize");
  return absl::OkStatus();
}

absl::Status MakeRoom(const Namespace& ns, storage::WriteUnit* unit, int64_t bytes) {
  storage::Collection* coll = ns.coll.get();
  int64_t count = coll->count() + 1, size = coll->data_bytes() + bytes;
  auto fits = [&] {
    return size <= coll->capped_size() && (coll->capped_max() == 0 || count <= coll->capped_max());
  };
  if (fits()) return absl::OkStatus();
  auto it = ns.db->ScanNatural(*coll);
  for (it->SeekToFirst(); it->Valid() && !fits(); it->Next()) {
    bson::DocView old(it->value());
    if (auto s = ns.WriteIndexEntries(unit, it->key(), &old, nullptr); !s.ok()) return s;
    if (auto s = unit->DeleteRecord(coll, it->key(), it->value(), it->seq()); !s.ok()) return s;
    size -= static_cast<int64_t>(it->value().size());
    --count;
  }
  return it->status();
}

absl::Status CloneAsCapped(storage::Engine* engine, const std::string& db_name, const std::string& from,
                           const std::string& to, int64_t size) {
  for (const std::string& name : {from, to}) {
    if (auto s = storage::ValidateCollectionName(db_name, name); !s.ok()) return s;
  }
  v1::CollectionOptions requested;
  requested.set_capped(true);
  requested.set_capped_size(size);
  auto options = BuildCollectionOptions(db_name, requested, nullptr);
  if (!options.ok()) return options.status();
  auto missing = [&] {
    return MongoError(kNamespaceNotFound, StrCat("source collection ", db_name, ".", from, " does not exist"));
  };
  auto db = engine->GetDatabase(db_name, /*create=*/false);
  if (!db.ok()) return db.status();
  if (*db == nullptr) return missing();
  std::shared_ptr<storage::Collection> source;
  std::shared_ptr<const storage::KvSnapshot> snapshot;
  {
    std::shared_lock<std::shared_mutex> ddl((*db)->ddl_mutex());
    source = (*db)->FindCollection(from);
    if (source == nullptr) return missing();
    if (source->is_view()) {
      return MongoError(kCommandNotSupportedOnView, StrCat("Namespace ", db_name, ".", from, " is a view, not a collection"));
    }
    snapshot = (*db)->Snapshot();
  }
  if (auto s = (*db)->CreateCollection(to, *options); !s.ok()) return s;
  std::unique_ptr<storage::KvIterator> it = (*db)->ScanNaturalOrder(*source, snapshot.get());
  // In batches of bounded size, each an ordered insert that makes room as it goes.
  constexpr size_t kBatchBytes = 4 << 20;
  std::vector<std::string> batch;
  size_t bytes = 0;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    auto out = Insert(engine, db_name, to, std::move(batch), /*ordered=*/true, {.bypass_validation = true});
    batch.clear();
    bytes = 0;
    if (!out.ok()) return out.status();
    if (!out->write_errors.empty()) return out->write_errors.front().status;
    return absl::OkStatus();
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    batch.emplace_back(it->value());
    bytes += batch.back().size();
    if (bytes >= kBatchBytes) {
      if (auto s = flush(); !s.ok()) return s;
    }
  }
  if (!it->status().ok()) return it->status();
  return flush();
}

absl::Status ConvertToCapped(storage::Engine* engine, const std::string& db_name, const std::string& coll,
                             int64_t size) {
  if (auto s = storage::ValidateCollectionName(db_name, coll); !s.ok()) return s;
  std::string temp = StrCat("tmp.convertToCapped.", coll);
  auto drop_temp = [&] {
    auto db = engine->GetDatabase(db_name, /*create=*/false);
    if (db.ok() && *db != nullptr) (void)(*db)->DropCollection(temp);
  };
  drop_temp();  // left by a conversion a crash cut short
  if (auto s = CloneAsCapped(engine, db_name, coll, temp, size); !s.ok()) {
    if (MongoCodeOf(s) != kNamespaceNotFound && MongoCodeOf(s) != kCommandNotSupportedOnView) drop_temp();
    return s;
  }
  auto db = engine->GetDatabase(db_name, /*create=*/false);
  if (!db.ok()) return db.status();
  if (*db == nullptr) return MongoError(kNamespaceNotFound, StrCat("ns does not exist: ", db_name, ".", coll));
  if (auto s = (*db)->RenameCollection(temp, coll, /*drop_target=*/true); !s.ok()) {
    drop_temp();
    return s;
  }
  return absl::OkStatus();
}

}  // namespace micromongo::service
