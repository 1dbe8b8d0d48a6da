#pragma once

// Logical sessions (MongoDB's lsid) and the state a session keeps on the server: its
// transaction number, the multi-statement transaction in progress, and the reply of its
// last retryable write. MongoDB's rules for a command carrying txnNumber are in
// SessionCatalog::Begin; a worker keeps sessions only when it runs as a (single-node)
// replica set, as mongod does.
//
// Thread-safe. A session serves one command at a time: Begin checks it out until the
// returned Statement ends.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/engine.h"
#include "storage/retry_history.h"
#include "storage/transaction.h"

namespace micromongo::service {

// What a command's session fields ask for.
struct SessionFields {
  std::string lsid;  // the bytes of lsid.id (a UUID)
  // The lsid as MongoDB shows it in change events ({id, uid}: uid the hash of the user).
  std::string lsid_document;
  std::optional<int64_t> txn_number;
  // autocommit: present (and false) on every statement of a multi-statement transaction.
  bool in_transaction = false;
  bool start_transaction = false;
  // Which protocol's reply a retryable write remembers ("wire", "grpc"): a retry through
  // the other protocol runs as a new write rather than answer with bytes it cannot read.
  std::string_view protocol = "wire";
  // The command's database: where a retryable write's history is looked up after a restart.
  std::string database;
  // Other databases it may be in: those a command writes besides its own (the namespaces
  // of MongoDB 8.0's bulkWrite, whose own database is admin).
  std::vector<std::string> other_databases;
};

// Checks a request's session fields (absent: nullopt) as MongoDB checks a command's and
// gathers them: errors 72 (InvalidOptions) for autocommit other than false or without a
// transaction number, startTransaction other than true or without autocommit false, and a
// transaction number without a session id. `lsid_document`: the lsid as change events show
// it (LsidDocument).
absl::StatusOr<SessionFields> MakeSessionFields(std::string lsid, std::string lsid_document,
                                                std::optional<int64_t> txn_number, std::optional<bool> autocommit,
                                                std::optional<bool> start_transaction);

// MongoDB's lsid document {id: <UUID>, uid: <SHA-256 of the user, "user@db", or of "">}.
// `id`: the UUID's 16 bytes; `uid`: the digest's 32 bytes.
std::string LsidDocument(std::string_view id, std::string_view uid);

// MongoDB's logicalSessionTimeoutMinutes: a session unused this long is forgotten, with
// its retryable writes' history.
inline constexpr std::chrono::minutes kLogicalSessionTimeout{30};

class Session;

// A command's checkout of its session: binds the session's transaction to the thread (for
// a statement of one) while it lives.
class Statement {
 public:
  Statement(Statement&&) = default;
  ~Statement();
  // The statement failed: a transaction's failed statement aborts it (MongoDB's rule).
  void Failed();
  // The transaction statement commitTransaction / abortTransaction.
  absl::Status CommitTransaction();
  absl::Status AbortTransaction();
  // A retryable write already ran under this txnNumber: its reply, to send again.
  const std::string* retried_reply() const { return retried_; }
  // A retryable write already ran under this txnNumber and its reply was lost (a restart
  // came between its commit and the reply's record): what its commits changed. The
  // protocol answers from it a request whose reply it determines (RetriedUpdateReply, ...),
  // and any other with IncompleteHistory: the write is never run twice.
  const storage::RetryOutcome* retried_outcome() const { return retried_outcome_; }
  // Instead: runs the write again as MongoDB resumes one from its oplog, when its record
  // says what each statement committed and `command` reads that (insert, update, delete
  // and bulkWrite through storage::RetriedStatement): the statements done are answered
  // from the record, the others run, their commits extend it. False (nothing changed):
  // the record cannot tell, or `command` cannot resume (findAndModify).
  bool ResumeRetriedWrite(std::string_view command);
  int64_t txn_number() const;
  // Keeps a successful retryable write's reply for a retry of it, in memory and in the
  // history record its commits wrote (storage/retry_history.h), which makes them durable
  // with --sync. Error: they could not be made durable; the command then fails.
  absl::Status RememberReply(std::string reply);
  bool in_transaction() const { return in_transaction_; }

 private:
  friend class SessionCatalog;
  Statement(std::shared_ptr<Session> session, std::unique_lock<std::mutex> lock, bool in_transaction);
  // A retryable write's run: its commits write the session's history record.
  void BindRetryScope(std::string_view lsid, int64_t txn_number, const std::string& command);
  std::shared_ptr<Session> session_;
  std::unique_lock<std::mutex> lock_;
  bool in_transaction_ = false;
  const std::string* retried_ = nullptr;
  const storage::RetryOutcome* retried_outcome_ = nullptr;
  std::unique_ptr<storage::TransactionScope> scope_;
  std::unique_ptr<storage::RetryScope> retry_scope_;  // a retryable write's run
  std::string lsid_;  // a retryable write's session id
};

// MongoDB's 217 IncompleteTransactionHistory: retryable write `txn_number` committed and its
// reply cannot be sent again.
absl::Status IncompleteHistory(int64_t txn_number);

class SessionCatalog {
 public:
  // Transactions open longer than `transaction_lifetime` (MongoDB's
  // transactionLifetimeLimitSeconds, 60) are aborted, releasing what they hold; sessions
  // unused for `idle_timeout` (logicalSessionTimeoutMinutes, 30) are forgotten.
  explicit SessionCatalog(std::chrono::milliseconds transaction_lifetime = std::chrono::seconds(60),
                          std::chrono::milliseconds idle_timeout = kLogicalSessionTimeout);
  ~SessionCatalog();

  // Checks the command's transaction fields against its session's state and starts its
  // statement. `command`: the command's name. Errors as MongoDB's: 225 TransactionTooOld
  // for a number below the session's; 251 NoSuchTransaction for a statement of a
  // transaction that is not in progress (aborted, expired, or never started); 256
  // TransactionCommitted for one after commit; 263 for commands a transaction cannot run.
  // A retryable write of a session this catalog does not know yet (a new lsid, or one
  // forgotten by a restart or for idleness) consults the history stored in the command's
  // database when the catalog has an engine: its transaction number's reply is sent again,
  // or 217 IncompleteTransactionHistory when the write committed but its reply was not
  // stored, or was another protocol's; an older number is 225.
  absl::StatusOr<Statement> Begin(const SessionFields& fields, std::string_view command);

  // Where retryable writes' history is read (null: memory only). Call before Begin.
  void SetHistory(storage::Engine* engine) { engine_ = engine; }

  // endSessions: aborts their transactions and forgets them.
  void End(std::string_view lsid);
  // Ends every session (a fuzz input's sessions must not outlive it).
  void EndAll();
  // Aborts transactions past their lifetime and forgets idle sessions (of sessions not in
  // use). Begin calls it at most once a second; a server also runs it every second.
  void AbortExpired();
  size_t size() const;

 private:
  std::shared_ptr<Session> Get(std::string_view lsid);
  // Loads a fresh session's history for a retryable write (Begin's rules).
  absl::Status LoadHistory(Session* s, const SessionFields& fields);
  // Deletes the stored history of a session being forgotten.
  static void DropHistory(Session* s, std::string_view lsid);
  storage::Engine* engine_ = nullptr;
  const std::chrono::milliseconds lifetime_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Session>, std::less<>> sessions_;
  std::chrono::steady_clock::time_point last_sweep_;
};

}  // namespace micromongo::service
