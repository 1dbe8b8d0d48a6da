#pragma once

// Retryable writes' history, kept with the data as MongoDB keeps it in
// config.transactions. While a session's retryable write runs, a RetryScope is bound to its
// thread; every commit of that thread outside transactions then writes, in the commit's own
// batch, the session's record: "transaction number N has written", with what its commits
// inserted, updated and deleted so far (counted from their change records). The reply is
// added to the record once the command has built it (RecordReply). After a restart, a
// retry of the write finds the record: it is answered with the stored reply. If the worker
// stopped between the commit and the reply's write, the record's outcome answers a write
// whose reply it determines (one update or delete statement, an insert whose documents were
// all inserted), as MongoDB rebuilds such a reply from its oplog; any other is refused
// (MongoDB's 217 IncompleteTransactionHistory), but never run twice. FORMAT.md's `s` keys.
//
// With sync_writes (--sync) the scope's commits are not fsynced one by one: the reply
// record's write, fsynced, makes them durable with it (the WAL keeps its order), before the
// reply is sent; a scope ending without a reply fsyncs them then. So the history is as
// durable as the writes, and a power failure cannot keep a write and lose its record.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace micromongo::storage {

class Database;
class KvBatch;

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

  // Adds the changes of `records` (change records, BSON documents back to back, as a
  // WriteUnit collects them).
  void Add(std::string_view records);
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

// Binds a retryable write to the calling thread while it lives (scopes do not nest: the
// inner one wins until it ends).
class RetryScope {
 public:
  RetryScope(std::string lsid, int64_t txn_number, std::string command);
  ~RetryScope();
  RetryScope(const RetryScope&) = delete;
  RetryScope& operator=(const RetryScope&) = delete;

  // Database::Commit: puts the record (without a reply) into `batch`, which `db` commits,
  // with `changes` (the batch's change records) counted into its outcome; Committed() says
  // the batch was written.
  void AddTo(KvBatch* batch, Database* db, std::string_view changes);
  void Committed() { record_.outcome = pending_; }
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
  const std::vector<std::weak_ptr<Database>>& written() const { return written_; }

 private:
  std::string lsid_;
  RetryRecord record_;
  RetryOutcome pending_;  // the outcome with the batch AddTo saw last
  std::optional<std::string> image_;  // NoteImage's (empty: null), for the next commit
  std::vector<std::weak_ptr<Database>> written_;
  RetryScope* previous_;
};

// The scope bound to the calling thread, or null.
RetryScope* BoundRetryScope();

// Adds `db` to `dbs` unless it is there already (the same Database object).
void AddDatabaseOnce(std::vector<std::weak_ptr<Database>>* dbs, std::weak_ptr<Database> db);

}  // namespace micromongo::storage
