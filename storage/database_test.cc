#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <shared_mutex>
#include <thread>

#include "document/builder.h"
#include "document/status.h"
#include "storage/dir_lock.h"
#include "storage/engine.h"
#include "storage/kv.h"
#include "storage/key_codec.h"

namespace micromongo::storage {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/mm-storage-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string DocWithId(int id) {
  bson::Builder b;
  b.AppendInt32("_id", id);
  b.AppendString("name", "x");
  return std::move(b).Finish();
}

std::string NamedSpec(const std::string& name) {
  bson::Builder b;
  b.AppendString("name", name);
  return std::move(b).Finish();
}

void PutDocs(Database* db, Collection* c, int n) {
  WriteUnit unit(db);
  for (int i = 0; i < n; ++i) {
    std::string doc = DocWithId(i);
    unit.PutRecord(c, RecordKey(c->id(), bson::DocView(doc).begin()->value), doc, RecordWrite::kInsert);
  }
  ASSERT_TRUE(db->Commit(&unit).ok());
}

TEST(DatabaseTest, CatalogAndRecordsSurviveReopen) {
  TempDir dir;
  {
    auto engine = Engine::Open({.data_dir = dir.path()});
    ASSERT_TRUE(engine.ok());
    auto db = (*engine)->GetDatabase("app", true);
    ASSERT_TRUE(db.ok());
    auto users = (*db)->GetOrCreateCollection("users");
    ASSERT_TRUE(users.ok());
    PutDocs(db->get(), users->get(), 10);
    ASSERT_TRUE((*db)->CreateCollection("empty").ok());
    EXPECT_EQ(MongoCodeOf((*db)->CreateCollection("empty")), kNamespaceExists);
  }
  auto engine = Engine::Open({.data_dir = dir.path()});
  ASSERT_TRUE(engine.ok());
  EXPECT_EQ((*engine)->DatabaseNames(), std::vector<std::string>{"app"});
  auto db = (*engine)->GetDatabase("app", false);
  ASSERT_TRUE(db.ok() && *db != nullptr);
  EXPECT_EQ((*db)->CollectionNames(), (std::vector<std::string>{"empty", "users"}));
  auto users = (*db)->FindCollection("users");
  ASSERT_NE(users, nullptr);
  EXPECT_EQ(users->count(), 10);
  int n = 0;
  for (auto it = (*db)->ScanRecords(*users); it->Valid(); it->Next()) ++n;
  EXPECT_EQ(n, 10);
}

// The op of each change-log record of `db`, in order.
std::vector<std::string> ChangeOps(Database* db) {
  std::vector<std::string> ops;
  EXPECT_TRUE(db->ReadChanges(0, UINT64_MAX - 1, [&](uint64_t, std::string_view record) {
                  bson::ValueView op;
                  if (bson::DocView(record).Find("op", &op)) ops.emplace_back(op.String());
                  return true;
                }).ok());
  return ops;
}

// A dropped database gives its store's memory back once nothing holds it, and opens again
// with its change log (the drop events change streams read) when asked for.
TEST(EngineTest, DroppedDatabasesCloseWhenNothingHoldsThem) {
  TempDir dir;
  auto engine = Engine::Open({.data_dir = dir.path()});
  ASSERT_TRUE(engine.ok());
  auto open_names = [&] {
    std::vector<std::string> names;
    for (const auto& db : (*engine)->OpenDatabases()) names.push_back(db->name());
    std::sort(names.begin(), names.end());
    return names;
  };
  for (const char* name : {"kept", "dropped", "held"}) {
    auto db = (*engine)->GetDatabase(name, true);
    ASSERT_TRUE(db.ok());
    auto c = (*db)->GetOrCreateCollection("c");
    ASSERT_TRUE(c.ok());
    PutDocs(db->get(), c->get(), 3);
  }
  EXPECT_EQ(open_names(), (std::vector<std::string>{"dropped", "held", "kept"}));

  ASSERT_TRUE((*engine)->DropDatabase("dropped").ok());
  EXPECT_EQ(open_names(), (std::vector<std::string>{"held", "kept"}));
  // While a stream over every database lives, none is closed: it reads the open ones.
  {
    std::shared_ptr<void> watching = (*engine)->KeepDatabasesOpen();
    auto db = (*engine)->GetDatabase("dropped", false);
    ASSERT_TRUE(db.ok() && *db != nullptr);
    db->reset();
    (*engine)->CloseUnusedEmpty();
    EXPECT_EQ(open_names(), (std::vector<std::string>{"dropped", "held", "kept"}));
  }
  (*engine)->CloseUnusedEmpty();
  EXPECT_EQ(open_names(), (std::vector<std::string>{"held", "kept"}));
  // One that a cursor or change stream still holds stays open until it is let go.
  auto held = (*engine)->GetDatabase("held", false);
  ASSERT_TRUE(held.ok() && *held != nullptr);
  ASSERT_TRUE((*engine)->DropDatabase("held").ok());
  EXPECT_EQ(open_names(), (std::vector<std::string>{"held", "kept"}));
  EXPECT_TRUE((*held)->CollectionNames().empty());
  held->reset();
  EXPECT_EQ((*engine)->DatabaseNames(), std::vector<std::string>{"kept"});
  EXPECT_EQ(open_names(), (std::vector<std::string>{"kept"}));

  // Asked for again: the same store, empty, its change log whole.
  auto again = (*engine)->GetDatabase("dropped", false);
  ASSERT_TRUE(again.ok() && *again != nullptr);
  EXPECT_TRUE((*again)->CollectionNames().empty());
  std::vector<std::string> ops = ChangeOps(again->get());
  ASSERT_GE(ops.size(), 3u);
  EXPECT_EQ(ops.front(), "create");
  EXPECT_EQ(ops[ops.size() - 2], "drop");
  EXPECT_EQ(ops.back(), "dropDatabase");
  // And usable: a collection created in it lists it again.
  ASSERT_TRUE((*again)->CreateCollection("fresh").ok());
  again->reset();
  (*engine)->CloseUnusedEmpty();
  EXPECT_EQ((*engine)->DatabaseNames(), (std::vector<std::string>{"dropped", "kept"}));
}

// Forwards to a store and counts the range deletions written through it.
class RangeDeletionCounter : public KvStore {
 public:
  RangeDeletionCounter(std::unique_ptr<KvStore> kv, int* count) : kv_(std::move(kv)), count_(count) {}
  absl::StatusOr<bool> Get(std::string_view key, std::string* value, const KvSnapshot* snapshot) override {
    return kv_->Get(key, value, snapshot);
  }
  std::shared_ptr<const KvSnapshot> GetSnapshot() override { return kv_->GetSnapshot(); }
  absl::Status KeysExist(const std::vector<std::string_view>& keys, std::vector<bool>* exist,
                         std::string_view limit) override {
    return kv_->KeysExist(keys, exist, limit);
  }
  absl::Status MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                        std::vector<bool>* found, const KvSnapshot* snapshot, bool* scattered) override {
    return kv_->MultiGet(keys, values, found, snapshot, scattered);
  }
  std::unique_ptr<KvIterator> NewIterator(std::string lower, std::string upper, const KvSnapshot* snapshot) override {
    return kv_->NewIterator(std::move(lower), std::move(upper), snapshot);
  }
  std::unique_ptr<KvBatch> NewBatch() override { return kv_->NewBatch(); }
  absl::Status Write(KvBatch* batch) override { return Count(batch), kv_->Write(batch); }
  absl::Status WriteWithoutSync(KvBatch* batch) override { return Count(batch), kv_->WriteWithoutSync(batch); }
  absl::Status SyncWal() override { return kv_->SyncWal(); }
  absl::Status Flush() override { return kv_->Flush(); }
  absl::Status Ingest(KvBatch* batch, std::string_view prefix) override {
    return Count(batch), kv_->Ingest(batch, prefix);
  }
  absl::Status Checkpoint(const std::string& dir) override { return kv_->Checkpoint(dir); }
  absl::Status VerifyChecksums() override { return kv_->VerifyChecksums(); }
  uint64_t DiskBytes() override { return kv_->DiskBytes(); }
  uint64_t ApproximateSize(std::string_view lo, std::string_view hi) override { return kv_->ApproximateSize(lo, hi); }
  std::vector<TableFile> TableFiles() override { return kv_->TableFiles(); }
  absl::Status ScheduleCompaction(std::string_view lo, std::string_view hi) override {
    return kv_->ScheduleCompaction(lo, hi);
  }

 private:
  void Count(const KvBatch* batch) {
    batch->ForEach([&](KvBatch::OpKind kind, std::string_view, std::string_view) {
      if (kind == KvBatch::OpKind::kDeleteRange) ++*count_;
    });
  }
  std::unique_ptr<KvStore> kv_;
  int* count_;
};

// Database "app" in a directory, writing through a RangeDeletionCounter.
struct CountedDatabase {
  std::unique_ptr<KvEnv> env;
  int deletions = 0;
  KvStore* store = nullptr;  // the counter, which the database owns
  std::unique_ptr<Database> db;
};

void OpenCounted(const TempDir& dir, CountedDatabase* out) {
  out->env = KvEnv::Create({});
  auto kv = out->env->Open(dir.path() + "/app");
  ASSERT_TRUE(kv.ok()) << kv.status();
  auto lock = DirLock::Acquire(dir.path() + "/app", "database 'app'");
  ASSERT_TRUE(lock.ok()) << lock.status();
  auto counter = std::make_unique<RangeDeletionCounter>(*std::move(kv), &out->deletions);
  out->store = counter.get();
  auto db = Database::Open("app", std::move(counter), *std::move(lock));
  ASSERT_TRUE(db.ok()) << db.status();
  out->db = *std::move(db);
}

// The retention pass moves its age cut forward every interval; a range deletion slows
// every read of the store while it sits in a memtable (KvStore::Flush), so a cut that no
// record is older than moves the trim point without writing one.
TEST(DatabaseTest, ChangeLogTrimWritesARangeDeletionOnlyWhenItDeletesRecords) {
  TempDir dir;
  CountedDatabase counted;
  ASSERT_NO_FATAL_FAILURE(OpenCounted(dir, &counted));
  Database* db = counted.db.get();
  const int& deletions = counted.deletions;
  auto c = db->GetOrCreateCollection("c");
  ASSERT_TRUE(c.ok());
  PutDocs(db, c->get(), 3);
  const std::vector<std::string> logged = ChangeOps(db);
  ASSERT_EQ(logged, (std::vector<std::string>{"create", "insert", "insert", "insert"}));
  const uint64_t newest = db->change_clock().Visible();

  struct Pass {
    uint64_t min_time;
    uint64_t trimmed_before;
    int deletions;
    std::vector<std::string> ops;
  };
  const Pass passes[] = {
      {1, 1, 0, logged},                  // older than every record: nothing to delete
      {1000, 1000, 0, logged},            // again, later
      {newest + 1, newest + 1, 1, {}},    // past every record: all of them go
      {newest + 5, newest + 5, 1, {}},    // an empty log: nothing more to delete
  };
  for (const Pass& pass : passes) {
    SCOPED_TRACE(pass.min_time);
    auto trimmed = db->EnforceChangeRetention(UINT64_MAX, pass.min_time);
    ASSERT_TRUE(trimmed.ok()) << trimmed.status();
    EXPECT_EQ(*trimmed, pass.trimmed_before);
    EXPECT_EQ(db->changes_trimmed_before(), pass.trimmed_before);
    EXPECT_EQ(deletions, pass.deletions);
    EXPECT_EQ(ChangeOps(db), pass.ops);
  }
}

TEST(DatabaseTest, CollectionOptionsPersistAndFollowRenames) {
  TempDir dir;
  bson::Builder b;
  b.AppendString("validationLevel", "moderate");
  std::string options = std::move(b).Finish();
  bson::Builder v;
  v.AppendString("viewOn", "base");
  std::string view_options = std::move(v).Finish();
  {
    auto engine = Engine::Open({.data_dir = dir.path()});
    auto db = *(*engine)->GetDatabase("app", true);
    ASSERT_TRUE(db->CreateCollection("plain").ok());
    ASSERT_TRUE(db->CreateCollection("view", view_options).ok());
    auto c = *db->GetOrCreateCollection("docs");
    PutDocs(db.get(), c.get(), 3);
    ASSERT_TRUE(db->SetCollectionOptions("docs", options).ok());
    EXPECT_EQ(db->FindCollection("docs")->count(), 3);
    EXPECT_EQ(MongoCodeOf(db->SetCollectionOptions("missing", options)), kNamespaceNotFound);
    ASSERT_TRUE(db->RenameCollection("docs", "renamed", false).ok());
  }
  auto engine = Engine::Open({.data_dir = dir.path()});
  auto db = *(*engine)->GetDatabase("app", false);
  EXPECT_TRUE(db->FindCollection("plain")->options().empty());
  EXPECT_FALSE(db->FindCollection("plain")->is_view());
  EXPECT_TRUE(db->FindCollection("view")->is_view());
  auto renamed = db->FindCollection("renamed");
  ASSERT_NE(renamed, nullptr);
  EXPECT_EQ(renamed->options().bytes(), options);
  EXPECT_EQ(renamed->count(), 3);
}

// The _ids of a capped collection's records in natural order (reverse: from the end).
std::vector<int> NaturalIds(Database* db, const Collection& c, bool reverse = false) {
  std::vector<int> ids;
  auto it = db->ScanNatural(c);
  for (reverse ? it->SeekToLast() : it->SeekToFirst(); it->Valid(); reverse ? it->Prev() : it->Next()) {
    ids.push_back(bson::DocView(it->value()).begin()->value.Int32());
  }
  EXPECT_TRUE(it->status().ok());
  return ids;
}

TEST(DatabaseTest, CappedInsertionOrderSizeAndSequencePersist) {
  TempDir dir;
  bson::Builder b;
  b.AppendBool("capped", true);
  b.AppendInt32("size", 4096);
  b.AppendInt32("max", 10);
  std::string options = std::move(b).Finish();
  auto put = [](Database* db, Collection* c, int id) {
    WriteUnit unit(db);
    std::string doc = DocWithId(id);
    unit.PutRecord(c, RecordKey(c->id(), bson::DocView(doc).begin()->value), doc, RecordWrite::kInsert);
    ASSERT_TRUE(db->Commit(&unit).ok());
  };
  int64_t doc_bytes = static_cast<int64_t>(DocWithId(0).size());
  {
    auto engine = Engine::Open({.data_dir = dir.path()});
    auto db = *(*engine)->GetDatabase("app", true);
    ASSERT_TRUE(db->CreateCollection("log", options).ok());
    auto c = db->FindCollection("log");
    ASSERT_TRUE(c->capped());
    EXPECT_EQ(c->capped_size(), 4096);
    EXPECT_EQ(c->capped_max(), 10);
    for (int id : {30, 10, 20, 5}) put(db.get(), c.get(), id);
    EXPECT_EQ(NaturalIds(db.get(), *c), (std::vector<int>{30, 10, 20, 5}));
    EXPECT_EQ(NaturalIds(db.get(), *c, /*reverse=*/true), (std::vector<int>{5, 20, 10, 30}));
    EXPECT_EQ(c->data_bytes(), 4 * doc_bytes);
    // Deleting a record removes its place in the order (found through its o key).
    WriteUnit unit(db.get());
    std::string doc = DocWithId(10);
    ASSERT_TRUE(unit.DeleteRecord(c.get(), RecordKey(c->id(), bson::DocView(doc).begin()->value), doc).ok());
    ASSERT_TRUE(db->Commit(&unit).ok());
    EXPECT_EQ(NaturalIds(db.get(), *c), (std::vector<int>{30, 20, 5}));
    // A successor object (new options, rename) keeps the order state.
    ASSERT_TRUE(db->RenameCollection("log", "log2", false).ok());
    put(db.get(), db->FindCollection("log2").get(), 1);
    EXPECT_EQ(db->FindCollection("log2")->data_bytes(), 4 * doc_bytes);
  }
  auto engine = Engine::Open({.data_dir = dir.path()});
  auto db = *(*engine)->GetDatabase("app", false);
  auto c = db->FindCollection("log2");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->count(), 4);
  EXPECT_EQ(c->data_bytes(), 4 * doc_bytes);
  // Sequence numbers go on after the last one stored: new records come last.
  put(db.get(), c.get(), 0);
  EXPECT_EQ(NaturalIds(db.get(), *c), (std::vector<int>{30, 20, 5, 1, 0}));
  auto it = db->ScanNatural(*c);
  it->SeekToSeq(3);
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->seq(), 3u);  // _id 20 was the third insert
}

TEST(DatabaseTest, IndexDefinitionsAndEntriesPersistAndDrop) {
  TempDir dir;
  bson::Builder b;
  b.AppendString("name", "a_1");
  std::string spec = std::move(b).Finish();
  uint32_t index_id = 0;
  {
    auto engine = Engine::Open({.data_dir = dir.path()});
    auto db = *(*engine)->GetDatabase("app", true);
    auto status = db->CreateIndex("docs", spec, [&](const Collection& c, uint32_t id, IndexBuildSink* sink) {
      index_id = id;
      sink->unit()->PutIndexEntry(IndexPrefix(c.id(), id) + "k1", "owner");
      return absl::OkStatus();
    });
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(MongoCodeOf(db->CreateIndex("docs", spec, [](const Collection&, uint32_t, IndexBuildSink*) {
                return absl::OkStatus();
              })),
              kIndexOptionsConflict);
  }
  auto engine = Engine::Open({.data_dir = dir.path()});
  auto db = *(*engine)->GetDatabase("app", false);
  auto c = db->FindCollection("docs");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->indexes().size(), 1u);
  EXPECT_EQ(c->indexes()[0].name(), "a_1");
  EXPECT_EQ(c->indexes()[0].id, index_id);
  WriteUnit reader(db.get());
  EXPECT_EQ(**reader.GetIndexEntry(IndexPrefix(c->id(), index_id) + "k1"), "owner");
  ASSERT_TRUE(db->DropIndex("docs", "a_1").ok());
  EXPECT_EQ(MongoCodeOf(db->DropIndex("docs", "a_1")), kIndexNotFound);
  WriteUnit after(db.get());
  EXPECT_FALSE(after.GetIndexEntry(IndexPrefix(c->id(), index_id) + "k1")->has_value());
  EXPECT_TRUE(db->FindCollection("docs")->indexes().empty());
}

TEST(DatabaseTest, MultikeyFlagsPersistOnlyWithTheirCommitAndDieWithTheIndex) {
  TempDir dir;
  bson::Builder b;
  b.AppendString("name", "a_1");
  std::string spec = std::move(b).Finish();
  {
    auto engine = Engine::Open({.data_dir = dir.path()});
    auto db = *(*engine)->GetDatabase("app", true);
    ASSERT_TRUE(db->CreateIndex("docs", spec, [&](const Collection& c, uint32_t id, IndexBuildSink* sink) {
                    sink->unit()->MarkBuildMultikey(c, id, 0b10);
                    return absl::OkStatus();
                  }).ok());
    auto c = db->FindCollection("docs");
    EXPECT_EQ(c->indexes()[0].multikey_fields(), 0b10u);
    WriteUnit unit(db.get());
    unit.MarkMultikey(*c, c->indexes()[0], 0b01);
    // Readers learn of it before the commit (a reader that misses it could wrongly
    // compound bounds); the stored flag waits for the commit.
    EXPECT_EQ(c->indexes()[0].multikey_fields(), 0b11u);
    ASSERT_TRUE(db->Commit(&unit).ok());
  }
  {
    auto engine = Engine::Open({.data_dir = dir.path()});
    auto db = *(*engine)->GetDatabase("app", false);
    auto c = db->FindCollection("docs");
    ASSERT_EQ(c->indexes().size(), 1u);
    EXPECT_EQ(c->indexes()[0].multikey_fields(), 0b11u);
    ASSERT_TRUE(db->DropIndex("docs", "a_1").ok());
    ASSERT_TRUE(db->CreateIndex("docs", spec, [](const Collection&, uint32_t, IndexBuildSink*) {
                    return absl::OkStatus();
                  }).ok());
    EXPECT_EQ(db->FindCollection("docs")->indexes()[0].multikey_fields(), 0u);
  }
  auto engine = Engine::Open({.data_dir = dir.path()});
  auto db = *(*engine)->GetDatabase("app", false);
  EXPECT_EQ(db->FindCollection("docs")->indexes()[0].multikey_fields(), 0u);
}

// Puts `n` entries with values of `value_size` bytes through the sink, which commits them
// in batches of 32 MiB as a real build's are.
absl::Status PutEntries(const Collection& c, uint32_t id, IndexBuildSink* sink, int n, size_t value_size = 1) {
  for (int i = 0; i < n; ++i) {
    sink->unit()->PutIndexEntry(IndexPrefix(c.id(), id) + "k" + std::to_string(i), std::string(value_size, 'v'), false);
    if (auto s = sink->RecordDone(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool HasEntry(Database* db, uint32_t coll_id, uint32_t index_id, int i) {
  WriteUnit reader(db);
  return reader.GetIndexEntry(IndexPrefix(coll_id, index_id) + "k" + std::to_string(i))->has_value();
}

TEST(DatabaseTest, FailedIndexBuildLeavesNothingBehind) {
  TempDir dir;
  auto engine = Engine::Open({.data_dir = dir.path()});
  auto db = *(*engine)->GetDatabase("app", true);
  uint32_t coll_id = 0, index_id = 0;
  // More entries than two batches hold (80 MB): some are committed, and one is being
  // written, when the build fails.
  auto status = db->CreateIndex("docs", NamedSpec("a_1"), [&](const Collection& c, uint32_t id, IndexBuildSink* sink) {
    coll_id = c.id();
    index_id = id;
    if (auto s = PutEntries(c, id, sink, 80000, 1000); !s.ok()) return s;
    return MongoError(kDuplicateKey, "E11000 duplicate key error");
  });
  EXPECT_EQ(MongoCodeOf(status), kDuplicateKey);
  EXPECT_TRUE(db->FindCollection("docs")->indexes().empty());
  EXPECT_FALSE(HasEntry(db.get(), coll_id, index_id, 0));
  EXPECT_FALSE(HasEntry(db.get(), coll_id, index_id, 79999));
}

// A build's unique checks read its earlier entries back (GetIndexEntry) whichever state
// they are in: in the batch being filled, in the one being written in the background, or
// stored.
TEST(DatabaseTest, IndexBuildSeesItsOwnEntriesInEveryBatch) {
  TempDir dir;
  auto engine = Engine::Open({.data_dir = dir.path()});
  auto db = *(*engine)->GetDatabase("app", true);
  uint32_t coll_id = 0, index_id = 0;
  const int kEntries = 100;  // of 1 MB: four batches
  auto status = db->CreateIndex("docs", NamedSpec("u_1"), [&](const Collection& c, uint32_t id, IndexBuildSink* sink) {
    coll_id = c.id();
    index_id = id;
    auto key = [&](int i) { return IndexPrefix(c.id(), id) + "k" + std::to_string(i); };
    for (int i = 0; i < kEntries; ++i) {
      for (int earlier : {0, i / 2, i - 1}) {
        if (earlier < 0 || earlier >= i) continue;
        auto owner = sink->unit()->GetIndexEntry(key(earlier));
        if (!owner.ok()) return owner.status();
        if (!owner->has_value() || (*owner)->size() != (1 << 20)) {
          return absl::InternalError("entry " + std::to_string(earlier) + " unseen at " + std::to_string(i));
        }
      }
      sink->unit()->PutIndexEntry(key(i), std::string(1 << 20, 'v'), /*unique=*/true);
      if (auto s = sink->RecordDone(); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  for (int i : {0, kEntries / 2, kEntries - 1}) EXPECT_TRUE(HasEntry(db.get(), coll_id, index_id, i)) << i;
}

// A build whose entries do not come in key order writes files that overlap one another:
// all but the first land in level 0, where every seek on the index would merge them. The
// build leaves a compaction behind that merges them into one sorted run below level 0.
TEST(DatabaseTest, IndexBuiltOutOfKeyOrderLeavesNoFileInLevelZero) {
  TempDir dir;
  CountedDatabase counted;
  ASSERT_NO_FATAL_FAILURE(OpenCounted(dir, &counted));
  KvStore* store = counted.store;
  Database* db = counted.db.get();
  std::string lo, hi;
  auto entry_key = [&](int i) {
    char key[8];
    std::snprintf(key, sizeof key, "k%03d", i);
    return lo + key;
  };
  const int kEntries = 100;  // of 1 MB: four batches, each spread over the whole index
  auto status = db->CreateIndex("docs", NamedSpec("a_1"), [&](const Collection& c, uint32_t id, IndexBuildSink* sink) {
    lo = IndexPrefix(c.id(), id);
    hi = IndexPrefix(c.id(), id + 1);
    for (int j = 0; j < kEntries; ++j) {
      sink->unit()->PutIndexEntry(entry_key(j * 37 % kEntries), std::string(1 << 20, 'v'), /*unique=*/false);
      if (auto s = sink->RecordDone(); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  auto level0_files = [&] {
    int files = 0;
    for (const KvStore::TableFile& f : store->TableFiles()) {
      files += f.level == 0 && f.smallest < hi && f.largest >= lo;
    }
    return files;
  };
  for (int wait = 0; wait < 3000 && level0_files() > 0; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(level0_files(), 0);
  WriteUnit reader(db);
  for (int i : {0, 37, 99}) {
    auto entry = reader.GetIndexEntry(entry_key(i));
    ASSERT_TRUE(entry.ok() && entry->has_value()) << i;
    EXPECT_EQ((*entry)->size(), size_t{1} << 20);
  }
}

TEST(DatabaseTest, IndexBuildCutShortByACrashIsRemovedOnOpen) {
  TempDir dir;
  // The build runs in a child process that dies (no destructors, no cleanup) after some of
  // its entries were committed, as kill -9 would leave it.
  pid_t pid = fork();
  if (pid == 0) {
    auto engine = Engine::Open({.data_dir = dir.path()});
    auto db = *(*engine)->GetDatabase("app", true);
    (void)db->CreateIndex("docs", NamedSpec("a_1"), [&](const Collection& c, uint32_t id, IndexBuildSink* sink) {
      (void)PutEntries(c, id, sink, 250000);
      (void)sink->Flush();  // written, as a long build's earlier entries are
      _exit(HasEntry(db.get(), c.id(), id, 0) && c.id() == 1 && id == 2 ? 0 : 1);
      return absl::OkStatus();
    });
    _exit(2);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "the child's build did not commit entries of collection 1, index 2";
  auto engine = Engine::Open({.data_dir = dir.path()});
  auto db = *(*engine)->GetDatabase("app", false);
  ASSERT_NE(db->FindCollection("docs"), nullptr);
  EXPECT_TRUE(db->FindCollection("docs")->indexes().empty());
  EXPECT_FALSE(HasEntry(db.get(), 1, 2, 0));
  EXPECT_FALSE(HasEntry(db.get(), 1, 2, 199999));
  // The interrupted build's id is never handed out again.
  uint32_t next = 0;
  ASSERT_TRUE(db->CreateIndex("docs", NamedSpec("a_1"), [&](const Collection&, uint32_t id, IndexBuildSink*) {
                  next = id;
                  return absl::OkStatus();
                }).ok());
  EXPECT_GT(next, 2u);
}

TEST(DatabaseTest, IndexBuildLetsReadersInAndKeepsWritersOut) {
  TempDir dir;
  auto engine = Engine::Open({.data_dir = dir.path()});
  auto db = *(*engine)->GetDatabase("app", true);
  {
    std::shared_lock<std::shared_mutex> ddl(db->ddl_mutex());
    PutDocs(db.get(), db->GetOrCreateCollection("docs")->get(), 10);
  }
  bool reader_got_in = false, writer_kept_out = false;
  ASSERT_TRUE(db->CreateIndex("docs", NamedSpec("a_1"), [&](const Collection& c, uint32_t, IndexBuildSink*) {
                  std::thread other([&] {
                    // What a reader and a writer take first (OpenNamespace).
                    if (db->ddl_mutex().try_lock_shared()) {
                      reader_got_in = db->FindCollection("docs") != nullptr;
                      writer_kept_out = !db->write_gate().try_lock_shared();
                      db->ddl_mutex().unlock_shared();
                    }
                  });
                  other.join();
                  return absl::OkStatus();
                }).ok());
  EXPECT_TRUE(reader_got_in);
  EXPECT_TRUE(writer_kept_out);
  // Afterwards writers get in again.
  ASSERT_TRUE(db->write_gate().try_lock_shared());
  db->write_gate().unlock_shared();
}

TEST(DatabaseTest, DropCollectionRemovesRecordsAndNameIsReusable) {
  TempDir dir;
  auto engine = Engine::Open({.data_dir = dir.path()});
  auto db = *(*engine)->GetDatabase("app", true);
  auto c = *db->GetOrCreateCollection("c");
  PutDocs(db.get(), c.get(), 5);
  EXPECT_TRUE(*db->DropCollection("c"));
  EXPECT_FALSE(*db->DropCollection("c"));
  auto again = *db->GetOrCreateCollection("c");
  EXPECT_NE(again->id(), c->id());
  EXPECT_FALSE(db->ScanRecords(*again)->Valid());
  EXPECT_FALSE(db->ScanRecords(*c)->Valid());
}

TEST(DatabaseTest, SameCollectionNameInTwoDatabasesIsSeparate) {
  TempDir dir;
  auto engine = Engine::Open({.data_dir = dir.path()});
  auto db1 = *(*engine)->GetDatabase("db1", true);
  auto db2 = *(*engine)->GetDatabase("db2", true);
  PutDocs(db1.get(), (*db1->GetOrCreateCollection("users")).get(), 3);
  auto users2 = *db2->GetOrCreateCollection("users");
  EXPECT_EQ(users2->count(), 0);
  EXPECT_FALSE(db2->ScanRecords(*users2)->Valid());
}

TEST(DatabaseTest, InvalidDatabaseNamesAreRejected) {
  TempDir dir;
  auto engine = Engine::Open({.data_dir = dir.path()});
  for (std::string name : {std::string(""), std::string("a/b"), std::string("a.b"),
                           std::string("a$b"), std::string("a b"), std::string(64, 'x'),
                           std::string("a\0b", 3)}) {
    EXPECT_EQ(MongoCodeOf((*engine)->GetDatabase(name, true).status()), kInvalidNamespace)
        << name;
  }
}

TEST(DatabaseTest, DirectoryLockNamesTheHolder) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/app");
  pid_t child = fork();
  if (child == 0) {
    auto lock = DirLock::Acquire(dir.path() + "/app", "database 'app'");
    sleep(3);
    _exit(lock.ok() ? 0 : 1);
  }
  usleep(300 * 1000);
  auto engine = Engine::Open({.data_dir = dir.path()});
  auto db = (*engine)->GetDatabase("app", false);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(MongoCodeOf(db.status()), kLockBusy);
  EXPECT_NE(db.status().message().find(std::to_string(child)), std::string::npos)
      << db.status();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

// A worker killed while RocksDB created a store leaves IDENTITY, LOG and a partial
// MANIFEST-000001 but no CURRENT (seen in the crash torture): nothing was written to it, so
// the startup check clears it instead of refusing to start; the name is usable again. A
// store that lost CURRENT but holds a log or table files is still refused (--repair).
TEST(EngineTest, AStoreWhoseCreationWasCutShortIsClearedAtStartup) {
  TempDir dir;
  std::filesystem::path cut = std::filesystem::path(dir.path()) / "cut";
  std::filesystem::create_directories(cut);
  for (const char* name : {"IDENTITY", "LOG", "LOCK", "MANIFEST-000001"}) {
    std::ofstream(cut / name) << "partial";
  }
  {
    auto engine = Engine::Open({.data_dir = dir.path()});
    ASSERT_TRUE(engine.ok());
    ASSERT_TRUE((*engine)->CheckAll().ok());
    EXPECT_FALSE(std::filesystem::exists(cut / "MANIFEST-000001"));
    auto db = (*engine)->GetDatabase("cut", true);
    ASSERT_TRUE(db.ok()) << db.status();
    auto c = (*db)->GetOrCreateCollection("c");
    ASSERT_TRUE(c.ok());
    PutDocs(db->get(), c->get(), 2);
  }
  {
    auto engine = Engine::Open({.data_dir = dir.path()});
    ASSERT_TRUE((*engine)->CheckAll().ok());
    EXPECT_EQ((*(*engine)->GetDatabase("cut", false))->FindCollection("c")->count(), 2);
  }
  // With a write log beside it, the store held data: refused.
  std::filesystem::remove(cut / "CURRENT");
  auto engine = Engine::Open({.data_dir = dir.path()});
  EXPECT_EQ(MongoCodeOf((*engine)->CheckAll()), kDataCorruptionDetected);
}

}  // namespace
}  // namespace micromongo::storage
