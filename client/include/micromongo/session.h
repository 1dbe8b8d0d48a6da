#pragma once

// Logical sessions and multi-statement transactions, after MongoDB's ClientSession:
//
//   mm::ClientSession session = client.StartSession();
//   session.WithTransaction([&](mm::ClientSession& s) {
//     accounts.UpdateOne({{"_id", 1}}, {{"$inc", {{"balance", -100}}}}, {.session = &s});
//     accounts.UpdateOne({{"_id", 2}}, {{"$inc", {{"balance", 100}}}}, {.session = &s});
//   });
//
// An operation runs in a session when its options name one (`.session = &session`).
// Between StartTransaction and CommitTransaction (or AbortTransaction) the operations given
// the session form one transaction: they read one snapshot of every database and their own
// writes; others see the writes only once committed, all at once. Operations a transaction
// cannot run fail with 263 (OperationNotSupportedInTransaction) and abort it. A transaction
// open longer than 60 s is aborted by the worker (later statements: 251 NoSuchTransaction).
// Two transactions writing the same document conflict: the second writer gets 112
// (WriteConflict) labelled TransientTransactionError, and its transaction is aborted.
//
// Thread safety: a session is used by one thread at a time (as MongoDB's drivers require);
// the worker runs the requests of one session one after another.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "micromongo/document.h"

namespace micromongo {

namespace internal {
struct ClientCore;
struct SessionState;
class SessionAccess;
}  // namespace internal

// MongoDB's session options.
struct SessionOptions {
  // Snapshot reads (MongoDB's snapshot sessions, readConcern "snapshot"): the session's
  // Find, Aggregate, Distinct and CountDocuments all read the data as of one moment, the
  // cluster time its first read answered (snapshot_time()), whatever is written meanwhile,
  // for up to 300 s (then error 239 SnapshotTooOld). Such a session only reads: its writes
  // and other commands fail with 72 (InvalidOptions), as MongoDB refuses them with a
  // snapshot read concern; StartTransaction throws Error 20.
  bool snapshot = false;
  // With `snapshot`: the moment to read at (another snapshot session's snapshot_time(),
  // MongoDB's snapshotTime option) instead of the first read's.
  std::optional<Timestamp> snapshot_time;
};

class ClientSession {
 public:
  // Ends the session (EndSession).
  ~ClientSession();
  ClientSession(ClientSession&&) noexcept;
  ClientSession& operator=(ClientSession&&) noexcept;

  // The session's id as MongoDB shows it: {id: <UUID>} ({} for a session moved from, which
  // operations refuse with Error 20).
  Document id() const;

  // Starts a transaction: the session's next operations run in it. Throws Error 20
  // (IllegalOperation) if one is in progress already.
  void StartTransaction();
  // Commits the transaction's writes; may be called again after it succeeded (or after an
  // error labelled UnknownTransactionCommitResult). A transaction that ran no operation
  // commits without a round trip. Throws Error 20 without a transaction or after
  // AbortTransaction; the worker's error otherwise (251 NoSuchTransaction when it aborted
  // the transaction, labelled TransientTransactionError: run the transaction again).
  void CommitTransaction();
  // Discards the transaction's writes. Throws Error 20 without a transaction, after
  // CommitTransaction, or when called twice; the worker's own errors are ignored (its
  // transaction may already be gone), as MongoDB's drivers do.
  void AbortTransaction();
  // Whether a transaction was started and neither committed nor aborted.
  bool in_transaction() const;
  // A snapshot session's read time, once its first read chose it (MongoDB's
  // session.snapshotTime); nullopt before, and for other sessions.
  std::optional<Timestamp> snapshot_time() const;

  // MongoDB's convenient transaction API: starts a transaction, runs `callback` (which
  // passes this session to its operations) and commits. After an error labelled
  // TransientTransactionError the whole transaction runs again; a commit failing with
  // UnknownTransactionCommitResult is retried; both for at most 120 seconds. Any other
  // exception aborts the transaction and propagates. If the callback itself commits or
  // aborts, that is left as it is.
  void WithTransaction(const std::function<void(ClientSession&)>& callback);

  // Aborts a transaction in progress and tells the worker to forget the session. Later
  // operations with the session throw Error 20. Safe to call more than once.
  void EndSession();

 private:
  friend class MongoClient;
  friend class internal::SessionAccess;
  explicit ClientSession(std::unique_ptr<internal::SessionState> state);
  std::unique_ptr<internal::SessionState> state_;
};

}  // namespace micromongo
