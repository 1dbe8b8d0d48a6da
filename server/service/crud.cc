#include "service/crud.h"
#include "index/index_key.h"
#include "service/validation.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "absl/container/flat_hash_set.h"

#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"
#include "storage/key_codec.h"
#include "storage/namespace.h"
#include "query/path_values.h"

namespace micromongo::service {

absl::Status Deadline::Check() const {
  if (at_ && std::chrono::steady_clock::now() > *at_) {
    return MongoError(kMaxTimeMSExpired, "operation exceeded time limit");
  }
  return absl::OkStatus();
}

namespace {

using bson::DocView;
using bson::ValueView;

// An open namespace: the database held against concurrent DDL for the operation's length.
struct Namespace {
  std::shared_ptr<storage::Database> db;
  std::shared_lock<std::shared_mutex> ddl;
  std::shared_ptr<storage::Collection> coll;  // null if the collection does not exist
  // For writes: the collection's document validator (null: none) and secondary indexes.
  std::unique_ptr<DocumentValidator> validator;
  struct Index {
    uint32_t id;
    index::IndexSpec spec;
  };
  std::vector<Index> indexes;
  std::string db_name, coll_name;

  // A document about to be stored, replacing `old_doc` (null for inserts).
  absl::Status CheckValid(DocView doc, const DocView* old_doc) const {
    if (auto s = update::ValidateStorable(doc); !s.ok()) return s;
    return validator == nullptr ? absl::OkStatus() : validator->Check(doc, old_doc);
  }

  // Puts into `unit` the index entry changes of one document write: `old_doc` replaced by
  // `new_doc` (null: insert / delete). Nothing is added on error: 11000 when a unique
  // index already holds a new key for another document, 171 for parallel arrays.
  absl::Status WriteIndexEntries(storage::WriteUnit* unit, const DocView* old_doc,
                                 const DocView* new_doc) const;
};

absl::Status Namespace::WriteIndexEntries(storage::WriteUnit* unit, const DocView* old_doc,
                                          const DocView* new_doc) const {
  if (indexes.empty()) return absl::OkStatus();
  std::string id_key;  // the record's _id keystring: names it in unique entries
  storage::AppendKeyString((new_doc != nullptr ? *new_doc : *old_doc).begin()->value, &id_key);
  std::vector<std::string> deletes;
  std::vector<std::pair<std::string, std::string>> puts;
  std::vector<index::IndexKey> old_keys, new_keys;
  for (const Index& ix : indexes) {
    old_keys.clear();
    new_keys.clear();
    if (old_doc != nullptr) {
      if (auto s = ix.spec.Keys(*old_doc, &old_keys); !s.ok()) return s;
    }
    if (new_doc != nullptr) {
      if (auto s = ix.spec.Keys(*new_doc, &new_keys); !s.ok()) return s;
    }
    std::string prefix = storage::IndexPrefix(coll->id(), ix.id);
    auto entry_key = [&](const index::IndexKey& k) {
      std::string key = prefix + k.encoded;
      if (!ix.spec.unique()) key += id_key;
      return key;
    };
    auto contains = [](const std::vector<index::IndexKey>& keys, const std::string& encoded) {
      for (const auto& k : keys) {
        if (k.encoded == encoded) return true;
      }
      return false;
    };
    for (const auto& k : old_keys) {
      if (!contains(new_keys, k.encoded)) deletes.push_back(entry_key(k));
    }
    for (const auto& k : new_keys) {
      if (contains(old_keys, k.encoded)) continue;
      std::string key = entry_key(k);
      if (ix.spec.unique()) {
        auto owner = unit->GetIndexEntry(key);
        if (!owner.ok()) return owner.status();
        if (*owner && **owner != id_key) {
          std::string key_value = ix.spec.KeyValueDocument(k);
          bson::Builder details;
          details.AppendDocument("keyPattern", ix.spec.key_pattern());
          details.AppendDocument("keyValue", DocView(key_value));
          return MongoError(kDuplicateKey,
                            StrCat("E11000 duplicate key error collection: ", db_name, ".",
                                   coll_name, " index: ", ix.spec.name(),
                                   " dup key: ", bson::BsonToJson(key_value)),
                            std::move(details).Finish());
        }
        puts.emplace_back(std::move(key), id_key);
      } else {
        puts.emplace_back(std::move(key), std::string());
      }
    }
  }
  for (std::string& key : deletes) unit->DeleteIndexEntry(std::move(key));
  for (auto& [key, value] : puts) unit->PutIndexEntry(std::move(key), std::move(value));
  return absl::OkStatus();
}

enum class Access { kRead, kWrite };

// `create`: create the database and collection if missing. Writes to a view fail with 166
// (CommandNotSupportedOnView) and load the collection's validator.
absl::StatusOr<Namespace> OpenNamespace(storage::Engine* engine, std::string_view db_name,
                                        std::string_view coll_name, bool create,
                                        Access access = Access::kRead,
                                        const WriteOptions& options = {}) {
  if (auto s = storage::ValidateCollectionName(db_name, coll_name); !s.ok()) return s;
  auto db = engine->GetDatabase(db_name, create);
  if (!db.ok()) return db.status();
  Namespace ns;
  ns.db = *std::move(db);
  if (ns.db == nullptr) return ns;
  ns.ddl = std::shared_lock<std::shared_mutex>(ns.db->ddl_mutex());
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
      ns.indexes.push_back({def.id, *std::move(spec)});
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

// MongoDB's DuplicateKey error, with keyPattern and keyValue in the error response.
absl::Status DuplicateKey(std::string_view db, std::string_view coll, const ValueView& id) {
  std::string key_value = IdDocument(id);
  std::string json = bson::BsonToJson(key_value);
  bson::Builder details;
  bson::Builder pattern;
  pattern.AppendInt32("_id", 1);
  details.AppendDocument("keyPattern", DocView(std::move(pattern).Finish()));
  details.AppendDocument("keyValue", DocView(key_value));
  return MongoError(kDuplicateKey,
                    StrCat("E11000 duplicate key error collection: ", db, ".", coll,
                           " index: _id_ dup key: ", json),
                    std::move(details).Finish());
}

// Puts _id first, generating an ObjectId if the document has none.
std::string WithIdFirst(std::string doc) {
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
    b.AppendView("_id", ValueView{BsonType::kObjectId, reinterpret_cast<const char*>(oid.bytes.data()), 12});
  }
  for (const bson::ElementView& e : view) {
    if (e.key != "_id") b.AppendView(e.key, e.value);
  }
  return std::move(b).Finish();
}

// Candidates for a filter: one record for {_id: v}, else every record (the matcher decides).
class Candidates {
 public:
  Candidates(storage::Database* db, const storage::Collection& coll, const query::Matcher& m,
             const Deadline& deadline = {})
      : db_(db), coll_(coll), matcher_(m), deadline_(deadline) {
    if (const ValueView* id = m.id_equality()) {
      point_ = true;
      key_ = storage::RecordKey(coll.id(), *id);
    } else {
      it_ = db->ScanRecords(coll);
    }
  }

  // The next matching record; false at the end.
  absl::StatusOr<bool> Next(std::string* key, std::string* doc) {
    if (point_) {
      if (done_) return false;
      done_ = true;
      auto found = db_->GetRecord(coll_, key_, doc);
      if (!found.ok()) return found.status();
      if (!*found || !matcher_.Matches(DocView(*doc))) return false;
      *key = key_;
      return true;
    }
    for (; it_->Valid(); it_->Next()) {
      if ((++scanned_ & 255) == 0) {
        if (auto s = deadline_.Check(); !s.ok()) return s;
      }
      std::string_view value = it_->value();
      if (!matcher_.Matches(DocView(value.data()))) continue;
      key->assign(it_->key());
      doc->assign(value);
      it_->Next();
      return true;
    }
    if (!it_->status().ok()) return it_->status();
    return false;
  }

 private:
  storage::Database* db_;
  const storage::Collection& coll_;
  const query::Matcher& matcher_;
  Deadline deadline_;
  uint32_t scanned_ = 0;
  bool point_ = false;
  bool done_ = false;
  std::string key_;
  std::unique_ptr<storage::KvIterator> it_;
};

// The document an upsert starts from: the filter's top-level equality conditions.
// Collects the equality conditions of `filter` and of its $and conjuncts.
void CollectEqualities(DocView filter, Document* seed) {
  for (const bson::ElementView& e : filter) {
    if (e.key == "$and" && e.value.type == BsonType::kArray) {
      for (const bson::ElementView& c : e.value.Doc()) {
        if (c.value.type == BsonType::kDocument) CollectEqualities(c.value.Doc(), seed);
      }
      continue;
    }
    if (e.key.empty() || e.key[0] == '$') continue;
    if (e.value.type == BsonType::kDocument) {
      DocView d = e.value.Doc();
      if (!d.empty() && d.begin()->key.size() > 0 && d.begin()->key[0] == '$') {
        ValueView eq;
        if (d.Find("$eq", &eq)) {
          seed->Set(std::string(e.key), bson::ToValue(eq));  // dotted keys expanded below
        }
        continue;
      }
    }
    seed->Set(std::string(e.key), bson::ToValue(e.value));
  }
}

absl::StatusOr<Document> UpsertSeed(const query::Matcher& filter) {
  Document seed;
  CollectEqualities(filter.filter(), &seed);
  // Expand dotted keys into subdocuments, as MongoDB does for upserts.
  Document out;
  for (auto& [key, value] : seed) {
    if (key.find('.') == std::string::npos) {
      out.Set(key, value);
      continue;
    }
    Document* cur = &out;
    size_t start = 0;
    while (true) {
      size_t dot = key.find('.', start);
      std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (dot == std::string::npos) {
        cur->Set(part, value);
        break;
      }
      Value* next = cur->Find(part);
      if (next == nullptr) {
        cur->Append(part, Document());
        next = cur->Find(part);
      }
      if (next->type() != BsonType::kDocument) {
        return MongoError(kPathNotViable, StrCat("cannot infer upsert document from path '", key, "'"));
      }
      cur = &next->AsDocument();
      start = dot + 1;
    }
  }
  return out;
}

// Inserts the document an upsert builds from the filter and the update (caller holds the
// collection's write mutex). Returns the inserted document.
absl::StatusOr<std::string> UpsertInsert(const Namespace& ns, std::string_view db_name,
                                         std::string_view coll_name, const query::Matcher& filter,
                                         const update::Update& update) {
  auto seed = UpsertSeed(filter);
  if (!seed.ok()) return seed.status();
  Document tree = *std::move(seed);
  if (auto s = update.Apply(&tree, {.is_insert = true, .let = filter.let(), .collator = filter.collator()}, &filter); !s.ok()) {
    return s;
  }
  if (tree.Find("_id") == nullptr) tree.Insert(tree.begin(), {"_id", ObjectId::Generate()});
  tree.MoveToFront("_id");
  std::string inserted = bson::Encode(tree);
  DocView view(inserted);
  if (auto s = ns.CheckValid(view, nullptr); !s.ok()) return s;
  ValueView id = view.begin()->value;
  std::string new_key = storage::RecordKey(ns.coll->id(), id);
  std::string existing;
  auto found = ns.db->GetRecord(*ns.coll, new_key, &existing);
  if (!found.ok()) return found.status();
  if (*found) return DuplicateKey(db_name, coll_name, id);
  storage::WriteUnit unit(ns.db.get());
  if (auto s = ns.WriteIndexEntries(&unit, nullptr, &view); !s.ok()) return s;
  unit.PutRecord(ns.coll.get(), new_key, inserted, /*is_insert=*/true);
  if (auto s = ns.db->Commit(&unit); !s.ok()) return s;
  return inserted;
}

}  // namespace

absl::StatusOr<InsertOutcome> Insert(storage::Engine* engine, std::string_view db_name,
                                     std::string_view coll_name, std::vector<std::string> docs,
                                     bool ordered, const WriteOptions& options) {
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/true, Access::kWrite, options);
  if (!ns.ok()) return ns.status();
  InsertOutcome out;
  // Validate and key every document, then probe all keys in one batched lookup.
  std::vector<absl::Status> statuses(docs.size());
  std::vector<std::string> keys(docs.size());
  std::vector<std::string_view> probe;
  probe.reserve(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    docs[i] = WithIdFirst(std::move(docs[i]));
    DocView view(docs[i]);
    statuses[i] = ns->CheckValid(view, nullptr);
    if (!statuses[i].ok()) continue;
    keys[i] = storage::RecordKey(ns->coll->id(), view.begin()->value);
    probe.push_back(keys[i]);
  }
  storage::WriteUnit unit(ns->db.get());
  std::lock_guard<std::mutex> lock(ns->coll->write_mutex());
  std::vector<bool> exists;
  if (auto s = ns->db->RecordsExist(probe, &exists); !s.ok()) return s;
  absl::flat_hash_set<std::string_view> batch_keys;
  batch_keys.reserve(docs.size());
  for (size_t i = 0, p = 0; i < docs.size(); ++i) {
    absl::Status status = statuses[i];
    if (status.ok()) {
      std::string_view key = keys[i];
      if (exists[p++] || !batch_keys.insert(key).second) {
        status = DuplicateKey(db_name, coll_name, DocView(docs[i]).begin()->value);
      }
    }
    if (status.ok()) {
      DocView view(docs[i]);
      status = ns->WriteIndexEntries(&unit, nullptr, &view);
    }
    if (!status.ok()) {
      out.write_errors.push_back({static_cast<int>(i), status});
      if (ordered) break;
      continue;
    }
    unit.PutRecord(ns->coll.get(), keys[i], docs[i], /*is_insert=*/true);
    out.inserted.push_back(static_cast<int>(i));
  }
  if (auto s = ns->db->Commit(&unit); !s.ok()) return s;
  out.inserted_count = static_cast<int64_t>(out.inserted.size());
  out.docs = std::move(docs);
  return out;
}

namespace {

// Commits a multi-document write in chunks of kChunk documents. MongoDB makes each
// document's write atomic, not the whole updateMany/deleteMany, so this keeps its
// semantics while bounding the batch's memory; and while a chunk commits on another
// thread the scan goes on (the snapshot iterator does not see those writes), using the
// second core. Chunks commit in order; the next one waits for the previous. Pipelining is
// off when the collection has secondary indexes: unique checks read committed entries,
// which must include every earlier chunk.
class ChunkedWriter {
 public:
  ChunkedWriter(storage::Database* db, bool pipelined)
      : db_(db), pipelined_(pipelined), unit_(std::make_unique<storage::WriteUnit>(db)) {}
  ~ChunkedWriter() {
    if (in_flight_.valid()) in_flight_.wait();
  }
  storage::WriteUnit* unit() { return unit_.get(); }

  // Called after each document's writes.
  absl::Status DocumentDone() {
    if (!pipelined_ || ++docs_ % kChunk != 0) return absl::OkStatus();
    if (auto s = Wait(); !s.ok()) return s;
    in_flight_ = std::async(std::launch::async, [db = db_, unit = std::move(unit_)] {
      return db->Commit(unit.get());
    });
    unit_ = std::make_unique<storage::WriteUnit>(db_);
    return absl::OkStatus();
  }

  // Commits what is left; returns the first failure of any chunk.
  absl::Status Finish() {
    if (auto s = Wait(); !s.ok()) return s;
    return db_->Commit(unit_.get());
  }

 private:
  static constexpr int kChunk = 1000;
  absl::Status Wait() {
    if (!in_flight_.valid()) return absl::OkStatus();
    return in_flight_.get();
  }

  storage::Database* db_;
  bool pipelined_;
  std::unique_ptr<storage::WriteUnit> unit_;
  std::future<absl::Status> in_flight_;
  int docs_ = 0;
};

}  // namespace

absl::StatusOr<UpdateOutcome> Update(storage::Engine* engine, std::string_view db_name,
                                     std::string_view coll_name, const query::Matcher& filter,
                                     const update::Update& update, bool multi, bool upsert,
                                     const Deadline& deadline, const WriteOptions& options) {
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/upsert, Access::kWrite, options);
  if (!ns.ok()) return ns.status();
  UpdateOutcome out;
  if (ns->coll == nullptr) return out;
  std::lock_guard<std::mutex> lock(ns->coll->write_mutex());
  ChunkedWriter writer(ns->db.get(), /*pipelined=*/multi && ns->indexes.empty());
  Candidates candidates(ns->db.get(), *ns->coll, filter, deadline);
  std::string key, doc, updated;  // reused across documents
  absl::Status failure;
  while (true) {
    auto more = candidates.Next(&key, &doc);
    if (!more.ok()) return more.status();
    if (!*more) break;
    ++out.matched_count;
    failure = update.ApplyToBson(DocView(doc), {.let = filter.let(), .collator = filter.collator()}, &filter, &updated);
    if (!failure.ok()) break;
    if (updated != doc) {
      DocView old(doc), now(updated);
      failure = ns->CheckValid(now, &old);
      if (!failure.ok()) break;
      failure = ns->WriteIndexEntries(writer.unit(), &old, &now);
      if (!failure.ok()) break;
      writer.unit()->PutRecord(ns->coll.get(), key, updated, /*is_insert=*/false);
      ++out.modified_count;
      failure = writer.DocumentDone();
      if (!failure.ok()) break;
    }
    if (!multi) break;
  }
  // Documents updated before a failure stay updated, as in MongoDB.
  if (auto s = writer.Finish(); !s.ok()) return s;
  if (!failure.ok()) return failure;
  if (out.matched_count > 0 || !upsert) return out;
  auto inserted = UpsertInsert(*ns, db_name, coll_name, filter, update);
  if (!inserted.ok()) return inserted.status();
  out.upserted_id = IdDocument(DocView(*inserted).begin()->value);
  return out;
}

absl::StatusOr<int64_t> Delete(storage::Engine* engine, std::string_view db_name,
                               std::string_view coll_name, const query::Matcher& filter,
                               bool multi, const Deadline& deadline) {
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false, Access::kWrite);
  if (!ns.ok()) return ns.status();
  if (ns->coll == nullptr) return 0;
  std::lock_guard<std::mutex> lock(ns->coll->write_mutex());
  // Deletes never check uniqueness, so their chunks may pipeline even with indexes.
  ChunkedWriter writer(ns->db.get(), /*pipelined=*/multi);
  Candidates candidates(ns->db.get(), *ns->coll, filter, deadline);
  std::string key, doc;
  int64_t deleted = 0;
  while (true) {
    auto more = candidates.Next(&key, &doc);
    if (!more.ok()) return more.status();
    if (!*more) break;
    DocView old(doc);
    if (auto s = ns->WriteIndexEntries(writer.unit(), &old, nullptr); !s.ok()) return s;
    writer.unit()->DeleteRecord(ns->coll.get(), key);
    ++deleted;
    if (auto s = writer.DocumentDone(); !s.ok()) return s;
    if (!multi) break;
  }
  if (auto s = writer.Finish(); !s.ok()) return s;
  return deleted;
}

absl::StatusOr<int64_t> Count(storage::Engine* engine, std::string_view db_name,
                              std::string_view coll_name, const query::Matcher& filter,
                              int64_t skip, int64_t limit, const Deadline& deadline) {
  if (skip < 0) return MongoError(kBadValue, "skip must be non-negative");
  if (limit < 0) return MongoError(kBadValue, "limit must be non-negative");
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false);
  if (!ns.ok()) return ns.status();
  if (ns->coll == nullptr) return 0;
  int64_t n = 0;
  if (filter.MatchesAll()) {
    n = ns->coll->count();
  } else {
    Candidates candidates(ns->db.get(), *ns->coll, filter, deadline);
    std::string key, doc;
    while (true) {
      auto more = candidates.Next(&key, &doc);
      if (!more.ok()) return more.status();
      if (!*more) break;
      ++n;
      if (limit > 0 && n >= skip + limit) break;
    }
  }
  n = std::max<int64_t>(0, n - skip);
  if (limit > 0) n = std::min(n, limit);
  return n;
}

absl::StatusOr<int64_t> EstimatedCount(storage::Engine* engine, std::string_view db_name,
                                       std::string_view coll_name) {
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false);
  if (!ns.ok()) return ns.status();
  return ns->coll == nullptr ? 0 : ns->coll->count();
}

absl::StatusOr<FindAndModifyOutcome> FindAndModify(storage::Engine* engine,
                                                   std::string_view db_name,
                                                   std::string_view coll_name,
                                                   const FindAndModifySpec& spec) {
  bool may_create = spec.update != nullptr && spec.upsert;
  auto ns = OpenNamespace(engine, db_name, coll_name, may_create, Access::kWrite,
                          spec.write_options);
  if (!ns.ok()) return ns.status();
  FindAndModifyOutcome out;
  if (ns->coll == nullptr) return out;
  std::lock_guard<std::mutex> lock(ns->coll->write_mutex());
  auto project = [&](std::string doc) -> absl::StatusOr<std::string> {
    if (spec.projection == nullptr) return doc;
    return spec.projection->Apply(DocView(doc), spec.filter);
  };
  // The first match in sort order (or in _id order without a sort).
  Candidates candidates(ns->db.get(), *ns->coll, *spec.filter, spec.deadline);
  std::string key, doc, best_key, best_doc;
  std::vector<ValueView> best_sort_key;
  bool found = false;
  while (true) {
    auto more = candidates.Next(&key, &doc);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (spec.sort == nullptr || spec.sort->empty()) {
      best_key = std::move(key);
      best_doc = std::move(doc);
      found = true;
      break;
    }
    if (!found) {
      best_key = key;
      best_doc = doc;
      best_sort_key = spec.sort->ExtractKey(DocView(best_doc));
      found = true;
      continue;
    }
    auto k = spec.sort->ExtractKey(DocView(doc));
    if (spec.sort->Compare(k, best_sort_key) < 0) {
      best_key = key;
      best_doc = doc;
      best_sort_key = spec.sort->ExtractKey(DocView(best_doc));
    }
  }
  if (!found) {
    if (!may_create) return out;
    auto inserted = UpsertInsert(*ns, db_name, coll_name, *spec.filter, *spec.update);
    if (!inserted.ok()) return inserted.status();
    out.upserted_id = IdDocument(DocView(*inserted).begin()->value);
    if (spec.return_new) {
      auto projected = project(*std::move(inserted));
      if (!projected.ok()) return projected.status();
      out.value = *std::move(projected);
    }
    return out;
  }
  storage::WriteUnit unit(ns->db.get());
  if (spec.update == nullptr) {
    DocView old(best_doc);
    if (auto s = ns->WriteIndexEntries(&unit, &old, nullptr); !s.ok()) return s;
    unit.DeleteRecord(ns->coll.get(), best_key);
    if (auto s = ns->db->Commit(&unit); !s.ok()) return s;
    auto projected = project(std::move(best_doc));
    if (!projected.ok()) return projected.status();
    out.value = *std::move(projected);
    return out;
  }
  std::string updated;
  if (auto s = spec.update->ApplyToBson(DocView(best_doc), {.let = spec.filter->let(), .collator = spec.filter->collator()},
                                        spec.filter, &updated);
      !s.ok()) {
    return s;
  }
  if (updated != best_doc) {
    DocView old(best_doc), now(updated);
    if (auto s = ns->CheckValid(now, &old); !s.ok()) return s;
    if (auto s = ns->WriteIndexEntries(&unit, &old, &now); !s.ok()) return s;
    unit.PutRecord(ns->coll.get(), best_key, updated, /*is_insert=*/false);
    if (auto s = ns->db->Commit(&unit); !s.ok()) return s;
  }
  out.updated_existing = true;
  auto projected = project(spec.return_new ? std::move(updated) : std::move(best_doc));
  if (!projected.ok()) return projected.status();
  out.value = *std::move(projected);
  return out;
}

DistinctValues::DistinctValues(std::string key, const bson::Collator* collator)
    : path_(key),
      collator_(collator),
      collated_seen_([collator](const std::string& a, const std::string& b) {
        return bson::CompareValues(DocView(a).begin()->value, DocView(b).begin()->value,
                                   collator) < 0;
      }) {
  values_ = out_.StartArray("values");
}

void DistinctValues::Add(DocView doc) {
  auto add = [this](const ValueView& v) {
    bool fresh;
    if (collator_ != nullptr) {
      // Under a collation equality is the collator's ("a" == "A"): the values kept so
      // far, each encoded as {"": value}, ordered by it. The first spelling seen is kept.
      bson::Builder one;
      one.AppendView("", v);
      fresh = collated_seen_.insert(std::move(one).Finish()).second;
    } else {
      std::string k;  // key strings: MongoDB equality (1 and 1.0 are one value)
      storage::AppendKeyString(v, &k);
      fresh = seen_.insert(std::move(k)).second;
    }
    char scratch[24];
    if (fresh) out_.AppendView(bson::ArrayKey(n_++, scratch), v);
  };
  query::ForEachValueAtPath(doc, path_, add);
}

std::string DistinctValues::Finish() && {
  out_.End(values_);
  return std::move(out_).Finish();
}

absl::Status CheckDistinctKey(std::string_view key) {
  if (key.empty()) return MongoError(kBadValue, "distinct key cannot be empty");
  if (key.find('\0') != std::string_view::npos || key.front() == '$') {
    return MongoError(kBadValue, StrCat("invalid distinct key '", key, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Distinct(storage::Engine* engine, std::string_view db_name,
                                     std::string_view coll_name, std::string_view key,
                                     const query::Matcher& filter, const Deadline& deadline) {
  if (auto s = CheckDistinctKey(key); !s.ok()) return s;
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false);
  if (!ns.ok()) return ns.status();
  DistinctValues values{std::string(key), filter.collator()};
  if (ns->coll != nullptr) {
    Candidates candidates(ns->db.get(), *ns->coll, filter, deadline);
    std::string record_key, doc;
    while (true) {
      auto more = candidates.Next(&record_key, &doc);
      if (!more.ok()) return more.status();
      if (!*more) break;
      values.Add(DocView(doc));
    }
  }
  return std::move(values).Finish();
}

absl::StatusOr<std::optional<ResolvedView>> ResolveView(storage::Engine* engine,
                                                        std::string_view db_name,
                                                        std::string_view coll_name) {
  if (auto s = storage::ValidateCollectionName(db_name, coll_name); !s.ok()) return s;
  auto db = engine->GetDatabase(db_name, /*create=*/false);
  if (!db.ok()) return db.status();
  if (*db == nullptr) return std::optional<ResolvedView>();
  std::optional<ResolvedView> view;
  std::string name(coll_name);
  // Views may be defined on views: prepend each definition's pipeline, down to a collection.
  for (int depth = 0;; ++depth) {
    std::shared_ptr<storage::Collection> c = (*db)->FindCollection(name);
    if (c == nullptr || !c->is_view()) break;
    if (depth >= 20) {
      return MongoError(kInvalidOptions, StrCat("view ", db_name, ".", coll_name,
                                                " is defined through more than 20 views"));
    }
    if (!view) view.emplace();
    ValueView on, pipeline;
    c->options().Find("viewOn", &on);
    std::vector<Document> stages;
    if (c->options().Find("pipeline", &pipeline) && pipeline.type == BsonType::kArray) {
      for (const bson::ElementView& e : pipeline.Doc()) stages.push_back(bson::Decode(e.value.Doc()));
    }
    view->stages.insert(view->stages.begin(), stages.begin(), stages.end());
    name = std::string(on.String());
    view->collection = name;
  }
  return view;
}

namespace {

class ScanStage : public pipeline::Stage {
 public:
  ScanStage(std::shared_ptr<storage::Database> db, std::unique_ptr<storage::KvIterator> it,
            Deadline deadline)
      : db_(std::move(db)), it_(std::move(it)), deadline_(deadline) {}
  absl::StatusOr<bool> Next(Document* out) override {
    if (it_ == nullptr) return false;
    if (!it_->Valid()) {
      if (!it_->status().ok()) return it_->status();
      return false;
    }
    if ((++scanned_ & 255) == 0) {
      if (auto s = deadline_.Check(); !s.ok()) return s;
    }
    *out = bson::Decode(DocView(it_->value().data()));
    it_->Next();
    return true;
  }

 private:
  std::shared_ptr<storage::Database> db_;  // keeps the iterator's database open
  std::unique_ptr<storage::KvIterator> it_;
  Deadline deadline_;
  uint32_t scanned_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<pipeline::Stage>> CollectionScan(storage::Engine* engine,
                                                                std::string_view db_name,
                                                                std::string_view coll_name,
                                                                const Deadline& deadline) {
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false);
  if (!ns.ok()) return ns.status();
  std::unique_ptr<storage::KvIterator> it;
  if (ns->coll != nullptr) it = ns->db->ScanRecords(*ns->coll);
  return std::unique_ptr<pipeline::Stage>(std::make_unique<ScanStage>(ns->db, std::move(it), deadline));
}

namespace {

std::string IdIndexSpec() {
  bson::Builder b;
  b.AppendInt32("v", 2);
  bson::Builder key;
  key.AppendInt32("_id", 1);
  b.AppendDocument("key", DocView(std::move(key).Finish()));
  b.AppendString("name", "_id_");
  return std::move(b).Finish();
}

bool SameKeys(DocView a, DocView b) { return bson::CompareDocuments(a, b) == 0; }

}  // namespace

absl::StatusOr<std::string> CreateIndex(storage::Engine* engine, std::string_view db_name,
                                        std::string_view coll_name, DocView keys,
                                        DocView options) {
  if (auto s = storage::ValidateCollectionName(db_name, coll_name); !s.ok()) return s;
  auto built = index::IndexSpec::Build(keys, options);
  if (!built.ok()) return built.status();
  auto spec = index::IndexSpec::Parse(DocView(*built));
  if (!spec.ok()) return spec.status();
  // {_id: 1} is the implicit _id index.
  if (keys.CountElements() == 1 && keys.begin()->key == "_id" && !spec->unique()) {
    return std::string("_id_");
  }
  auto db = engine->GetDatabase(db_name, /*create=*/true);
  if (!db.ok()) return db.status();
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
      bool same_keys = SameKeys(stored_key.Doc(), keys);
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
    }
  }
  std::string name = spec->name();
  auto build = [&](const storage::Collection& coll, uint32_t index_id,
                   storage::WriteUnit* unit) -> absl::Status {
    // The entries of the existing records, as a write of each would make them.
    Namespace ns;
    ns.coll = std::make_shared<storage::Collection>(coll.name(), coll.id());
    ns.indexes.push_back({index_id, *spec});
    ns.db_name = std::string(db_name);
    ns.coll_name = std::string(coll_name);
    auto it = (*db)->ScanRecords(coll);
    for (; it->Valid(); it->Next()) {
      DocView doc(it->value().data());
      if (auto s = ns.WriteIndexEntries(unit, nullptr, &doc); !s.ok()) return s;
    }
    return it->status();
  };
  if (auto s = (*db)->CreateIndex(coll_name, *std::move(built), build); !s.ok()) return s;
  return name;
}

absl::StatusOr<std::vector<std::string>> ListIndexes(storage::Engine* engine,
                                                     std::string_view db_name,
                                                     std::string_view coll_name) {
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false);
  if (!ns.ok()) return ns.status();
  if (ns->coll == nullptr || ns->coll->is_view()) {
    return MongoError(kNamespaceNotFound, StrCat("ns does not exist: ", db_name, ".", coll_name));
  }
  std::vector<std::string> out{IdIndexSpec()};
  for (const storage::IndexDef& def : ns->coll->indexes()) out.push_back(def.spec);
  return out;
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
  if (name == "_id_") return true;
  if (keys != nullptr && keys->CountElements() == 1 && keys->begin()->key == "_id" &&
      keys->begin()->value.IsNumber() && keys->begin()->value.AsDouble() == 1) {
    return true;
  }
  auto db = engine->GetDatabase(db_name, /*create=*/false);
  if (!db.ok() || *db == nullptr) return false;
  auto coll = (*db)->FindCollection(coll_name);
  if (coll == nullptr) return false;
  for (const storage::IndexDef& def : coll->indexes()) {
    ValueView key;
    DocView(def.spec).Find("key", &key);
    if (keys != nullptr ? SameKeys(key.Doc(), *keys) : def.name() == name) return true;
  }
  return false;
}

absl::StatusOr<std::vector<std::string>> RunPipeline(
    std::unique_ptr<pipeline::Stage> source, const std::vector<Document>& stages,
    const pipeline::VariableMap* let, std::shared_ptr<const bson::Collator> collator,
    std::optional<pipeline::OutputSpec>* output) {
  auto top = pipeline::BuildPipeline(std::move(source), stages, let, output, std::move(collator));
  if (!top.ok()) return top.status();
  std::vector<std::string> results;
  Document doc;
  while (true) {
    auto more = (*top)->Next(&doc);
    if (!more.ok()) return more.status();
    if (!*more) break;
    results.push_back(bson::Encode(doc));
  }
  return results;
}

absl::Status WriteOutput(storage::Engine* engine, std::string_view db_name,
                         const pipeline::OutputSpec& spec, std::vector<std::string> docs,
                         const WriteOptions& options) {
  std::string target_db = spec.db.empty() ? std::string(db_name) : spec.db;
  if (auto s = storage::ValidateCollectionName(target_db, spec.collection); !s.ok()) return s;
  if (spec.kind == pipeline::OutputSpec::Kind::kOut) {
    // $out replaces the target's contents with the results, as MongoDB does it: into a
    // temporary collection with the target's options and indexes, renamed over the target
    // at the end. On failure (a validator, a unique index) the target is untouched.
    auto db = engine->GetDatabase(target_db, /*create=*/true);
    if (!db.ok()) return db.status();
    std::shared_ptr<storage::Collection> target = (*db)->FindCollection(spec.collection);
    if (target != nullptr && target->is_view()) {
      return MongoError(kCommandNotSupportedOnView,
                        StrCat("Cannot $out to ", target_db, ".", spec.collection, ": it is a view"));
    }
    static std::atomic<uint64_t> out_counter{0};
    std::string temp = StrCat("tmp.agg_out.", getpid(), ".", out_counter.fetch_add(1));
    if (auto s = (*db)->CreateCollection(temp, target ? target->options().bytes() : std::string_view());
        !s.ok()) {
      return s;
    }
    auto fail = [&](absl::Status s) {
      (void)(*db)->DropCollection(temp);
      return s;
    };
    if (target != nullptr) {
      for (const storage::IndexDef& def : target->indexes()) {
        auto no_entries = [](const storage::Collection&, uint32_t, storage::WriteUnit*) {
          return absl::OkStatus();
        };
        if (auto s = (*db)->CreateIndex(temp, def.spec, no_entries); !s.ok()) return fail(s);
      }
    }
    if (!docs.empty()) {
      auto outcome = Insert(engine, target_db, temp, std::move(docs), /*ordered=*/true, options);
      if (!outcome.ok()) return fail(outcome.status());
      if (!outcome->write_errors.empty()) return fail(outcome->write_errors[0].status);
    }
    if (auto s = (*db)->RenameCollection(temp, spec.collection, /*drop_target=*/true); !s.ok()) {
      return fail(s);
    }
    return absl::OkStatus();
  }
  using Matched = pipeline::OutputSpec::Matched;
  using NotMatched = pipeline::OutputSpec::NotMatched;
  for (std::string& doc : docs) {
    doc = WithIdFirst(std::move(doc));
    ValueView id = DocView(doc).begin()->value;
    auto by_id = query::Matcher::Parse(IdDocument(id));
    if (!by_id.ok()) return by_id.status();
    auto existing = Count(engine, target_db, spec.collection, **by_id, 0, 1);
    if (!existing.ok()) return existing.status();
    if (*existing > 0) {
      if (spec.when_matched == Matched::kKeepExisting) continue;
      if (spec.when_matched == Matched::kFail) return DuplicateKey(target_db, spec.collection, id);
      Document body = bson::Decode(DocView(doc));
      std::unique_ptr<update::Update> u;
      if (spec.when_matched == Matched::kReplace) {
        auto parsed = update::Update::Parse(DocView(doc), /*replace=*/true);
        if (!parsed.ok()) return parsed.status();
        u = *std::move(parsed);
      } else {
        body.Remove("_id");
        std::string set = bson::Encode(Document{{"$set", body}});
        auto parsed = update::Update::Parse(DocView(set), /*replace=*/false);
        if (!parsed.ok()) return parsed.status();
        u = *std::move(parsed);
      }
      if (body.empty() && spec.when_matched == Matched::kMerge) continue;
      auto r = Update(engine, target_db, spec.collection, **by_id, *u, false, false, Deadline(),
                      options);
      if (!r.ok()) return r.status();
      continue;
    }
    if (spec.when_not_matched == NotMatched::kDiscard) continue;
    if (spec.when_not_matched == NotMatched::kFail) {
      return MongoError(13113, "$merge could not find a matching document in the target collection");
    }
    std::vector<std::string> one;
    one.push_back(std::move(doc));
    auto outcome = Insert(engine, target_db, spec.collection, std::move(one), true, options);
    if (!outcome.ok()) return outcome.status();
    if (!outcome->write_errors.empty()) return outcome->write_errors[0].status;
  }
  return absl::OkStatus();
}

// ---- FindCursor ---------------------------------------------------------------------------

std::unique_ptr<FindCursor> FindCursor::FromDocuments(std::vector<std::string> docs) {
  auto c = std::unique_ptr<FindCursor>(new FindCursor());
  c->spec_.matcher = *query::Matcher::Parse(std::string("\x05\x00\x00\x00\x00", 5));
  c->sorted_ = std::move(docs);
  c->use_sorted_ = true;
  return c;
}

absl::StatusOr<std::unique_ptr<FindCursor>> FindCursor::Open(storage::Engine* engine,
                                                             std::string_view db_name,
                                                             std::string_view coll_name,
                                                             FindSpec spec) {
  if (spec.skip < 0) return MongoError(kBadValue, "skip must be non-negative");
  if (spec.limit < 0) return MongoError(kBadValue, "limit must be non-negative");
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false);
  if (!ns.ok()) return ns.status();
  auto c = std::unique_ptr<FindCursor>(new FindCursor());
  c->spec_ = std::move(spec);
  c->db_ = ns->db;
  if (ns->coll == nullptr) {
    c->exhausted_ = true;
    return c;
  }
  if (const ValueView* id = c->spec_.matcher->id_equality()) {
    std::string doc;
    auto found = ns->db->GetRecord(*ns->coll, storage::RecordKey(ns->coll->id(), *id), &doc);
    if (!found.ok()) return found.status();
    c->use_sorted_ = true;
    if (*found && c->spec_.matcher->Matches(DocView(doc))) c->sorted_.push_back(std::move(doc));
  } else {
    c->it_ = ns->db->ScanRecords(*ns->coll);
  }
  if (c->spec_.sort && !c->spec_.sort->empty() && !c->use_sorted_) {
    // Blocking sort: gather matches, then order them stably by the sort key (ties keep
    // _id order, so skip/limit pages are deterministic).
    std::vector<std::string> docs;
    std::string doc;
    while (true) {
      auto more = c->NextMatch(&doc);
      if (!more.ok()) return more.status();
      if (!*more) break;
      docs.push_back(std::move(doc));
    }
    std::vector<std::pair<std::vector<ValueView>, size_t>> keys;
    keys.reserve(docs.size());
    for (size_t i = 0; i < docs.size(); ++i) {
      keys.emplace_back(c->spec_.sort->ExtractKey(DocView(docs[i])), i);
    }
    const query::SortSpec& sort = *c->spec_.sort;
    std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
      return sort.Compare(a.first, b.first) < 0;
    });
    c->sorted_.reserve(docs.size());
    for (auto& [k, i] : keys) c->sorted_.push_back(std::move(docs[i]));
    c->use_sorted_ = true;
    c->it_.reset();
  }
  return c;
}

absl::StatusOr<bool> FindCursor::NextMatch(std::string* doc) {
  if (use_sorted_) {
    if (sorted_pos_ >= sorted_.size()) return false;
    *doc = std::move(sorted_[sorted_pos_++]);
    return true;
  }
  if (it_ == nullptr) return false;
  for (; it_->Valid(); it_->Next()) {
    if ((++scanned_ & 255) == 0) {
      if (auto s = spec_.deadline.Check(); !s.ok()) return s;
    }
    std::string_view value = it_->value();
    if (!spec_.matcher->Matches(DocView(value.data()))) continue;
    doc->assign(value);
    it_->Next();
    return true;
  }
  if (!it_->status().ok()) return it_->status();
  return false;
}

absl::StatusOr<bool> FindCursor::NextUnskipped(std::string* doc) {
  if (pending_) {
    *doc = std::move(*pending_);
    pending_.reset();
    return true;
  }
  while (true) {
    auto more = NextMatch(doc);
    if (!more.ok() || !*more) return more;
    if (skipped_ < spec_.skip) {
      ++skipped_;
      continue;
    }
    return true;
  }
}

absl::Status FindCursor::NextBatch(size_t max_docs, size_t max_bytes,
                                   std::vector<std::string>* out) {
  size_t bytes = 0;
  std::string doc;
  while (!exhausted_ && (max_docs == 0 || out->size() < max_docs) && bytes < max_bytes) {
    if (spec_.limit > 0 && returned_ >= spec_.limit) {
      exhausted_ = true;
      break;
    }
    auto more = NextUnskipped(&doc);
    if (!more.ok()) return more.status();
    if (!*more) {
      exhausted_ = true;
      break;
    }
    ++returned_;
    if (spec_.projection) {
      auto projected = spec_.projection->Apply(DocView(doc), spec_.matcher.get(), spec_.matcher->let());
      if (!projected.ok()) return projected.status();
      doc = *std::move(projected);
    }
    bytes += doc.size();
    out->push_back(std::move(doc));
  }
  // Look one document ahead so that a finished cursor reports exhaustion with its last
  // batch and the client needs no extra round trip.
  if (!exhausted_ && !pending_) {
    if (spec_.limit > 0 && returned_ >= spec_.limit) {
      exhausted_ = true;
    } else {
      std::string next;
      auto more = NextUnskipped(&next);
      if (!more.ok()) return more.status();
      if (*more) {
        pending_ = std::move(next);
      } else {
        exhausted_ = true;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace micromongo::service
