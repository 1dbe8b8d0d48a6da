#include "service/crud.h"

#include <algorithm>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "document/builder.h"
#include "document/json.h"
#include "changes/update_description.h"
#include "document/status.h"
#include "query/path_values.h"
#include "service/capped.h"
#include "service/open_namespace.h"
#include "storage/retry_history.h"
#include "storage/key_codec.h"
#include "storage/transaction.h"

namespace micromongo::service {

using bson::DocView;
using bson::ValueView;

namespace {

// The pause before attempt `attempt` + 1 of a write that met a transaction's key: 1, 2, 4
// ... ms, at most 100.
void WriteConflictBackoff(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1 << std::min(attempt, 7), 100)));
}

// A replacement makes a "replace" change event, operators and pipelines an "update".
storage::RecordWrite WriteKind(const update::Update& u) {
  return u.is_replacement() ? storage::RecordWrite::kReplace : storage::RecordWrite::kUpdate;
}

// An update event's updateDescription (none for a replacement: its event has the whole
// document).
// An update's operator targets, as UpdateDescription takes them.
std::vector<changes::WholePath> WholePaths(const update::Update& u) {
  std::vector<changes::WholePath> whole;
  for (update::Update::LoggedPath& p : u.LoggedPaths()) whole.push_back({std::move(p.path), p.appends});
  return whole;
}

std::string Description(const update::Update& u, const std::vector<changes::WholePath>& whole, DocView before,
                        DocView after) {
  if (u.is_replacement()) return std::string();
  return changes::UpdateDescription(before, after, /*disambiguate=*/true, whole);
}

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

// The record key of a document inserted into time series collection ns.coll: by its
// time, which must be a date (error 2 as MongoDB's), and a fresh sequence number.
absl::StatusOr<std::string> TimeseriesKey(const Namespace& ns, DocView doc) {
  const std::string& field = ns.coll->time_field();
  ValueView time;
  if (!doc.Find(field, &time) || time.type != BsonType::kDate) {
    return MongoError(kBadValue, StrCat("'", field, "' must be present and contain a valid BSON UTC datetime value"));
  }
  return storage::TimeseriesRecordKey(ns.coll->id(), time, ns.coll->NextSequence());
}

// Inserts the document an upsert builds from the filter and the update (caller holds the
// collection's write mutex). Returns the inserted document.
// `before_commit` (if any) sees the document just before its commit; its error is the
// upsert's, and nothing is written.
absl::StatusOr<std::string> UpsertInsert(
    const Namespace& ns, std::string_view db_name, std::string_view coll_name, const query::Matcher& filter,
    const update::Update& update,
    const std::function<absl::Status(std::string_view inserted)>& before_commit = nullptr) {
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
  std::string new_key;
  if (ns.coll->timeseries()) {
    auto key = TimeseriesKey(ns, view);
    if (!key.ok()) return key.status();
    new_key = *std::move(key);
  } else {
    new_key = storage::RecordKey(ns.coll->id(), id);
    std::string existing;
    auto found = ns.db->GetRecord(*ns.coll, new_key, &existing);
    if (!found.ok()) return found.status();
    if (*found) return DuplicateKey(db_name, coll_name, id);
  }
  bool capped = ns.coll->capped();
  if (capped) {
    if (auto s = CheckFitsCap(ns, static_cast<int64_t>(inserted.size())); !s.ok()) return s;
  }
  storage::WriteUnit unit(ns.db.get());
  if (auto s = ns.WriteIndexEntries(&unit, new_key, nullptr, &view); !s.ok()) return s;
  unit.PutRecord(ns.coll.get(), new_key, inserted, storage::RecordWrite::kInsert);
  if (capped) {
    if (auto s = MakeRoom(ns, &unit, static_cast<int64_t>(inserted.size())); !s.ok()) return s;
  }
  if (before_commit) {
    if (auto s = before_commit(inserted); !s.ok()) return s;
  }
  if (auto s = ns.db->Commit(&unit); !s.ok()) return s;
  return inserted;
}

}  // namespace

namespace {

// `out` comes in holding the documents the caller handed over (in out.owned).
absl::StatusOr<InsertOutcome> InsertInto(storage::Engine* engine, std::string_view db_name,
                                         std::string_view coll_name, std::vector<std::string_view> docs,
                                         bool ordered, const WriteOptions& options, InsertOutcome out);

}  // namespace

absl::StatusOr<InsertOutcome> Insert(storage::Engine* engine, std::string_view db_name,
                                     std::string_view coll_name, std::vector<std::string> docs,
                                     bool ordered, const WriteOptions& options) {
  InsertOutcome out;
  for (std::string& d : docs) out.owned.push_back(std::move(d));
  std::vector<std::string_view> views(out.owned.begin(), out.owned.end());
  // Moving a deque keeps its elements where they are: the views stay valid.
  return InsertInto(engine, db_name, coll_name, std::move(views), ordered, options, std::move(out));
}

absl::StatusOr<InsertOutcome> InsertViews(storage::Engine* engine, std::string_view db_name,
                                          std::string_view coll_name, std::vector<std::string_view> docs,
                                          bool ordered, const WriteOptions& options) {
  return InsertInto(engine, db_name, coll_name, std::move(docs), ordered, options, InsertOutcome{});
}

namespace {

absl::StatusOr<InsertOutcome> InsertInto(storage::Engine* engine, std::string_view db_name,
                                         std::string_view coll_name, std::vector<std::string_view> docs,
                                         bool ordered, const WriteOptions& options, InsertOutcome out) {
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/true, Access::kWrite, options);
  if (!ns.ok()) return ns.status();
  // Validate and key every document, then probe all keys in one batched lookup.
  const bool timeseries = ns->coll->timeseries();
  std::vector<absl::Status> statuses(docs.size());
  std::vector<std::string> keys(docs.size());
  std::vector<std::string_view> probe;
  probe.reserve(docs.size());
  // A resumed retryable write (its reply lost) does not insert again the documents its
  // first run inserted: they count as inserted, as MongoDB skips executed statements.
  storage::RetryScope* retry = storage::BoundRetryScope();
  std::vector<bool> done(docs.size(), false);
  for (size_t i = 0; i < docs.size(); ++i) {
    DocView view(docs[i]);
    if (view.begin() == view.end() || view.begin()->key != "_id") {
      // In a retryable write, the id its resumed run would report too (GeneratedId).
      std::optional<std::array<uint8_t, 12>> id;
      if (retry != nullptr) id = retry->GeneratedId(retry->statement() + static_cast<int32_t>(i));
      out.owned.push_back(WithIdFirst(std::string(docs[i]), id ? &*id : nullptr));
      docs[i] = out.owned.back();
      view = DocView(docs[i]);
    }
    if (retry != nullptr && retry->Done(retry->statement() + static_cast<int32_t>(i))) {
      done[i] = true;
      continue;
    }
    statuses[i] = ns->CheckValid(view, nullptr);
    if (!statuses[i].ok()) continue;
    if (timeseries) {
      // Keyed by time and sequence: nothing to probe, _ids may repeat.
      auto key = TimeseriesKey(*ns, view);
      if (!key.ok()) statuses[i] = key.status();
      else keys[i] = *std::move(key);
      continue;
    }
    keys[i] = storage::RecordKey(ns->coll->id(), view.begin()->value);
    probe.push_back(keys[i]);
  }
  // A capped collection commits each document with the removals it makes room by (which
  // read the committed state), as MongoDB inserts into one a document at a time.
  const bool capped = ns->coll->capped();
  // Outside transactions, a batch that meets a key an open transaction holds runs again
  // (RetryWriteConflicts' rule; a transaction holds its keys at most its lifetime).
  const Deadline retry_until = Deadline::After(60'000);
  for (int attempt = 0;; ++attempt) {
    out.write_errors.clear();
    out.inserted.clear();
    auto unit = std::make_unique<storage::WriteUnit>(ns->db.get());
    std::unique_lock<std::mutex> lock(ns->coll->write_mutex());
    std::vector<bool> exists;
    if (auto s = ns->db->RecordsExist(*ns->coll, probe, &exists); !s.ok()) return s;
    absl::flat_hash_set<std::string_view> batch_keys;
    batch_keys.reserve(docs.size());
    std::vector<int32_t> noted;  // the statements this unit inserts (RetryScope::NoteInserted)
    for (size_t i = 0, p = 0; i < docs.size(); ++i) {
      if (done[i]) {
        out.inserted.push_back(static_cast<int>(i));
        continue;
      }
      absl::Status status = statuses[i];
      if (status.ok()) {
        std::string_view key = keys[i];
        if (!timeseries && (exists[p++] || !batch_keys.insert(key).second)) {
          status = DuplicateKey(db_name, coll_name, DocView(docs[i]).begin()->value);
        }
      }
      if (status.ok() && capped) status = CheckFitsCap(*ns, static_cast<int64_t>(docs[i].size()));
      if (status.ok()) {
        DocView view(docs[i]);
        status = ns->WriteIndexEntries(unit.get(), keys[i], nullptr, &view);
      }
      if (!status.ok()) {
        out.write_errors.push_back({static_cast<int>(i), status});
        if (ordered) break;
        continue;
      }
      unit->PutRecord(ns->coll.get(), keys[i], docs[i], storage::RecordWrite::kInsert);
      noted.push_back(static_cast<int32_t>(i));
      if (capped) {
        if (auto s = MakeRoom(*ns, unit.get(), static_cast<int64_t>(docs[i].size())); !s.ok()) return s;
        if (retry != nullptr) retry->NoteInserted(std::exchange(noted, {}));
        if (auto s = ns->db->Commit(unit.get()); !s.ok()) return s;
        unit = std::make_unique<storage::WriteUnit>(ns->db.get());
      }
      out.inserted.push_back(static_cast<int>(i));
    }
    if (retry != nullptr) retry->NoteInserted(std::move(noted));
    absl::Status committed = ns->db->Commit(unit.get());
    if (committed.ok()) break;
    if (MongoCodeOf(committed) != kWriteConflict || capped || storage::BoundTransaction() != nullptr) {
      return committed;
    }
    lock.unlock();
    if (auto s = retry_until.Check(); !s.ok()) return committed;
    WriteConflictBackoff(attempt);
  }
  out.inserted_count = static_cast<int64_t>(out.inserted.size());
  out.docs = std::move(docs);
  return out;
}

// Commits a multi-document write in chunks of kChunk documents. MongoDB makes each
// document's write atomic, not the whole updateMany/deleteMany, so this keeps its
// semantics while bounding the batch's memory; and while a chunk commits on another
// thread the scan goes on (the snapshot iterator does not see those writes), using the
// second core. Chunks commit in order; the next one waits for the previous. Pipelining is
// off when the collection has secondary indexes: unique checks read committed entries,
// which must include every earlier chunk.
class ChunkedWriter {
 public:
  // In a transaction a chunk's commit replays it into the transaction on this thread, the
  // one bound to it: no pipelining there.
  ChunkedWriter(storage::Database* db, bool pipelined)
      : db_(db),
        pipelined_(pipelined && storage::BoundTransaction() == nullptr),
        unit_(std::make_unique<storage::WriteUnit>(db)) {}
  // Whether a chunk was handed to a commit before the last: the operation wrote something.
  bool committed_any() const { return committed_any_; }
  ~ChunkedWriter() {
    if (in_flight_.valid()) in_flight_.wait();
  }
  storage::WriteUnit* unit() { return unit_.get(); }

  // Called after each document's writes.
  absl::Status DocumentDone() {
    if (!pipelined_ || ++docs_ % kChunk != 0) return absl::OkStatus();
    if (auto s = Wait(); !s.ok()) return s;
    std::shared_ptr<storage::WriteUnit> unit = std::move(unit_);
    unit_ = std::make_unique<storage::WriteUnit>(db_);
    committed_any_ = true;
    try {
      in_flight_ = std::async(std::launch::async, [db = db_, unit] { return db->Commit(unit.get()); });
    } catch (const std::system_error&) {
      return db_->Commit(unit.get());  // no thread to be had: commit here instead
    }
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
  bool committed_any_ = false;
};

// MongoDB's writeConflictRetry: a write outside transactions that meets a key an open
// transaction holds fails with WriteConflict before it writes; it runs again, after a
// growing pause, until it goes through or its deadline passes. An operation that already
// committed part of its documents (a multi-document write's earlier chunks) is not run
// again: it reports the conflict. In a transaction the conflict is the transaction's,
// which the client runs again from its start.
template <typename Attempt>
auto RetryWriteConflicts(const Deadline& deadline, Attempt attempt) -> decltype(attempt(nullptr)) {
  for (int n = 0;; ++n) {
    bool partial = false;
    auto result = attempt(&partial);
    if (result.ok() || partial || MongoCodeOf(result.status()) != kWriteConflict ||
        storage::BoundTransaction() != nullptr) {
      return result;
    }
    if (auto s = deadline.Check(); !s.ok()) return s;
    WriteConflictBackoff(n);
  }
}

absl::StatusOr<UpdateOutcome> UpdateAttempt(storage::Engine* engine, std::string_view db_name,
                                            std::string_view coll_name, const query::Matcher& filter,
                                            const update::Update& update, bool multi, bool upsert,
                                            const Deadline& deadline, const WriteOptions& options,
                                            const QueryHint& hint, bool* partial) {
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/upsert, Access::kWrite, options);
  if (!ns.ok()) return ns.status();
  UpdateOutcome out;
  if (ns->coll == nullptr) return out;
  std::lock_guard<std::mutex> lock(ns->coll->write_mutex());
  ChunkedWriter writer(ns->db.get(), /*pipelined=*/multi && ns->indexes.empty());
  Candidates candidates(ns->db.get(), *ns->coll, filter, deadline, hint);
  const std::vector<changes::WholePath> whole = WholePaths(update);
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
      failure = ns->WriteIndexEntries(writer.unit(), key, &old, &now);
      if (!failure.ok()) break;
      writer.unit()->PutRecord(ns->coll.get(), key, updated, WriteKind(update), doc,
                               Description(update, whole, old, now));
      ++out.modified_count;
      failure = writer.DocumentDone();
      if (!failure.ok()) break;
    }
    if (!multi) break;
  }
  // Documents updated before a failure stay updated, as in MongoDB.
  *partial = writer.committed_any();
  if (auto s = writer.Finish(); !s.ok()) return s;
  if (!failure.ok()) return failure;
  if (out.matched_count > 0 || !upsert) return out;
  auto inserted = UpsertInsert(*ns, db_name, coll_name, filter, update);
  if (!inserted.ok()) return inserted.status();
  out.upserted_id = IdDocument(DocView(*inserted).begin()->value);
  return out;
}

absl::StatusOr<int64_t> DeleteAttempt(storage::Engine* engine, std::string_view db_name,
                                      std::string_view coll_name, const query::Matcher& filter,
                                      bool multi, const Deadline& deadline, const QueryHint& hint,
                                      bool* partial) {
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false, Access::kWrite);
  if (!ns.ok()) return ns.status();
  if (ns->coll == nullptr) return 0;
  std::lock_guard<std::mutex> lock(ns->coll->write_mutex());
  // Deletes never check uniqueness, so their chunks may pipeline even with indexes.
  ChunkedWriter writer(ns->db.get(), /*pipelined=*/multi);
  Candidates candidates(ns->db.get(), *ns->coll, filter, deadline, hint);
  std::string key, doc;
  int64_t deleted = 0;
  while (true) {
    auto more = candidates.Next(&key, &doc);
    if (!more.ok()) return more.status();
    if (!*more) break;
    DocView old(doc);
    if (auto s = ns->WriteIndexEntries(writer.unit(), key, &old, nullptr); !s.ok()) return s;
    if (auto s = writer.unit()->DeleteRecord(ns->coll.get(), key, doc); !s.ok()) return s;
    ++deleted;
    if (auto s = writer.DocumentDone(); !s.ok()) {
      *partial = writer.committed_any();
      return s;
    }
    if (!multi) break;
  }
  *partial = writer.committed_any();
  if (auto s = writer.Finish(); !s.ok()) return s;
  return deleted;
}

}  // namespace

absl::StatusOr<UpdateOutcome> RetriedUpdateOutcome(const storage::RetryOutcome& done) {
  UpdateOutcome out;
  if (done.inserted > 0) {
    // Its change record always names the _id; a record without one cannot answer.
    if (done.last_inserted_id.empty()) {
      return MongoError(kIncompleteTransactionHistory, "the upserted document's _id was not recorded");
    }
    out.upserted_id = done.last_inserted_id;
  } else {
    out.matched_count = 1;
    out.modified_count = done.updated;
  }
  return out;
}

absl::StatusOr<UpdateOutcome> Update(storage::Engine* engine, std::string_view db_name,
                                     std::string_view coll_name, const query::Matcher& filter,
                                     const update::Update& update, bool multi, bool upsert,
                                     const Deadline& deadline, const WriteOptions& options,
                                     const QueryHint& hint) {
  // A multi-document update commits document by document: a retry could not tell which
  // were done (MongoDB refuses it in a retryable write, statement by statement).
  if (multi && storage::BoundRetryScope() != nullptr) {
    return MongoError(kInvalidOptions, "Cannot use (or request) retryable writes with multi=true");
  }
  if (std::optional<storage::RetryOutcome> done = storage::RetriedStatement()) return RetriedUpdateOutcome(*done);
  return RetryWriteConflicts(deadline, [&](bool* partial) {
    return UpdateAttempt(engine, db_name, coll_name, filter, update, multi, upsert, deadline, options, hint,
                         partial);
  });
}

absl::StatusOr<int64_t> Delete(storage::Engine* engine, std::string_view db_name,
                               std::string_view coll_name, const query::Matcher& filter,
                               bool multi, const Deadline& deadline, const QueryHint& hint) {
  if (multi && storage::BoundRetryScope() != nullptr) {
    return MongoError(kInvalidOptions, "Cannot use (or request) retryable writes with limit=0");
  }
  if (std::optional<storage::RetryOutcome> done = storage::RetriedStatement()) return done->deleted;
  return RetryWriteConflicts(deadline, [&](bool* partial) {
    return DeleteAttempt(engine, db_name, coll_name, filter, multi, deadline, hint, partial);
  });
}

absl::StatusOr<int64_t> Count(storage::Engine* engine, std::string_view db_name,
                              std::string_view coll_name, const query::Matcher& filter,
                              int64_t skip, int64_t limit, const Deadline& deadline, const QueryHint& hint) {
  if (skip < 0) return MongoError(kBadValue, "skip must be non-negative");
  if (limit < 0) return MongoError(kBadValue, "limit must be non-negative");
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false);
  if (!ns.ok()) return ns.status();
  if (ns->coll == nullptr) return 0;
  int64_t n = 0;
  // The collection's count is of its committed records: a transaction (or a snapshot read)
  // counts what it sees.
  if (filter.MatchesAll() && hint.empty() && storage::BoundTransaction() == nullptr) {
    n = ns->coll->count();
  } else {
    Candidates candidates(ns->db.get(), *ns->coll, filter, deadline, hint, /*documents=*/false);
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

namespace {

absl::StatusOr<FindAndModifyOutcome> FindAndModifyAttempt(storage::Engine* engine, std::string_view db_name,
                                                          std::string_view coll_name,
                                                          const FindAndModifySpec& spec);

}  // namespace

absl::StatusOr<FindAndModifyOutcome> FindAndModify(storage::Engine* engine,
                                                   std::string_view db_name,
                                                   std::string_view coll_name,
                                                   const FindAndModifySpec& spec) {
  // One document, one commit: nothing is written before a conflict.
  return RetryWriteConflicts(spec.deadline, [&](bool*) {
    return FindAndModifyAttempt(engine, db_name, coll_name, spec);
  });
}

namespace {

absl::StatusOr<FindAndModifyOutcome> FindAndModifyAttempt(storage::Engine* engine, std::string_view db_name,
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
  Candidates candidates(ns->db.get(), *ns->coll, *spec.filter, spec.deadline, spec.hint);
  std::string key, doc, best_key, best_doc;
  std::string best_sort_key;
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
    auto k = spec.sort->KeyOf(DocView(doc));
    if (!k.ok()) return k.status();
    if (!found || *k < best_sort_key) {
      best_key = key;
      best_doc = doc;
      best_sort_key = *std::move(k);
      found = true;
    }
  }
  // A retryable write keeps the document its reply returns with its commit, for a retry
  // whose reply was lost (storage/retry_history.h).
  auto note_image = [](std::optional<std::string> image) {
    if (storage::RetryScope* scope = storage::BoundRetryScope()) scope->NoteImage(std::move(image));
  };
  if (!found) {
    if (!may_create) return out;
    std::optional<std::string> value;  // null unless the new document is asked for
    auto inserted = UpsertInsert(*ns, db_name, coll_name, *spec.filter, *spec.update,
                                 [&](std::string_view doc) -> absl::Status {
                                   if (spec.return_new) {
                                     auto projected = project(std::string(doc));
                                     if (!projected.ok()) return projected.status();
                                     value = *std::move(projected);
                                   }
                                   note_image(value);
                                   return absl::OkStatus();
                                 });
    if (!inserted.ok()) return inserted.status();
    out.upserted_id = IdDocument(DocView(*inserted).begin()->value);
    out.value = std::move(value);
    return out;
  }
  storage::WriteUnit unit(ns->db.get());
  if (spec.update == nullptr) {
    DocView old(best_doc);
    if (auto s = ns->WriteIndexEntries(&unit, best_key, &old, nullptr); !s.ok()) return s;
    if (auto s = unit.DeleteRecord(ns->coll.get(), best_key, best_doc); !s.ok()) return s;
    auto projected = project(std::move(best_doc));
    if (!projected.ok()) return projected.status();
    note_image(*projected);
    if (auto s = ns->db->Commit(&unit); !s.ok()) return s;
    out.value = *std::move(projected);
    return out;
  }
  std::string updated;
  if (auto s = spec.update->ApplyToBson(DocView(best_doc), {.let = spec.filter->let(), .collator = spec.filter->collator()},
                                        spec.filter, &updated);
      !s.ok()) {
    return s;
  }
  // Projected before the commit: the document a retry's reply returns is kept with it.
  auto projected = project(spec.return_new ? updated : best_doc);
  if (!projected.ok()) return projected.status();
  if (updated != best_doc) {
    DocView old(best_doc), now(updated);
    if (auto s = ns->CheckValid(now, &old); !s.ok()) return s;
    if (auto s = ns->WriteIndexEntries(&unit, best_key, &old, &now); !s.ok()) return s;
    unit.PutRecord(ns->coll.get(), best_key, updated, WriteKind(*spec.update), best_doc,
                   Description(*spec.update, WholePaths(*spec.update), old, now));
    note_image(*projected);
    if (auto s = ns->db->Commit(&unit); !s.ok()) return s;
    out.modified = true;
  }
  out.updated_existing = true;
  out.value = *std::move(projected);
  return out;
}

}  // namespace

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
      bson::AppendKeyString(v, &k);
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

namespace {

// Whether the dotted `path` of `doc` (nested documents only, as a key-value document is)
// holds null.
bool NullAt(DocView doc, std::string_view path) {
  while (true) {
    size_t dot = path.find('.');
    bson::ValueView v;
    if (!doc.Find(path.substr(0, dot), &v)) return false;
    if (dot == std::string_view::npos) return v.type == BsonType::kNull;
    if (v.type != BsonType::kDocument) return false;
    doc = v.Doc();
    path.remove_prefix(dot + 1);
  }
}

// Whether a document matching `filter` has null itself at `path` (not a missing field).
absl::StatusOr<bool> HoldsNull(const Namespace& ns, const query::Matcher& filter, std::string_view path,
                               const Deadline& deadline) {
  bson::Builder b;
  size_t all = b.StartArray("$and");
  b.AppendDocument("0", filter.filter());
  size_t is_null = b.StartDocument("1");
  size_t type = b.StartDocument(path);
  b.AppendInt32("$type", static_cast<int32_t>(BsonType::kNull));
  b.End(type);
  b.End(is_null);
  b.End(all);
  std::string bson = std::move(b).Finish();
  auto m = filter.let() != nullptr ? query::Matcher::Parse(std::move(bson), *filter.let(), filter.shared_collator())
                                   : query::Matcher::Parse(std::move(bson), nullptr, filter.shared_collator());
  if (!m.ok()) return m.status();
  Candidates candidates(ns.db.get(), *ns.coll, **m, deadline, {}, /*documents=*/false);
  std::string record_key, doc;
  return candidates.Next(&record_key, &doc);
}

}  // namespace

absl::StatusOr<std::string> Distinct(storage::Engine* engine, std::string_view db_name,
                                     std::string_view coll_name, std::string_view key,
                                     const query::Matcher& filter, const Deadline& deadline,
                                     const QueryHint& hint) {
  if (auto s = CheckDistinctKey(key); !s.ok()) return s;
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false);
  if (!ns.ok()) return ns.status();
  DistinctValues values{std::string(key), filter.collator()};
  if (ns->coll != nullptr) {
    Candidates candidates(ns->db.get(), *ns->coll, filter, deadline, hint, /*documents=*/true, key);
    std::string record_key, doc;
    while (true) {
      auto more = candidates.Next(&record_key, &doc);
      if (!more.ok()) return more.status();
      if (!*more) break;
      if (candidates.distinct_scan() && NullAt(DocView(doc), key)) {
        // The index keys a missing field as null: null is a value only if some matching
        // document holds it.
        auto held = HoldsNull(*ns, filter, key, deadline);
        if (!held.ok()) return held.status();
        if (!*held) continue;
      }
      values.Add(DocView(doc));
    }
  }
  return std::move(values).Finish();
}

}  // namespace micromongo::service
