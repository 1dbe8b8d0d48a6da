#pragma once

// The ordered key-value store beneath micro-mongo, shaped like leveldb's db.h. The only
// implementation is RocksDB (rocksdb_kv.cc, the one file that sees rocksdb::); everything
// else in storage/ and server/ speaks this interface.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace micromongo::storage {

// The smallest key above every key that starts with `prefix` (the exclusive upper bound
// of an iteration over them); empty when there is none (`prefix` all 0xff bytes).
inline std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

// A point-in-time view of a store: reads through it see exactly the writes committed
// before it was taken. Released when the last reference goes.
class KvSnapshot {
 public:
  virtual ~KvSnapshot() = default;
};

// Iterates keys in [lower, upper) over a consistent snapshot (the one given, or one taken
// at creation). Not thread-safe; one iterator per thread.
class KvIterator {
 public:
  virtual ~KvIterator() = default;
  virtual bool Valid() const = 0;
  // Positions at the first key >= `key` (within the bounds).
  virtual void Seek(std::string_view key) = 0;
  // Positions at the last key <= `key` (within the bounds).
  virtual void SeekForPrev(std::string_view key) = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  virtual void Next() = 0;
  virtual void Prev() = 0;
  // Valid until the next Seek/Next.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual absl::Status status() const = 0;
};

// A set of writes applied atomically by KvStore::Write. Not thread-safe.
class KvBatch {
 public:
  virtual ~KvBatch() = default;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
  virtual void DeleteRange(std::string_view begin, std::string_view end) = 0;
  // Combines `operand`, a counters value (storage/counters.h), into the counters stored at
  // `key` when the batch is applied: concurrent batches' merges into one key all count,
  // in whatever order they commit, without reading the key first. A Put or Delete of the
  // key later in the same batch replaces the merged value. `key` must not be one the
  // record cache holds (KvOptions::record_cache_prefix).
  virtual void Merge(std::string_view key, std::string_view operand) = 0;
  virtual size_t Count() const = 0;
  // The bytes of the keys and values so far.
  virtual size_t ByteSize() const = 0;
  // Empties the batch and keeps its buffers, so that refilling it touches no new memory.
  virtual void Clear() = 0;
  enum class OpKind { kPut, kDelete, kDeleteRange, kMerge };
  // Calls `fn` for each operation in the order it was added (for kDeleteRange, `value` is
  // the range's end). A transaction replays its statements' batches through it.
  virtual void ForEach(
      const std::function<void(OpKind kind, std::string_view key, std::string_view value)>& fn) const = 0;
};

// One database's key space (one RocksDB instance). Thread-safe.
class KvStore {
 public:
  virtual ~KvStore() = default;
  // Reads `key` (as of `snapshot`, if given); returns false if absent.
  virtual absl::StatusOr<bool> Get(std::string_view key, std::string* value,
                                   const KvSnapshot* snapshot = nullptr) = 0;
  virtual std::shared_ptr<const KvSnapshot> GetSnapshot() = 0;
  // For each key, whether it is present: one batched lookup (sorted keys are fastest).
  // With a `limit` above every key (the end of their key range), one seek finds the first
  // present key at or after the smallest: every key before it is absent without a lookup
  // of its own. Inserts of increasing _ids, the common case, past every record so far,
  // cost one seek for the whole batch.
  virtual absl::Status KeysExist(const std::vector<std::string_view>& keys, std::vector<bool>* exist,
                                 std::string_view limit = {}) = 0;
  // Reads several keys at once (as of `snapshot`): (*values)[i] holds key i's value when
  // (*found)[i]. Batched lookups cost less per key than Get (sorted keys are fastest).
  // `scattered` (optional, kept by a caller across its batches): set once the keys proved
  // too far apart to be read by stepping from one to the next; while set, later batches
  // go straight to point lookups instead of trying again.
  virtual absl::Status MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                                std::vector<bool>* found, const KvSnapshot* snapshot = nullptr,
                                bool* scattered = nullptr) = 0;
  // Positioned at the first key of [lower, upper).
  virtual std::unique_ptr<KvIterator> NewIterator(std::string lower, std::string upper,
                                                  const KvSnapshot* snapshot = nullptr) = 0;
  virtual std::unique_ptr<KvBatch> NewBatch() = 0;
  // Applies the batch atomically. Returns once its WAL record is written (and fsynced,
  // when the store was opened with sync_writes). When the disk is full or failing, nothing
  // of the batch is applied and the error is 14031 OutOfDiskSpace or 1 InternalError
  // naming the I/O error; the store then refuses writes until a later Write finds the
  // disk usable again (it resumes by itself), while reads keep working.
  virtual absl::Status Write(KvBatch* batch) = 0;
  // The same, never fsynced: for what may be lost on a power failure without harm (the
  // process's own kill loses nothing written: the WAL is in the OS's hands).
  virtual absl::Status WriteWithoutSync(KvBatch* batch) = 0;
  // Makes every write so far durable (fsyncs the write-ahead log) when the store was
  // opened with sync_writes; nothing otherwise.
  virtual absl::Status SyncWal() = 0;
  // Moves the memtable into a table file. Used after range deletions: while a memtable
  // holds one, RocksDB 7.8 gathers its range tombstones for every point lookup and its
  // MultiGet skips the memtable's bloom filter (every key walks the skiplist); a table
  // file's tombstones are cached and its keys filtered as ever.
  virtual absl::Status Flush() = 0;
  // Writes `batch`, whose puts of keys starting with `prefix` are keys nothing else writes
  // meanwhile (a new index's entries): those go in as one sorted file, far cheaper per key
  // than Write for the millions of entries of an index build; the rest through Write.
  // Durable on return. Falls back to Write for batches with range deletes.
  virtual absl::Status Ingest(KvBatch* batch, std::string_view prefix) = 0;
  // Writes a consistent copy of the store as of now into `dir` (which must not exist; its
  // parent must): table files hard-linked where the file system allows, the write-ahead
  // log copied, so writers are not blocked and the copy holds every write acknowledged
  // before the call and none that started after it. The copy opens as a store of its own.
  virtual absl::Status Checkpoint(const std::string& dir) = 0;
  // Reads every table file and checks its block checksums (MongoDB's validate {full:
  // true} checks the storage engine's own structures). Error: DataCorruption naming the
  // file when a checksum does not match.
  virtual absl::Status VerifyChecksums() = 0;
  // Live SST + WAL bytes, for statistics.
  virtual uint64_t DiskBytes() = 0;
  // Approximate bytes of the keys in [lo, hi), in table files and memtables.
  virtual uint64_t ApproximateSize(std::string_view lo, std::string_view hi) = 0;
  // The live table files, for diagnostics: each one's level (0: newest, overlapping one
  // another; higher levels hold disjoint files), key range and size.
  struct TableFile {
    int level = 0;
    std::string smallest, largest;  // keys, both included
    uint64_t bytes = 0;
  };
  virtual std::vector<TableFile> TableFiles() = 0;
  // Asks for the level-0 table files holding keys of [lo, hi) (the newest files, which
  // overlap one another, so that every seek of every read visits each of them) to be
  // merged into the levels below by a background compaction, so reads of those keys meet
  // one file per level. Returns at once; reads and writes go on meanwhile. Last-level
  // files are rewritten only where those level-0 files overlap them (never among
  // themselves), and while level 0 is the only level holding files nothing is scheduled
  // (RocksDB marks only files above the last level that holds any).
  virtual absl::Status ScheduleCompaction(std::string_view lo, std::string_view hi) = 0;
};

// Makes every store of a KvEnv fail its file writes and syncs as a full disk or a failing
// device does, from the moment Set() is called until it is cleared: the fault-injecting
// file system of the storage tests (RocksDB's own test FS is not in Debian's package).
class FaultInjection {
 public:
  enum class Fault { kNone, kNoSpace, kIoError };
  void Set(Fault fault) { fault_.store(fault, std::memory_order_release); }
  Fault Get() const { return fault_.load(std::memory_order_acquire); }

 private:
  std::atomic<Fault> fault_{Fault::kNone};
};

// Makes the writes of one commit to several stores visible together. While a committer
// holds it, reads through the stores opened with it (Get, KeysExist, MultiGet, iterators,
// snapshots) wait; so a reader that saw one store's part of the commit sees every other's.
// A read costs one atomic load when nobody holds it. A holder must not read through
// these stores. Thread-safe.
class CommitGate {
 public:
  // Returns once no committer holds the gate (at once, nearly always). A reader that
  // finds the epoch even reads before the holder's writes, which come after it turns odd.
  void AwaitOpen() const {
    if (epoch_.load(std::memory_order_acquire) % 2 == 1) std::shared_lock<std::shared_mutex> wait(mu_);
  }
  // Odd while a committer holds the gate; grows by two with each hold. Readers that need
  // several reads to fall between holds (snapshots of several stores) compare it before
  // and after.
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // Holds the gate while it lives.
  class Hold {
   public:
    explicit Hold(CommitGate* gate) : gate_(gate) {
      gate_->mu_.lock();
      gate_->epoch_.fetch_add(1, std::memory_order_acq_rel);
    }
    ~Hold() {
      gate_->epoch_.fetch_add(1, std::memory_order_acq_rel);
      gate_->mu_.unlock();
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    CommitGate* gate_;
  };

 private:
  mutable std::shared_mutex mu_;
  std::atomic<uint64_t> epoch_{0};
};

struct KvOptions {
  // fsync the WAL on every commit (RocksDB groups concurrent commits into one fsync).
  bool sync_writes = false;
  // Shared by every store opened through one KvEnv.
  size_t block_cache_bytes = 256 << 20;
  size_t write_buffer_bytes = 64 << 20;
  // A cache of the values of keys starting with `record_cache_prefix` (the records), in
  // front of Get and MultiGet, shared by every store (record_cache.h). 0 or an empty
  // prefix: none.
  size_t record_cache_bytes = 32 << 20;
  std::string record_cache_prefix;
  // Write streams: keys that arrive in key order one after another, such as a
  // collection's records under increasing ObjectIds or the change log. Given a key, the
  // length of the prefix naming its stream, or 0 for a key of none. The memtable places
  // a key right after the last key of its stream instead of searching from the top;
  // without streams, a commit that writes a stats counter, a change record and a record
  // searches three times (a single-document insert over the wire: 81k server instructions,
  // 34k of them in memtable inserts; with streams 60k and 13k). A range deletion must
  // not begin at a key of a stream: RocksDB before 9.2 shares the stream positions
  // between its point keys and its range deletions (facebook/rocksdb#12558), so the store
  // refuses such a batch (InternalError, nothing written). Null: no streams.
  std::function<size_t(std::string_view key)> write_stream;
  // File groups: compactions never write keys of two groups into one table file. Given a
  // key, the length of the prefix naming its group (a collection's records, one index's
  // entries, the change log, ...): as WiredTiger keeps a file per collection and per
  // index. An index built later is then ingested into the last level beside the
  // collection's files, not into level 0 over a file that spans every key (where each seek
  // of the index also sought three or four overlapping files until a compaction).
  // Null: files split by size only.
  std::function<size_t(std::string_view key)> file_group;
  // Tests only: file writes fail while it holds a fault. Must outlive the KvEnv.
  const FaultInjection* faults = nullptr;
  // Reads of the stores wait while it is held (null: none). Must outlive the KvEnv.
  const CommitGate* commit_gate = nullptr;
};

// Resources shared by all stores of one worker: block cache, write-buffer budget,
// background threads.
class KvEnv {
 public:
  virtual ~KvEnv() = default;
  static std::unique_ptr<KvEnv> Create(const KvOptions& options);
  virtual absl::StatusOr<std::unique_ptr<KvStore>> Open(const std::string& path) = 0;
  // Rebuilds a damaged store's metadata from whatever table and log files are readable
  // (RocksDB's RepairDB): records in unreadable files are lost, the rest is kept. The store
  // must not be open.
  virtual absl::Status Repair(const std::string& path) = 0;
};

}  // namespace micromongo::storage
