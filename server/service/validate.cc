#include "service/validate.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "absl/strings/escaping.h"

#include "document/builder.h"
#include "document/json.h"
#include "document/key_string.h"
#include "document/status.h"
#include "index/index_key.h"
#include "service/validation.h"
#include "storage/key_codec.h"
#include "storage/namespace.h"

namespace micromongo::service {
namespace {

using bson::DocView;

// Entries are compared the way MongoDB's validate does: a first pass hashes every entry
// the records need into buckets (+) and every stored entry (-); only when some bucket does
// not cancel out does a second pass collect the entries of those buckets to name them. So
// memory stays bounded by the bucket table, not by the collection.
constexpr size_t kBuckets = 1 << 16;
// At most this many missing / extra entries and corrupt records are listed (the counts in
// the error messages are complete).
constexpr size_t kMaxListed = 100;

struct Bucket {
  int64_t count = 0;
  uint64_t sum = 0;
};

uint64_t EntryHash(std::string_view key, std::string_view value) {
  uint64_t h = std::hash<std::string_view>()(key);
  return h ^ (std::hash<std::string_view>()(value) * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL);
}

// The index id of an entry key i<coll id:4><index id:4>...; 0 when too short.
uint32_t EntryIndexId(std::string_view key) {
  if (key.size() < 9) return 0;
  uint32_t id = 0;
  for (size_t i = 5; i < 9; ++i) id = id << 8 | static_cast<unsigned char>(key[i]);
  return id;
}

// An index entry value starts with the BSON document of its key values (FORMAT.md); a
// value too short for the length it declares is malformed.
bool WellFormedEntryValue(std::string_view value) {
  if (value.size() < 5) return false;
  uint32_t n = static_cast<unsigned char>(value[0]) | static_cast<unsigned char>(value[1]) << 8 |
               static_cast<unsigned char>(value[2]) << 16 |
               static_cast<uint32_t>(static_cast<unsigned char>(value[3])) << 24;
  return n >= 5 && n <= value.size() && bson::Validate(value.substr(0, n)).ok();
}

struct IndexCheck {
  uint32_t id = 0;
  std::string name;
  index::IndexSpec spec;
  uint64_t multikey_flags = 0;  // as the catalog knows them at the snapshot
  uint64_t multikey_needed = 0;  // as the records show them
  int64_t keys = 0;              // stored entries
  int64_t bytes = 0;             // their keys' and values' bytes
  storage::IndexStats stored;    // the index's statistics at the snapshot
  std::vector<std::string> errors;
};

// One entry as the records need it or as it is stored.
struct Entry {
  std::string value;
  std::string id_doc;  // {_id: ...} of the record that needs it (needed entries only)
};

class Validator {
 public:
  Validator(storage::Database* db, const storage::Collection& coll, const storage::KvSnapshot* snapshot,
            std::vector<IndexCheck> indexes, std::unique_ptr<DocumentValidator> doc_validator)
      : db_(db), coll_(coll), snapshot_(snapshot), indexes_(std::move(indexes)),
        doc_validator_(std::move(doc_validator)), buckets_(kBuckets) {}

  absl::Status Run() {
    if (auto s = ScanRecords(/*collect=*/false); !s.ok()) return s;
    if (auto s = ScanEntries(/*collect=*/false); !s.ok()) return s;
    bad_.assign(kBuckets, false);
    bool any_bad = false;
    for (size_t b = 0; b < kBuckets; ++b) {
      bad_[b] = buckets_[b].count != 0 || buckets_[b].sum != 0;
      any_bad = any_bad || bad_[b];
    }
    if (!any_bad) return absl::OkStatus();
    if (auto s = ScanRecords(/*collect=*/true); !s.ok()) return s;
    return ScanEntries(/*collect=*/true);
  }

  std::string Report(std::string_view ns, int64_t count, const storage::CollectionStats& stored,
                     std::vector<std::string> errors) {
    std::vector<std::string> warnings;
    if (nrecords_ != count) {
      errors.push_back(StrCat("The collection's count is ", count, " but it holds ", nrecords_, " records"));
    }
    if (stored.count != nrecords_ || stored.bytes != data_bytes_ || stored.key_bytes != key_bytes_) {
      errors.push_back(StrCat("The collection's stored statistics count ", stored.count, " records of ", stored.bytes,
                              " bytes (keys: ", stored.key_bytes, " bytes) but it holds ", nrecords_,
                              " records of ", data_bytes_, " bytes (keys: ", key_bytes_, " bytes)"));
    }
    if (invalid_documents_ > 0) errors.push_back(StrCat("Detected ", invalid_documents_, " invalid documents"));
    if (non_compliant_ > 0) {
      warnings.push_back("Detected one or more documents in this collection not conformant to the schema");
    }
    for (IndexCheck& ix : indexes_) {
      if (ix.stored.entries != ix.keys || ix.stored.bytes != ix.bytes) {
        ix.errors.push_back(StrCat("Index with name: ", ix.name, " has stored statistics of ", ix.stored.entries,
                                   " entries of ", ix.stored.bytes, " bytes but holds ", ix.keys, " entries of ",
                                   ix.bytes, " bytes"));
      }
      uint64_t unknown = ix.multikey_needed & ~ix.multikey_flags;
      if (unknown != 0) {
        ix.errors.push_back(StrCat("Index with name: ", ix.name,
                                   " is not multi-key but has more than one key in one or more documents"));
      }
    }
    // Attribute missing and extra entries to their indexes.
    std::map<uint32_t, std::pair<int64_t, int64_t>> per_index;  // id -> missing, extra
    std::vector<std::string> missing_docs, extra_docs;
    for (auto& [key, needed] : needed_) {
      auto it = stored_.find(key);
      std::vector<Entry>* stored = it == stored_.end() ? nullptr : &it->second;
      for (Entry& e : needed) {
        if (stored != nullptr && TakeMatching(stored, e.value)) continue;
        ++per_index[EntryIndexId(key)].first;
        if (missing_docs.size() < kMaxListed) missing_docs.push_back(EntryDoc(key, e, /*missing=*/true));
      }
    }
    for (auto& [key, stored] : stored_) {
      for (Entry& e : stored) {
        ++per_index[EntryIndexId(key)].second;
        if (extra_docs.size() < kMaxListed) extra_docs.push_back(EntryDoc(key, e, /*missing=*/false));
      }
    }
    int64_t total_missing = 0, total_extra = 0;
    for (auto& [id, counts] : per_index) {
      total_missing += counts.first;
      total_extra += counts.second;
      IndexCheck* ix = FindIndex(id);
      std::string name = ix != nullptr ? ix->name : StrCat("(unknown index id ", id, ")");
      std::string message = StrCat("Index with name: ", name, " has inconsistencies");
      if (ix != nullptr) {
        ix->errors.push_back(message);
      } else {
        errors.push_back(message);
      }
    }
    for (const IndexCheck& ix : indexes_) {
      for (const std::string& e : ix.errors) errors.push_back(e);
    }
    if (total_missing > 0) errors.push_back(StrCat("Detected ", total_missing, " missing index entries"));
    if (total_extra > 0) errors.push_back(StrCat("Detected ", total_extra, " extra index entries"));

    bson::Builder b;
    b.AppendString("ns", ns);
    b.AppendInt64("nInvalidDocuments", invalid_documents_);
    b.AppendInt64("nNonCompliantDocuments", non_compliant_);
    b.AppendInt64("nrecords", nrecords_);
    b.AppendInt32("nIndexes", static_cast<int32_t>(indexes_.size() + 1));
    size_t t = b.StartDocument("keysPerIndex");
    b.AppendInt64("_id_", nrecords_ - id_mismatches_);
    for (const IndexCheck& ix : indexes_) b.AppendInt64(ix.name, ix.keys);
    b.End(t);
    t = b.StartDocument("indexDetails");
    size_t d = b.StartDocument("_id_");
    b.AppendBool("valid", id_mismatches_ == 0);
    b.End(d);
    for (const IndexCheck& ix : indexes_) {
      d = b.StartDocument(ix.name);
      b.AppendBool("valid", ix.errors.empty());
      if (!ix.errors.empty()) AppendStrings(&b, "errors", ix.errors);
      b.End(d);
    }
    b.End(t);
    b.AppendBool("valid", errors.empty());
    b.AppendBool("repaired", false);
    AppendStrings(&b, "warnings", warnings);
    AppendStrings(&b, "errors", errors);
    AppendDocs(&b, "extraIndexEntries", extra_docs);
    AppendDocs(&b, "missingIndexEntries", missing_docs);
    AppendStrings(&b, "corruptRecords", corrupt_records_);
    return std::move(b).Finish();
  }

 private:
  static void AppendStrings(bson::Builder* b, std::string_view name, const std::vector<std::string>& items) {
    size_t t = b->StartArray(name);
    for (size_t i = 0; i < items.size(); ++i) b->AppendString(std::to_string(i), items[i]);
    b->End(t);
  }
  static void AppendDocs(bson::Builder* b, std::string_view name, const std::vector<std::string>& items) {
    size_t t = b->StartArray(name);
    for (size_t i = 0; i < items.size(); ++i) b->AppendDocument(std::to_string(i), DocView(items[i]));
    b->End(t);
  }

  IndexCheck* FindIndex(uint32_t id) {
    for (IndexCheck& ix : indexes_) {
      if (ix.id == id) return &ix;
    }
    return nullptr;
  }

  static bool TakeMatching(std::vector<Entry>* stored, std::string_view value) {
    for (auto it = stored->begin(); it != stored->end(); ++it) {
      if (it->value == value) {
        stored->erase(it);
        return true;
      }
    }
    return false;
  }

  // {indexName, recordId, idKey?, indexKey} as MongoDB lists missing and extra entries;
  // recordId is the hex of the record's key string (the _id's, which names records here).
  std::string EntryDoc(std::string_view key, const Entry& e, bool missing) {
    uint32_t id = EntryIndexId(key);
    IndexCheck* ix = FindIndex(id);
    bson::Builder b;
    b.AppendString("indexName", ix != nullptr ? ix->name : StrCat("(unknown index id ", id, ")"));
    if (WellFormedEntryValue(e.value)) {
      b.AppendString("recordId", absl::BytesToHexString(std::string(index::EntryRecordId(e.value))));
      if (missing) b.AppendDocument("idKey", DocView(e.id_doc));
      index::IndexKey k;
      k.values = std::string(index::EntryKeyValues(e.value).bytes());
      if (ix != nullptr) {
        std::string named = ix->spec.KeyValueDocument(k);
        b.AppendDocument("indexKey", DocView(named));
      } else {
        b.AppendDocument("indexKey", DocView(k.values));
      }
    } else {
      b.AppendString("entryKey", absl::BytesToHexString(std::string(key)));
      b.AppendString("entryValue", absl::BytesToHexString(e.value));
    }
    return std::move(b).Finish();
  }

  void Count(std::string_view key, std::string_view value, int sign) {
    uint64_t h = EntryHash(key, value);
    Bucket& bucket = buckets_[h % kBuckets];
    bucket.count += sign;
    bucket.sum += sign > 0 ? h : -h;
  }
  bool InBadBucket(std::string_view key, std::string_view value) const {
    return bad_[EntryHash(key, value) % kBuckets];
  }

  absl::Status ScanRecords(bool collect) {
    std::string record_prefix = storage::RecordPrefix(coll_.id());
    std::vector<index::IndexKey> keys;
    auto it = db_->ScanRecords(coll_, snapshot_);
    for (; it->Valid(); it->Next()) {
      std::string_view key = it->key();
      std::string_view value = it->value();
      if (!collect) {
        ++nrecords_;
        data_bytes_ += static_cast<int64_t>(value.size());
        key_bytes_ += static_cast<int64_t>(key.size());
      }
      if (!bson::Validate(value).ok()) {
        if (!collect) Corrupt(key, /*id_mismatch=*/false);
        continue;
      }
      DocView doc(value);
      if (doc.empty() || doc.begin()->key != "_id") {
        if (!collect) Corrupt(key, /*id_mismatch=*/true);
        continue;
      }
      // What names the record in index entries: the keystring of its _id, or of a time
      // series record its time and sequence (TimeseriesRecordKey).
      std::string id_key;
      if (coll_.timeseries()) {
        bson::ValueView time;
        if (doc.Find(coll_.time_field(), &time)) bson::AppendKeyString(time, &id_key);
        if (time.type != BsonType::kDate || key.size() != record_prefix.size() + id_key.size() + 8 ||
            key.substr(record_prefix.size(), id_key.size()) != id_key) {
          if (!collect) Corrupt(key, /*id_mismatch=*/true);
          continue;
        }
        id_key = std::string(key.substr(record_prefix.size()));
      } else {
        bson::AppendKeyString(doc.begin()->value, &id_key);
        if (key.size() != record_prefix.size() + id_key.size() || key.substr(record_prefix.size()) != id_key) {
          if (!collect) Corrupt(key, /*id_mismatch=*/true);
          continue;
        }
      }
      if (!collect && doc_validator_ != nullptr && !doc_validator_->Conforms(doc)) ++non_compliant_;
      for (IndexCheck& ix : indexes_) {
        keys.clear();
        uint64_t multikey = 0;
        if (auto s = ix.spec.Keys(doc, &keys, &multikey); !s.ok()) {
          if (!collect && ix.errors.size() < kMaxListed) {
            ix.errors.push_back(StrCat("A document cannot be indexed by ", ix.name, ": ", s.message()));
          }
          continue;
        }
        if (!collect) ix.multikey_needed |= multikey;
        std::string prefix = storage::IndexPrefix(coll_.id(), ix.id);
        for (const index::IndexKey& k : keys) {
          std::string entry_key = prefix + k.encoded;
          if (!ix.spec.unique()) entry_key += id_key;
          std::string entry_value = index::EntryValue(k, id_key);
          if (!collect) {
            Count(entry_key, entry_value, +1);
          } else if (InBadBucket(entry_key, entry_value)) {
            bson::Builder id;
            id.AppendView("_id", doc.begin()->value);
            needed_[entry_key].push_back({std::move(entry_value), std::move(id).Finish()});
          }
        }
      }
    }
    return it->status();
  }

  absl::Status ScanEntries(bool collect) {
    auto it = db_->ScanAllIndexEntries(coll_, snapshot_);
    for (; it->Valid(); it->Next()) {
      std::string_view key = it->key();
      std::string_view value = it->value();
      if (!collect) {
        if (IndexCheck* ix = FindIndex(EntryIndexId(key)); ix != nullptr) {
          ++ix->keys;
          ix->bytes += static_cast<int64_t>(key.size() + value.size());
        }
        Count(key, value, -1);
      } else if (InBadBucket(key, value)) {
        stored_[std::string(key)].push_back({std::string(value), {}});
      }
    }
    return it->status();
  }

  void Corrupt(std::string_view key, bool id_mismatch) {
    ++invalid_documents_;
    if (id_mismatch) ++id_mismatches_;
    if (corrupt_records_.size() < kMaxListed) corrupt_records_.push_back(absl::BytesToHexString(std::string(key)));
  }

  storage::Database* db_;
  const storage::Collection& coll_;
  const storage::KvSnapshot* snapshot_;
  std::vector<IndexCheck> indexes_;
  std::unique_ptr<DocumentValidator> doc_validator_;
  std::vector<Bucket> buckets_;
  std::vector<bool> bad_;
  std::map<std::string, std::vector<Entry>> needed_, stored_;  // entries of bad buckets by key
  int64_t nrecords_ = 0, data_bytes_ = 0, key_bytes_ = 0, invalid_documents_ = 0, id_mismatches_ = 0, non_compliant_ = 0;
  std::vector<std::string> corrupt_records_;
};

}  // namespace

absl::StatusOr<std::string> ValidateCollection(storage::Engine* engine, std::string_view db_name,
                                               std::string_view coll_name, const ValidateOptions& options) {
  if (auto s = storage::ValidateCollectionName(db_name, coll_name); !s.ok()) return s;
  std::string ns = StrCat(db_name, ".", coll_name);
  auto not_found = [&] {
    return MongoError(kNamespaceNotFound, StrCat("Collection '", ns, "' does not exist to validate."));
  };
  auto db = engine->GetDatabase(db_name, /*create=*/false);
  if (!db.ok()) return db.status();
  if (*db == nullptr) return not_found();

  std::shared_ptr<storage::Collection> coll;
  std::shared_ptr<const storage::KvSnapshot> snapshot;
  std::vector<IndexCheck> indexes;
  int64_t count = 0;
  {
    std::shared_lock<std::shared_mutex> ddl((*db)->ddl_mutex());
    // No write is between its commit and its count update, and no index build runs, while
    // the gate is held exclusively: the catalog, the snapshot, the count and the multikey
    // flags agree.
    std::unique_lock<std::shared_mutex> gate((*db)->write_gate());
    coll = (*db)->FindCollection(coll_name);
    if (coll == nullptr) return not_found();
    if (coll->is_view()) {
      return MongoError(kCommandNotSupportedOnView, StrCat("Namespace ", ns, " is a view, not a collection"));
    }
    for (const storage::IndexDef& def : coll->indexes()) {
      auto spec = index::IndexSpec::Parse(DocView(def.spec));
      if (!spec.ok()) return spec.status();
      indexes.push_back({.id = def.id, .name = std::string(def.name()), .spec = *std::move(spec)});
    }
    snapshot = (*db)->Snapshot();
    count = coll->count();
    for (size_t i = 0; i < indexes.size(); ++i) indexes[i].multikey_flags = coll->indexes()[i].multikey_fields();
  }
  auto doc_validator = DocumentValidator::FromOptions(coll->options());
  if (!doc_validator.ok()) return doc_validator.status();

  std::vector<std::string> errors;
  if (options.full) {
    if (auto s = (*db)->VerifyChecksums(); !s.ok()) {
      errors.push_back(StrCat("Storage checksums do not match: ", s.message()));
    }
  }
  if (coll->capped()) {
    // Every record has its place in the insertion order, and every place names a record.
    auto order = (*db)->CheckNaturalOrder(*coll, snapshot.get());
    if (!order.ok()) return order.status();
    if (order->placed != count) {
      errors.push_back(StrCat("The capped collection's insertion order places ", order->placed, " of its ", count,
                              " records"));
    }
    if (order->dangling > 0) {
      errors.push_back(StrCat("The capped collection's insertion order has ", order->dangling,
                              " entries that name no record"));
    }
  }
  for (IndexCheck& ix : indexes) {
    auto stats = (*db)->StoredIndexStats(*coll, ix.id, snapshot.get());
    if (!stats.ok()) return stats.status();
    ix.stored = *stats;
  }
  Validator v(db->get(), *coll, snapshot.get(), std::move(indexes), *std::move(doc_validator));
  if (auto s = v.Run(); !s.ok()) return s;
  auto stored = (*db)->StoredStats(*coll, snapshot.get());
  if (!stored.ok()) return stored.status();
  return v.Report(ns, count, *stored, std::move(errors));
}

}  // namespace micromongo::service
