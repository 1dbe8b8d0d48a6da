#pragma once

// Commits of transactions that write to several databases. Each database is a store of
// its own, and one write batch is atomic only within its store; so such a commit takes
// two phases, as MongoDB's transaction coordinator commits across shards:
//
//  1. Prepare: every database checks its part (as a one-database commit does) and stores
//     it whole under a pending key (FORMAT.md, `p`), without applying it.
//  2. Decide: a decision file named after the commit appears in the data root's
//     `.transactions` directory. Its creation is the commit point.
//  3. Apply: every database writes its part, with its change records, and deletes its
//     pending key, in one batch; then the decision file goes.
//
// A crash before the decision leaves pending parts without one: each database drops its
// part when it next opens (the transaction never committed). A crash after it leaves
// parts that each database applies when it next opens. The worker checks every database
// at startup, after which decisions no database needs any more are removed. With
// --sync, the pending parts and the decision are on disk before the next step.
//
// Readers never see some parts without the others: the applies run while the stores'
// CommitGate is held. The databases' write gates are held (shared, in name order) from
// the first phase to the last, so an online backup copies a commit whole or not at all.

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "storage/kv.h"

namespace micromongo::storage {

class Database;
struct TransactionPart;

class CrossCommitter {
 public:
  // `dir`: where decisions are kept (created on first use). `gate`: the stores' gate.
  // `sync`: decisions are fsynced (--sync).
  CrossCommitter(std::string dir, CommitGate* gate, bool sync);

  // Commits the parts (each of another database) atomically. On an error before the
  // decision nothing is written. After it, a part whose write fails (an I/O error, a full
  // disk) is tried again for up to 30 s, its keys still held by the transaction; if it
  // never goes through, the error is returned and the part is applied when its database
  // next opens.
  absl::Status Commit(std::vector<TransactionPart*> parts);
  // Whether the commit `id` was decided.
  bool Decided(std::string_view id) const;
  // Snapshots of every open database as of one instant between commits across
  // databases (none is seen in some and not in others): a transaction's reads.
  // With `opens_before`, the snapshots are a transaction's: it receives the number of
  // databases opened before them (a database that opens later is not among them and reads
  // as it opened: Database::OpenSnapshotIfOpenedAfter), and the transaction counts as
  // reading until TransactionEnded(*opens_before).
  using OpenDatabases = std::function<std::vector<std::shared_ptr<Database>>()>;
  void SetOpenDatabases(OpenDatabases open) { open_ = std::move(open); }
  std::vector<std::pair<std::shared_ptr<Database>, std::shared_ptr<const KvSnapshot>>> SnapshotOpenDatabases(
      uint64_t* opens_before = nullptr);
  void TransactionEnded(uint64_t opens_before);
  // Counts a database opened (before it is listed among the open ones): its number, and
  // whether a transaction that took its snapshots before is still reading (then the
  // database keeps its state at opening for it).
  struct Opened {
    uint64_t number;
    bool transactions_reading;
  };
  Opened DatabaseOpened();
  // Whether a transaction whose snapshots were taken before the `number`-th database
  // opened is still reading.
  bool ReadingSince(uint64_t number) const;
  // Removes the decisions that no database still needs: those all of whose databases
  // opened since (their pending parts are resolved at open), that is, none of whose
  // databases is in `unchecked` (held by another worker).
  void RemoveResolved(const std::set<std::string, std::less<>>& unchecked);

  // Tests only: where a commit stops, as if the process died there (nothing after that
  // step is done and the parts stay as they are; the transaction reports an error).
  enum class Stop { kNone, kAfterPrepare, kAfterDecision, kAfterFirstApply };
  static void StopForTesting(Stop at);
  // Tests only: called between the decision and the applies (null: nothing).
  static void AfterDecisionForTesting(std::function<void()> fn);

 private:
  absl::Status WriteDecision(std::string_view id, const std::vector<std::string>& databases);
  const std::string dir_;
  CommitGate* const gate_;
  const bool sync_;
  OpenDatabases open_;
  mutable std::mutex opens_mu_;  // guards the two below
  uint64_t opens_ = 0;
  std::multiset<uint64_t> reading_;  // the opens_before of the transactions reading
};

// The pending part of a commit as a database stores it, and its parsed form.
struct PendingPart {
  std::vector<std::string> databases;  // every participant, by name
  std::string changes;                 // the part's change records, back to back
  uint32_t change_count = 0;
  struct Op {
    KvBatch::OpKind kind;
    std::string key, value;  // value: a range's end for kDeleteRange
  };
  std::vector<Op> ops;

  std::string Encode() const;
  // False if `bytes` is not an encoded part.
  bool Decode(std::string_view bytes);
};

}  // namespace micromongo::storage
