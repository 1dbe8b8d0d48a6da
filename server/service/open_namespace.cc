#include "service/open_namespace.h"

#include <tuple>

#include "absl/container/flat_hash_set.h"

#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"
#include "storage/namespace.h"

namespace micromongo::service {

using bson::DocView;
using bson::ValueView;

absl::Status Namespace::WriteIndexEntries(storage::WriteUnit* unit, std::string_view record_key,
                                          const DocView* old_doc, const DocView* new_doc) const {
  if (indexes.empty()) return absl::OkStatus();
  // What names the record in entries: its key after the collection prefix (the _id's
  // keystring, or a time series record's time and sequence).
  std::string id_key(record_key.substr(storage::RecordPrefix(coll->id()).size()));
  std::vector<std::tuple<std::string, size_t, bool>> deletes;      // key, value bytes, unique index
  std::vector<std::tuple<std::string, std::string, bool>> puts;  // key, value, unique index
  std::vector<index::IndexKey> old_keys, new_keys;
  std::vector<std::pair<const Index*, uint64_t>> multikey;
  for (const Index& ix : indexes) {
    old_keys.clear();
    new_keys.clear();
    if (old_doc != nullptr) {
      if (auto s = ix.spec.Keys(*old_doc, &old_keys); !s.ok()) return s;
    }
    if (new_doc != nullptr) {
      uint64_t fields = 0;
      if (auto s = ix.spec.Keys(*new_doc, &new_keys, &fields); !s.ok()) return s;
      if (fields != 0) multikey.emplace_back(&ix, fields);
    }
    std::string prefix = storage::IndexPrefix(coll->id(), ix.id);
    auto entry_key = [&](const index::IndexKey& k) {
      std::string key;
      key.reserve(prefix.size() + k.encoded.size() + id_key.size());
      key.append(prefix).append(k.encoded);
      if (!ix.spec.unique()) key += id_key;
      return key;
    };
    // Keys in both documents stay; a hash set keeps large multikey arrays linear. An
    // insert (the whole of an index build) has no old keys to compare with.
    absl::flat_hash_set<std::string_view> old_set, new_set;
    if (!old_keys.empty()) {
      for (const auto& k : old_keys) old_set.insert(k.encoded);
      for (const auto& k : new_keys) new_set.insert(k.encoded);
    }
    auto duplicate = [&](const index::IndexKey& k) {
      std::string key_value = ix.spec.KeyValueDocument(k);
      bson::Builder details;
      details.AppendDocument("keyPattern", ix.spec.key_pattern());
      details.AppendDocument("keyValue", DocView(key_value));
      return MongoError(kDuplicateKey,
                        StrCat("E11000 duplicate key error collection: ", db_name, ".", coll_name,
                               " index: ", ix.spec.name(), " dup key: ", bson::BsonToShellText(key_value)),
                        std::move(details).Finish());
    };
    // A prepareUnique index refuses new keys that another document has; an index build
    // (no catalog entry yet) takes the duplicates that are already there.
    const bool prepared = ix.spec.prepare_unique() && ix.def != nullptr;
    // The unit remembers the entries its own later checks read.
    const bool checked = ix.spec.unique() || prepared;
    for (const auto& k : old_keys) {
      if (!new_set.contains(k.encoded)) deletes.emplace_back(entry_key(k), index::EntryValueSize(k, id_key), checked);
    }
    puts.reserve(puts.size() + new_keys.size());
    for (const auto& k : new_keys) {
      if (old_set.contains(k.encoded)) continue;
      std::string key = entry_key(k);
      if (ix.spec.unique()) {
        auto owner = unit->GetIndexEntry(key);
        if (!owner.ok()) return owner.status();
        if (*owner && index::EntryRecordId(**owner) != id_key) return duplicate(k);
      } else if (prepared) {
        // Entries naming this document (its old keys) never count.
        auto other = unit->HasOtherIndexEntry(std::string_view(key).substr(0, key.size() - id_key.size()), id_key);
        if (!other.ok()) return other.status();
        if (*other) return duplicate(k);
      }
      // Every entry's value holds the key values (for covered queries) and names its
      // document, so lookups need not parse keys.
      puts.emplace_back(std::move(key), index::EntryValue(k, id_key), checked);
    }
  }
  for (const auto& [ix, fields] : multikey) {
    if (ix->def != nullptr) {
      unit->MarkMultikey(*coll, *ix->def, fields);
    } else {
      unit->MarkBuildMultikey(*coll, ix->id, fields);
    }
  }
  for (auto& [key, value_bytes, unique] : deletes) unit->DeleteIndexEntry(std::move(key), value_bytes, unique);
  for (auto& [key, value, unique] : puts) unit->PutIndexEntry(std::move(key), std::move(value), unique);
  return absl::OkStatus();
}

absl::StatusOr<Namespace> OpenNamespace(storage::Engine* engine, std::string_view db_name,
                                        std::string_view coll_name, bool create,
                                        Access access, const WriteOptions& options) {
  if (auto s = storage::ValidateCollectionName(db_name, coll_name); !s.ok()) return s;
  auto db = engine->GetDatabase(db_name, create);
  if (!db.ok()) return db.status();
  Namespace ns;
  ns.db = *std::move(db);
  if (ns.db == nullptr) return ns;
  ns.ddl = std::shared_lock<std::shared_mutex>(ns.db->ddl_mutex());
  // Before the lookup: a write must not start on a collection object an index build is
  // about to replace.
  if (access == Access::kWrite) ns.write_gate = std::shared_lock<std::shared_mutex>(ns.db->write_gate());
  if (create) {
    auto coll = ns.db->GetOrCreateCollection(coll_name);
    if (!coll.ok()) return coll.status();
    ns.coll = *std::move(coll);
  } else {
    ns.coll = ns.db->FindCollection(coll_name);
  }
  if (access == Access::kWrite && ns.coll != nullptr) {
    if (ns.coll->is_view()) {
      return MongoError(kCommandNotSupportedOnView,
                        StrCat("Namespace ", db_name, ".", coll_name, " is a view, not a collection"));
    }
    if (!options.bypass_validation) {
      auto validator = DocumentValidator::FromOptions(ns.coll->options());
      if (!validator.ok()) return validator.status();
      ns.validator = *std::move(validator);
    }
    for (const storage::IndexDef& def : ns.coll->indexes()) {
      auto spec = index::IndexSpec::Parse(DocView(def.spec));
      if (!spec.ok()) return spec.status();
      ns.indexes.push_back({def.id, *std::move(spec), &def});
    }
    ns.db_name = std::string(db_name);
    ns.coll_name = std::string(coll_name);
  }
  return ns;
}

std::string IdDocument(const ValueView& id) {
  bson::Builder b;
  b.AppendView("_id", id);
  return std::move(b).Finish();
}

absl::Status DuplicateKey(std::string_view db, std::string_view coll, const ValueView& id) {
  std::string key_value = IdDocument(id);
  bson::Builder details;
  bson::Builder pattern;
  pattern.AppendInt32("_id", 1);
  details.AppendDocument("keyPattern", DocView(std::move(pattern).Finish()));
  details.AppendDocument("keyValue", DocView(key_value));
  return MongoError(kDuplicateKey,
                    StrCat("E11000 duplicate key error collection: ", db, ".", coll,
                           " index: _id_ dup key: ", bson::BsonToShellText(key_value)),
                    std::move(details).Finish());
}

std::string WithIdFirst(std::string doc, const std::array<uint8_t, 12>* generated) {
  DocView view(doc);
  auto first = view.begin();
  if (first != view.end() && first->key == "_id") return doc;
  ValueView id;
  bool has_id = view.Find("_id", &id);
  bson::Builder b;
  if (has_id) {
    b.AppendView("_id", id);
  } else {
    ObjectId oid = ObjectId::Generate();
    if (generated != nullptr) oid.bytes = *generated;
    b.AppendView("_id", ValueView{BsonType::kObjectId, reinterpret_cast<const char*>(oid.bytes.data()), 12});
  }
  for (const bson::ElementView& e : view) {
    if (e.key != "_id") b.AppendView(e.key, e.value);
  }
  return std::move(b).Finish();
}

Candidates::Candidates(storage::Database* db, const storage::Collection& coll, const query::Matcher& m,
                       const Deadline& deadline, const QueryHint& hint, bool documents,
                       std::string_view distinct_field) {
  // The caller owns all of these for the Candidates' lifetime: non-owning pointers.
  std::shared_ptr<storage::Database> db_ptr(std::shared_ptr<void>(), db);
  std::shared_ptr<const storage::Collection> coll_ptr(std::shared_ptr<void>(), &coll);
  QueryRequest request;
  request.filter = std::shared_ptr<const query::Matcher>(std::shared_ptr<void>(), &m);
  request.hint = hint;
  request.distinct_field = std::string(distinct_field);
  if (!documents) {
    request.projection_fields = std::vector<std::string>();
    request.projection_includes_id = false;
    request.count = true;
  }
  auto e = PlanQuery(std::move(db_ptr), std::move(coll_ptr), request, &deadline);
  if (!e.ok()) {
    status_ = e.status();
  } else {
    exec_ = *std::move(e);
  }
}

}  // namespace micromongo::service
