#pragma once

// Retryable writes' history, kept with the data as MongoDB keeps it in
// config.transactions. While a session's retryable write runs, a RetryScope is bound to its
// thread; every commit of that thread outside transactions then writes, in the commit's own
// batch, the session's record: "transaction number N has written", with what its commits
// inserted, updated and deleted so far (counted from their change records). The reply is
// added to the record once the command has built it (RecordReply). After a restart, a
// retry of the write finds the record: it is answered with the stored reply. If the worker
// stopped between the commit and the reply's write, the record's outcome answers it: what
// each statement (MongoDB's stmtId, SetStatement) changed is kept (in the record while there
// is one such entry, then as keys of their own, each written by the commit that changed
// it, so a write of many statements costs no more per statement), so a resumed retry
// (RetryScope's resuming constructor) answers the statements done and runs the others, as
// MongoDB does from its oplog; a record that cannot tell is refused (217
// IncompleteTransactionHistory), never run twice. FORMAT.md's `s` keys.
//
// With sync_writes (--sync) the scope's commits are not fsynced one by one: the reply
// record's write, fsynced, makes them durable with it (the WAL keeps its order), before the
// reply is sent; a scope ending without a reply fsyncs them then. So the history is as
// durable as the writes, and a power failure cannot keep a write and lose its record.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace micromongo::storage {

class Database;
class KvBatch;

// What one statement of a retryable write (MongoDB's stmtId: its index in the command)
// changed, or a run of insert statements that inserted one document each.
struct StatementOutcome {
  int32_t first = 0;  // the statement's index
  // Insert statements (documents of an insert command): statements [first, first +
  // count), each of which inserted its document; the counts below are then unused.
  bool inserts = false;
  int32_t count = 1;
  int64_t inserted = 0;
  int64_t updated = 0;
  int64_t deleted = 0;
  std::string upserted_id;  // {_id: <value>} of the document it inserted, if it did
  bool operator==(const StatementOutcome&) const = default;
};

// What a retryable write's commits changed, counted from their change records.
struct RetryOutcome {
  int64_t inserted = 0;  // documents inserted (an upsert's included)
  int64_t updated = 0;   // documents updated or replaced
  int64_t deleted = 0;
  // {_id: <value>} of the last document inserted; empty if none was.
  std::string last_inserted_id;
  // findAndModify: the document its reply returns (projected; empty: null), noted before
  // its commit (RetryScope::NoteImage). has_image false: not noted.
  bool has_image = false;
  std::string image;

  // The same counts per statement, when `by_statement` (records written since statements
  // were recorded; an older record's counts are for the whole command only). Sorted by
  // `first`, not overlapping. A statement that committed nothing is not here.
  bool by_statement = false;
  std::vector<StatementOutcome> statements;
  // Stored as keys of their own (once there were two); a single one is in the record.
  bool in_keys = false;
  // The timestamp (seconds) of the _ids the worker generates for the write's documents
  // that came without one (RetryScope::GeneratedId), so that a resumed write reports the
  // ids its first run stored. 0: not kept (a record written before it was).
  int64_t ids_at = 0;

  // Adds the changes of `records` (change records, BSON documents back to back, as a
  // WriteUnit collects them).
  void Add(std::string_view records);
  // What statement `index` changed, as an outcome of its own (for a single-statement
  // reply: RetriedReply), or nullopt if no commit of it was recorded.
  std::optional<RetryOutcome> OfStatement(int32_t index) const;
  // Records that statement `index` made the changes `delta` (merged with its earlier
  // commits' changes).
  void AddStatement(int32_t index, const RetryOutcome& delta);
  // Records that insert statement `index` inserted its document (runs of consecutive
  // ones are one entry).
  void AddInsertStatement(int32_t index);
  // Adds the entries of the same write's record in another database (a write reaching
  // several keeps each statement's entry where it committed).
  void MergeStatements(const RetryOutcome& other);
  bool operator==(const RetryOutcome&) const = default;
};

// One session's last retryable write in one database.
struct RetryRecord {
  int64_t txn_number = -1;
  // The protocol and command that wrote ("wire:insert", "grpc:update"): a reply is sent
  // again only to the same kind of request.
  std::string command;
  // The reply as the protocol encodes it; absent while (or if) it was not stored.
  std::optional<std::string> reply;
  // What its commits changed so far.
  RetryOutcome outcome;
  int64_t written_ms = 0;  // wall clock (ms since the epoch) of its last write
};

std::string EncodeRetryRecord(const RetryRecord& record);
absl::StatusOr<RetryRecord> DecodeRetryRecord(std::string_view bson);

// The key of a session's record: `s` + the session id's bytes.
std::string RetryRecordKey(std::string_view lsid);
// The key of one statement entry of write `txn` of a session: `t`, the session id's length
// (u8) and bytes, txn (u64 BE), the entry's first statement (u32 BE).
std::string RetryStatementKey(std::string_view lsid, int64_t txn, int32_t first);

// Binds a retryable write to the calling thread while it lives (scopes do not nest: the
// inner one wins until it ends).
class RetryScope {
 public:
  RetryScope(std::string lsid, int64_t txn_number, std::string command);
  // Resumes `record`'s write, whose reply was lost: its statements that committed are
  // answered from the record (Done), the others run, and their commits extend it.
  RetryScope(std::string lsid, RetryRecord record);
  ~RetryScope();
  RetryScope(const RetryScope&) = delete;
  RetryScope& operator=(const RetryScope&) = delete;

  // Database::Commit: puts the record (without a reply) into `batch`, which `db` commits,
  // with `changes` (the batch's change records) counted into its outcome; Committed() says
  // the batch was written.
  void AddTo(KvBatch* batch, Database* db, std::string_view changes);
  void Committed();
  // The statement (its index in the command) whose commits follow; 0 until set. An insert
  // of several documents is several statements from this one on (NoteInserted).
  void SetStatement(int32_t index) { statement_ = index; }
  int32_t statement() const { return statement_; }
  // The next commit inserts one document for each of statements statement() + offsets.
  void NoteInserted(std::vector<int32_t> offsets) { inserted_ = std::move(offsets); }
  // What statement `index` changed when a resumed write's first run committed it; nullopt
  // for a statement that must run.
  std::optional<RetryOutcome> Done(int32_t index) const;
  // The _id (ObjectId bytes) for insert statement `index`'s document when it came without
  // one: the write's timestamp, then 8 bytes hashed from the session, the transaction
  // number and the statement. The first run and a resumed one give the same id, so the
  // resumed reply names the document stored. nullopt for a resumed record that did not
  // keep the timestamp (the caller generates one).
  std::optional<std::array<uint8_t, 12>> GeneratedId(int32_t index) const;
  // The document the next commit's reply returns (findAndModify's value; nullopt: null),
  // kept in the record with that commit (as MongoDB keeps its pre- or post-image for a
  // retry).
  void NoteImage(std::optional<std::string> image) { image_ = std::move(image).value_or(std::string()); }
  // Stores `reply` in the record of every database this scope's commits wrote (once the
  // command succeeded), which makes the commits durable with --sync. A database dropped
  // meanwhile is skipped. Error: the commits could not be made durable (the reply must not
  // be sent as a success); a record that could not be written only makes a retry fail.
  absl::Status RecordReply(std::string reply);
  bool wrote() const { return !written_.empty(); }
  // What the write's commits changed (a resumed write's first run included).
  const RetryOutcome& outcome() const { return record_.outcome; }
  const std::vector<std::weak_ptr<Database>>& written() const { return written_; }

 private:
  std::string lsid_;
  RetryRecord record_;
  RetryOutcome pending_;  // the totals with the batch AddTo saw last (no statements)
  // The entries that batch changes: record_'s [first, second) become pending_entries_.
  std::optional<std::pair<size_t, size_t>> pending_range_;
  std::vector<StatementOutcome> pending_entries_;
  // The databases this scope wrote statement keys in (their older writes' keys deleted).
  std::vector<std::weak_ptr<Database>> keyed_;
  int32_t statement_ = 0;
  std::vector<int32_t> inserted_;  // NoteInserted's offsets, for the next commit
  // A resumed write: what its first run committed (Done answers from it).
  std::optional<RetryOutcome> resumed_;
  std::optional<std::string> image_;  // NoteImage's (empty: null), for the next commit
  std::vector<std::weak_ptr<Database>> written_;
  RetryScope* previous_;
};

// The scope bound to the calling thread, or null.
RetryScope* BoundRetryScope();

// The statement index of the calling thread's retryable write (a no-op outside one): what
// its next commits are recorded as, and what Done answers for.
void SetRetryStatement(int32_t index);
// What the current statement of a resumed retryable write changed in its first run, or
// nullopt when it must run (or no retryable write is bound).
std::optional<RetryOutcome> RetriedStatement();

// Adds `db` to `dbs` unless it is there already (the same Database object); true if added.
bool AddDatabaseOnce(std::vector<std::weak_ptr<Database>>* dbs, std::weak_ptr<Database> db);

}  // namespace micromongo::storage
