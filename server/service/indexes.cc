#include "service/indexes.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>

#include "document/builder.h"
#include "document/compare.h"
#include "document/json.h"
#include "document/status.h"
#include "index/index_key.h"
#include "service/open_namespace.h"
#include "service/unique_conversion.h"
#include "util/log.h"
#include "storage/namespace.h"

namespace micromongo::service {

using bson::DocView;
using bson::ValueView;

namespace {

// Builds over fewer documents than this log nothing.
constexpr int64_t kLoggedBuildDocs = 100000;

bool SameKeys(DocView a, DocView b) { return bson::CompareDocuments(a, b) == 0; }

// Whether two index documents have the same value (or none) for `option`.
bool SameOption(DocView a, DocView b, std::string_view option) {
  ValueView va, vb;
  bool in_a = a.Find(option, &va), in_b = b.Find(option, &vb);
  if (in_a != in_b) return false;
  return !in_a || bson::CompareValues(va, vb) == 0;
}

// Puts the entries of every record of `coll` into the sink for the index being built.
// Builds of big collections log their progress: a line per tenth of the records.
absl::Status BuildEntries(storage::Database* db, const storage::Collection& coll, uint32_t index_id,
                          const index::IndexSpec& spec, storage::IndexBuildSink* sink) {
  // The entries of the existing records, as a write of each would make them.
  Namespace ns;
  ns.coll = std::make_shared<storage::Collection>(coll.name(), coll.id());
  ns.indexes.push_back({index_id, spec});
  ns.db_name = db->name();
  ns.coll_name = coll.name();
  const int64_t total = coll.count();
  const bool log = total >= kLoggedBuildDocs && LogEnabled(LogSeverity::kInfo);
  const std::string ns_name = StrCat(db->name(), ".", coll.name());
  auto attrs = [&](int64_t done, const char* extra_key = nullptr, double extra = 0) {
    bson::Builder b;
    b.AppendString("index", spec.name());
    b.AppendString("namespace", ns_name);
    b.AppendInt64("documents", done);
    b.AppendInt64("total", total);
    if (extra_key != nullptr) b.AppendDouble(extra_key, extra);
    return std::move(b).Finish();
  };
  auto started = std::chrono::steady_clock::now();
  if (log) Log(LogSeverity::kInfo, LogComponent::kIndex, "Index build: started", attrs(0));
  int64_t done = 0, next_report = total / 10;
  auto it = db->ScanRecords(coll);
  for (; it->Valid(); it->Next()) {
    DocView doc(it->value().data());
    if (auto s = ns.WriteIndexEntries(sink->unit(), it->key(), nullptr, &doc); !s.ok()) return s;
    if (auto s = sink->RecordDone(); !s.ok()) return s;
    if (log && ++done >= next_report && done < total) {
      Log(LogSeverity::kInfo, LogComponent::kIndex, "Index build: progress",
          attrs(done, "percent", static_cast<double>(done * 100 / total)));
      next_report += total / 10;
    }
  }
  if (!it->status().ok()) return it->status();
  if (log) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    Log(LogSeverity::kInfo, LogComponent::kIndex, "Index build: done", attrs(total, "durationSecs", secs));
  }
  return absl::OkStatus();
}

}  // namespace

std::string IdIndexDocument() {
  bson::Builder b;
  b.AppendInt32("v", 2);
  bson::Builder key;
  key.AppendInt32("_id", 1);
  b.AppendDocument("key", DocView(std::move(key).Finish()));
  b.AppendString("name", "_id_");
  return std::move(b).Finish();
}

namespace {

// Rebuilds the indexes of every collection of `db` that `which` selects.
absl::Status RebuildIndexes(storage::Database* db,
                            const std::function<bool(const storage::IndexDef&)>& which) {
  for (const std::string& name : db->CollectionNames()) {
    std::shared_ptr<storage::Collection> coll = db->FindCollection(name);
    if (coll == nullptr || coll->is_view()) continue;
    std::vector<storage::IndexDef> selected;
    for (const storage::IndexDef& def : coll->indexes()) {
      if (which(def)) selected.push_back(def);
    }
    for (const storage::IndexDef& def : selected) {
      auto spec = index::IndexSpec::Parse(DocView(def.spec));
      if (!spec.ok()) return spec.status();
      auto build = [&](const storage::Collection& c, uint32_t index_id, storage::IndexBuildSink* sink) {
        return BuildEntries(db, c, index_id, *spec, sink);
      };
      if (auto s = db->RebuildIndex(name, def.id, build); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RebuildAllIndexes(storage::Database* db) {
  return RebuildIndexes(db, [](const storage::IndexDef&) { return true; });
}

absl::Status UpgradeIndexes(storage::Database* db) {
  return RebuildIndexes(db, [](const storage::IndexDef& def) { return def.format < storage::kIndexFormat; });
}

namespace {

absl::Status TooManyIndexes(std::string_view db_name, std::string_view coll_name, DocView keys) {
  return MongoError(kCannotCreateIndex,
                    StrCat("add index fails, too many indexes for ", db_name, ".", coll_name,
                           " key:", bson::BsonToJson(std::string(keys.data(), keys.size()))));
}

}  // namespace

absl::Status CheckIndexLimit(storage::Engine* engine, std::string_view db_name,
                             std::string_view coll_name,
                             const std::vector<std::pair<DocView, DocView>>& indexes) {
  auto db = engine->GetDatabase(db_name, /*create=*/false);
  if (!db.ok() || *db == nullptr) return absl::OkStatus();
  auto existing = (*db)->FindCollection(coll_name);
  size_t count = 1 + (existing != nullptr ? existing->indexes().size() : 0);
  for (const auto& [keys, options] : indexes) {
    auto built = index::IndexSpec::Build(keys, options);
    if (!built.ok()) return built.status();
    auto spec = index::IndexSpec::Parse(DocView(*built));
    if (!spec.ok()) return spec.status();
    bool present = spec->name() == "_id_";
    if (existing != nullptr) {
      for (const storage::IndexDef& def : existing->indexes()) present |= def.name() == spec->name();
    }
    if (!present && ++count > kMaxIndexesPerCollection) {
      return TooManyIndexes(db_name, coll_name, keys);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CreateIndex(storage::Engine* engine, std::string_view db_name,
                                        std::string_view coll_name, DocView keys,
                                        DocView options) {
  if (auto s = storage::ValidateCollectionName(db_name, coll_name); !s.ok()) return s;
  auto built = index::IndexSpec::Build(keys, options);
  if (!built.ok()) return built.status();
  auto spec = index::IndexSpec::Parse(DocView(*built));
  if (!spec.ok()) return spec.status();
  auto db = engine->GetDatabase(db_name, /*create=*/true);
  if (!db.ok()) return db.status();
  // {_id: 1} is the implicit _id index (which a time series collection does not have).
  if (keys.CountElements() == 1 && keys.begin()->key == "_id" && !spec->unique()) {
    auto existing = (*db)->FindCollection(coll_name);
    if (existing == nullptr || !existing->timeseries()) return std::string("_id_");
  }
  if (auto existing = (*db)->FindCollection(coll_name)) {
    if (existing->is_view()) {
      return MongoError(kCommandNotSupportedOnView,
                        StrCat("Namespace ", db_name, ".", coll_name, " is a view, not a collection"));
    }
    for (const storage::IndexDef& def : existing->indexes()) {
      DocView stored(def.spec);
      ValueView stored_key;
      stored.Find("key", &stored_key);
      bool same_name = def.name() == spec->name();
      // Wildcard indexes of one key pattern differ by their projection, as in MongoDB.
      bool same_keys = SameKeys(stored_key.Doc(), spec->key_pattern()) &&
                       SameOption(stored, DocView(*built), "wildcardProjection");
      if (same_name && same_keys) {
        if (SameKeys(stored, DocView(*built))) return spec->name();  // already there
        return MongoError(kIndexOptionsConflict,
                          StrCat("An existing index has the same name as the requested index "
                                 "but different options: ", bson::BsonToJson(def.spec)));
      }
      if (same_name) {
        return MongoError(kIndexKeySpecsConflict,
                          StrCat("An existing index has the same name as the requested index "
                                 "but different keys: ", bson::BsonToJson(def.spec)));
      }
      if (same_keys) {
        return MongoError(kIndexOptionsConflict,
                          StrCat("Index already exists with a different name: ", def.name()));
      }
      if (spec->text() != nullptr && text::IsTextKeyPattern(stored_key.Doc())) {
        return MongoError(kIndexOptionsConflict,
                          StrCat("An equivalent index already exists with a different name and options: a "
                                 "collection has at most one text index (", def.name(), ")"));
      }
    }
  }
  if (auto existing = (*db)->FindCollection(coll_name);
      existing != nullptr && existing->indexes().size() + 1 >= kMaxIndexesPerCollection) {
    return TooManyIndexes(db_name, coll_name, keys);
  }
  std::string name = spec->name();
  auto build = [&](const storage::Collection& coll, uint32_t index_id,
                   storage::IndexBuildSink* sink) -> absl::Status {
    if (coll.capped() && spec->expire_after_seconds()) {
      return MongoError(kInvalidOptions, "TTL indexes are not supported for capped collections.");
    }
    if (coll.timeseries()) {
      // MongoDB's restrictions on time series indexes.
      if (spec->unique()) return MongoError(kInvalidOptions, "Unique indexes are not supported on time-series collections");
      if (spec->text() != nullptr) return MongoError(kInvalidOptions, "Text indexes are not supported on time-series collections");
      if (spec->expire_after_seconds()) {
        return MongoError(kInvalidOptions, "TTL indexes are not supported on time-series collections: their "
                                           "expireAfterSeconds option expires documents by time");
      }
    }
    return BuildEntries(db->get(), coll, index_id, *spec, sink);
  };
  if (auto s = (*db)->CreateIndex(coll_name, *std::move(built), build); !s.ok()) return s;
  return name;
}

absl::Status CreateTimeseriesIndex(storage::Engine* engine, std::string_view db, std::string_view coll,
                                   bson::DocView options) {
  bson::ValueView timeseries, meta, time;
  if (!options.Find("timeseries", &timeseries) || timeseries.type != BsonType::kDocument ||
      !timeseries.Doc().Find("metaField", &meta) || !timeseries.Doc().Find("timeField", &time)) {
    return absl::OkStatus();
  }
  bson::Builder keys;
  keys.AppendInt32(meta.String(), 1);
  keys.AppendInt32(time.String(), 1);
  std::string key_pattern = std::move(keys).Finish();
  std::string no_options = bson::Builder().Finish();
  return CreateIndex(engine, db, coll, bson::DocView(key_pattern), bson::DocView(no_options)).status();
}

absl::StatusOr<std::vector<std::string>> ListIndexes(storage::Engine* engine,
                                                     std::string_view db_name,
                                                     std::string_view coll_name) {
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false);
  if (!ns.ok()) return ns.status();
  if (ns->coll == nullptr || ns->coll->is_view()) {
    return MongoError(kNamespaceNotFound, StrCat("ns does not exist: ", db_name, ".", coll_name));
  }
  std::vector<std::string> out;
  if (!ns->coll->timeseries()) out.push_back(IdIndexDocument());  // a time series collection has none
  ValueView clustered;
  if (ns->coll->options().Find("clusteredIndex", &clustered) && clustered.type == BsonType::kDocument) {
    // MongoDB lists the cluster key in place of the _id index.
    bson::Builder b;
    for (const bson::ElementView& e : clustered.Doc()) b.AppendView(e.key, e.value);
    b.AppendBool("clustered", true);
    out[0] = std::move(b).Finish();
  }
  for (const storage::IndexDef& def : ns->coll->indexes()) out.push_back(def.spec);
  return out;
}

absl::Status ModifyIndex(storage::Engine* engine, std::string_view db_name, std::string_view coll_name,
                         DocView change, bool dry_run) {
  if (auto s = storage::ValidateCollectionName(db_name, coll_name); !s.ok()) return s;
  std::string name;
  std::optional<DocView> keys;
  std::optional<bool> hidden, prepare_unique;
  std::optional<int64_t> expire;
  bool make_unique = false;
  for (const bson::ElementView& e : change) {
    if (e.key == "name" && e.value.type == BsonType::kString) {
      name = std::string(e.value.String());
    } else if (e.key == "keyPattern" && e.value.type == BsonType::kDocument) {
      keys = e.value.Doc();
    } else if (e.key == "hidden") {
      if (e.value.type != BsonType::kBool) return MongoError(kTypeMismatch, "collMod index hidden must be a boolean");
      hidden = e.value.Bool();
    } else if (e.key == "prepareUnique") {
      if (e.value.type != BsonType::kBool) {
        return MongoError(kTypeMismatch, "collMod index prepareUnique must be a boolean");
      }
      prepare_unique = e.value.Bool();
    } else if (e.key == "unique") {
      if (e.value.type != BsonType::kBool) return MongoError(kTypeMismatch, "collMod index unique must be a boolean");
      if (!e.value.Bool()) return MongoError(kBadValue, "collMod cannot make an index non-unique ('unique: false')");
      make_unique = true;
    } else if (e.key == "expireAfterSeconds") {
      if (!e.value.IsNumber()) return MongoError(kTypeMismatch, "expireAfterSeconds must be a number");
      double secs = e.value.AsDouble();
      if (std::isnan(secs) || secs < 0 || secs > 2147483647) {
        return MongoError(kInvalidOptions, "TTL index 'expireAfterSeconds' option must be within an acceptable "
                                           "range, try a lower number");
      }
      expire = static_cast<int64_t>(secs);
    } else {
      return MongoError(kInvalidOptions, StrCat("unknown collMod index field: ", e.key));
    }
  }
  if (name.empty() == !keys.has_value()) {
    return MongoError(kInvalidOptions, "collMod index needs exactly one of name and keyPattern");
  }
  if (!hidden && !expire && !prepare_unique && !make_unique) {
    return MongoError(kInvalidOptions, "no collMod index option to change");
  }
  if (make_unique && prepare_unique) {
    return MongoError(kInvalidOptions, "Cannot set 'unique' and 'prepareUnique' at the same time");
  }
  // A dry run checks a conversion to unique and nothing else.
  if (dry_run && (!make_unique || hidden || expire)) {
    return MongoError(kInvalidOptions, "collMod's dryRun is only supported with 'unique: true' alone");
  }
  if (name == "_id_" || (keys && keys->CountElements() == 1 && keys->begin()->key == "_id")) {
    return MongoError(kBadValue, "can't hide or change the _id index");
  }
  auto db = engine->GetDatabase(db_name, /*create=*/false);
  if (!db.ok()) return db.status();
  std::shared_ptr<storage::Collection> coll = *db ? (*db)->FindCollection(coll_name) : nullptr;
  if (coll == nullptr) return MongoError(kNamespaceNotFound, StrCat("ns does not exist: ", db_name, ".", coll_name));
  const storage::IndexDef* def = nullptr;
  for (const storage::IndexDef& d : coll->indexes()) {
    ValueView key;
    DocView(d.spec).Find("key", &key);
    if (keys ? SameKeys(key.Doc(), *keys) : d.name() == name) def = &d;
  }
  if (def == nullptr) {
    return MongoError(kIndexNotFound, StrCat("cannot find index ", keys ? bson::BsonToJson(keys->bytes()) : name,
                                             " for ns ", db_name, ".", coll_name));
  }
  name = std::string(def->name());
  if (expire && coll->capped()) {
    return MongoError(kInvalidOptions, "TTL indexes are not supported for capped collections.");
  }
  auto current = index::IndexSpec::Parse(DocView(def->spec));
  if (!current.ok()) return current.status();
  // Asking for what the index already is changes nothing, as in MongoDB.
  if (make_unique && current->unique()) make_unique = false;
  if (prepare_unique && (current->unique() || *prepare_unique == current->prepare_unique())) {
    prepare_unique.reset();
  }
  if (prepare_unique && *prepare_unique) {
    // Only an index that could be unique may prepare for it (not hashed, wildcard, ...).
    bson::Builder option;
    option.AppendBool("unique", true);
    ValueView key;
    DocView(def->spec).Find("key", &key);
    auto built = index::IndexSpec::Build(key.Doc(), DocView(std::move(option).Finish()));
    if (!built.ok()) return built.status();
  }
  if (make_unique && !current->prepare_unique()) {
    return MongoError(kInvalidOptions,
                      "Cannot make index unique with 'prepareUnique=false'. Run collMod to set it first.");
  }
  if (!hidden && !expire && !prepare_unique && !make_unique) return absl::OkStatus();
  // The index document with the changes made.
  auto changed = [&](DocView spec) -> absl::StatusOr<std::string> {
    bson::Builder b;
    for (const bson::ElementView& e : spec) {
      if ((hidden && e.key == "hidden") || (expire && e.key == "expireAfterSeconds") ||
          ((prepare_unique || make_unique) && e.key == "prepareUnique")) {
        continue;
      }
      b.AppendView(e.key, e.value);
    }
    if (hidden && *hidden) b.AppendBool("hidden", true);
    if (expire) b.AppendInt64("expireAfterSeconds", *expire);
    if (prepare_unique && *prepare_unique) b.AppendBool("prepareUnique", true);
    if (make_unique) b.AppendBool("unique", true);
    std::string out = std::move(b).Finish();
    auto parsed = index::IndexSpec::Parse(DocView(out));
    if (!parsed.ok()) return parsed.status();
    if (expire && parsed->fields().size() != 1) {
      return MongoError(kInvalidOptions, "TTL indexes are single-field indexes");
    }
    return out;
  };
  if (!make_unique) {
    coll.reset();
    return (*db)->ChangeIndex(coll_name, name, changed);
  }
  // Conversion: the entries take the unique layout (keyed by key alone), so the index is
  // rebuilt with its new document in one batch, after a scan for shared keys. New
  // duplicates cannot appear meanwhile (prepareUnique refuses them), and the rebuild's own
  // unique checks would refuse any.
  if (auto s = CheckConvertibleToUnique(db->get(), *coll, *def); !s.ok()) return s;
  if (dry_run) return absl::OkStatus();
  auto spec_bson = changed(DocView(def->spec));
  if (!spec_bson.ok()) return spec_bson.status();
  auto spec = index::IndexSpec::Parse(DocView(*spec_bson));
  if (!spec.ok()) return spec.status();
  const uint32_t index_id = def->id;
  coll.reset();
  auto build = [&](const storage::Collection& c, uint32_t id, storage::IndexBuildSink* sink) {
    return BuildEntries(db->get(), c, id, *spec, sink);
  };
  return (*db)->RebuildIndex(coll_name, index_id, build, *std::move(spec_bson));
}

absl::Status DropIndex(storage::Engine* engine, std::string_view db_name,
                       std::string_view coll_name, std::string_view name, DocView keys) {
  if (auto s = storage::ValidateCollectionName(db_name, coll_name); !s.ok()) return s;
  auto db = engine->GetDatabase(db_name, /*create=*/false);
  if (!db.ok()) return db.status();
  std::shared_ptr<storage::Collection> coll = *db ? (*db)->FindCollection(coll_name) : nullptr;
  if (coll == nullptr) {
    return MongoError(kNamespaceNotFound, StrCat("ns not found ", db_name, ".", coll_name));
  }
  if (!name.empty() && name == ClusteredIndexName(*coll)) {
    return MongoError(kInvalidOptions, "cannot drop the clustered index of a clustered collection");
  }
  if (name == "_id_" || (name.empty() && keys.CountElements() == 1 && keys.begin()->key == "_id")) {
    return MongoError(kInvalidOptions, "cannot drop _id index");
  }
  std::vector<std::string> names;
  for (const storage::IndexDef& def : coll->indexes()) {
    ValueView key;
    DocView(def.spec).Find("key", &key);
    if (name == "*" || def.name() == name || (name.empty() && SameKeys(key.Doc(), keys))) {
      names.emplace_back(def.name());
    }
  }
  if (names.empty() && name != "*") {
    return MongoError(kIndexNotFound, name.empty()
                                          ? StrCat("can't find index with key: ", bson::BsonToJson(keys.bytes()))
                                          : StrCat("index not found with name [", name, "]"));
  }
  for (const std::string& n : names) {
    if (auto s = (*db)->DropIndex(coll_name, n); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool IndexExists(storage::Engine* engine, std::string_view db_name, std::string_view coll_name,
                 std::string_view name, const DocView* keys) {
  auto db = engine->GetDatabase(db_name, /*create=*/false);
  std::shared_ptr<storage::Collection> coll;
  if (db.ok() && *db != nullptr) coll = (*db)->FindCollection(coll_name);
  bool id_index = name == "_id_" || (keys != nullptr && keys->CountElements() == 1 && keys->begin()->key == "_id" &&
                                     keys->begin()->value.IsNumber() && keys->begin()->value.AsDouble() == 1);
  if (id_index && (coll == nullptr || !coll->timeseries())) return true;
  if (coll == nullptr) return false;
  if (keys == nullptr && !name.empty() && name == ClusteredIndexName(*coll)) return true;
  for (const storage::IndexDef& def : coll->indexes()) {
    ValueView key;
    DocView(def.spec).Find("key", &key);
    if (keys != nullptr ? SameKeys(key.Doc(), *keys) : def.name() == name) return true;
  }
  return false;
}

std::string ClusteredIndexName(const storage::Collection& coll) {
  ValueView clustered, name;
  if (coll.options().Find("clusteredIndex", &clustered) && clustered.type == BsonType::kDocument &&
      clustered.Doc().Find("name", &name) && name.type == BsonType::kString) {
    return std::string(name.String());
  }
  return "";
}

}  // namespace micromongo::service
