#pragma once

// One database: a RocksDB instance in its own directory holding a catalog (the truth about
// which collections exist) and every collection's records, keyed as FORMAT.md describes.
//
// Thread safety: all methods are thread-safe. Data operations hold `ddl_mutex()` shared for
// their whole duration; creating and dropping collections hold it exclusively. Writes also
// hold `write_gate()` shared, from before they look the collection up until they commit: an
// index build holds it exclusively, so writers wait while readers go on. Operations that
// read and then write records (insert's duplicate check, updates) hold the collection's
// `write_mutex()` so that they see and replace a consistent record.

#include <atomic>
#include <functional>
#include <optional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "storage/change_clock.h"
#include "storage/cross_commit.h"
#include "storage/dir_lock.h"
#include "storage/index_stats.h"
#include "storage/kv.h"
#include "storage/natural_iterator.h"
#include "storage/retry_history.h"

namespace micromongo::storage {

// The entry layout an index was built with (FORMAT.md). Indexes of an older format are
// rebuilt when their database opens (EngineOptions::upgrade_indexes).
inline constexpr uint32_t kIndexFormat = 2;

// A secondary index as the catalog keeps it: its id (the entries' key prefix) and its
// definition, MongoDB's index document ({v, key, name, unique, ...}), which the server
// interprets (storage only reads its name).
struct IndexDef {
  uint32_t id = 0;
  std::string spec;  // BSON
  uint32_t format = kIndexFormat;
  // Bit i: some document has an array along the path of key field i (the index is
  // "multikey" on it). Set once, never cleared; shared by the Collection objects that
  // succeed one another through DDL.
  struct Multikey {
    std::atomic<uint64_t> fields{0};     // as readers see it (set before a write commits)
    std::atomic<uint64_t> persisted{0};  // as stored (set once a write committed it)
  };
  std::shared_ptr<Multikey> multikey = std::make_shared<Multikey>();

  std::string_view name() const;
  uint64_t multikey_fields() const { return multikey->fields.load(std::memory_order_acquire); }
};

// A catalog entry: a collection (records under its id) or a view (options.viewOn). Its
// options and indexes are fixed for the object's lifetime; changing them replaces the
// object (under the exclusive ddl_mutex, so no operation is using it).
class Collection {
 public:
  // Empty `options_bson`: {}.
  Collection(std::string name, uint32_t id, std::string options_bson = {});
  const std::string& name() const { return name_; }
  uint32_t id() const { return id_; }
  // The options the collection was created or last modified with, as MongoDB's
  // listCollections shows them: {validator, validationLevel, validationAction} or, for a
  // view, {viewOn, pipeline}.
  bson::DocView options() const { return bson::DocView(options_); }
  bool is_view() const {
    bson::ValueView v;
    return options().Find("viewOn", &v);
  }
  // Created with a clusteredIndex option. Every collection's records are in _id order;
  // a clustered one shows that order as its cluster key (listings, explain).
  bool clustered() const {
    bson::ValueView v;
    return options().Find("clusteredIndex", &v) && v.type == BsonType::kDocument;
  }
  // Secondary indexes (the _id index is implicit: records are keyed by _id).
  const std::vector<IndexDef>& indexes() const { return indexes_; }
  std::mutex& write_mutex() { return write_mu_; }
  int64_t count() const { return count_.load(std::memory_order_relaxed); }

  // Created with {capped: true, size, max}: a fixed-size collection that keeps its
  // records' insertion order (its natural order, FORMAT.md's n and o keys) and whose
  // inserts remove the oldest documents to make room. The caps are those of the options
  // (collMod's cappedSize and cappedMax replace the object).
  bool capped() const { return capped_; }
  int64_t capped_size() const { return capped_size_; }  // bytes of BSON
  int64_t capped_max() const { return capped_max_; }    // documents; 0: no limit
  // The bytes of BSON of a capped collection's records (0 for other collections).
  int64_t data_bytes() const { return capped_ ? natural_->bytes.load(std::memory_order_relaxed) : 0; }

  // Created with MongoDB's timeseries option: its records are keyed by their time and an
  // insertion sequence instead of _id (TimeseriesRecordKey), so _ids need not be unique.
  bool timeseries() const { return !time_field_.empty(); }
  const std::string& time_field() const { return time_field_; }
  // The next insertion sequence number of a time series collection.
  uint64_t NextSequence() { return natural_->next_seq.fetch_add(1, std::memory_order_relaxed); }

 private:
  friend class Database;
  friend class WriteUnit;
  // A capped collection's insertion order and size, shared by the Collection objects that
  // succeed one another through DDL (as IndexDef::Multikey).
  struct NaturalOrder {
    std::atomic<uint64_t> next_seq{1};  // the next insert's sequence number
    std::atomic<int64_t> bytes{0};      // committed records' BSON bytes
  };
  // What a successor object (same id, new options or name) takes over from `c`.
  void InheritFrom(const Collection& c);

  std::string name_;
  uint32_t id_;
  std::string options_;
  std::vector<IndexDef> indexes_;
  std::mutex write_mu_;
  std::atomic<int64_t> count_{0};
  std::shared_ptr<NaturalOrder> natural_;  // capped and time series collections only
  bool capped_ = false;
  int64_t capped_size_ = 0, capped_max_ = 0;
  std::string time_field_;  // time series collections only
};

class Database;

// A collection's statistics as stored (FORMAT.md's k keys).
struct CollectionStats {
  int64_t count = 0;
  int64_t bytes = 0;      // of the records' BSON
  uint64_t max_seq = 0;   // the largest time series sequence number so far (0: none)
  int64_t key_bytes = 0;  // of the records' keys (the _id index's entries, statistics)
};

// What a record write did, for its change event.
enum class RecordWrite { kInsert, kUpdate, kReplace };

// The writes of one operation, committed as one atomic batch: records now; their index
// entries and change-log records go into the same batch (batch()) as those features land.
class WriteUnit {
 public:
  explicit WriteUnit(Database* db);
  // Writes a record and its change record (FORMAT.md's change log): every write path goes
  // through here, so every committed write has its event. `before`: the document it
  // replaces (empty for an insert). `description`: an update's updateDescription (BSON,
  // computed by the caller, which knows MongoDB's event shapes).
  void PutRecord(Collection* c, std::string_view key, std::string_view bson, RecordWrite kind,
                 std::string_view before = {}, std::string_view description = {});
  // `seq`: a capped collection's record's insertion sequence, when the caller knows it
  // (else it is read from the store: the record must be committed).
  absl::Status DeleteRecord(Collection* c, std::string_view key, std::string_view before,
                            std::optional<uint64_t> seq = std::nullopt);
  // Index entries (FORMAT.md); the value names the record (its _id keystring).
  // `unique`: the entry belongs to a unique index, whose checks read it back through
  // GetIndexEntry (other entries are not remembered, keeping big index builds lean).
  void PutIndexEntry(std::string key, std::string value, bool unique = true);
  // Records that documents of this write have arrays along the paths of the key fields in
  // `fields` (bits as IndexDef::multikey): readers see it at once; it is stored with the
  // unit unless a committed write already stored it.
  void MarkMultikey(const Collection& c, const IndexDef& def, uint64_t fields);
  // The same for the index an IndexBuilder is building (not yet in the catalog).
  void MarkBuildMultikey(const Collection& c, uint32_t index_id, uint64_t fields);
  // `value_bytes`: the size of the entry's value, which the index's statistics lose with
  // it (the caller knows it from the key, as it made the value when it put the entry).
  void DeleteIndexEntry(std::string key, size_t value_bytes, bool unique);
  // The value of a unique index's entry as this unit leaves it: its own puts and deletes
  // over the committed state. Caller holds the collection's write_mutex().
  absl::StatusOr<std::optional<std::string>> GetIndexEntry(std::string_view key);
  // Whether an entry with key `key_prefix` + keystring(_id) names another document than
  // `own_id` (a keystring), as this unit leaves the index: the check of a prepareUnique
  // index (entries keyed by key and _id), whose entries this unit puts and deletes as
  // unique ones. Caller holds the collection's write_mutex().
  absl::StatusOr<bool> HasOtherIndexEntry(std::string_view key_prefix, std::string_view own_id);
  KvBatch* batch() { return batch_.get(); }
  bool empty() const { return batch_->Count() == 0; }

 private:
  friend class Database;
  friend class IndexBuildSink;
  // Adds to the batch, once, the merges of the collections' statistics its writes change
  // (FORMAT.md's k keys): one per collection, and one per index its entries changed.
  void AddStatsMerges();
  // Counts an index entry put (+1) or deleted (-1) of `bytes` into index_deltas_.
  void CountIndexEntry(std::string_view key, int64_t sign, size_t bytes);
  // Empties the unit, with `empty_batch` (an emptied batch to reuse) or a new batch.
  void Reset(std::unique_ptr<KvBatch> empty_batch = nullptr);
  Database* db_;
  std::unique_ptr<KvBatch> batch_;
  struct Delta {
    Collection* c;
    int64_t count, bytes;
    uint64_t seq = 0;  // a time series insert's sequence number
    int64_t key_bytes = 0;
  };
  std::vector<Delta> count_deltas_;
  // Entries and bytes each index (by its key prefix's ids) gained, summed: few per unit.
  struct IndexDelta {
    uint32_t coll_id, index_id;
    IndexStats change;
  };
  std::vector<IndexDelta> index_deltas_;
  // Whether batch_ holds the statistics merges of count_deltas_ (added once, by Commit).
  bool stats_in_batch_ = false;
  std::vector<std::pair<std::shared_ptr<IndexDef::Multikey>, uint64_t>> multikey_;
  std::shared_ptr<IndexDef::Multikey> build_multikey_;  // of the index being built
  using PendingIndex = std::map<std::string, std::optional<std::string>, std::less<>>;
  PendingIndex pending_index_;
  // An index build's unique entries still being written by its sink (null if none), read
  // after pending_index_ and before the store.
  const PendingIndex* in_flight_index_ = nullptr;
  // Change-log records, in write order, back to back: the value of the commit's one
  // change-log entry, built in place.
  std::string changes_;
  uint32_t change_count_ = 0;
};

// Where an index builder puts the entries of a collection's existing records. CreateIndex
// commits them in batches of bounded size as the build goes (a build marker makes an
// interrupted build be removed when the database next opens); RebuildIndex keeps one batch.
// A full batch is sorted and written by a thread of its own while the builder makes the
// next one (the two halves of a build take about as long each); at most one is in flight.
class IndexBuildSink {
 public:
  IndexBuildSink(const IndexBuildSink&) = delete;
  IndexBuildSink& operator=(const IndexBuildSink&) = delete;
  ~IndexBuildSink();

  WriteUnit* unit() { return unit_; }
  // Called after each record's entries: starts writing the unit's entries once it holds
  // enough (an error of an earlier such write is returned here or by Flush).
  absl::Status RecordDone();
  // Writes what the unit holds and waits until every batch is written (the build calls it
  // once at the end).
  absl::Status Flush();

 private:
  friend class Database;
  IndexBuildSink(Database* db, WriteUnit* unit, bool batched, uint32_t coll_id = 0, uint32_t index_id = 0)
      : db_(db), unit_(unit), batched_(batched), coll_id_(coll_id), index_id_(index_id) {}
  // Starts writing the unit's entries in the background (after the batch before them).
  absl::Status StartWrite();
  // Waits for the batch in flight, if any: its error, or OK.
  absl::Status Wait();
  // Completes the write of the batch in flight, whose result is `written`.
  absl::Status Written(absl::Status written);

  Database* db_;
  WriteUnit* unit_;
  bool batched_;
  uint32_t coll_id_, index_id_;  // the index being built (batched builds)
  std::thread writer_;           // writing the batch in flight
  absl::Status written_;         // its result, once writer_ is joined
  std::unique_ptr<KvBatch> in_flight_batch_;
  std::unique_ptr<KvBatch> spare_batch_;  // written and emptied: the next one to fill
  // The multikey flags its entries set, raised in memory once it is written.
  std::vector<std::pair<std::shared_ptr<IndexDef::Multikey>, uint64_t>> in_flight_multikey_;
  // Its unique entries: the build's checks for duplicates see them until they are stored.
  WriteUnit::PendingIndex in_flight_index_;
  // The entries and bytes of the batches written so far (batched builds).
  IndexStats written_stats_;
};

struct TransactionPart;
class CrossCommitter;

class Database : public std::enable_shared_from_this<Database> {
  friend class IndexBuildSink;
  friend class Transaction;
  friend class CrossCommitter;

 public:
  // Loads the catalog and each collection's statistics (a database written before they
  // were kept has its records counted once, and keeps them from then on).
  // `clock`: the worker's change clock (null: one of its own), advanced past every change
  // time the database holds. `cross`: the worker's commits across databases (null: none;
  // a transaction then writes to one database): the parts of such commits a crash left
  // pending are applied or dropped as their decisions say (cross_commit.h).
  static absl::StatusOr<std::unique_ptr<Database>> Open(std::string name,
                                                        std::unique_ptr<KvStore> kv,
                                                        std::unique_ptr<DirLock> lock,
                                                        std::shared_ptr<ChangeClock> clock = nullptr,
                                                        CrossCommitter* cross = nullptr);
  ~Database();
  // Makes the next Open of the store count its collections' records again, as for a
  // store written before statistics were kept (after a repair, which may lose records).
  static absl::Status DiscardStats(KvStore* kv);

  const std::string& name() const { return name_; }
  std::shared_mutex& ddl_mutex() { return ddl_mu_; }
  // Held shared by every data write, from its collection lookup to its commit (taken after
  // ddl_mutex()); CreateIndex holds it exclusively while it reads the records.
  std::shared_mutex& write_gate() { return write_gate_; }

  // Caller holds ddl_mutex() (shared or exclusive). nullptr if absent.
  std::shared_ptr<Collection> FindCollection(std::string_view name) const;
  // Implicit creation on first write. Caller holds ddl_mutex() shared.
  absl::StatusOr<std::shared_ptr<Collection>> GetOrCreateCollection(std::string_view name);
  // Explicit creation with options (BSON, see Collection::options); code 48
  // (NamespaceExists) if present. Takes ddl_mutex() itself.
  absl::Status CreateCollection(std::string_view name, std::string_view options_bson = {});
  // Replaces the options of an existing collection or view (collMod); 26 if absent. Takes
  // ddl_mutex() itself, so no operation is using the old Collection object meanwhile.
  absl::Status SetCollectionOptions(std::string_view name, std::string_view options_bson);
  // The same with the new options computed from the current ones under the lock (so
  // concurrent changes do not overwrite each other); `change`'s errors are returned.
  using OptionsChange = std::function<absl::StatusOr<std::string>(bson::DocView current)>;
  absl::Status ChangeCollectionOptions(std::string_view name, const OptionsChange& change);
  // Adds an index (creating the collection if needed): `build` is called with the
  // collection and the new index's id while write_gate() is held exclusively (no writer
  // runs; readers go on, and do not see the index until it is complete), and puts the
  // entries of the existing records into the sink, which commits them in batches. The
  // catalog change commits last. A build that fails leaves nothing behind; one cut short
  // by a crash is removed when the database next opens. Errors: those of `build`.
  using IndexBuilder = std::function<absl::Status(const Collection&, uint32_t index_id, IndexBuildSink*)>;
  absl::Status CreateIndex(std::string_view coll, std::string spec_bson, const IndexBuilder& build);
  // Replaces the named index's stored document with what `change` makes of it (collMod's
  // index options; the keys must not change). 26 if the collection is missing, 27
  // (IndexNotFound) if the index is; `change`'s errors. Takes ddl_mutex() itself.
  using IndexChange = std::function<absl::StatusOr<std::string>(bson::DocView spec)>;
  absl::Status ChangeIndex(std::string_view coll, std::string_view index_name, const IndexChange& change);
  // Removes the named index and its entries; 27 (IndexNotFound) if there is none.
  absl::Status DropIndex(std::string_view coll, std::string_view index_name);
  // Removes the collection and all its records; false if it did not exist.
  absl::StatusOr<bool> DropCollection(std::string_view name);
  std::vector<std::string> CollectionNames() const;
  // Renames `from` to `to` in the catalog (records keep their collection id, so nothing
  // is copied). Errors: 26 if `from` is missing, 48 if `to` exists and !drop_target.
  absl::Status RenameCollection(std::string_view from, std::string_view to, bool drop_target);

  // A point-in-time view for the reads of one query: its iterators and record reads see
  // the same state (and what the catalog's multikey flags said before it was taken).
  // On a thread bound to a transaction (transaction.h), the transaction's snapshot; its
  // reads below also see the transaction's own writes.
  std::shared_ptr<const KvSnapshot> Snapshot();

  absl::StatusOr<bool> GetRecord(const Collection& c, std::string_view key, std::string* bson,
                                 const KvSnapshot* snapshot = nullptr);
  // Several records in one batched lookup: (*bson)[i] is record i's when (*found)[i].
  // `scattered`: as KvStore::MultiGet's, kept by a reader across its batches.
  absl::Status GetRecords(const std::vector<std::string_view>& keys, std::vector<std::string>* bson,
                          std::vector<bool>* found, const KvSnapshot* snapshot = nullptr,
                          bool* scattered = nullptr);
  // Which of the collection's record keys exist, in one batched lookup.
  absl::Status RecordsExist(const Collection& c, const std::vector<std::string_view>& keys,
                            std::vector<bool>* exist);
  // Iterates the collection's records in _id key order over a snapshot.
  std::unique_ptr<KvIterator> ScanRecords(const Collection& c, const KvSnapshot* snapshot = nullptr);
  // Iterates a capped collection's records in insertion order over a snapshot (null: one
  // of its own).
  std::unique_ptr<NaturalIterator> ScanNatural(const Collection& c, const KvSnapshot* snapshot = nullptr);
  // A collection's records in its natural order: a capped collection's insertion order
  // (ScanNatural), the key order of every other (ScanRecords).
  std::unique_ptr<KvIterator> ScanNaturalOrder(const Collection& c, const KvSnapshot* snapshot = nullptr) {
    if (c.capped()) return ScanNatural(c, snapshot);
    return ScanRecords(c, snapshot);
  }
  // The collection's statistics as stored (as of `snapshot`): after every commit they
  // agree with its records, which validate checks.
  absl::StatusOr<CollectionStats> StoredStats(const Collection& c, const KvSnapshot* snapshot = nullptr);
  // A secondary index's statistics as stored (as of `snapshot`): after every commit they
  // agree with its entries, which validate checks. collStats reads them rather than
  // walking the index.
  absl::StatusOr<IndexStats> StoredIndexStats(const Collection& c, uint32_t index_id,
                                              const KvSnapshot* snapshot = nullptr);
  // How a capped collection's insertion-order keys agree with its records (validate).
  struct NaturalOrderCheck {
    int64_t placed = 0;    // records with an n entry and the o entry naming it back
    int64_t dangling = 0;  // n or o entries without their record or their counterpart
  };
  absl::StatusOr<NaturalOrderCheck> CheckNaturalOrder(const Collection& c, const KvSnapshot* snapshot);
  // Iterates the entries of one index whose keys (after the index prefix) lie in
  // [lo, hi), over a snapshot.
  std::unique_ptr<KvIterator> ScanIndex(const Collection& c, uint32_t index_id, std::string_view lo,
                                        std::string_view hi);
  // Iterates all entries of one index (keys with the index prefix), for scans that seek.
  std::unique_ptr<KvIterator> ScanIndex(const Collection& c, uint32_t index_id,
                                        const KvSnapshot* snapshot);
  // Iterates the entries of every index of the collection, in key order (so grouped by
  // index id), including entries of ids the catalog does not name, over a snapshot.
  std::unique_ptr<KvIterator> ScanAllIndexEntries(const Collection& c, const KvSnapshot* snapshot);
  // Checks the checksums of every stored table file (KvStore::VerifyChecksums).
  absl::Status VerifyChecksums() { return kv_->VerifyChecksums(); }

  // Records that the database is open for use, the `opened.number`-th database opened
  // (CrossCommitter::DatabaseOpened), and keeps a snapshot of its state now while
  // transactions that took their snapshots before are reading.
  void MarkOpened(CrossCommitter::Opened opened);
  // The database as it was when it opened, if it opened after the `open_sequence`-th
  // database did and that state is still kept; null otherwise. A database is written only
  // while open, so its state at opening is its state at every moment before, while it was
  // closed: a transaction whose snapshots were taken then reads it as of that moment.
  std::shared_ptr<const KvSnapshot> OpenSnapshotIfOpenedAfter(uint64_t open_sequence);
  // Replaces an index's entries (and multikey flags) with those `build` puts, and marks it
  // of the current format; under the exclusive ddl_mutex, in one batch. A non-empty
  // `new_spec` replaces its stored document in the same batch (an index made unique:
  // its entries change layout).
  absl::Status RebuildIndex(std::string_view coll, uint32_t index_id, const IndexBuilder& build,
                            std::string new_spec = {});
  absl::Status Commit(WriteUnit* unit);

  // The change log (FORMAT.md): one record per event, keyed by its cluster time.
  ChangeClock& change_clock() { return *clock_; }
  // Calls `fn(time, record)` for the change records with times in (after, upto], in time
  // order, until it returns false. Callers read no further than change_clock().Visible().
  using ChangeVisitor = std::function<bool(uint64_t time, std::string_view record)>;
  absl::Status ReadChanges(uint64_t after, uint64_t upto, const ChangeVisitor& fn);
  // Logs the database's drop (Engine::DropDatabase, after the drops of its collections).
  absl::Status LogDropDatabase();
  // Deletes the change records with times below `before` and remembers that history before
  // it is gone (changes_trimmed_before()).
  absl::Status TrimChanges(uint64_t before);
  uint64_t changes_trimmed_before() const { return trimmed_before_.load(std::memory_order_acquire); }
  // Retention: trims the change records older than `min_time`, then the oldest ones while
  // the log holds more than about `max_bytes`. Returns the records' new trim point.
  absl::StatusOr<uint64_t> EnforceChangeRetention(uint64_t max_bytes, uint64_t min_time);

  uint64_t DiskBytes() { return kv_->DiskBytes(); }
  // Approximate stored bytes (compressed, in table files and memtables) of a collection's
  // records and of its secondary indexes' entries, for statistics.
  uint64_t RecordBytes(const Collection& c);
  uint64_t IndexBytes(const Collection& c);
  // Retryable writes' history (retry_history.h): the record of session `lsid` (its id's
  // bytes), if any; replacing it (the reply added); deleting it; deleting every record last
  // written before `before_ms` (wall clock), as MongoDB forgets expired sessions' history.
  absl::StatusOr<std::optional<RetryRecord>> GetRetryRecord(std::string_view lsid);
  absl::Status PutRetryRecord(std::string_view lsid, const RetryRecord& record);
  absl::Status DeleteRetryRecord(std::string_view lsid);
  absl::Status TrimRetryHistory(int64_t before_ms);
  // Puts into `batch` the deletion of session `lsid`'s statement entries (RetryStatementKey)
  // of every write but `keep_txn` (-1: all).
  absl::Status DeleteRetryStatements(KvBatch* batch, std::string_view lsid, int64_t keep_txn);
  // How many statement entries session `lsid` holds here, of any write (diagnostics).
  absl::StatusOr<size_t> CountRetryStatements(std::string_view lsid);
  // KvStore::SyncWal.
  absl::Status SyncWal() { return kv_->SyncWal(); }

  // A consistent copy of the database as of now in `dir` (KvStore::Checkpoint).
  absl::Status Checkpoint(const std::string& dir) { return kv_->Checkpoint(dir); }

 private:
  friend class WriteUnit;
  Database(std::string name, std::unique_ptr<KvStore> kv, std::unique_ptr<DirLock> lock);
  absl::StatusOr<std::shared_ptr<Collection>> CreateLocked(std::string_view name,
                                                           std::string_view options_bson);

  std::string name_;
  std::unique_ptr<KvStore> kv_;
  // MarkOpened's: the state at opening, kept while a transaction older than the opening
  // reads (released by the first commit after: it would hold the store's instance, which
  // recovery from a failed write may need to reopen; a store not written loses nothing by
  // keeping it); open_snapshot_held_ spares commits the mutex otherwise.
  void ReleaseUnreadOpenSnapshot();
  std::mutex open_snapshot_mu_;
  std::shared_ptr<const KvSnapshot> open_snapshot_;
  std::atomic<bool> open_snapshot_held_{false};
  uint64_t open_sequence_ = 0;
  std::unique_ptr<DirLock> lock_;
  std::shared_ptr<ChangeClock> clock_;
  std::atomic<uint64_t> trimmed_before_{0};
  // Commits `batch` with `count` change-log records (BSON documents back to back in
  // `records`) under fresh cluster times.
  // `sync`: false for a retryable write's commit, which its reply record's write makes
  // durable (retry_history.h).
  absl::Status WriteWithChanges(KvBatch* batch, std::string_view records, uint32_t count = 1, bool sync = true);

  // Transactions (transaction.h). The part of the calling thread's bound transaction in
  // this database, or null.
  TransactionPart* BoundPart();
  // A statement's unit, checked for conflicts and replayed into the transaction's overlay.
  absl::Status ApplyToTransaction(WriteUnit* unit, TransactionPart* part);
  // Writes a transaction's overlay and change records in one batch.
  absl::Status CommitTransaction(TransactionPart* part);
  // A transaction part's commit, checked and ready to write: its batch (records, index
  // entries, catalog entries of the collections it created) and the locks held until it
  // is written and published.
  struct PreparedCommit {
    std::shared_lock<std::shared_mutex> ddl, writes;
    std::unique_lock<std::mutex> catalog;  // held when the part created collections
    // The write_mutex() of every collection the part wrote, in id order, until its keys
    // are released (PublishCommit): a write outside transactions reads and writes a
    // collection's records under it (an insert's duplicate probe, an update's read), and
    // one that read before the commit and wrote after the keys were free would overwrite
    // what the transaction committed without having seen it.
    std::vector<std::unique_lock<std::mutex>> records;
    std::unique_ptr<KvBatch> batch;
  };
  // Errors: 112 (WriteConflict) when a collection the part wrote changed since.
  absl::Status PrepareCommit(TransactionPart* part, PreparedCommit* prepared);
  // After the write: the catalog shows the part's new collections, counts its records;
  // the part's keys are released.
  void PublishCommit(TransactionPart* part, PreparedCommit* prepared);
  // Commits across databases (cross_commit.h): a part stored pending under `id`; the
  // pending part applied (its batch, its change records from `first_time` on); a pending
  // part dropped; at open, every pending part resolved.
  absl::Status WritePending(std::string_view id, std::string_view part);
  absl::Status ApplyPrepared(TransactionPart* part, PreparedCommit* prepared, std::string_view id,
                             uint64_t first_time);
  absl::Status DropPending(std::string_view id);
  absl::Status ResolvePending();
  CrossCommitter* cross_ = nullptr;
  void ReleaseTransactionLocks(TransactionPart* part);
  // A collection made by `part`'s transaction (catalog_mu_ held): a new id, its create
  // event with the transaction's, the catalog entry written at commit.
  std::shared_ptr<Collection> CreateInTransactionLocked(TransactionPart* part, std::string_view name,
                                                        std::string_view options_bson);
  // The collection `name` that `part`'s transaction created, or null.
  static std::shared_ptr<Collection> CreatedIn(const TransactionPart* part, std::string_view name);
  // Puts the catalog entries of the collections `part` created into `batch` (catalog_mu_
  // held). Error: WriteConflict when a name was taken since.
  absl::Status PutCreatedCollectionsLocked(TransactionPart* part, KvBatch* batch);
  // For a write outside transactions: WriteConflict if a key of `batch` is held by an open
  // transaction (its operation retries). Caller holds txn_gate_ shared.
  absl::Status CheckTransactionLocks(const KvBatch& batch);
  // Reads through the part's overlay over its snapshot.
  absl::StatusOr<bool> GetInPart(TransactionPart* part, std::string_view key, std::string* value);
  std::unique_ptr<KvIterator> IteratorInPart(TransactionPart* part, std::string lower, std::string upper);

  // Lock table of open transactions' written keys. A transaction takes txn_gate_
  // exclusively while it checks and locks keys; other writers hold it shared from their
  // lock check to the end of their write, so no write slips between.
  std::shared_mutex txn_gate_;
  std::mutex txn_mu_;
  std::map<std::string, const TransactionPart*, std::less<>> txn_locks_;
  std::atomic<size_t> txn_lock_count_{0};
  // A new object for `c` (same name, id, options and count, no indexes) that a DDL change
  // fills in and puts in the catalog in its place.
  static std::shared_ptr<Collection> Successor(const Collection& c);
  absl::Status RemoveInterruptedBuilds();
  // Open: each collection's statistics from its k key, or counted (and then kept).
  absl::Status LoadStats();
  static void SetStats(Collection* c, const CollectionStats& stats);
  absl::Status DropBuildEntries(uint32_t coll_id, uint32_t index_id);
  // After a build: schedules the compaction that moves the index's entries out of
  // level 0 (see the definition).
  void MergeBuiltIndex(uint32_t coll_id, uint32_t index_id);

  std::shared_mutex ddl_mu_;
  std::shared_mutex write_gate_;
  mutable std::mutex catalog_mu_;  // guards collections_ and next_id_
  std::map<std::string, std::shared_ptr<Collection>, std::less<>> collections_;
  uint32_t next_id_ = 1;
};

}  // namespace micromongo::storage
