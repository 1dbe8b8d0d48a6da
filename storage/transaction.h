#pragma once

// Multi-statement transactions (MongoDB's, as drivers start them with startTransaction):
// snapshot isolation with first-writer-wins conflicts, as WiredTiger gives MongoDB.
//
// A transaction reads each database as of a snapshot taken at its first use there (or, with
// ReadAllDatabasesAtOnce, every database as of its first use of any), plus its own
// writes: each statement's WriteUnit is replayed into an ordered overlay instead
// of being committed, and the Database reads (records, index scans, unique checks) of a
// thread bound to the transaction see the overlay over the snapshot. A statement's write
// to a key that another open transaction wrote, or that someone committed after the
// snapshot, fails with WriteConflict (112); the keys a transaction wrote stay locked until
// it ends, and a write outside any transaction that meets one waits for that transaction
// to end and then fails with WriteConflict, for its operation to retry (MongoDB's
// writeConflictRetry). Commit writes the overlay in one batch with the statements' change
// records under the commit's cluster times, holding the write mutex of each collection it
// wrote until its keys are released: a write outside transactions reads and writes under
// that mutex, so none decides on a read from before the commit and writes after it.
//
// Collections may be created in a transaction (implicitly by a write, or by create and
// createIndexes on a new, empty one, as MongoDB 4.4+ allows): the transaction sees them at
// once, others at commit. Other DDL is refused in a transaction.
//
// A transaction may write to several databases: each is a RocksDB instance of its own, and
// one batch makes a commit atomic only within one, so such a commit takes two phases
// (cross_commit.h).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "storage/index_stats.h"
#include "storage/kv.h"

namespace micromongo::storage {

class Collection;
class CrossCommitter;
class Database;

// One database's part of a transaction. Used by Database; guarded by the transaction's
// single-threaded use (one statement at a time).
struct TransactionPart {
  std::shared_ptr<Database> db;
  std::shared_ptr<const KvSnapshot> snapshot;
  // Key -> value, or nullopt for a delete: the transaction's writes so far.
  using Overlay = std::map<std::string, std::optional<std::string>, std::less<>>;
  Overlay writes;
  // Change-log records of the statements, back to back (as WriteUnit keeps them).
  std::string changes;
  uint32_t change_count = 0;
  // Count changes per collection, applied at commit to the collection the catalog then
  // holds, which must be the object the statements wrote through (else a DDL operation
  // came between: WriteConflict).
  struct Delta {
    std::shared_ptr<Collection> coll;
    int64_t count = 0, bytes = 0, key_bytes = 0;
  };
  std::vector<Delta> deltas;
  // Index statistics changes, by (collection id, index id): their collections are among
  // `deltas`, whose checks at commit cover them.
  std::map<std::pair<uint32_t, uint32_t>, IndexStats> index_deltas;
  // Keys this transaction holds in the database's lock table.
  std::vector<std::string> locked;
  // Collections this transaction created (by a write to a new name, create or
  // createIndexes): seen only by it until commit puts them in the catalog.
  std::vector<std::shared_ptr<Collection>> created;
};

class Transaction {
 public:
  Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // Aborts if neither committed nor aborted.
  ~Transaction();

  // The part in `db`, made (with its snapshot) at first use.
  TransactionPart* Part(Database* db);
  // Makes the first Part() take the parts of every open database, with snapshots of one
  // instant, as MongoDB's transactions read one point in time across databases (a commit
  // across databases is then seen in all of them or in none); a database opened later is
  // read as it opened, which is how it was at that instant (Database::MarkOpened). For
  // sessions' transactions: a read-only view of one database (snapshot reads) does
  // without.
  void ReadAllDatabasesAtOnce() { all_at_once_ = true; }
  // A snapshot read's view (service/snapshot_reads.h): it only reads, and what would write
  // through it is refused as MongoDB refuses writes at a snapshot read concern.
  void MarkReadOnlyView() { read_only_view_ = true; }
  bool read_only_view() const { return read_only_view_; }
  // The part in `db` if there is one.
  TransactionPart* FindPart(const Database* db);
  // Makes the writes durable and visible at once, in every database written. On error
  // nothing is written (but see CrossCommitter::Commit) and the transaction is aborted.
  // Error: 112 when a collection it wrote to was changed (an index built, the collection
  // dropped) since.
  absl::Status Commit();
  // Drops the writes and releases the locks. Idempotent.
  void Abort();
  bool finished() const { return finished_; }
  // The session and number the transaction runs under (a BSON lsid document, its
  // txnNumber): its change events carry them, as MongoDB's do. Set before the first write.
  void SetOrigin(std::string lsid, int64_t txn_number) {
    origin_lsid_ = std::move(lsid);
    origin_txn_ = txn_number;
  }
  const std::string& origin_lsid() const { return origin_lsid_; }
  int64_t origin_txn_number() const { return origin_txn_; }

 private:
  // Guards parts_: a read-only view (service/snapshot_reads.h) serves several threads.
  std::mutex mu_;
  std::vector<std::unique_ptr<TransactionPart>> parts_;
  bool finished_ = false;
  bool all_at_once_ = false;
  bool read_only_view_ = false;
  // Set when the open databases' snapshots were taken: the committer that counts this
  // transaction as reading, and the databases opened before (CrossCommitter).
  CrossCommitter* reading_in_ = nullptr;
  uint64_t opens_before_ = 0;
  void EndReads();
  std::string origin_lsid_;
  int64_t origin_txn_ = -1;
};

// Binds a transaction to the calling thread while it lives: the Database reads and commits
// of this thread go through it. Scopes nest (the inner one wins until it ends); null binds
// none.
class TransactionScope {
 public:
  explicit TransactionScope(Transaction* txn);
  ~TransactionScope();
  TransactionScope(const TransactionScope&) = delete;
  TransactionScope& operator=(const TransactionScope&) = delete;

 private:
  Transaction* previous_;
};

// The transaction bound to the calling thread, or null.
Transaction* BoundTransaction();

// A KvIterator over `base` (iterating [lower, upper) of a snapshot) with `overlay`'s puts
// and deletes in that range applied. The overlay's entries are copied at creation: the
// iterator reads the transaction's writes as they were then, as a snapshot would.
std::unique_ptr<KvIterator> NewOverlayIterator(std::unique_ptr<KvIterator> base,
                                               const TransactionPart::Overlay& overlay,
                                               std::string_view lower, std::string_view upper);

}  // namespace micromongo::storage
