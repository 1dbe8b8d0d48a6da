// The RocksDB implementation of kv.h. The only file in micro-mongo that includes RocksDB.

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/experimental.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/metadata.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_partitioner.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <thread>

#include "document/status.h"
#include "storage/counters.h"
#include "storage/kv.h"
#include "storage/record_cache.h"

namespace micromongo::storage {
namespace {

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// RocksDB counts into a thread-local perf context at kEnableCount by default; every count
// is a __tls_get_addr call from the shared library (10% of a scan's time). Nothing here
// reads those counters, so each thread turns them off before its first operation.
void DisablePerfCounters() {
  thread_local bool disabled = false;
  if (!disabled) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    disabled = true;
  }
}

// RocksDB's write path, in frames of its own. ThreadSanitizer records an instrumented
// function as the call site in its caller, and nothing of the uninstrumented library: a
// race it reports inside RocksDB's group commit (a leader appending its followers'
// batches, under synchronization TSan cannot see) names CallRocksWrite's call site, which
// is in WriteToRocks; scripts/tsan.supp suppresses that name. Our own code never runs
// below it. (Work after each call keeps them from becoming tail calls, which drop the
// frame.)
__attribute__((noinline)) rocksdb::Status CallRocksWrite(rocksdb::DB* db, const rocksdb::WriteOptions& options,
                                                         rocksdb::WriteBatch* batch) {
  rocksdb::Status s = db->Write(options, batch);
  asm volatile("" ::: "memory");
  return s;
}
__attribute__((noinline)) rocksdb::Status WriteToRocks(rocksdb::DB* db, const rocksdb::WriteOptions& options,
                                                       rocksdb::WriteBatch* batch) {
  rocksdb::Status s = CallRocksWrite(db, options, batch);
  asm volatile("" ::: "memory");
  return s;
}

absl::Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNoSpace()) {
    return MongoError(kOutOfDiskSpace, StrCat("the disk is full: nothing was written (", s.ToString(), ")"));
  }
  if (s.IsCorruption()) {
    return MongoError(kDataCorruptionDetected,
                      StrCat("storage: ", s.ToString(),
                             " (the data files are damaged: stop the server and run "
                             "micromongo-server --repair)"));
  }
  if (s.IsIOError()) {
    return MongoError(kInternalError, StrCat("storage I/O error: nothing was written (", s.ToString(), ")"));
  }
  return MongoError(kInternalError, StrCat("storage: ", s.ToString()));
}

// ---- Fault injection (KvOptions::faults) --------------------------------------------------

rocksdb::IOStatus InjectedFault(const FaultInjection* faults) {
  switch (faults->Get()) {
    case FaultInjection::Fault::kNone:
      return rocksdb::IOStatus::OK();
    case FaultInjection::Fault::kNoSpace:
      return rocksdb::IOStatus::NoSpace("injected fault", "No space left on device");
    case FaultInjection::Fault::kIoError:
      return rocksdb::IOStatus::IOError("injected fault", "Input/output error");
  }
  return rocksdb::IOStatus::OK();
}

class FaultyWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, const FaultInjection* faults)
      : FSWritableFileOwnerWrapper(std::move(file)), faults_(faults) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* d) override {
    if (auto s = InjectedFault(faults_); !s.ok()) return s;
    return target()->Append(data, o, d);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* d) override {
    if (auto s = InjectedFault(faults_); !s.ok()) return s;
    return target()->Append(data, o, info, d);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (auto s = InjectedFault(faults_); !s.ok()) return s;
    return target()->PositionedAppend(data, offset, o, d);
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (auto s = InjectedFault(faults_); !s.ok()) return s;
    return target()->Flush(o, d);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (auto s = InjectedFault(faults_); !s.ok()) return s;
    return target()->Sync(o, d);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
    if (auto s = InjectedFault(faults_); !s.ok()) return s;
    return target()->Fsync(o, d);
  }

 private:
  const FaultInjection* faults_;
};

class FaultyFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultyFileSystem(const FaultInjection* faults)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), faults_(faults) {}
  const char* Name() const override { return "MicromongoFaultInjection"; }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* out,
                                    rocksdb::IODebugContext* d) override {
    if (auto s = InjectedFault(faults_); !s.ok()) return s;
    rocksdb::IOStatus s = target()->NewWritableFile(name, o, out, d);
    if (s.ok()) *out = std::make_unique<FaultyWritableFile>(std::move(*out), faults_);
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* out,
                                       rocksdb::IODebugContext* d) override {
    if (auto s = InjectedFault(faults_); !s.ok()) return s;
    rocksdb::IOStatus s = target()->ReopenWritableFile(name, o, out, d);
    if (s.ok()) *out = std::make_unique<FaultyWritableFile>(std::move(*out), faults_);
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* out,
                                      rocksdb::IODebugContext* d) override {
    if (auto s = InjectedFault(faults_); !s.ok()) return s;
    rocksdb::IOStatus s = target()->ReuseWritableFile(name, old, o, out, d);
    if (s.ok()) *out = std::make_unique<FaultyWritableFile>(std::move(*out), faults_);
    return s;
  }

 private:
  const FaultInjection* faults_;
};

class RocksSnapshot : public KvSnapshot {
 public:
  explicit RocksSnapshot(std::shared_ptr<rocksdb::DB> db)
      : db_(std::move(db)), snapshot_(db_->GetSnapshot()) {}
  ~RocksSnapshot() override { db_->ReleaseSnapshot(snapshot_); }
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  std::shared_ptr<rocksdb::DB> db_;  // the instance the snapshot belongs to, kept open
  const rocksdb::Snapshot* snapshot_;
};

const rocksdb::Snapshot* RocksSnapshotOf(const KvSnapshot* s) {
  return s == nullptr ? nullptr : static_cast<const RocksSnapshot*>(s)->get();
}

// A table property: the file groups (KvOptions::file_group) whose keys the table holds,
// written by GroupsCollector, each as its length (one byte) and its bytes.
constexpr char kGroupsProperty[] = "micromongo.groups";

// Whether a table may hold keys of `group`: no unless its groups property (written by
// GroupsCollector) says so; yes for a table without it (written before it existed, or
// holding a range deletion).
bool TableMayHoldGroup(const rocksdb::TableProperties& table, std::string_view group) {
  if (table.num_range_deletions > 0) return true;
  auto it = table.user_collected_properties.find(kGroupsProperty);
  if (it == table.user_collected_properties.end()) return true;
  std::string_view encoded = it->second;
  while (!encoded.empty()) {
    size_t n = static_cast<unsigned char>(encoded[0]);
    if (encoded.size() < 1 + n) return true;  // malformed: assume it may
    if (encoded.substr(1, n) == group) return true;
    encoded.remove_prefix(1 + n);
  }
  return false;
}

class RocksIterator : public KvIterator {
 public:
  // `group`: the file group (KvOptions::file_group) holding every key of the range, if
  // one does: tables without it are passed over.
  RocksIterator(std::shared_ptr<rocksdb::DB> db, std::string lower, std::string upper,
                const KvSnapshot* snapshot, std::optional<std::string> group)
      : db_(std::move(db)), lower_(std::move(lower)), upper_(std::move(upper)) {
    lower_slice_ = ToSlice(lower_);
    upper_slice_ = ToSlice(upper_);
    rocksdb::ReadOptions ro;
    ro.snapshot = RocksSnapshotOf(snapshot);
    ro.iterate_lower_bound = &lower_slice_;
    ro.iterate_upper_bound = &upper_slice_;
    ro.auto_prefix_mode = false;
    if (group.has_value()) {
      ro.table_filter = [g = std::move(*group)](const rocksdb::TableProperties& table) {
        return TableMayHoldGroup(table, g);
      };
    }
    it_.reset(db_->NewIterator(ro));
  }
  // The first position (the lower bound) is sought only when used before any Seek: scans
  // that seek at once (index scans, clustered reads) would pay for a seek in every level.
  bool Valid() const override {
    Position();
    return it_->Valid();
  }
  void Seek(std::string_view key) override {
    positioned_ = true;
    it_->Seek(ToSlice(key));
  }
  void SeekForPrev(std::string_view key) override {
    positioned_ = true;
    it_->SeekForPrev(ToSlice(key));
  }
  void SeekToFirst() override {
    positioned_ = true;
    it_->SeekToFirst();
  }
  void SeekToLast() override {
    positioned_ = true;
    it_->SeekToLast();
  }
  void Next() override {
    Position();
    it_->Next();
  }
  void Prev() override {
    Position();
    it_->Prev();
  }
  std::string_view key() const override {
    Position();
    rocksdb::Slice k = it_->key();
    return std::string_view(k.data(), k.size());
  }
  std::string_view value() const override {
    Position();
    rocksdb::Slice v = it_->value();
    return std::string_view(v.data(), v.size());
  }
  absl::Status status() const override {
    Position();
    return FromRocks(it_->status());
  }

 private:
  void Position() const {
    if (positioned_) return;
    positioned_ = true;
    it_->Seek(lower_slice_);
  }

  std::shared_ptr<rocksdb::DB> db_;  // declared first: outlives it_
  std::string lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
  mutable bool positioned_ = false;
};

// Buffers its operations and hands RocksDB a WriteBatch in key order. A unit of work
// interleaves key regions (a record, then each of its index entries), and the memtable's
// skiplist places a key cheaply only right after the one inserted before it; out of order,
// every insert searches from the top (70% of a bulk delete's time). Operations on different
// keys commute and a stable sort keeps those on one key in order; a range deletion does not
// commute with the keys it covers, so batches holding one keep their order.
// KvBatch::Merge's operator: counters values (storage/counters.h) combined field by
// field. A key merged into but never put starts from no fields at all.
class CountersMerge : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing, const rocksdb::Slice& operand,
             std::string* merged, rocksdb::Logger* /*logger*/) const override {
    std::string_view base = existing != nullptr ? std::string_view(existing->data(), existing->size()) : "";
    return CombineCounters(base, std::string_view(operand.data(), operand.size()), merged);
  }
  // Stored in the OPTIONS file: a store with merge operands can only be read by a build
  // that has this operator.
  const char* Name() const override { return "micromongo.counters"; }
};

// KvOptions::write_stream as RocksDB's memtable insert hint: each stream keeps its own
// place in the skiplist.
class StreamPrefix : public rocksdb::SliceTransform {
 public:
  explicit StreamPrefix(std::function<size_t(std::string_view)> stream) : stream_(std::move(stream)) {}
  const char* Name() const override { return "micromongo.WriteStreams"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), stream_(std::string_view(key.data(), key.size())));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return stream_(std::string_view(key.data(), key.size())) != 0;
  }

 private:
  std::function<size_t(std::string_view)> stream_;
};

// KvOptions::file_group as RocksDB's SST partitioner: a compaction starts a new file
// where the group changes, and moves a file down whole only if it holds one group.
class FileGroups : public rocksdb::SstPartitionerFactory {
 public:
  explicit FileGroups(std::function<size_t(std::string_view)> group) : group_(std::move(group)) {}
  const char* Name() const override { return "micromongo.FileGroups"; }
  std::unique_ptr<rocksdb::SstPartitioner> CreatePartitioner(
      const rocksdb::SstPartitioner::Context& /*context*/) const override {
    return std::make_unique<Partitioner>(&group_);
  }

 private:
  class Partitioner : public rocksdb::SstPartitioner {
   public:
    explicit Partitioner(const std::function<size_t(std::string_view)>* group) : group_(group) {}
    const char* Name() const override { return "micromongo.FileGroups"; }
    rocksdb::PartitionerResult ShouldPartition(const rocksdb::PartitionerRequest& request) override {
      return Same(*request.prev_user_key, *request.current_user_key) ? rocksdb::kNotRequired : rocksdb::kRequired;
    }
    bool CanDoTrivialMove(const rocksdb::Slice& smallest, const rocksdb::Slice& largest) override {
      return Same(smallest, largest);
    }

   private:
    bool Same(const rocksdb::Slice& a, const rocksdb::Slice& b) const {
      std::string_view x(a.data(), a.size()), y(b.data(), b.size());
      return x.substr(0, (*group_)(x)) == y.substr(0, (*group_)(y));
    }
    const std::function<size_t(std::string_view)>* group_;
  };

  std::function<size_t(std::string_view)> group_;
};

// The groups (KvOptions::file_group) whose keys a table holds, as a table property, so
// that an iterator over one group passes over the tables without it
// (TableMayHoldGroup). Compactions write one group to a file, but a flush writes the
// memtable's every key into one level-0 file: after a collection's load, its records,
// the change log and the counters shared two level-0 files whose key range spanned an
// index built later, and every seek of that index searched both (a find by an indexed
// field, 100k documents: 33k instructions in the seek, most of them in those files).
class GroupsCollector : public rocksdb::TablePropertiesCollector {
 public:
  explicit GroupsCollector(const std::function<size_t(std::string_view)>* group) : group_(group) {}
  const char* Name() const override { return "micromongo.Groups"; }
  rocksdb::Status AddUserKey(const rocksdb::Slice& key, const rocksdb::Slice& /*value*/, rocksdb::EntryType type,
                             rocksdb::SequenceNumber /*seq*/, uint64_t /*file_size*/) override {
    // A range deletion's start key names one group but it may span more; its table is
    // never passed over (TableMayHoldGroup), so it needs no entry here.
    if (unknown_ || type == rocksdb::kEntryRangeDeletion) return rocksdb::Status::OK();
    std::string_view k(key.data(), key.size());
    std::string_view g = k.substr(0, (*group_)(k));
    if (g.empty() || g == last_) return rocksdb::Status::OK();
    // Keys come in order, so a group's keys are contiguous.
    if (++count_ > kMaxGroups || g.size() > 255) {
      unknown_ = true;
      return rocksdb::Status::OK();
    }
    encoded_.push_back(static_cast<char>(g.size()));
    encoded_.append(g);
    last_.assign(g);
    return rocksdb::Status::OK();
  }
  rocksdb::Status Finish(rocksdb::UserCollectedProperties* properties) override {
    if (!unknown_) (*properties)[kGroupsProperty] = encoded_;
    return rocksdb::Status::OK();
  }
  rocksdb::UserCollectedProperties GetReadableProperties() const override { return {}; }

 private:
  static constexpr int kMaxGroups = 1024;
  const std::function<size_t(std::string_view)>* group_;
  std::string encoded_;  // kGroupsProperty's value
  std::string last_;     // the last group added (groups are never empty)
  int count_ = 0;
  bool unknown_ = false;
};

class GroupsCollectorFactory : public rocksdb::TablePropertiesCollectorFactory {
 public:
  explicit GroupsCollectorFactory(std::function<size_t(std::string_view)> group) : group_(std::move(group)) {}
  const char* Name() const override { return "micromongo.Groups"; }
  rocksdb::TablePropertiesCollector* CreateTablePropertiesCollector(
      rocksdb::TablePropertiesCollectorFactory::Context /*context*/) override {
    return new GroupsCollector(&group_);
  }

 private:
  std::function<size_t(std::string_view)> group_;
};

// The group that holds every key of [lower, upper), if one does.
std::optional<std::string> GroupOfRange(const std::function<size_t(std::string_view)>& group,
                                        std::string_view lower, std::string_view upper) {
  if (!group || lower.empty() || upper.empty()) return std::nullopt;
  std::string g(lower.substr(0, group(lower)));
  if (g.empty()) return std::nullopt;
  // A bound shorter than its kind's group prefix ("r" for every collection's records) is
  // its own "group" to `group`, but no table's: only a whole group prefix, which a longer
  // key keeps, names one.
  if (group(g + '\0') != g.size()) return std::nullopt;
  // Every key of the group is below PrefixEnd(g); the range must end there.
  std::string end = PrefixEnd(g);
  if (end.empty() || upper > end) return std::nullopt;
  // Every key of the range starts with g, a whole group prefix: they are all in g.
  return g;
}

class RocksBatch : public KvBatch {
 public:
  void Put(std::string_view k, std::string_view v) override { Add(Kind::kPut, k, v); }
  void Delete(std::string_view k) override { Add(Kind::kDelete, k, {}); }
  void DeleteRange(std::string_view b, std::string_view e) override {
    has_range_ = true;
    Add(Kind::kDeleteRange, b, e);
  }
  void Merge(std::string_view k, std::string_view operand) override { Add(Kind::kMerge, k, operand); }
  size_t Count() const override { return ops_.size(); }
  size_t ByteSize() const override { return data_.size(); }
  void Clear() override {
    data_.clear();
    ops_.clear();
    has_range_ = false;
  }

  void ForEach(const std::function<void(OpKind, std::string_view, std::string_view)>& fn) const override {
    for (const Op& op : ops_) {
      std::string_view key(data_.data() + op.offset, op.key_size);
      std::string_view value(data_.data() + op.offset + op.key_size, op.value_size);
      switch (op.kind) {
        case Kind::kPut: fn(OpKind::kPut, key, value); break;
        case Kind::kDelete: fn(OpKind::kDelete, key, {}); break;
        case Kind::kDeleteRange: fn(OpKind::kDeleteRange, key, value); break;
        case Kind::kMerge: fn(OpKind::kMerge, key, value); break;
      }
    }
  }

  bool has_range() const { return has_range_; }

  // Whether a range deletion begins at a key of a write stream (KvOptions::write_stream).
  bool RangeBeginsInStream(const std::function<size_t(std::string_view)>& stream) const {
    if (!has_range_ || !stream) return false;
    for (uint32_t i = 0; i < ops_.size(); ++i) {
      if (ops_[i].kind == Kind::kDeleteRange && stream(Key(i)) != 0) return true;
    }
    return false;
  }

  // The changes of this batch to keys `cache` holds: each key's last operation, or every
  // key when a range deletion meets them. False when none.
  bool CacheChanges(const RecordCache& cache, RecordCache::Write* w) const {
    std::vector<uint32_t> ops;
    for (uint32_t i = 0; i < ops_.size(); ++i) {
      const Op& op = ops_[i];
      if (op.kind == Kind::kDeleteRange) {
        std::string_view end(data_.data() + op.offset + op.key_size, op.value_size);
        if (cache.Overlaps(Key(i), end)) w->everything = true;
      } else if (cache.Caches(Key(i))) {
        if (op.kind == Kind::kMerge) w->everything = true;  // not to be: see KvBatch::Merge
        ops.push_back(i);
      }
    }
    // Equal keys next to each other, in the order they were added: the last one counts.
    if (ops.size() > 1) {
      std::stable_sort(ops.begin(), ops.end(), [&](uint32_t a, uint32_t b) { return Key(a) < Key(b); });
    }
    for (size_t k = 0; k < ops.size(); ++k) {
      if (k + 1 < ops.size() && Key(ops[k]) == Key(ops[k + 1])) continue;
      const Op& op = ops_[ops[k]];
      w->changes.push_back(RecordCache::Change{
          Key(ops[k]), std::string_view(data_.data() + op.offset + op.key_size, op.value_size),
          op.kind == Kind::kPut});
    }
    return w->everything || !w->changes.empty();
  }

  // Splits the batch: the puts of keys starting with `prefix` in key order (the last of
  // equal keys) as an SST file at `path` (`*wrote` whether it has any), the other
  // operations into `rest`.
  rocksdb::Status WriteSst(const rocksdb::Options& options, const std::string& path, std::string_view prefix,
                           RocksBatch* rest, bool* wrote) const {
    std::vector<bool> same_as_next;
    std::vector<uint32_t> order = KeyOrder(&same_as_next);
    // No filters: most index reads are seeks, which whole-key filters cannot answer, and
    // the last level, where most ingested files land, goes without them anyway
    // (optimize_filters_for_hits); a file that lands higher gets them when compaction
    // rewrites it. The written pages stay cached: the index is read next.
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options, /*column_family=*/nullptr,
                                  /*invalidate_page_cache=*/false, rocksdb::Env::IOPriority::IO_TOTAL,
                                  /*skip_filters=*/true);
    rocksdb::Status s;
    *wrote = false;
    for (size_t k = 0; s.ok() && k < order.size(); ++k) {
      Prefetch(order, k);
      const Op& op = ops_[order[k]];
      std::string_view key = Key(order[k]);
      if (op.kind != Kind::kPut || key.substr(0, prefix.size()) != prefix) {
        std::string_view value(data_.data() + op.offset + op.key_size, op.value_size);
        if (op.kind == Kind::kPut) rest->Put(key, value);
        if (op.kind == Kind::kDelete) rest->Delete(key);
        if (op.kind == Kind::kMerge) rest->Merge(key, value);
        continue;
      }
      if (same_as_next[k]) continue;  // a later put wins
      if (!*wrote) {
        s = writer.Open(path);
        if (!s.ok()) break;
        *wrote = true;
      }
      s = writer.Put(rocksdb::Slice(key.data(), key.size()),
                     rocksdb::Slice(data_.data() + op.offset + op.key_size, op.value_size));
    }
    if (s.ok() && *wrote) s = writer.Finish();
    return s;
  }

  // The WriteBatch of the operations so far.
  rocksdb::WriteBatch Build() const {
    std::vector<uint32_t> order = has_range_ ? InsertionOrder() : KeyOrder();
    rocksdb::WriteBatch batch(data_.size() + 24 * ops_.size() + 12);
    for (size_t n = 0; n < order.size(); ++n) {
      Prefetch(order, n);
      const Op& op = ops_[order[n]];
      rocksdb::Slice k(data_.data() + op.offset, op.key_size);
      rocksdb::Slice v(data_.data() + op.offset + op.key_size, op.value_size);
      switch (op.kind) {
        case Kind::kPut: batch.Put(k, v); break;
        case Kind::kDelete: batch.Delete(k); break;
        case Kind::kDeleteRange: batch.DeleteRange(k, v); break;
        case Kind::kMerge: batch.Merge(k, v); break;
      }
    }
    return batch;
  }

 private:
  // Walking the operations in key order reads the buffer at scattered places, a cache
  // miss each (half of an SST file's writing time): the ones some steps after operation k
  // are fetched while k is written, each operation twice as far ahead as its bytes, which
  // are found through it.
  static constexpr size_t kPrefetchDistance = 8;
  void Prefetch(const std::vector<uint32_t>& order, size_t k) const {
    if (k + 2 * kPrefetchDistance < order.size()) PrefetchLine(&ops_[order[k + 2 * kPrefetchDistance]]);
    if (k + kPrefetchDistance >= order.size()) return;
    const Op& op = ops_[order[k + kPrefetchDistance]];
    PrefetchLine(data_.data() + op.offset);
    PrefetchLine(data_.data() + op.offset + op.key_size + op.value_size - 1);
  }
  // GCC 12 drops __builtin_prefetch here as dead code (its DCE pass, seen in the
  // disassembly), so on x86-64 the instruction is written out.
  static void PrefetchLine(const void* p) {
#if defined(__x86_64__)
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p);
#endif
  }

  std::string_view Key(uint32_t i) const { return std::string_view(data_).substr(ops_[i].offset, ops_[i].key_size); }

  std::vector<uint32_t> InsertionOrder() const {
    std::vector<uint32_t> order(ops_.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    return order;
  }

  // The common batch needs no sort: its operations, grouped (stably) by their key's first
  // byte (records, change records, index entries: FORMAT.md), are each already in key
  // order: an insert of increasing _ids with their change records at increasing times
  // interleaves two ordered runs. Sets `order` to that grouping and returns whether it
  // is the key order (equal keys in insertion order, as the grouping keeps them).
  bool OrderedByKind(std::vector<uint32_t>* order) const {
    std::array<uint32_t, 258> start{};  // by first byte + 1; 0 for an empty key
    auto kind = [&](uint32_t i) -> size_t {
      std::string_view k = Key(i);
      return k.empty() ? 0 : static_cast<unsigned char>(k[0]) + 1;
    };
    for (uint32_t i = 0; i < ops_.size(); ++i) ++start[kind(i) + 1];
    for (size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
    order->resize(ops_.size());
    for (uint32_t i = 0; i < ops_.size(); ++i) (*order)[start[kind(i)]++] = i;
    for (size_t k = 1; k < order->size(); ++k) {
      if (Key((*order)[k]) < Key((*order)[k - 1])) return false;
    }
    return true;
  }

  // The operations by key, equal keys in insertion order. Keys of one batch mostly share
  // a long prefix (a collection's, an index's), so they are compared first by the 32 bytes
  // after the prefix all of them share (held beside the operation: no reads of scattered
  // keys), and the rest only when those tie. `same_as_next`, if given, gets whether each
  // key in that order equals the next one (told by the heads, without reading the keys,
  // unless those tie).
  std::vector<uint32_t> KeyOrder(std::vector<bool>* same_as_next = nullptr) const {
    if (std::vector<uint32_t> order; OrderedByKind(&order)) {
      if (same_as_next != nullptr) {
        same_as_next->assign(order.size(), false);
        for (size_t i = 0; i + 1 < order.size(); ++i) (*same_as_next)[i] = Key(order[i]) == Key(order[i + 1]);
      }
      return order;
    }
    size_t common = ops_.empty() ? 0 : ops_[0].key_size;
    for (uint32_t i = 1; i < ops_.size() && common > 0; ++i) {
      std::string_view a = Key(0), b = Key(i);
      size_t n = std::min({common, a.size(), b.size()});
      size_t k = 0;
      while (k < n && a[k] == b[k]) ++k;
      common = k;
    }
    constexpr size_t kWords = 4;
    struct Item {
      uint64_t head[kWords];
      uint32_t op;
    };
    std::vector<Item> items(ops_.size());
    for (uint32_t i = 0; i < ops_.size(); ++i) {
      std::string_view k = Key(i);
      Item& item = items[i];
      item.op = i;
      for (size_t w = 0; w < kWords; ++w) {
        uint64_t head = 0;
        for (size_t b = 0; b < 8; ++b) {
          size_t at = common + 8 * w + b;
          head = (head << 8) | (at < k.size() ? static_cast<unsigned char>(k[at]) : 0);
        }
        item.head[w] = head;
      }
    }
    std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
      for (size_t w = 0; w < kWords; ++w) {
        if (a.head[w] != b.head[w]) return a.head[w] < b.head[w];
      }
      // Only keys longer than the heads reach here: compare the rest.
      std::string_view ka = Key(a.op), kb = Key(b.op);
      size_t skip = std::min({common + 8 * kWords, ka.size(), kb.size()});
      int c = ka.substr(skip).compare(kb.substr(skip));
      if (c == 0 && ka.size() != kb.size()) c = ka.size() < kb.size() ? -1 : 1;
      return c != 0 ? c < 0 : a.op < b.op;
    });
    std::vector<uint32_t> order(items.size());
    for (size_t i = 0; i < items.size(); ++i) order[i] = items[i].op;
    if (same_as_next != nullptr) {
      same_as_next->assign(items.size(), false);
      for (size_t i = 0; i + 1 < items.size(); ++i) {
        const Item& a = items[i];
        const Item& b = items[i + 1];
        (*same_as_next)[i] = std::equal(a.head, a.head + kWords, b.head) && Key(a.op) == Key(b.op);
      }
    }
    return order;
  }

  enum class Kind : uint8_t { kPut, kDelete, kDeleteRange, kMerge };
  struct Op {
    Kind kind;
    size_t offset;  // of the key in data_; the value follows it
    uint32_t key_size, value_size;
  };
  void Add(Kind kind, std::string_view k, std::string_view v) {
    ops_.push_back(Op{kind, data_.size(), static_cast<uint32_t>(k.size()), static_cast<uint32_t>(v.size())});
    data_.append(k);
    data_.append(v);
  }

  std::string data_;  // every key and value, back to back
  std::vector<Op> ops_;
  bool has_range_ = false;
};

class RocksStore : public KvStore {
 public:
  // `open(read_only)` opens the store's directory again (after a fatal write error).
  RocksStore(std::unique_ptr<rocksdb::DB> db, bool sync, std::string path,
             std::function<rocksdb::Status(bool read_only, rocksdb::DB**)> open, const CommitGate* gate,
             std::unique_ptr<RecordCache> cache, std::function<size_t(std::string_view)> write_stream,
             std::function<size_t(std::string_view)> file_group)
      : db_(std::move(db)),
        path_(std::move(path)),
        open_(std::move(open)),
        gate_(gate),
        cache_(std::move(cache)),
        write_stream_(std::move(write_stream)),
        file_group_(std::move(file_group)) {
    write_options_.sync = sync;
  }
  ~RocksStore() override {
    // Flush nothing: the WAL already holds every acknowledged write.
    if (db_ != nullptr) db_->Close();
  }

  absl::StatusOr<bool> Get(std::string_view key, std::string* value,
                           const KvSnapshot* snapshot) override {
    DisablePerfCounters();
    AwaitCommits();
    std::shared_ptr<rocksdb::DB> db = Db();
    rocksdb::ReadOptions ro;
    ro.snapshot = RocksSnapshotOf(snapshot);
    const bool cached = cache_ != nullptr && cache_->Caches(key);
    const uint64_t sequence = cached ? ReadSequence(*db, ro) : 0;
    if (cached && cache_->Lookup(key, sequence, value)) return true;
    rocksdb::Status s = db->Get(ro, ToSlice(key), value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return FromRocks(s);
    if (cached) cache_->Fill(key, *value, sequence);
    return true;
  }
  absl::Status KeysExist(const std::vector<std::string_view>& keys, std::vector<bool>* exist,
                         std::string_view limit) override {
    DisablePerfCounters();
    AwaitCommits();
    exist->assign(keys.size(), false);
    std::shared_ptr<rocksdb::DB> db = Db();
    rocksdb::ReadOptions ro;
    std::unique_ptr<rocksdb::ManagedSnapshot> snapshot;
    std::vector<size_t> lookup;  // the keys the seek did not answer
    lookup.reserve(keys.size());
    if (!limit.empty() && keys.size() >= kSeekFirstKeys) {
      // The seek and the lookups read one snapshot: the answer is the state of one moment.
      snapshot = std::make_unique<rocksdb::ManagedSnapshot>(db.get());
      ro.snapshot = snapshot->snapshot();
      std::string_view smallest = *std::min_element(keys.begin(), keys.end());
      rocksdb::Slice lower = ToSlice(smallest), upper = ToSlice(limit);
      rocksdb::ReadOptions bounded = ro;
      bounded.iterate_lower_bound = &lower;
      bounded.iterate_upper_bound = &upper;
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(bounded));
      it->Seek(lower);
      if (!it->status().ok()) return FromRocks(it->status());
      // Keys below the first present one are absent; that one is present; the rest are
      // looked up.
      std::string_view first = it->Valid() ? std::string_view(it->key().data(), it->key().size()) : "";
      for (size_t i = 0; i < keys.size(); ++i) {
        if (!it->Valid() || keys[i] < first) continue;
        if (keys[i] == first) (*exist)[i] = true;
        else lookup.push_back(i);
      }
    } else {
      for (size_t i = 0; i < keys.size(); ++i) lookup.push_back(i);
    }
    if (lookup.empty()) return absl::OkStatus();
    std::vector<rocksdb::Slice> slices;
    slices.reserve(lookup.size());
    for (size_t i : lookup) slices.push_back(ToSlice(keys[i]));
    std::vector<rocksdb::PinnableSlice> values(lookup.size());
    std::vector<rocksdb::Status> statuses(lookup.size());
    db->MultiGet(ro, db->DefaultColumnFamily(), lookup.size(), slices.data(), values.data(), statuses.data());
    for (size_t j = 0; j < lookup.size(); ++j) {
      if (statuses[j].ok()) {
        (*exist)[lookup[j]] = true;
      } else if (!statuses[j].IsNotFound()) {
        return FromRocks(statuses[j]);
      }
    }
    return absl::OkStatus();
  }
  absl::Status MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* out,
                        std::vector<bool>* found, const KvSnapshot* snapshot, bool* scattered) override {
    DisablePerfCounters();
    AwaitCommits();
    out->resize(keys.size());
    found->assign(keys.size(), false);
    std::shared_ptr<rocksdb::DB> db = Db();
    rocksdb::ReadOptions ro;
    ro.snapshot = RocksSnapshotOf(snapshot);
    if (cache_ == nullptr) return ReadMany(db.get(), ro, keys, out, found, scattered);
    // The cache's entries first, the store for the rest. When most of the first keys
    // miss (records nobody read or wrote lately: a range over old data), the rest go
    // straight to the store, whose walk over neighbouring keys costs less than probing.
    const uint64_t sequence = ReadSequence(*db, ro);
    std::vector<size_t> misses;
    size_t probed = 0, hits = 0;
    // Runs of keys the cache may hold go to it together (RecordCache::LookupMany), a
    // trial's worth at a time, until the trial says the rest are not worth probing.
    bool hit[kCacheTrial];
    for (size_t i = 0; i < keys.size();) {
      if (!cache_->Caches(keys[i]) || (probed >= kCacheTrial && hits * 2 < probed)) {
        misses.push_back(i++);
        continue;
      }
      size_t run = 1;
      while (run < kCacheTrial && i + run < keys.size() && cache_->Caches(keys[i + run])) ++run;
      hits += cache_->LookupMany(std::span<const std::string_view>(keys).subspan(i, run), sequence, &(*out)[i], hit);
      probed += run;
      for (size_t j = 0; j < run; ++j) {
        if (hit[j]) {
          (*found)[i + j] = true;
        } else {
          misses.push_back(i + j);
        }
      }
      i += run;
    }
    if (misses.empty()) return absl::OkStatus();
    absl::Status s;
    std::vector<bool> looked_up;  // read by point lookups: those values fill the cache
    if (misses.size() == keys.size()) {
      s = ReadMany(db.get(), ro, keys, out, found, scattered, &looked_up);
    } else {
      std::vector<std::string_view> rest_keys;
      rest_keys.reserve(misses.size());
      for (size_t i : misses) rest_keys.push_back(keys[i]);
      std::vector<std::string> values;
      std::vector<bool> present, rest_looked_up;
      values.resize(misses.size());
      present.assign(misses.size(), false);
      s = ReadMany(db.get(), ro, rest_keys, &values, &present, scattered, &rest_looked_up);
      looked_up.assign(keys.size(), false);
      for (size_t j = 0; s.ok() && j < misses.size(); ++j) {
        looked_up[misses[j]] = rest_looked_up[j];
        if (!present[j]) continue;
        (*found)[misses[j]] = true;
        (*out)[misses[j]] = std::move(values[j]);
      }
    }
    if (!s.ok()) return s;
    // Records read by walking from one to the next are cheap to read again that way; a
    // point lookup's are worth keeping.
    for (size_t i : misses) {
      if ((*found)[i] && looked_up[i] && cache_->Caches(keys[i])) cache_->Fill(keys[i], (*out)[i], sequence);
    }
    return absl::OkStatus();
  }

  // MultiGet from the store itself. `out` and `found` are sized and cleared. `looked_up`
  // (optional) gets which keys were read by point lookups rather than by stepping an
  // iterator from one to the next.
  absl::Status ReadMany(rocksdb::DB* db, const rocksdb::ReadOptions& ro, const std::vector<std::string_view>& keys,
                        std::vector<std::string>* out, std::vector<bool>* found, bool* scattered,
                        std::vector<bool>* looked_up = nullptr) {
    if (looked_up != nullptr) looked_up->assign(keys.size(), false);
    if (keys.size() == 1) {  // a point read costs less than a MultiGet's setup
      if (looked_up != nullptr) (*looked_up)[0] = true;
      rocksdb::PinnableSlice value;
      rocksdb::Status s = db->Get(ro, db->DefaultColumnFamily(), ToSlice(keys[0]), &value);
      if (s.IsNotFound()) return absl::OkStatus();
      if (!s.ok()) return FromRocks(s);
      (*found)[0] = true;
      (*out)[0].assign(value.data(), value.size());
      return absl::OkStatus();
    }
    std::vector<size_t> rest;
    if (keys.size() >= kMinClusteredBatch && (scattered == nullptr || !*scattered)) {
      if (absl::Status s = ClusteredGet(db, ro, keys, out, found, &rest); !s.ok()) return s;
      if (scattered != nullptr && !rest.empty()) *scattered = true;
    } else {
      rest.resize(keys.size());
      for (size_t i = 0; i < keys.size(); ++i) rest[i] = i;
    }
    if (rest.empty()) return absl::OkStatus();
    std::vector<rocksdb::Slice> slices;
    slices.reserve(rest.size());
    for (size_t i : rest) slices.push_back(ToSlice(keys[i]));
    if (looked_up != nullptr) {
      for (size_t i : rest) (*looked_up)[i] = true;
    }
    std::vector<rocksdb::PinnableSlice> values(rest.size());
    std::vector<rocksdb::Status> statuses(rest.size());
    db->MultiGet(ro, db->DefaultColumnFamily(), rest.size(), slices.data(), values.data(), statuses.data());
    for (size_t j = 0; j < rest.size(); ++j) {
      if (statuses[j].ok()) {
        (*found)[rest[j]] = true;
        (*out)[rest[j]].assign(values[j].data(), values[j].size());
      } else if (!statuses[j].IsNotFound()) {
        return FromRocks(statuses[j]);
      }
    }
    return absl::OkStatus();
  }
  std::shared_ptr<const KvSnapshot> GetSnapshot() override {
    AwaitCommits();
    return std::make_shared<RocksSnapshot>(Db());
  }
  std::unique_ptr<KvIterator> NewIterator(std::string lower, std::string upper,
                                          const KvSnapshot* snapshot) override {
    DisablePerfCounters();
    AwaitCommits();
    std::optional<std::string> group = GroupOfRange(file_group_, lower, upper);
    return std::make_unique<RocksIterator>(Db(), std::move(lower), std::move(upper), snapshot, std::move(group));
  }
  std::unique_ptr<KvBatch> NewBatch() override { return std::make_unique<RocksBatch>(); }
  absl::Status Write(KvBatch* batch) override { return WriteWith(write_options_, batch); }
  absl::Status WriteWithoutSync(KvBatch* batch) override {
    rocksdb::WriteOptions options = write_options_;
    options.sync = false;
    return WriteWith(options, batch);
  }
  absl::Status SyncWal() override {
    if (!write_options_.sync) return absl::OkStatus();
    return FromRocks(Db()->SyncWAL());
  }
  absl::Status WriteWith(const rocksdb::WriteOptions& options, KvBatch* batch) {
    DisablePerfCounters();
    const auto* rocks = static_cast<const RocksBatch*>(batch);
    if (rocks->RangeBeginsInStream(write_stream_)) {
      return MongoError(kInternalError, "storage: a range deletion begins at a key of a write stream; nothing was written");
    }
    rocksdb::WriteBatch built = rocks->Build();
    RecordCache::Write cached;
    const bool tracked = cache_ != nullptr && rocks->CacheChanges(*cache_, &cached);
    if (tracked) cache_->BeginWrite(&cached);
    std::shared_ptr<rocksdb::DB> db = Db();
    rocksdb::Status s = read_only_.load() ? ReadOnlyError() : WriteToRocks(db.get(), options, &built);
    if (!s.ok() && s.IsIOError()) {
      if (Recover(&db, s)) {
        s = WriteToRocks(db.get(), options, &built);
      } else if (read_only_.load()) {
        s = ReadOnlyError();
      }
    }
    if (tracked) cache_->EndWrite(&cached, Db()->GetLatestSequenceNumber(), s.ok());
    return FromRocks(s);
  }
  absl::Status Flush() override { return FromRocks(Db()->Flush(rocksdb::FlushOptions())); }
  absl::Status Ingest(KvBatch* batch, std::string_view prefix) override {
    const auto* rocks = static_cast<const RocksBatch*>(batch);
    if (rocks->has_range() || rocks->Count() == 0) return Write(batch);
    std::string file = path_ + "/ingest-" + std::to_string(ingest_seq_.fetch_add(1)) + ".sst";
    RocksBatch rest;
    bool wrote = false;
    std::shared_ptr<rocksdb::DB> db = Db();
    if (read_only_.load()) return Write(batch);  // fails, or recovers first
    rocksdb::Status s = rocks->WriteSst(db->GetOptions(), file, prefix, &rest, &wrote);
    // Ingested keys the cache may hold (none today: index entries) invalidate all of it.
    RecordCache::Write cached{.everything = true};
    const bool tracked = cache_ != nullptr && wrote &&
                         (prefix.starts_with(cache_->prefix()) || cache_->prefix().starts_with(prefix));
    if (tracked) cache_->BeginWrite(&cached);
    if (s.ok() && wrote) {
      rocksdb::IngestExternalFileOptions ingest;
      ingest.move_files = true;  // linked into the store, not copied
      s = db->IngestExternalFile({file}, ingest);
    }
    if (tracked) cache_->EndWrite(&cached, db->GetLatestSequenceNumber(), s.ok());
    std::error_code ec;
    std::filesystem::remove(file, ec);
    if (!s.ok()) return FromRocks(s);
    return rest.Count() == 0 ? absl::OkStatus() : Write(&rest);
  }
  uint64_t ApproximateSize(std::string_view lo, std::string_view hi) override {
    rocksdb::Range range(ToSlice(lo), ToSlice(hi));
    rocksdb::SizeApproximationOptions options;
    options.include_memtables = true;
    options.include_files = true;
    uint64_t size = 0;
    std::shared_ptr<rocksdb::DB> db = Db();
    if (!db->GetApproximateSizes(options, db->DefaultColumnFamily(), &range, 1, &size).ok()) return 0;
    return size;
  }
  absl::Status Checkpoint(const std::string& dir) override {
    rocksdb::Checkpoint* raw = nullptr;
    std::shared_ptr<rocksdb::DB> db = Db();
    rocksdb::Status s = rocksdb::Checkpoint::Create(db.get(), &raw);
    if (!s.ok()) return FromRocks(s);
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    // No flush: the WAL is on, so copying it is as consistent and cheaper than writing
    // the memtables out first.
    return FromRocks(checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/UINT64_MAX));
  }

  absl::Status VerifyChecksums() override { return FromRocks(Db()->VerifyChecksum()); }

  uint64_t DiskBytes() override {
    uint64_t total = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(path_, ec)) {
      if (entry.is_regular_file(ec)) total += entry.file_size(ec);
    }
    return total;
  }
  std::vector<TableFile> TableFiles() override {
    std::vector<rocksdb::LiveFileMetaData> live;
    Db()->GetLiveFilesMetaData(&live);
    std::vector<TableFile> files;
    files.reserve(live.size());
    for (const rocksdb::LiveFileMetaData& f : live) {
      files.push_back({.level = f.level, .smallest = f.smallestkey, .largest = f.largestkey, .bytes = f.size});
    }
    return files;
  }
  absl::Status ScheduleCompaction(std::string_view lo, std::string_view hi) override {
    // Marks the files above the last level that overlap the range; RocksDB's compaction
    // picker takes marked files ahead of its size-based choices, with every level-0 file
    // they overlap.
    rocksdb::Slice begin = ToSlice(lo), end = ToSlice(hi);
    return FromRocks(rocksdb::experimental::SuggestCompactRange(Db().get(), &begin, &end));
  }

 private:
  // Batches smaller than this always go to MultiGet: an iterator costs more to set up.
  static constexpr size_t kMinClusteredBatch = 16;
  // Cache probes a MultiGet makes before it gives up on the cache for the rest of its
  // keys, if fewer than half of them hit.
  static constexpr size_t kCacheTrial = 16;
  // Batches from this size on try one seek before their lookups (KeysExist): for one key
  // a point lookup, which bloom filters answer, costs less than a seek through every level.
  static constexpr size_t kSeekFirstKeys = 4;
  // Next() calls tried before a Seek() to reach the following key.
  static constexpr int kMaxSteps = 4;

  // Reads the keys in key order with one iterator, stepping with Next() from one to the
  // next. Records read through an index on a field that grows with _id (dates, counters)
  // sit side by side, and a Next() costs a fraction of a point read, whose filter probe
  // and index search dominate a MultiGet. Gives up when the second key is out of reach by
  // stepping, or when most of the first keys needed a Seek (the keys are scattered), and
  // leaves the keys not yet read in `rest`.
  absl::Status ClusteredGet(rocksdb::DB* db, const rocksdb::ReadOptions& base,
                            const std::vector<std::string_view>& keys,
                            std::vector<std::string>* out, std::vector<bool>* found,
                            std::vector<size_t>* rest) {
    std::vector<size_t> order(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
    std::string upper(keys[order.back()]);
    upper.push_back('\0');
    rocksdb::Slice lower_slice = ToSlice(keys[order.front()]), upper_slice = ToSlice(upper);
    rocksdb::ReadOptions ro = base;
    ro.iterate_lower_bound = &lower_slice;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
    it->Seek(lower_slice);
    size_t seeks = 0;
    int most_steps = 0;  // the most steps that reached a key
    for (size_t n = 0; n < order.size(); ++n) {
      // A Seek costs several MultiGet lookups: seeks for half of the first 16 keys end the
      // trial (and a second key out of reach, below).
      if (n == 16 && seeks * 2 > n) {
        rest->assign(order.begin() + n, order.end());
        break;
      }
      rocksdb::Slice key = ToSlice(keys[order[n]]);
      int steps = 0;
      // Once keys have needed seeks, they come in runs with gaps between (the records of
      // two text terms' documents, interleaved): as many steps as reached a key so far
      // reach the next of a run, and more only delay the seek a gap needs (with 4, each
      // gap cost 4 Next()s of ~1.9k instructions for nothing: a $text query's fetches
      // -23% with this rule).
      const int max_steps = seeks == 0 ? kMaxSteps : std::max(1, most_steps);
      while (it->Valid() && it->key().compare(key) < 0 && steps < max_steps) {
        it->Next();
        ++steps;
      }
      if (it->Valid() && it->key().compare(key) < 0) {
        if (n == 1) {
          // The second key is out of reach by stepping: scattered keys (an index on
          // another field, text or geo results), for MultiGet without a single seek.
          rest->assign(order.begin() + 1, order.end());
          break;
        }
        it->Seek(key);
        ++seeks;
        steps = 0;  // reached by the seek
      }
      if (!it->Valid()) {
        if (!it->status().ok()) return FromRocks(it->status());
        continue;
      }
      if (it->key() == key) {
        most_steps = std::max(most_steps, steps);
        (*found)[order[n]] = true;
        (*out)[order[n]].assign(it->value().data(), it->value().size());
      }
    }
    return FromRocks(it->status());
  }

  // The open instance, shared with every operation, iterator and snapshot using it.
  std::shared_ptr<rocksdb::DB> Db() const {
    std::shared_lock<std::shared_mutex> l(db_mu_);
    return db_;
  }

  // The error that left the store read-only, for every write until it recovers.
  rocksdb::Status ReadOnlyError() const {
    std::shared_lock<std::shared_mutex> l(db_mu_);
    return read_only_cause_;
  }

  // After a failed write: RocksDB refuses writes until it is resumed, and a failed WAL
  // write is fatal (only closing and reopening the store clears it; the reopened store
  // replays its WAL, so every acknowledged write is there and the torn record is not).
  // Tries Resume(), then a reopen once no operation, iterator or snapshot holds the
  // instance (long-lived cursors delay recovery until they close). If the disk is still
  // unusable, the store is reopened read-only so that reads keep working. At most one
  // attempt per kRecoveryInterval; true when `*db` is now a writable instance.
  bool Recover(std::shared_ptr<rocksdb::DB>* db, const rocksdb::Status& cause) {
    std::lock_guard<std::mutex> recovering(resume_mu_);
    {
      std::shared_lock<std::shared_mutex> l(db_mu_);
      if (db_ != *db && !read_only_.load()) {  // another writer recovered meanwhile
        *db = db_;
        return true;
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now < next_recovery_) return false;
    next_recovery_ = now + kRecoveryInterval;
    if (!read_only_.load() && (*db)->Resume().ok()) return true;
    std::unique_lock<std::shared_mutex> l(db_mu_);
    // Users that took the instance before this lock finish first (briefly).
    for (int i = 0; i < 200 && db_.use_count() > 2; ++i) {
      l.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      l.lock();
    }
    if (db_.use_count() > 2) return false;
    // The reopened store replays its log, which may hold a write that failed here (its
    // record written, its sync not): no cache entry read before outlives the reopen.
    RecordCache::Write reopen{.everything = true};
    if (cache_ != nullptr) cache_->BeginWrite(&reopen);
    db->reset();
    db_->Close();
    db_.reset();
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = open_(/*read_only=*/false, &raw);
    read_only_ = !s.ok();
    if (!s.ok()) {
      // Still full or failing: the original error (a full disk) says more than the
      // reopen's own failure.
      read_only_cause_ = cause.IsIOError() ? cause : s;
      s = open_(/*read_only=*/true, &raw);
    }
    if (!s.ok()) {
      // Not even readable: nothing sensible remains; the process must stop rather than
      // serve from a closed store.
      std::fprintf(stderr, "micromongo: cannot reopen %s: %s\n", path_.c_str(), s.ToString().c_str());
      std::abort();
    }
    db_.reset(raw);
    *db = db_;
    if (cache_ != nullptr) cache_->EndWrite(&reopen, db_->GetLatestSequenceNumber(), /*committed=*/false);
    return !read_only_.load();
  }

  // The sequence a read sees: its snapshot's, or for a read without one, the latest
  // (taken before the read, which sees at least that).
  static uint64_t ReadSequence(rocksdb::DB& db, const rocksdb::ReadOptions& ro) {
    return ro.snapshot != nullptr ? ro.snapshot->GetSequenceNumber() : db.GetLatestSequenceNumber();
  }

  static constexpr std::chrono::milliseconds kRecoveryInterval{100};

  // Reads wait while a commit across stores makes its writes (CommitGate).
  void AwaitCommits() const {
    if (gate_ != nullptr) gate_->AwaitOpen();
  }

  mutable std::shared_mutex db_mu_;  // guards db_ (the pointer, not the instance) and the cause
  std::shared_ptr<rocksdb::DB> db_;
  rocksdb::Status read_only_cause_;
  std::string path_;
  std::function<rocksdb::Status(bool, rocksdb::DB**)> open_;
  const CommitGate* gate_;  // may be null
  const std::unique_ptr<RecordCache> cache_;  // may be null
  const std::function<size_t(std::string_view)> write_stream_;  // may be null
  const std::function<size_t(std::string_view)> file_group_;    // may be null
  std::atomic<uint64_t> ingest_seq_{0};
  rocksdb::WriteOptions write_options_;
  std::mutex resume_mu_;  // one recovery at a time
  std::chrono::steady_clock::time_point next_recovery_;
  std::atomic<bool> read_only_{false};
};



// Every open starts a write-ahead log, and RocksDB keeps a log until a flush passes its
// number; a store opened and closed without writes never flushes, so each such open left
// one more empty log behind, to be listed and replayed by every later open (a worker
// spawned per application run, reading, piles them up). An empty log holds nothing to
// recover: they go before the store opens. The caller holds the directory's lock
// (storage::DirLock), so no live instance is writing to any of them.
void RemoveEmptyWals(const std::string& path) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= 4 || !name.ends_with(".log")) continue;  // "LOG" is the info log
    if (!std::all_of(name.begin(), name.end() - 4, [](char c) { return c >= '0' && c <= '9'; })) continue;
    std::error_code size_ec;
    if (entry.is_regular_file(size_ec) && entry.file_size(size_ec) == 0 && !size_ec) {
      std::filesystem::remove(entry.path(), size_ec);
    }
  }
}

class RocksEnv : public KvEnv {
 public:
  explicit RocksEnv(const KvOptions& o) : options_(o) {
    // Few shards: a shard must hold the largest block it caches, and the high-priority pool
    // keeps index and filter partitions in cache ahead of data blocks.
    rocksdb::LRUCacheOptions cache_options;
    cache_options.capacity = o.block_cache_bytes;
    cache_options.num_shard_bits = 2;
    cache_options.high_pri_pool_ratio = 0.5;
    cache_ = rocksdb::NewLRUCache(cache_options);
    wbm_ = std::make_shared<rocksdb::WriteBufferManager>(o.write_buffer_bytes, cache_);
    if (o.record_cache_bytes > 0 && !o.record_cache_prefix.empty()) {
      record_budget_ = std::make_shared<RecordCacheBudget>(o.record_cache_bytes);
    }
    if (o.faults != nullptr) {
      faulty_env_ = rocksdb::NewCompositeEnv(std::make_shared<FaultyFileSystem>(o.faults));
    }
  }

  absl::StatusOr<std::unique_ptr<KvStore>> Open(const std::string& path) override {
    RemoveEmptyWals(path);
    rocksdb::Options opts = MakeOptions();
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(opts, path, &raw);
    if (!s.ok()) return FromRocks(s);
    auto reopen = [opts, path](bool read_only, rocksdb::DB** out) {
      return read_only ? rocksdb::DB::OpenForReadOnly(opts, path, out) : rocksdb::DB::Open(opts, path, out);
    };
    std::unique_ptr<RecordCache> cache;
    if (record_budget_ != nullptr) cache = std::make_unique<RecordCache>(options_.record_cache_prefix, record_budget_);
    return std::unique_ptr<KvStore>(std::make_unique<RocksStore>(std::unique_ptr<rocksdb::DB>(raw),
                                                                 options_.sync_writes, path, std::move(reopen),
                                                                 options_.commit_gate, std::move(cache),
                                                                 options_.write_stream, options_.file_group));
  }

  absl::Status Repair(const std::string& path) override {
    rocksdb::Options opts = MakeOptions();
    opts.create_if_missing = false;
    return FromRocks(rocksdb::RepairDB(path, opts));
  }

 private:
  rocksdb::Options MakeOptions() {
    rocksdb::Options opts;
    opts.create_if_missing = true;
    opts.merge_operator = std::make_shared<CountersMerge>();
    // One Env: background threads shared by all stores.
    opts.env = faulty_env_ != nullptr ? faulty_env_.get() : rocksdb::Env::Default();
    opts.env->SetBackgroundThreads(2, rocksdb::Env::LOW);
    opts.env->SetBackgroundThreads(1, rocksdb::Env::HIGH);
    opts.max_background_jobs = 2;
    opts.write_buffer_manager = wbm_;
    opts.write_buffer_size = 16 << 20;
    opts.max_write_buffer_number = 3;
    // What an open replays from the write-ahead log stays in the memtable (and the log)
    // instead of becoming a level-0 file: a restart of a read-mostly store flushed the few
    // keys written since the last flush (the change-retention pass's mark) into a 1.3 KB
    // file, and each of up to three of them added ~3.8k instructions to every seek
    // (callgrind, $near) until a fourth started a compaction.
    opts.avoid_flush_during_recovery = true;
    opts.max_open_files = 256;
    // Inserts probe for an existing _id before every write; a memtable bloom filter answers
    // "absent" without walking the skiplist (the common case).
    opts.memtable_prefix_bloom_size_ratio = 0.05;
    opts.memtable_whole_key_filtering = true;
    if (options_.file_group) {
      opts.sst_partitioner_factory = std::make_shared<FileGroups>(options_.file_group);
      opts.table_properties_collector_factories.push_back(
          std::make_shared<GroupsCollectorFactory>(options_.file_group));
    }
    if (options_.write_stream) {
      opts.memtable_insert_with_hint_prefix_extractor = std::make_shared<StreamPrefix>(options_.write_stream);
    }
    // No bloom filters on the last level, where most records and index entries live: reads
    // there are nearly all hits (FETCH reads records its index named), and a probe per read
    // cost more than it saved (indexed point finds 2.4x -> 1.9x the echo floor). Misses
    // (an insert's _id probe) still skip files by key range, which ObjectIds, increasing,
    // mostly fall outside of.
    opts.optimize_filters_for_hits = true;
    // Levels sized from the bottom up: data settles in the last level at once instead of
    // filling L1..L5 to their fixed targets first (a million-record collection sat in four
    // levels, 86 MB, never compacted down). An index seek merges every level it finds, so
    // fewer sorted runs make indexed point finds and sorts cheaper (server time of an
    // indexed find 29-39 -> 21-24 us, of an indexed sort + limit 46-61 -> 34-41 us, in A/B
    // runs over the wire); RocksDB made it the default in 8.4. Stores written before keep
    // their shape and stay readable.
    opts.level_compaction_dynamic_level_bytes = true;
    opts.keep_log_file_num = 2;
    // LZ4 on every level, as RocksDB's default keeps one compression for all and MongoDB's
    // WiredTiger compresses with snappy, its kin: most reads that miss the block cache
    // decompress a block, and ZSTD on the last level (where nearly everything lives) made
    // each such read of a 16 KiB block cost ~170k instructions against ~53k (callgrind,
    // the first 300 queries of a compound index after its build: block reads 14% of the
    // worker's instructions with ZSTD), and an index build's LZ4 files became ZSTD the
    // first time a compaction touched them. The price is disk: 2.1-2.2 bytes per byte of
    // BSON inserted (the change log included) instead of 1.5.
    opts.compression = rocksdb::kLZ4Compression;
    opts.bottommost_compression = rocksdb::kLZ4Compression;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache_;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Partitioned index and filters: a point read loads one small partition, never a
    // whole file's filter (megabytes at a million keys, which a small cache keeps evicting).
    table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
    table.partition_filters = true;
    table.metadata_block_size = 4096;
    table.cache_index_and_filter_blocks = true;
    table.cache_index_and_filter_blocks_with_high_priority = true;
    table.pin_top_level_index_and_filter = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    // 4 KiB blocks (RocksDB's default; WiredTiger's internal pages are as small): a read
    // that misses the block cache decompresses one block, and with 16 KiB blocks a third
    // of 1,000 finds by an indexed field of a 1M-document collection did, even after
    // 6,000 finds had warmed it (callgrind: the index seek 52k -> 37k instructions a
    // find, the whole find 114k -> 105k; a find by _id 29k -> 24k). Scans pay a block's
    // fixed costs four times as often, a few instructions a record.
    table.block_size = 4 << 10;
    // A hash index in each data block: point reads (record fetches by _id, an insert's
    // probe) go straight to the key's restart interval instead of binary-searching the
    // block, which was over half of a record fetch's time in a profile of FETCH over 100
    // scattered records. Seeks still binary-search; the table stays readable by builds
    // without it.
    table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
    table.data_block_hash_table_util_ratio = 0.75;
    // The hash index leads to a restart interval, which a read then walks key by key: 4
    // keys to an interval instead of 16 halve a record fetch's in-block search (callgrind,
    // 100 scattered fetches: SeekForGet 2.8k -> 1.5k instructions a key) for about 4% more
    // bytes on disk (fewer keys share their prefix with the one before).
    table.block_restart_interval = 4;
    opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    return opts;
  }

  KvOptions options_;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::shared_ptr<rocksdb::WriteBufferManager> wbm_;
  std::shared_ptr<RecordCacheBudget> record_budget_;  // null: no record cache
  std::unique_ptr<rocksdb::Env> faulty_env_;
};

}  // namespace

std::unique_ptr<KvEnv> KvEnv::Create(const KvOptions& options) {
  return std::make_unique<RocksEnv>(options);
}

}  // namespace micromongo::storage
