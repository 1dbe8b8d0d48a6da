#include "storage/retry_history.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include "document/bson_view.h"
#include "document/builder.h"
#include "document/status.h"
#include "storage/change_records.h"
#include "storage/database.h"
#include "storage/kv.h"

namespace micromongo::storage {

namespace {

thread_local RetryScope* bound_scope = nullptr;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

namespace {

uint32_t LittleEndian32(std::string_view b) {
  return static_cast<uint8_t>(b[0]) | static_cast<uint8_t>(b[1]) << 8 | static_cast<uint8_t>(b[2]) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[3])) << 24;
}

// A statement entry's value: {n: int32, r?: true, i, u, d: int64, id?: {_id}} (its first
// statement is in its key).
std::string EncodeStatement(const StatementOutcome& st) {
  bson::Builder b;
  b.AppendInt32("n", st.count);
  if (st.inserts) b.AppendBool("r", true);
  b.AppendInt64("i", st.inserted);
  b.AppendInt64("u", st.updated);
  b.AppendInt64("d", st.deleted);
  if (!st.upserted_id.empty()) b.AppendDocument("id", bson::DocView(st.upserted_id));
  return std::move(b).Finish();
}

bool DecodeStatement(bson::DocView doc, StatementOutcome* st) {
  bson::ValueView n, i, u, d, id;
  if (!doc.Find("n", &n) || !doc.Find("i", &i) || !doc.Find("u", &u) || !doc.Find("d", &d) ||
      n.type != BsonType::kInt32 || i.type != BsonType::kInt64 || u.type != BsonType::kInt64 ||
      d.type != BsonType::kInt64 || n.Int32() < 1) {
    return false;
  }
  bson::ValueView run;
  st->inserts = doc.Find("r", &run) && run.type == BsonType::kBool && run.Bool();
  if (!st->inserts && n.Int32() != 1) return false;
  st->count = n.Int32();
  st->inserted = i.Int64();
  st->updated = u.Int64();
  st->deleted = d.Int64();
  if (doc.Find("id", &id)) {
    if (id.type != BsonType::kDocument) return false;
    st->upserted_id = std::string(id.Doc().data(), id.Doc().size());
  }
  return true;
}

// The outcome as a BSON document {i, u, d: int64, id?: {_id}, img?, t?: int64, st?: true,
// sk?: true, one?: {s: int32, <statement entry>}} (FORMAT.md).
std::string EncodeOutcome(const RetryOutcome& o) {
  bson::Builder b;
  b.AppendInt64("i", o.inserted);
  b.AppendInt64("u", o.updated);
  b.AppendInt64("d", o.deleted);
  if (!o.last_inserted_id.empty()) b.AppendDocument("id", bson::DocView(o.last_inserted_id));
  if (o.has_image && o.image.empty()) b.AppendNull("img");
  if (o.has_image && !o.image.empty()) b.AppendDocument("img", bson::DocView(o.image));
  // A single statement's entry is kept here; once there are more, each is a key of its
  // own (RetryStatementKey), so that a commit writes only the entries it changed.
  if (o.ids_at != 0) b.AppendInt64("t", o.ids_at);
  if (o.by_statement) b.AppendBool("st", true);
  if (o.in_keys) b.AppendBool("sk", true);
  if (o.by_statement && !o.in_keys && o.statements.size() == 1) {
    std::string one = EncodeStatement(o.statements[0]);
    bson::Builder with_first;
    with_first.AppendInt32("s", o.statements[0].first);
    for (const bson::ElementView& e : bson::DocView(one)) with_first.AppendView(e.key, e.value);
    b.AppendDocument("one", bson::DocView(std::move(with_first).Finish()));
  }
  return std::move(b).Finish();
}

bool DecodeOutcome(bson::DocView doc, RetryOutcome* o) {
  bson::ValueView i, u, d, id;
  if (!doc.Find("i", &i) || !doc.Find("u", &u) || !doc.Find("d", &d) || i.type != BsonType::kInt64 ||
      u.type != BsonType::kInt64 || d.type != BsonType::kInt64) {
    return false;
  }
  o->inserted = i.Int64();
  o->updated = u.Int64();
  o->deleted = d.Int64();
  if (doc.Find("id", &id)) {
    if (id.type != BsonType::kDocument) return false;
    o->last_inserted_id = std::string(id.Doc().data(), id.Doc().size());
  }
  bson::ValueView image;
  if (doc.Find("img", &image)) {
    if (image.type != BsonType::kDocument && image.type != BsonType::kNull) return false;
    o->has_image = true;
    if (image.type == BsonType::kDocument) o->image = std::string(image.Doc().data(), image.Doc().size());
  }
  bson::ValueView flag, one, first, ids_at;
  if (doc.Find("t", &ids_at)) {
    if (ids_at.type != BsonType::kInt64) return false;
    o->ids_at = ids_at.Int64();
  }
  if (doc.Find("st", &flag)) {
    if (flag.type != BsonType::kBool) return false;
    o->by_statement = flag.Bool();
  }
  if (doc.Find("sk", &flag)) {
    if (flag.type != BsonType::kBool) return false;
    o->in_keys = flag.Bool();
  }
  if (doc.Find("one", &one)) {
    StatementOutcome st;
    if (one.type != BsonType::kDocument || !one.Doc().Find("s", &first) || first.type != BsonType::kInt32 ||
        first.Int32() < 0 || !DecodeStatement(one.Doc(), &st)) {
      return false;
    }
    st.first = first.Int32();
    o->statements.push_back(std::move(st));
  }
  return true;
}

}  // namespace

void RetryOutcome::Add(std::string_view records) {
  ForEachChangeRecord(records, [&](uint64_t, std::string_view bytes) {
    bson::DocView record(bytes);
    bson::ValueView op, after, id;
    if (!record.Find("op", &op) || op.type != BsonType::kString) return true;
    if (op.String() == "insert") {
      ++inserted;
      if (record.Find("after", &after) && after.type == BsonType::kDocument && after.Doc().Find("_id", &id)) {
        bson::Builder b;
        b.AppendView("_id", id);
        last_inserted_id = std::move(b).Finish();
      }
    } else if (op.String() == "update" || op.String() == "replace") {
      ++updated;
    } else if (op.String() == "delete") {
      ++deleted;
    }
    return true;
  });
}

std::optional<RetryOutcome> RetryOutcome::OfStatement(int32_t index) const {
  if (!by_statement) return std::nullopt;
  auto it = std::upper_bound(statements.begin(), statements.end(), index,
                             [](int32_t i, const StatementOutcome& st) { return i < st.first; });
  if (it == statements.begin()) return std::nullopt;
  const StatementOutcome& st = *--it;
  if (index >= st.first + st.count) return std::nullopt;
  RetryOutcome one;
  if (st.inserts) {
    one.inserted = 1;
    return one;
  }
  one.inserted = st.inserted;
  one.updated = st.updated;
  one.deleted = st.deleted;
  one.last_inserted_id = st.upserted_id;
  return one;
}

namespace {

// The first entry that does not end before `index`.
std::vector<StatementOutcome>::iterator EntryAt(std::vector<StatementOutcome>* statements, int32_t index) {
  return std::lower_bound(statements->begin(), statements->end(), index,
                          [](const StatementOutcome& st, int32_t i) { return st.first + st.count <= i; });
}

}  // namespace

void RetryOutcome::AddStatement(int32_t index, const RetryOutcome& delta) {
  by_statement = true;
  auto it = EntryAt(&statements, index);
  if (it != statements.end() && it->first <= index) {
    if (it->inserts) return;  // an insert statement does not commit twice
    it->inserted += delta.inserted;
    it->updated += delta.updated;
    it->deleted += delta.deleted;
    if (!delta.last_inserted_id.empty()) it->upserted_id = delta.last_inserted_id;
    return;
  }
  StatementOutcome st;
  st.first = index;
  st.inserted = delta.inserted;
  st.updated = delta.updated;
  st.deleted = delta.deleted;
  st.upserted_id = delta.last_inserted_id;
  statements.insert(it, std::move(st));
}

void RetryOutcome::AddInsertStatement(int32_t index) {
  by_statement = true;
  auto it = EntryAt(&statements, index);
  if (it != statements.end() && it->first <= index) return;  // recorded already
  if (it != statements.begin() && (it - 1)->inserts && (it - 1)->first + (it - 1)->count == index) {
    ++(it - 1)->count;
    // The next run may now touch it: merge.
    if (it != statements.end() && it->inserts && it->first == index + 1) {
      (it - 1)->count += it->count;
      statements.erase(it);
    }
    return;
  }
  if (it != statements.end() && it->inserts && it->first == index + 1) {
    it->first = index;
    ++it->count;
    return;
  }
  StatementOutcome st;
  st.first = index;
  st.inserts = true;
  statements.insert(it, std::move(st));
}

// Layout: txn (u64 BE), written_ms (u64 BE), command (u32 BE length, bytes), a u8 2 and the
// outcome (EncodeOutcome's BSON), then the reply's bytes if it is stored (a u8 1 before
// them) or a u8 0. A record written before outcomes were kept has no u8 2 and no outcome
// (its counts read as 0, which answers no retry).
std::string EncodeRetryRecord(const RetryRecord& record) {
  std::string out;
  auto put64 = [&out](uint64_t v) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
  };
  put64(static_cast<uint64_t>(record.txn_number));
  put64(static_cast<uint64_t>(record.written_ms));
  uint32_t n = static_cast<uint32_t>(record.command.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
  out += record.command;
  out.push_back(2);
  out += EncodeOutcome(record.outcome);
  out.push_back(record.reply ? 1 : 0);
  if (record.reply) out += *record.reply;
  return out;
}

absl::StatusOr<RetryRecord> DecodeRetryRecord(std::string_view bytes) {
  auto corrupt = [] { return MongoError(kInternalError, "corrupt retryable write record"); };
  auto get = [&bytes](int width, uint64_t* v) {
    if (bytes.size() < static_cast<size_t>(width)) return false;
    *v = 0;
    for (int i = 0; i < width; ++i) *v = *v << 8 | static_cast<uint8_t>(bytes[i]);
    bytes.remove_prefix(width);
    return true;
  };
  RetryRecord record;
  uint64_t txn, at, length, has_reply;
  if (!get(8, &txn) || !get(8, &at) || !get(4, &length) || bytes.size() < length) return corrupt();
  record.txn_number = static_cast<int64_t>(txn);
  record.written_ms = static_cast<int64_t>(at);
  record.command = std::string(bytes.substr(0, length));
  bytes.remove_prefix(length);
  if (!bytes.empty() && bytes[0] == 2) {
    bytes.remove_prefix(1);
    uint32_t n = bytes.size() < 5 ? 0 : LittleEndian32(bytes);
    if (n < 5 || n > bytes.size() || !bson::Validate(bytes.substr(0, n)).ok() ||
        !DecodeOutcome(bson::DocView(bytes.substr(0, n)), &record.outcome)) {
      return corrupt();
    }
    bytes.remove_prefix(n);
  }
  if (!get(1, &has_reply) || has_reply > 1 || (has_reply == 0 && !bytes.empty())) return corrupt();
  if (has_reply == 1) record.reply = std::string(bytes);
  return record;
}

std::string RetryRecordKey(std::string_view lsid) { return StrCat("s", lsid); }

namespace {

// `t`, the session id's length (u8) and bytes: every statement entry of the session.
std::string SessionStatementsPrefix(std::string_view lsid) {
  std::string key = "t";
  key.push_back(static_cast<char>(std::min<size_t>(lsid.size(), 255)));
  key.append(lsid);
  return key;
}

std::string StatementsPrefix(std::string_view lsid, int64_t txn) {
  std::string key = SessionStatementsPrefix(lsid);
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>(static_cast<uint64_t>(txn) >> (8 * i)));
  return key;
}

}  // namespace

std::string RetryStatementKey(std::string_view lsid, int64_t txn, int32_t first) {
  std::string key = StatementsPrefix(lsid, txn);
  for (int i = 3; i >= 0; --i) key.push_back(static_cast<char>(static_cast<uint32_t>(first) >> (8 * i)));
  return key;
}

RetryScope::RetryScope(std::string lsid, int64_t txn_number, std::string command)
    : lsid_(std::move(lsid)), previous_(bound_scope) {
  record_.txn_number = txn_number;
  record_.command = std::move(command);
  record_.outcome.ids_at = NowMs() / 1000;
  bound_scope = this;
}

RetryScope::RetryScope(std::string lsid, RetryRecord record)
    : lsid_(std::move(lsid)), previous_(bound_scope) {
  record.reply.reset();
  resumed_ = record.outcome;
  record_ = std::move(record);
  bound_scope = this;
}

std::optional<RetryOutcome> RetryScope::Done(int32_t index) const {
  if (!resumed_) return std::nullopt;
  return resumed_->OfStatement(index);
}

std::optional<std::array<uint8_t, 12>> RetryScope::GeneratedId(int32_t index) const {
  const int64_t at = record_.outcome.ids_at;
  if (at == 0) return std::nullopt;
  // FNV-1a over (session, transaction number, statement), then SplitMix64's finalizer to
  // spread it: the same bytes in every process and build (unlike absl::Hash, seeded per
  // process). Sessions are unique (a UUID), so ids of different writes differ unless 64
  // hashed bits collide; ObjectIds the worker generates otherwise have random bytes there.
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](uint8_t byte) {
    h ^= byte;
    h *= 0x100000001b3ull;
  };
  for (char c : lsid_) mix(static_cast<uint8_t>(c));
  for (int i = 7; i >= 0; --i) mix(static_cast<uint8_t>(static_cast<uint64_t>(record_.txn_number) >> (8 * i)));
  for (int i = 3; i >= 0; --i) mix(static_cast<uint8_t>(static_cast<uint32_t>(index) >> (8 * i)));
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  std::array<uint8_t, 12> id;
  const uint32_t seconds = static_cast<uint32_t>(at);
  for (int i = 0; i < 4; ++i) id[i] = static_cast<uint8_t>(seconds >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i) id[4 + i] = static_cast<uint8_t>(h >> (56 - 8 * i));
  return id;
}

RetryScope::~RetryScope() {
  bound_scope = previous_;
  // Commits whose reply was not recorded (the command failed after them) are made durable
  // now, as every commit outside a scope is when it is written.
  if (!record_.reply) {
    for (const std::weak_ptr<Database>& w : written_) {
      if (std::shared_ptr<Database> db = w.lock()) (void)db->SyncWal();
    }
  }
}

void RetryOutcome::MergeStatements(const RetryOutcome& other) {
  by_statement = by_statement || other.by_statement;
  if (ids_at == 0) ids_at = other.ids_at;
  for (const StatementOutcome& st : other.statements) {
    if (st.inserts) {
      for (int32_t i = 0; i < st.count; ++i) AddInsertStatement(st.first + i);
    } else if (!OfStatement(st.first)) {
      RetryOutcome one;
      one.inserted = st.inserted;
      one.updated = st.updated;
      one.deleted = st.deleted;
      one.last_inserted_id = st.upserted_id;
      AddStatement(st.first, one);
    }
  }
}

namespace {

// The entries of `statements` that an operation on statements [lo, hi] may change: those
// overlapping [lo - 1, hi + 1] (a run of inserts just before or after may grow or merge).
std::pair<size_t, size_t> Neighbourhood(const std::vector<StatementOutcome>& statements, int32_t lo, int32_t hi) {
  auto begin = std::lower_bound(statements.begin(), statements.end(), lo - 1,
                                [](const StatementOutcome& st, int32_t i) { return st.first + st.count <= i; });
  auto end = std::upper_bound(begin, statements.end(), hi + 1,
                              [](int32_t i, const StatementOutcome& st) { return i < st.first; });
  return {static_cast<size_t>(begin - statements.begin()), static_cast<size_t>(end - statements.begin())};
}

}  // namespace

void RetryScope::AddTo(KvBatch* batch, Database* db, std::string_view changes) {
  RetryOutcome delta;
  delta.Add(changes);
  RetryRecord header;  // the record without its statement keys: what the `s` key holds
  header.txn_number = record_.txn_number;
  header.command = record_.command;
  header.written_ms = NowMs();
  RetryOutcome& totals = header.outcome;
  const RetryOutcome& before = record_.outcome;
  totals.inserted = before.inserted + delta.inserted;
  totals.updated = before.updated + delta.updated;
  totals.deleted = before.deleted + delta.deleted;
  totals.last_inserted_id = delta.last_inserted_id.empty() ? before.last_inserted_id : delta.last_inserted_id;
  totals.has_image = before.has_image;
  totals.image = before.image;
  if (image_) {
    totals.has_image = true;
    totals.image = std::move(*image_);
    image_.reset();
  }
  totals.by_statement = true;
  totals.in_keys = before.in_keys;
  totals.ids_at = before.ids_at;

  // Each change is its statement's: an insert's documents are the statements it noted (a
  // capped collection's evictions made room for them), anything else the current one's.
  // A commit that changed no document (a collection created on the way) marks none done.
  // The entries it changes are worked out on a copy of their neighbourhood, which
  // Committed() puts in place: the record's other entries are neither copied nor written.
  std::vector<int32_t> statements;
  for (int32_t offset : inserted_) statements.push_back(statement_ + offset);
  const bool inserts = !inserted_.empty();
  inserted_.clear();
  if (!inserts && delta.inserted + delta.updated + delta.deleted > 0) statements.push_back(statement_);
  pending_range_.reset();
  pending_entries_.clear();
  size_t from = before.statements.size(), to = from;
  if (!statements.empty()) {
    auto [lo, hi] = std::minmax_element(statements.begin(), statements.end());
    std::tie(from, to) = Neighbourhood(before.statements, *lo, *hi);
    RetryOutcome scratch;
    scratch.statements.assign(before.statements.begin() + from, before.statements.begin() + to);
    for (int32_t index : statements) {
      if (inserts) {
        scratch.AddInsertStatement(index);
      } else {
        scratch.AddStatement(index, delta);
      }
    }
    pending_range_ = {from, to};
    pending_entries_ = std::move(scratch.statements);
  }
  const size_t count = before.statements.size() - (to - from) + pending_entries_.size();
  if (!before.in_keys && count <= 1) {
    // One entry (the common single-statement write): kept in the record itself.
    if (pending_range_) {
      totals.statements = pending_entries_;
    } else {
      totals.statements = before.statements;
    }
  } else {
    totals.in_keys = true;
    bool first_keys_here = false;
    if (AddDatabaseOnce(&keyed_, db->weak_from_this())) {
      // The session's earlier writes may have left entries here; they answer no retry now.
      (void)db->DeleteRetryStatements(batch, lsid_, record_.txn_number);
      first_keys_here = true;
    }
    auto put = [&](const StatementOutcome& st) {
      batch->Put(RetryStatementKey(lsid_, record_.txn_number, st.first), EncodeStatement(st));
    };
    if (!before.in_keys || first_keys_here) {
      // Every entry becomes a key here (the record held at most one until now; a database
      // this write reaches later gets the entries so far).
      for (size_t k = 0; k < from; ++k) put(before.statements[k]);
      for (const StatementOutcome& st : pending_entries_) put(st);
      for (size_t k = to; k < before.statements.size(); ++k) put(before.statements[k]);
    } else {
      // Keys of entries gone (merged into a run) are deleted; new or changed ones written.
      for (size_t k = from; k < to; ++k) {
        const StatementOutcome& old = before.statements[k];
        bool kept = std::any_of(pending_entries_.begin(), pending_entries_.end(),
                                [&](const StatementOutcome& st) { return st.first == old.first; });
        if (!kept) batch->Delete(RetryStatementKey(lsid_, record_.txn_number, old.first));
      }
      for (const StatementOutcome& st : pending_entries_) {
        if (std::find(before.statements.begin() + from, before.statements.begin() + to, st) ==
            before.statements.begin() + to) {
          put(st);
        }
      }
    }
  }
  pending_ = totals;
  pending_.statements.clear();
  AddDatabaseOnce(&written_, db->weak_from_this());
  batch->Put(RetryRecordKey(lsid_), EncodeRetryRecord(header));
}

void RetryScope::Committed() {
  std::vector<StatementOutcome> statements = std::move(record_.outcome.statements);
  if (pending_range_) {
    auto [from, to] = *pending_range_;
    statements.erase(statements.begin() + from, statements.begin() + to);
    statements.insert(statements.begin() + from, std::make_move_iterator(pending_entries_.begin()),
                      std::make_move_iterator(pending_entries_.end()));
    pending_range_.reset();
    pending_entries_.clear();
  }
  record_.outcome = std::move(pending_);
  record_.outcome.statements = std::move(statements);
}

bool AddDatabaseOnce(std::vector<std::weak_ptr<Database>>* dbs, std::weak_ptr<Database> db) {
  for (const std::weak_ptr<Database>& w : *dbs) {
    if (!w.owner_before(db) && !db.owner_before(w)) return false;
  }
  dbs->push_back(std::move(db));
  return true;
}

absl::Status RetryScope::RecordReply(std::string reply) {
  record_.reply = std::move(reply);
  record_.written_ms = NowMs();
  absl::Status first;
  for (const std::weak_ptr<Database>& w : written_) {
    std::shared_ptr<Database> db = w.lock();
    if (db == nullptr) continue;
    // Written as every commit is (fsynced with --sync), so that it makes the scope's
    // commits before it durable: the WAL keeps its order. Without the record a retry is
    // refused (217), which is safe; without durability the write must not be acknowledged.
    if (db->PutRetryRecord(lsid_, record_).ok()) continue;
    if (absl::Status s = db->SyncWal(); !s.ok() && first.ok()) first = s;
  }
  return first;
}

RetryScope* BoundRetryScope() { return bound_scope; }

void SetRetryStatement(int32_t index) {
  if (bound_scope != nullptr) bound_scope->SetStatement(index);
}

std::optional<RetryOutcome> RetriedStatement() {
  if (bound_scope == nullptr) return std::nullopt;
  return bound_scope->Done(bound_scope->statement());
}

}  // namespace micromongo::storage

namespace micromongo::storage {

absl::StatusOr<std::optional<RetryRecord>> Database::GetRetryRecord(std::string_view lsid) {
  std::string value;
  auto found = kv_->Get(RetryRecordKey(lsid), &value);
  if (!found.ok()) return found.status();
  if (!*found) return std::optional<RetryRecord>();
  auto record = DecodeRetryRecord(value);
  if (!record.ok()) return record.status();
  if (record->outcome.by_statement) {
    // Its statements' entries, in statement order (their keys' order).
    std::string prefix = StatementsPrefix(lsid, record->txn_number);
    std::unique_ptr<KvIterator> it = kv_->NewIterator(prefix, PrefixEnd(prefix));
    std::vector<StatementOutcome>& statements = record->outcome.statements;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = it->key(), bytes = it->value();
      StatementOutcome st;
      if (key.size() != prefix.size() + 4 || !bson::Validate(bytes).ok() ||
          !DecodeStatement(bson::DocView(bytes), &st)) {
        return MongoError(kInternalError, "corrupt retryable write statement record");
      }
      st.first = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint8_t>(key[prefix.size()])) << 24 |
                                      static_cast<uint32_t>(static_cast<uint8_t>(key[prefix.size() + 1])) << 16 |
                                      static_cast<uint32_t>(static_cast<uint8_t>(key[prefix.size() + 2])) << 8 |
                                      static_cast<uint8_t>(key[prefix.size() + 3]));
      // Apart, as the scope keeps them: a lookup may trust the order.
      if (st.first < 0 || (!statements.empty() && statements.back().first + statements.back().count > st.first)) {
        return MongoError(kInternalError, "corrupt retryable write statement record");
      }
      statements.push_back(std::move(st));
    }
    if (auto s = it->status(); !s.ok()) return s;
  }
  return std::optional<RetryRecord>(*std::move(record));
}

absl::Status Database::PutRetryRecord(std::string_view lsid, const RetryRecord& record) {
  std::unique_ptr<KvBatch> batch = kv_->NewBatch();
  batch->Put(RetryRecordKey(lsid), EncodeRetryRecord(record));
  return kv_->Write(batch.get());
}

absl::Status Database::DeleteRetryStatements(KvBatch* batch, std::string_view lsid, int64_t keep_txn) {
  std::string prefix = SessionStatementsPrefix(lsid);
  std::unique_ptr<KvIterator> it = kv_->NewIterator(prefix, PrefixEnd(prefix));
  std::string keep = StatementsPrefix(lsid, keep_txn);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (keep_txn < 0 || !it->key().starts_with(keep)) batch->Delete(it->key());
  }
  return it->status();
}

absl::StatusOr<size_t> Database::CountRetryStatements(std::string_view lsid) {
  std::string prefix = SessionStatementsPrefix(lsid);
  std::unique_ptr<KvIterator> it = kv_->NewIterator(prefix, PrefixEnd(prefix));
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  if (auto s = it->status(); !s.ok()) return s;
  return n;
}

absl::Status Database::DeleteRetryRecord(std::string_view lsid) {
  std::unique_ptr<KvBatch> batch = kv_->NewBatch();
  batch->Delete(RetryRecordKey(lsid));
  if (auto s = DeleteRetryStatements(batch.get(), lsid, -1); !s.ok()) return s;
  return kv_->Write(batch.get());
}

absl::Status Database::TrimRetryHistory(int64_t before_ms) {
  std::unique_ptr<KvBatch> batch = kv_->NewBatch();
  // The records kept, by session: their statement entries stay, any other goes.
  std::map<std::string, int64_t, std::less<>> kept;
  std::unique_ptr<KvIterator> it = kv_->NewIterator("s", "t");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto record = DecodeRetryRecord(it->value());
    // A record that cannot be read is of no use to a retry either.
    if (!record.ok() || record->written_ms < before_ms) {
      batch->Delete(it->key());
    } else {
      kept.emplace(std::string(it->key().substr(1)), record->txn_number);
    }
  }
  if (auto s = it->status(); !s.ok()) return s;
  it = kv_->NewIterator("t", "u");
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key = it->key();
    size_t n = key.size() > 1 ? static_cast<uint8_t>(key[1]) : 0;
    auto owner = key.size() >= 2 + n + 8 ? kept.find(key.substr(2, n)) : kept.end();
    if (owner == kept.end() || !key.starts_with(StatementsPrefix(owner->first, owner->second))) {
      batch->Delete(key);
    }
  }
  if (auto s = it->status(); !s.ok()) return s;
  if (batch->Count() == 0) return absl::OkStatus();
  return kv_->Write(batch.get());
}

}  // namespace micromongo::storage
