#include "storage/transaction.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "document/builder.h"
#include "document/status.h"
#include "storage/cross_commit.h"
#include "storage/engine.h"
#include "storage/key_codec.h"

namespace micromongo::storage {
namespace {

// A sorted in-memory KvIterator, as the base the overlay merges with.
class VectorIterator final : public KvIterator {
 public:
  explicit VectorIterator(std::vector<std::pair<std::string, std::string>> rows) : rows_(std::move(rows)) {}
  bool Valid() const override { return at_ >= 0 && at_ < static_cast<ptrdiff_t>(rows_.size()); }
  void Seek(std::string_view key) override {
    at_ = 0;
    while (Valid() && rows_[at_].first < key) ++at_;
  }
  void SeekForPrev(std::string_view key) override {
    at_ = static_cast<ptrdiff_t>(rows_.size()) - 1;
    while (at_ >= 0 && rows_[at_].first > key) --at_;
  }
  void SeekToFirst() override { at_ = 0; }
  void SeekToLast() override { at_ = static_cast<ptrdiff_t>(rows_.size()) - 1; }
  void Next() override { ++at_; }
  void Prev() override { --at_; }
  std::string_view key() const override { return rows_[at_].first; }
  std::string_view value() const override { return rows_[at_].second; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
  ptrdiff_t at_ = 0;
};

std::string Walk(KvIterator* it, bool forward) {
  std::string out;
  while (it->Valid()) {
    out += std::string(it->key()) + "=" + std::string(it->value()) + " ";
    forward ? it->Next() : it->Prev();
  }
  return out;
}

std::unique_ptr<KvIterator> Merged(const TransactionPart::Overlay& overlay) {
  auto base = std::make_unique<VectorIterator>(
      std::vector<std::pair<std::string, std::string>>{{"b", "1"}, {"d", "1"}, {"f", "1"}});
  return NewOverlayIterator(std::move(base), overlay, "a", "g");
}

TEST(OverlayIteratorTest, PutsShadowAndDeletesHide) {
  TransactionPart::Overlay overlay{{"a", "2"}, {"d", "2"}, {"e", std::nullopt}, {"f", std::nullopt},
                                   {"g", "out of range"}};
  struct Case {
    std::string name;
    std::function<void(KvIterator*)> position;
    bool forward;
    std::string want;
  };
  std::vector<Case> cases = {
      {"first", [](KvIterator* it) { it->SeekToFirst(); }, true, "a=2 b=1 d=2 "},
      {"seek c", [](KvIterator* it) { it->Seek("c"); }, true, "d=2 "},
      {"seek e (deleted)", [](KvIterator* it) { it->Seek("e"); }, true, ""},
      {"last", [](KvIterator* it) { it->SeekToLast(); }, false, "d=2 b=1 a=2 "},
      {"for prev f (deleted)", [](KvIterator* it) { it->SeekForPrev("f"); }, false, "d=2 b=1 a=2 "},
      {"for prev c", [](KvIterator* it) { it->SeekForPrev("c"); }, false, "b=1 a=2 "},
  };
  for (const Case& c : cases) {
    auto it = Merged(overlay);
    c.position(it.get());
    EXPECT_EQ(Walk(it.get(), c.forward), c.want) << c.name;
  }
}

TEST(OverlayIteratorTest, ChangesDirection) {
  TransactionPart::Overlay overlay{{"c", "2"}, {"d", std::nullopt}};
  auto it = Merged(overlay);
  it->Seek("c");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "c");
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  it->Next();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "c");
  it->Next();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "f");
}

TEST(OverlayIteratorTest, EmptyOverlayIsTheBase) {
  auto it = Merged({});
  EXPECT_EQ(Walk(it.get(), true), "b=1 d=1 f=1 ");
}

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mm-txn-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto engine = Engine::Open({.data_dir = dir_});
    ASSERT_TRUE(engine.ok());
    engine_ = *std::move(engine);
    auto db = engine_->GetDatabase("app", true);
    ASSERT_TRUE(db.ok());
    db_ = *db;
    auto c = db_->GetOrCreateCollection("c");
    ASSERT_TRUE(c.ok());
    coll_ = *c;
  }
  void TearDown() override {
    coll_.reset();
    db_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::string Doc(int id, int v) {
    bson::Builder b;
    b.AppendInt32("_id", id);
    b.AppendInt32("v", v);
    return std::move(b).Finish();
  }
  std::string Key(int id) {
    std::string doc = Doc(id, 0);
    return RecordKey(coll_->id(), bson::DocView(doc).begin()->value);
  }
  // Inserts, or replaces when `replace`.
  absl::Status Put(int id, int v, bool replace = false) {
    std::shared_lock<std::shared_mutex> ddl(db_->ddl_mutex());
    WriteUnit unit(db_.get());
    std::string doc = Doc(id, v), before = Doc(id, 0);
    unit.PutRecord(coll_.get(), Key(id), doc, replace ? RecordWrite::kReplace : RecordWrite::kInsert,
                   replace ? std::string_view(before) : std::string_view());
    return db_->Commit(&unit);
  }
  // The record's v, or -1 if absent, as the calling thread sees it.
  int Read(int id) {
    std::string bson;
    auto found = db_->GetRecord(*coll_, Key(id), &bson);
    if (!found.ok() || !*found) return -1;
    bson::ValueView v;
    bson::DocView(bson).Find("v", &v);
    return v.Int32();
  }
  // A new worker on the same data: the engine opened again and, when `check_all`, checked
  // as at startup.
  void Restart(bool check_all = true) {
    coll_.reset();
    db_.reset();
    engine_.reset();
    auto engine = Engine::Open({.data_dir = dir_});
    ASSERT_TRUE(engine.ok());
    engine_ = *std::move(engine);
    if (check_all) {
      ASSERT_TRUE(engine_->CheckAll().ok());
    }
    db_ = *engine_->GetDatabase("app", false);
    coll_ = db_->FindCollection("c");
  }
  int Scan() {
    int n = 0;
    for (auto it = db_->ScanRecords(*coll_); it->Valid(); it->Next()) ++n;
    return n;
  }

  std::string dir_;
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<Database> db_;
  std::shared_ptr<Collection> coll_;
};

TEST_F(TransactionTest, ReadsItsOwnWritesOthersSeeThemAtCommit) {
  ASSERT_TRUE(Put(1, 1).ok());
  Transaction txn;
  {
    TransactionScope scope(&txn);
    ASSERT_TRUE(Put(1, 2, true).ok());
    ASSERT_TRUE(Put(2, 2).ok());
    EXPECT_EQ(Read(1), 2);
    EXPECT_EQ(Read(2), 2);
    EXPECT_EQ(Scan(), 2);
  }
  EXPECT_EQ(Read(1), 1);
  EXPECT_EQ(Read(2), -1);
  EXPECT_EQ(Scan(), 1);
  EXPECT_EQ(coll_->count(), 1);
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(Read(1), 2);
  EXPECT_EQ(Read(2), 2);
  EXPECT_EQ(coll_->count(), 2);
}

TEST_F(TransactionTest, ACommitsStatisticsAreStoredWithIt) {
  ASSERT_TRUE(Put(1, 1).ok());
  Transaction txn;
  {
    TransactionScope scope(&txn);
    ASSERT_TRUE(Put(2, 2).ok());
    ASSERT_TRUE(Put(3, 3).ok());
    ASSERT_TRUE(Put(1, 1000000, /*replace=*/true).ok());  // a longer int: same size
  }
  Transaction aborted;
  {
    TransactionScope scope(&aborted);
    ASSERT_TRUE(Put(4, 4).ok());
  }
  aborted.Abort();
  ASSERT_TRUE(txn.Commit().ok());
  Restart();
  EXPECT_EQ(coll_->count(), 3);
  auto stats = db_->StoredStats(*coll_);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->count, 3);
  EXPECT_EQ(stats->bytes, 3 * static_cast<int64_t>(Doc(1, 1).size()));
  EXPECT_EQ(stats->key_bytes, static_cast<int64_t>(Key(1).size() + Key(2).size() + Key(3).size()));
}

TEST_F(TransactionTest, ReadsItsSnapshot) {
  ASSERT_TRUE(Put(1, 1).ok());
  Transaction txn;
  {
    TransactionScope scope(&txn);
    EXPECT_EQ(Read(1), 1);  // takes the snapshot
  }
  ASSERT_TRUE(Put(3, 3).ok());
  TransactionScope scope(&txn);
  EXPECT_EQ(Read(3), -1);
  EXPECT_EQ(Scan(), 1);
}

TEST_F(TransactionTest, FirstWriterWins) {
  ASSERT_TRUE(Put(1, 1).ok());
  Transaction a, b;
  {
    TransactionScope scope(&a);
    ASSERT_TRUE(Put(1, 10, true).ok());
  }
  {
    TransactionScope scope(&b);
    EXPECT_EQ(MongoCodeOf(Put(1, 20, true)), kWriteConflict);
    EXPECT_TRUE(Put(2, 20).ok());  // other keys are free
  }
  // Outside transactions too: the write waits for its operation to retry.
  EXPECT_EQ(MongoCodeOf(Put(1, 30, true)), kWriteConflict);
  ASSERT_TRUE(a.Commit().ok());
  EXPECT_EQ(Read(1), 10);
  ASSERT_TRUE(Put(1, 30, true).ok());  // released
  EXPECT_EQ(Read(1), 30);
  b.Abort();
  EXPECT_EQ(Read(2), -1);
}

// A write outside transactions decides on what it read under the collection's write
// mutex (an insert's duplicate probe, an update's read). A commit between its read and its
// write, releasing its keys before the write's conflict check, would be overwritten by a
// write that never saw it: the commit waits for the mutex.
TEST_F(TransactionTest, ACommitWaitsForAWriteThatReadTheCollectionBeforeIt) {
  Transaction txn;
  {
    TransactionScope scope(&txn);
    ASSERT_TRUE(Put(1, 10).ok());
  }
  std::unique_lock<std::mutex> writing(coll_->write_mutex());
  EXPECT_EQ(Read(1), -1);  // the writer's probe: no record 1
  std::future<absl::Status> commit = std::async(std::launch::async, [&] { return txn.Commit(); });
  EXPECT_EQ(commit.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  // The insert the writer decided on meets the transaction's key: its operation retries.
  EXPECT_EQ(MongoCodeOf(Put(1, 20)), kWriteConflict);
  writing.unlock();
  ASSERT_TRUE(commit.get().ok());
  EXPECT_EQ(Read(1), 10);
  EXPECT_EQ(coll_->count(), 1);
}

TEST_F(TransactionTest, WriteAfterAnotherCommitSinceTheSnapshotConflicts) {
  ASSERT_TRUE(Put(1, 1).ok());
  Transaction txn;
  {
    TransactionScope scope(&txn);
    EXPECT_EQ(Read(1), 1);
  }
  ASSERT_TRUE(Put(1, 2, true).ok());
  TransactionScope scope(&txn);
  EXPECT_EQ(MongoCodeOf(Put(1, 3, true)), kWriteConflict);
}

TEST_F(TransactionTest, AbortDiscardsAndReleases) {
  {
    Transaction txn;
    TransactionScope scope(&txn);
    ASSERT_TRUE(Put(5, 5).ok());
  }  // destroyed unfinished: aborted
  EXPECT_EQ(Read(5), -1);
  EXPECT_TRUE(Put(5, 6).ok());
  EXPECT_EQ(coll_->count(), 1);
}

TEST_F(TransactionTest, CommitFailsWhenTheCollectionChanged) {
  Transaction txn;
  {
    TransactionScope scope(&txn);
    ASSERT_TRUE(Put(1, 1).ok());
  }
  ASSERT_TRUE(db_->DropCollection("c").ok());
  EXPECT_EQ(MongoCodeOf(txn.Commit()), kWriteConflict);
  EXPECT_TRUE(txn.finished());
}

// Writes record `id` (v = `v`) to collection "c" of `db`, in the calling thread's
// transaction if it has one.
absl::Status PutIn(Database* db, int id, int v) {
  std::shared_lock<std::shared_mutex> ddl(db->ddl_mutex());
  auto c = db->GetOrCreateCollection("c");
  if (!c.ok()) return c.status();
  WriteUnit unit(db);
  bson::Builder b;
  b.AppendInt32("_id", id);
  b.AppendInt32("v", v);
  std::string doc = std::move(b).Finish();
  unit.PutRecord(c->get(), RecordKey((*c)->id(), bson::DocView(doc).begin()->value), doc, RecordWrite::kInsert);
  return db->Commit(&unit);
}

// Record `id` of collection "c" of `db`: its v, or -1 if absent.
int ReadIn(Database* db, int id) {
  auto c = db->FindCollection("c");
  if (c == nullptr) return -1;
  bson::Builder b;
  b.AppendInt32("_id", id);
  std::string key_doc = std::move(b).Finish();
  std::string bson;
  auto found = db->GetRecord(*c, RecordKey(c->id(), bson::DocView(key_doc).begin()->value), &bson);
  if (!found.ok() || !*found) return -1;
  bson::ValueView v;
  bson::DocView(bson).Find("v", &v);
  return v.Int32();
}

int ChangeEvents(Database* db) {
  int n = 0;
  db->ReadChanges(0, ~uint64_t{0} >> 1, [&](uint64_t, std::string_view) { return ++n, true; }).IgnoreError();
  return n;
}

bool NoDecisionsLeft(const std::string& data_dir) {
  std::error_code ec;
  auto dir = std::filesystem::path(data_dir) / ".transactions";
  return !std::filesystem::exists(dir, ec) || std::filesystem::is_empty(dir, ec);
}

TEST_F(TransactionTest, WritesToSeveralDatabasesCommitTogether) {
  auto other = engine_->GetDatabase("other", true);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(PutIn(other->get(), 9, 9).ok());  // "c" exists there; "d" does not yet
  int other_events = ChangeEvents(other->get());
  Transaction txn;
  {
    TransactionScope scope(&txn);
    ASSERT_TRUE(Put(1, 1).ok());
    ASSERT_TRUE(PutIn(other->get(), 1, 1).ok());
    ASSERT_TRUE(PutIn(other->get(), 2, 2).ok());
    std::shared_lock<std::shared_mutex> ddl((*other)->ddl_mutex());
    ASSERT_TRUE((*other)->CreateCollection("d").ok());
    EXPECT_EQ(ReadIn(other->get(), 1), 1);
  }
  EXPECT_EQ(Read(1), -1);
  EXPECT_EQ(ReadIn(other->get(), 1), -1);
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(Read(1), 1);
  EXPECT_EQ(ReadIn(other->get(), 1), 1);
  EXPECT_EQ(ReadIn(other->get(), 2), 2);
  EXPECT_NE((*other)->FindCollection("d"), nullptr);
  EXPECT_EQ((*other)->FindCollection("c")->count(), 3);
  EXPECT_EQ(ChangeEvents(other->get()), other_events + 3);  // two inserts and a create
  EXPECT_TRUE(NoDecisionsLeft(dir_));
  // Durable, and nothing pending is replayed a second time.
  other->reset();
  Restart();
  auto reopened = *engine_->GetDatabase("other", false);
  EXPECT_EQ(Read(1), 1);
  EXPECT_EQ(ReadIn(reopened.get(), 2), 2);
  EXPECT_EQ(reopened->FindCollection("c")->count(), 3);
  EXPECT_EQ(ChangeEvents(reopened.get()), other_events + 3);
}

TEST_F(TransactionTest, AConflictInOneDatabaseCommitsNothingAnywhere) {
  auto other = engine_->GetDatabase("other", true);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(PutIn(other->get(), 9, 9).ok());
  Transaction txn;
  {
    TransactionScope scope(&txn);
    ASSERT_TRUE(Put(1, 1).ok());
    ASSERT_TRUE(PutIn(other->get(), 1, 1).ok());
  }
  ASSERT_TRUE((*other)->DropCollection("c").ok());
  EXPECT_EQ(MongoCodeOf(txn.Commit()), kWriteConflict);
  EXPECT_EQ(Read(1), -1);
  EXPECT_EQ((*other)->FindCollection("c"), nullptr);
  EXPECT_TRUE(Put(1, 2).ok());  // the locks are released
  EXPECT_TRUE(NoDecisionsLeft(dir_));
}

// A worker that dies inside a commit across databases: before its decision the commit
// never happened; after it, every database applies its part when it next opens.
TEST_F(TransactionTest, ACommitCutShortResolvesWhenTheDatabasesOpen) {
  struct Case {
    CrossCommitter::Stop stop;
    bool committed;
  };
  for (const Case& c : {Case{CrossCommitter::Stop::kAfterPrepare, false},
                        Case{CrossCommitter::Stop::kAfterDecision, true},
                        Case{CrossCommitter::Stop::kAfterFirstApply, true}}) {
    SCOPED_TRACE(static_cast<int>(c.stop));
    TearDown();
    SetUp();
    auto other = engine_->GetDatabase("other", true);
    ASSERT_TRUE(other.ok());
    int other_events = ChangeEvents(other->get());
    Transaction txn;
    {
      TransactionScope scope(&txn);
      ASSERT_TRUE(Put(1, 1).ok());
      ASSERT_TRUE(PutIn(other->get(), 1, 1).ok());
    }
    CrossCommitter::StopForTesting(c.stop);
    EXPECT_FALSE(txn.Commit().ok());
    CrossCommitter::StopForTesting(CrossCommitter::Stop::kNone);
    other->reset();
    // The next worker, first without its startup check: each database resolves its part
    // as it opens; then with it, which also removes the decision.
    for (int round = 0; round < 3; ++round) {  // nothing is applied twice
      Restart(/*check_all=*/round > 0);
      if (round > 0) {
        EXPECT_TRUE(NoDecisionsLeft(dir_));
      }
      auto reopened = *engine_->GetDatabase("other", false);
      EXPECT_EQ(Read(1), c.committed ? 1 : -1);
      EXPECT_EQ(ReadIn(reopened.get(), 1), c.committed ? 1 : -1);
      // The parts' statistics came with them, once.
      EXPECT_EQ(coll_->count(), c.committed ? 1 : 0);
      EXPECT_EQ(db_->StoredStats(*coll_)->count, c.committed ? 1 : 0);
      if (auto made = reopened->FindCollection("c"); made != nullptr) {
        EXPECT_EQ(made->count(), c.committed ? 1 : 0);
        EXPECT_EQ(reopened->StoredStats(*made)->count, c.committed ? 1 : 0);
      }
      // Events: the commit's create and insert, and the create of "later" below.
      int later = c.committed && round > 0 ? 1 : 0;
      EXPECT_EQ(ChangeEvents(reopened.get()), other_events + (c.committed ? 2 : 0) + later);
      if (c.committed && round == 0) {
        // The collection the commit made keeps its id: a new one gets another.
        std::shared_lock<std::shared_mutex> ddl(reopened->ddl_mutex());
        auto made = reopened->GetOrCreateCollection("later");
        ASSERT_TRUE(made.ok());
        ASSERT_NE(reopened->FindCollection("c"), nullptr);
        EXPECT_NE((*made)->id(), reopened->FindCollection("c")->id());
      }
    }
  }
}

// A part whose write fails after the decision (the disk fails for a moment) is written
// again once the disk works: the commit succeeds whole.
TEST(CrossCommitFaultTest, APartThatFailsAfterTheDecisionIsWrittenOnceTheDiskWorks) {
  char tmpl[] = "/tmp/mm-txn-test-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  FaultInjection faults;
  {
    auto engine = Engine::Open({.data_dir = dir, .kv = {.faults = &faults}});
    ASSERT_TRUE(engine.ok());
    auto a = *(*engine)->GetDatabase("a", true), b = *(*engine)->GetDatabase("b", true);
    ASSERT_TRUE(PutIn(a.get(), 0, 0).ok());
    ASSERT_TRUE(PutIn(b.get(), 0, 0).ok());
    Transaction txn;
    {
      TransactionScope scope(&txn);
      ASSERT_TRUE(PutIn(a.get(), 1, 1).ok());
      ASSERT_TRUE(PutIn(b.get(), 1, 1).ok());
    }
    std::thread repair;
    CrossCommitter::AfterDecisionForTesting([&] {
      faults.Set(FaultInjection::Fault::kIoError);
      repair = std::thread([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        faults.Set(FaultInjection::Fault::kNone);
      });
    });
    absl::Status committed = txn.Commit();
    CrossCommitter::AfterDecisionForTesting(nullptr);
    repair.join();
    EXPECT_TRUE(committed.ok()) << committed;
    EXPECT_EQ(ReadIn(a.get(), 1), 1);
    EXPECT_EQ(ReadIn(b.get(), 1), 1);
    EXPECT_TRUE(NoDecisionsLeft(dir));
  }
  auto engine = Engine::Open({.data_dir = dir});
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE((*engine)->CheckAll().ok());
  EXPECT_EQ(ReadIn((*(*engine)->GetDatabase("a", false)).get(), 1), 1);
  EXPECT_EQ(ReadIn((*(*engine)->GetDatabase("b", false)).get(), 1), 1);
  engine->reset();
  std::filesystem::remove_all(dir);
}

// A statement's first use of a database opens it; the open (and what the server does as
// a database opens) is no part of the statement's transaction.
TEST(EngineOpenTest, OpeningADatabaseInATransactionIsNoPartOfIt) {
  char tmpl[] = "/tmp/mm-txn-test-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  {
    auto engine = Engine::Open({.data_dir = dir});
    ASSERT_TRUE(engine.ok());
    ASSERT_TRUE(PutIn((*(*engine)->GetDatabase("late", true)).get(), 1, 1).ok());
  }
  int scanned = -1;
  auto engine = Engine::Open({.data_dir = dir, .on_open = [&](Database* db) {
                                // As the server's index rebuilds read records.
                                auto c = db->FindCollection("c");
                                if (c == nullptr) return absl::OkStatus();
                                scanned = 0;
                                for (auto it = db->ScanRecords(*c); it->Valid(); it->Next()) ++scanned;
                                return absl::OkStatus();
                              }});
  ASSERT_TRUE(engine.ok());
  auto app = (*engine)->GetDatabase("app", true);
  ASSERT_TRUE(app.ok());
  {
    Transaction txn;
    txn.ReadAllDatabasesAtOnce();
    TransactionScope scope(&txn);
    auto late = (*engine)->GetDatabase("late", false);
    ASSERT_TRUE(late.ok());
    EXPECT_EQ(scanned, 1);
    EXPECT_EQ(ReadIn(late->get(), 1), 1);
  }
  engine->reset();
  std::filesystem::remove_all(dir);
}

// A session's transaction reads every database as of its first read, as MongoDB's read
// one point in time: a commit across databases made after it is seen in none of them.
TEST_F(TransactionTest, ASessionTransactionReadsEveryDatabaseAsOfItsFirstRead) {
  auto other = engine_->GetDatabase("other", true);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(PutIn(other->get(), 9, 9).ok());
  for (bool at_once : {true, false}) {
    SCOPED_TRACE(at_once);
    const int id = at_once ? 1 : 2;
    Transaction reader;
    if (at_once) reader.ReadAllDatabasesAtOnce();
    {
      TransactionScope scope(&reader);
      EXPECT_EQ(Read(id), -1);  // the first read, in "app" only
    }
    Transaction writer;
    {
      TransactionScope scope(&writer);
      ASSERT_TRUE(Put(id, id).ok());
      ASSERT_TRUE(PutIn(other->get(), id, id).ok());
    }
    ASSERT_TRUE(writer.Commit().ok());
    TransactionScope scope(&reader);
    EXPECT_EQ(Read(id), -1);
    // Without the option (a one-database read-only view) "other" is read as of its own
    // first read, after the commit.
    EXPECT_EQ(ReadIn(other->get(), id), at_once ? -1 : id);
  }
}

// A database that no one had opened when a session's transaction took its snapshots is
// read as it was then, whatever is written to it after it opens (MongoDB's one point in
// time across databases), and so is one created after them (empty).
TEST_F(TransactionTest, ADatabaseOpenedAfterTheSnapshotsIsReadAsOfThem) {
  {
    auto late = engine_->GetDatabase("late", true);
    ASSERT_TRUE(late.ok());
    ASSERT_TRUE(PutIn(late->get(), 1, 1).ok());
  }
  Restart(/*check_all=*/true);  // "late" is on disk, not open
  Transaction reader;
  reader.ReadAllDatabasesAtOnce();
  {
    TransactionScope scope(&reader);
    EXPECT_EQ(Read(1), -1);  // the first read, in "app": the snapshots are taken
  }
  auto late = engine_->GetDatabase("late", false);
  ASSERT_TRUE(late.ok());
  ASSERT_NE(*late, nullptr);
  ASSERT_TRUE(PutIn(late->get(), 2, 2).ok());
  auto created = engine_->GetDatabase("created", true);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(PutIn(created->get(), 3, 3).ok());
  {
    TransactionScope scope(&reader);
    EXPECT_EQ(ReadIn(late->get(), 1), 1);
    EXPECT_EQ(ReadIn(late->get(), 2), -1);
    EXPECT_EQ(ReadIn(created->get(), 3), -1);
  }
  // Outside the transaction both writes are there.
  EXPECT_EQ(ReadIn(late->get(), 2), 2);
  EXPECT_EQ(ReadIn(created->get(), 3), 3);
  // A transaction begun now reads them too.
  Transaction fresh;
  fresh.ReadAllDatabasesAtOnce();
  TransactionScope scope(&fresh);
  EXPECT_EQ(Read(1), -1);
  EXPECT_EQ(ReadIn(late->get(), 2), 2);
  EXPECT_EQ(ReadIn(created->get(), 3), 3);
}

// A reader that saw one database's part of a commit sees the others' too.
TEST_F(TransactionTest, ReadersNeverSeePartOfACommitAcrossDatabases) {
  auto other = engine_->GetDatabase("other", true);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(PutIn(other->get(), -1, 0).ok());
  constexpr int kCommits = 300;
  std::atomic<int> committed{0};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (committed.load() < kCommits) {
      int next = committed.load() + 1;
      // "app" is applied first: its record without the other's would be half a commit.
      if (Read(next) >= 0 && ReadIn(other->get(), next) < 0) torn.fetch_add(1);
    }
  });
  for (int i = 1; i <= kCommits; ++i) {
    Transaction txn;
    {
      TransactionScope scope(&txn);
      ASSERT_TRUE(Put(i, i).ok());
      ASSERT_TRUE(PutIn(other->get(), i, i).ok());
    }
    ASSERT_TRUE(txn.Commit().ok());
    committed.store(i);
  }
  reader.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(coll_->count(), kCommits);
}

TEST_F(TransactionTest, CollectionsMadeInATransactionAppearAtCommit) {
  Transaction txn;
  std::shared_ptr<Collection> made;
  {
    TransactionScope scope(&txn);
    std::shared_lock<std::shared_mutex> ddl(db_->ddl_mutex());
    auto c = db_->GetOrCreateCollection("fresh");
    ASSERT_TRUE(c.ok());
    made = *c;
    EXPECT_EQ(db_->FindCollection("fresh"), made);
    EXPECT_EQ(MongoCodeOf(db_->CreateCollection("fresh")), kNamespaceExists);
    EXPECT_TRUE(db_->CreateCollection("second").ok());
    bson::Builder capped;
    capped.AppendBool("capped", true);
    capped.AppendInt32("size", 4096);
    EXPECT_EQ(MongoCodeOf(db_->CreateCollection("capped", std::move(capped).Finish())),
              kOperationNotSupportedInTransaction);
  }
  EXPECT_EQ(db_->FindCollection("fresh"), nullptr);  // others do not see it
  EXPECT_EQ(db_->FindCollection("second"), nullptr);
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(db_->FindCollection("fresh"), made);
  EXPECT_NE(db_->FindCollection("second"), nullptr);
  EXPECT_EQ(db_->FindCollection("capped"), nullptr);
  // A name taken meanwhile fails the commit.
  Transaction late;
  {
    TransactionScope scope(&late);
    ASSERT_TRUE(db_->CreateCollection("contested").ok());
  }
  ASSERT_TRUE(db_->CreateCollection("contested").ok());
  EXPECT_EQ(MongoCodeOf(late.Commit()), kWriteConflict);
  // An aborted transaction's collection never appears.
  {
    Transaction aborted;
    TransactionScope scope(&aborted);
    ASSERT_TRUE(db_->CreateCollection("gone").ok());
  }
  EXPECT_EQ(db_->FindCollection("gone"), nullptr);
  // Durable: the catalog entries and the next id survive a restart.
  uint32_t made_id = made->id();
  made.reset();
  Restart();
  ASSERT_NE(db_->FindCollection("fresh"), nullptr);
  EXPECT_EQ(db_->FindCollection("fresh")->id(), made_id);
  ASSERT_NE(db_->FindCollection("second"), nullptr);
  auto next = db_->GetOrCreateCollection("after");
  ASSERT_TRUE(next.ok());
  EXPECT_GT((*next)->id(), db_->FindCollection("contested")->id());
}

}  // namespace
}  // namespace micromongo::storage

namespace micromongo::storage {
namespace {

// Retryable writes' history (retry_history.h): a bound scope's commits carry the session's
// record in their batch; a transaction's statements do not.
TEST_F(TransactionTest, ARetryScopesCommitsCarryItsRecord) {
  ASSERT_TRUE(Put(1, 1).ok());
  EXPECT_FALSE(db_->GetRetryRecord("L")->has_value());
  {
    RetryScope scope("L", 7, "wire:insert");
    EXPECT_FALSE(scope.wrote());
    ASSERT_TRUE(Put(2, 1).ok());
    EXPECT_TRUE(scope.wrote());
    auto record = db_->GetRetryRecord("L");
    ASSERT_TRUE(record.ok() && record->has_value());
    EXPECT_EQ((*record)->txn_number, 7);
    EXPECT_EQ((*record)->command, "wire:insert");
    EXPECT_FALSE((*record)->reply.has_value());
    ASSERT_TRUE(scope.RecordReply("the reply").ok());
    EXPECT_EQ(*(*db_->GetRetryRecord("L"))->reply, "the reply");
  }
  // The scope ended: later commits leave the record alone.
  ASSERT_TRUE(Put(3, 1).ok());
  EXPECT_EQ((*db_->GetRetryRecord("L"))->txn_number, 7);
  EXPECT_EQ(*(*db_->GetRetryRecord("L"))->reply, "the reply");
  // It survives a restart.
  Restart();
  EXPECT_EQ(*(*db_->GetRetryRecord("L"))->reply, "the reply");
}

// A commit refused for a key a transaction holds wrote nothing, record included: its
// operation runs again (or fails) as one that never wrote.
TEST_F(TransactionTest, ACommitThatMeetsATransactionsKeyLeavesTheRetryRecordAlone) {
  Transaction txn;
  {
    TransactionScope scope(&txn);
    ASSERT_TRUE(Put(1, 10).ok());
  }
  {
    RetryScope scope("C", 4, "wire:insert");
    EXPECT_EQ(MongoCodeOf(Put(1, 20)), kWriteConflict);
    EXPECT_FALSE(scope.wrote());
    EXPECT_FALSE(db_->GetRetryRecord("C")->has_value());
    txn.Abort();
    ASSERT_TRUE(Put(1, 20).ok());
    EXPECT_TRUE(scope.wrote());
    EXPECT_EQ((*db_->GetRetryRecord("C"))->outcome.inserted, 1);
  }
}

// The record counts what the scope's commits changed, from their change records (a
// commit that fails counts nothing), so that a retry whose reply was lost can be answered.
TEST_F(TransactionTest, ARetryRecordCountsWhatItsCommitsChanged) {
  RetryScope scope("O", 3, "wire:update");
  ASSERT_TRUE(Put(1, 1).ok());
  ASSERT_TRUE(Put(2, 1).ok());
  ASSERT_TRUE(Put(1, 5, /*replace=*/true).ok());
  {
    std::shared_lock<std::shared_mutex> ddl(db_->ddl_mutex());
    WriteUnit unit(db_.get());
    ASSERT_TRUE(unit.DeleteRecord(coll_.get(), Key(2), Doc(2, 1)).ok());
    ASSERT_TRUE(db_->Commit(&unit).ok());
  }
  RetryOutcome outcome = (*db_->GetRetryRecord("O"))->outcome;
  EXPECT_EQ(outcome.inserted, 2);
  EXPECT_EQ(outcome.updated, 1);
  EXPECT_EQ(outcome.deleted, 1);
  bson::ValueView id;
  ASSERT_TRUE(bson::DocView(outcome.last_inserted_id).Find("_id", &id));
  EXPECT_EQ(id.Int32(), 2);
  // The same counts survive encoding, as does a findAndModify's document (or its null); a
  // record of an older format reads as no changes.
  EXPECT_EQ(DecodeRetryRecord(EncodeRetryRecord(**db_->GetRetryRecord("O")))->outcome, outcome);
  for (std::string image : {std::string(), Doc(4, 4)}) {
    RetryRecord with_image{.txn_number = 1, .command = "wire:findAndModify"};
    with_image.outcome.has_image = true;
    with_image.outcome.image = image;
    EXPECT_EQ(DecodeRetryRecord(EncodeRetryRecord(with_image))->outcome, with_image.outcome);
  }
  std::string old_format = EncodeRetryRecord({.txn_number = 3, .command = "wire:update", .written_ms = 5});
  size_t outcome_at = 8 + 8 + 4 + std::string("wire:update").size();
  ASSERT_EQ(old_format[outcome_at], 2);
  uint32_t outcome_size = static_cast<uint8_t>(old_format[outcome_at + 1]);
  old_format.erase(outcome_at, 1 + outcome_size);
  auto old = DecodeRetryRecord(old_format);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->outcome, RetryOutcome());
  EXPECT_EQ(old->command, "wire:update");
}

// Each change is recorded as its statement's (MongoDB's stmtId), so that a retry whose
// reply was lost runs only the statements not done; a resumed scope answers those.
TEST_F(TransactionTest, ARetryRecordKeepsWhatEachStatementChanged) {
  {
    RetryScope scope("S", 4, "wire:bulkWrite");
    ASSERT_TRUE(Put(1, 1).ok());  // statement 0, an upsert-like insert
    scope.SetStatement(2);
    ASSERT_TRUE(Put(1, 5, /*replace=*/true).ok());
    scope.SetStatement(3);
    {
      std::shared_lock<std::shared_mutex> ddl(db_->ddl_mutex());
      WriteUnit unit(db_.get());
      ASSERT_TRUE(unit.DeleteRecord(coll_.get(), Key(1), Doc(1, 5)).ok());
      ASSERT_TRUE(db_->Commit(&unit).ok());
    }
    // Insert statements 5 and 6, in one commit, then 7 in another: one run.
    scope.SetStatement(5);
    {
      std::shared_lock<std::shared_mutex> ddl(db_->ddl_mutex());
      WriteUnit unit(db_.get());
      std::string a = Doc(5, 0), b = Doc(6, 0);
      unit.PutRecord(coll_.get(), Key(5), a, RecordWrite::kInsert);
      unit.PutRecord(coll_.get(), Key(6), b, RecordWrite::kInsert);
      scope.NoteInserted({0, 1});
      ASSERT_TRUE(db_->Commit(&unit).ok());
    }
    scope.NoteInserted({2});
    ASSERT_TRUE(Put(7, 0).ok());
    // A commit that changes no document marks no statement done.
    scope.SetStatement(9);
    {
      std::shared_lock<std::shared_mutex> ddl(db_->ddl_mutex());
      WriteUnit unit(db_.get());
      ASSERT_TRUE(db_->Commit(&unit).ok());
    }
  }
  RetryRecord record = **db_->GetRetryRecord("S");
  const RetryOutcome& o = record.outcome;
  ASSERT_TRUE(o.by_statement);
  ASSERT_EQ(o.statements.size(), 4u);
  EXPECT_EQ(o.statements[3].first, 5);
  EXPECT_EQ(o.statements[3].count, 3);
  EXPECT_TRUE(o.statements[3].inserts);
  struct Want {
    int32_t index;
    bool done;
    int64_t inserted, updated, deleted;
  };
  for (const Want& w : {Want{0, true, 1, 0, 0}, Want{1, false}, Want{2, true, 0, 1, 0}, Want{3, true, 0, 0, 1},
                        Want{4, false}, Want{5, true, 1, 0, 0}, Want{6, true, 1, 0, 0}, Want{7, true, 1, 0, 0},
                        Want{8, false}, Want{9, false}}) {
    SCOPED_TRACE(w.index);
    std::optional<RetryOutcome> one = o.OfStatement(w.index);
    ASSERT_EQ(one.has_value(), w.done);
    if (!one) continue;
    EXPECT_EQ(one->inserted, w.inserted);
    EXPECT_EQ(one->updated, w.updated);
    EXPECT_EQ(one->deleted, w.deleted);
  }
  bson::ValueView id;
  const std::optional<RetryOutcome> first = o.OfStatement(0);
  ASSERT_TRUE(bson::DocView(first->last_inserted_id).Find("_id", &id));
  EXPECT_EQ(id.Int32(), 1);
  // Each entry is a key of its own (a commit writes only those it changed), read back
  // after a restart as they were.
  EXPECT_TRUE(o.in_keys);
  EXPECT_EQ(*db_->CountRetryStatements("S"), 4u);
  Restart();
  EXPECT_EQ((*db_->GetRetryRecord("S"))->outcome, o);

  // Resumed: the statements done are answered; the ones it runs extend the record.
  {
    RetryScope resumed("S", record);
    EXPECT_TRUE(resumed.Done(2).has_value());
    EXPECT_FALSE(resumed.Done(4).has_value());
    resumed.SetStatement(4);
    ASSERT_TRUE(Put(4, 0).ok());
    EXPECT_TRUE(resumed.Done(2).has_value());
    EXPECT_FALSE(resumed.Done(4).has_value());  // the first run's, not this one's
  }
  RetryOutcome extended = (*db_->GetRetryRecord("S"))->outcome;
  EXPECT_TRUE(extended.OfStatement(4).has_value());
  EXPECT_EQ(extended.inserted, o.inserted + 1);
  EXPECT_EQ(*db_->CountRetryStatements("S"), 5u);

  // The session's next write: a single statement keeps its entry in the record and leaves
  // the keys alone; a write of several replaces them with its own.
  {
    RetryScope next("S", 5, "wire:update");
    ASSERT_TRUE(Put(1, 7).ok());
  }
  RetryRecord single = **db_->GetRetryRecord("S");
  EXPECT_FALSE(single.outcome.in_keys);
  ASSERT_EQ(single.outcome.statements.size(), 1u);
  EXPECT_TRUE(single.outcome.OfStatement(0).has_value());
  EXPECT_FALSE(single.outcome.OfStatement(2).has_value());  // txn 4's keys are not its
  EXPECT_EQ(*db_->CountRetryStatements("S"), 5u);
  // Two single-document inserts, statements 0 and 1 of write `txn` of session `lsid`.
  auto two_statements = [&](const char* lsid, int64_t txn, int first_id) {
    RetryScope scope(lsid, txn, "wire:update");
    ASSERT_TRUE(Put(first_id, 0).ok());
    scope.SetStatement(1);
    ASSERT_TRUE(Put(first_id + 1, 0).ok());
  };
  two_statements("S", 6, 8);
  EXPECT_EQ(*db_->CountRetryStatements("S"), 2u);
  EXPECT_EQ((*db_->GetRetryRecord("S"))->outcome.statements.size(), 2u);
  // Ending the session deletes them; trimming deletes keys whose record is gone.
  ASSERT_TRUE(db_->DeleteRetryRecord("S").ok());
  EXPECT_EQ(*db_->CountRetryStatements("S"), 0u);
  two_statements("O", 1, 10);
  EXPECT_EQ(*db_->CountRetryStatements("O"), 2u);
  ASSERT_TRUE(db_->PutRetryRecord("O", {.txn_number = 2, .command = "wire:update", .written_ms = 1}).ok());
  ASSERT_TRUE(db_->TrimRetryHistory(0).ok());
  EXPECT_EQ(*db_->CountRetryStatements("O"), 0u);  // txn 1's, the record is txn 2's
}

// Insert statements recorded out of order still make one entry per run; a write's entries
// in several databases merge; a single entry travels in the record.
TEST(RetryRecordTest, InsertStatementRunsAndRecordsOfOtherDatabasesMerge) {
  RetryOutcome o;
  for (int32_t i : {3, 1, 7, 2, 6, 2}) o.AddInsertStatement(i);
  ASSERT_EQ(o.statements.size(), 2u);
  EXPECT_EQ(o.statements[0].first, 1);
  EXPECT_EQ(o.statements[0].count, 3);
  EXPECT_EQ(o.statements[1].first, 6);
  EXPECT_EQ(o.statements[1].count, 2);
  for (int32_t i : {0, 4, 5, 8}) EXPECT_FALSE(o.OfStatement(i).has_value()) << i;
  for (int32_t i : {1, 2, 3, 6, 7}) EXPECT_EQ(o.OfStatement(i)->inserted, 1) << i;
  o.AddInsertStatement(4);
  o.AddInsertStatement(5);
  ASSERT_EQ(o.statements.size(), 1u);
  EXPECT_EQ(o.statements[0].count, 7);
  EXPECT_FALSE(RetryOutcome().OfStatement(0).has_value());  // an older record's: no statements

  // Entries of the same write recorded in two databases merge into one list.
  RetryOutcome other;
  other.AddInsertStatement(8);
  other.AddStatement(10, RetryOutcome{.updated = 1});
  o.MergeStatements(other);
  ASSERT_EQ(o.statements.size(), 2u);
  EXPECT_EQ(o.statements[0].count, 8);
  EXPECT_EQ(o.OfStatement(10)->updated, 1);
  // A single entry travels in the record itself.
  RetryRecord one{.txn_number = 1, .command = "wire:update"};
  one.outcome.by_statement = true;
  one.outcome.AddStatement(3, RetryOutcome{.deleted = 1});
  auto back = DecodeRetryRecord(EncodeRetryRecord(one));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->outcome, one.outcome);
}

TEST_F(TransactionTest, ATransactionsStatementsWriteNoRetryRecord) {
  Transaction txn;
  {
    RetryScope retry("T", 1, "wire:insert");
    TransactionScope scope(&txn);
    ASSERT_TRUE(Put(1, 1).ok());
    EXPECT_FALSE(retry.wrote());
  }
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_FALSE(db_->GetRetryRecord("T")->has_value());
  EXPECT_EQ(Read(1), 1);
}

TEST_F(TransactionTest, TrimmingRetryHistoryDeletesOnlyOlderRecords) {
  ASSERT_TRUE(db_->PutRetryRecord("old", {.txn_number = 1, .command = "grpc:update", .written_ms = 1000}).ok());
  ASSERT_TRUE(db_->PutRetryRecord("new", {.txn_number = 2, .command = "grpc:update", .written_ms = 5000}).ok());
  ASSERT_TRUE(db_->TrimRetryHistory(3000).ok());
  EXPECT_FALSE(db_->GetRetryRecord("old")->has_value());
  EXPECT_TRUE(db_->GetRetryRecord("new")->has_value());
  ASSERT_TRUE(db_->DeleteRetryRecord("new").ok());
  EXPECT_FALSE(db_->GetRetryRecord("new")->has_value());
}

TEST(RetryRecordTest, EncodesAndRefusesWhatItDidNotWrite) {
  for (const RetryRecord& r : {RetryRecord{.txn_number = 0, .command = "", .written_ms = 0},
                               RetryRecord{.txn_number = 1LL << 40, .command = "wire:findAndModify",
                                           .reply = std::string("\0x\0", 3), .written_ms = 1764000000000},
                               RetryRecord{.txn_number = 3, .command = "grpc:insert", .reply = "", .written_ms = 5}}) {
    auto back = DecodeRetryRecord(EncodeRetryRecord(r));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->txn_number, r.txn_number);
    EXPECT_EQ(back->command, r.command);
    EXPECT_EQ(back->reply, r.reply);
    EXPECT_EQ(back->written_ms, r.written_ms);
    EXPECT_EQ(back->outcome, r.outcome);
  }
  // The generated ids' timestamp, and its absence (a record written before it was kept).
  RetryRecord with_ids{.txn_number = 2, .command = "grpc:insert", .written_ms = 5};
  with_ids.outcome.ids_at = 1764000000;
  auto back = DecodeRetryRecord(EncodeRetryRecord(with_ids));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->outcome.ids_at, 1764000000);
  with_ids.outcome.ids_at = 0;
  back = DecodeRetryRecord(EncodeRetryRecord(with_ids));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->outcome.ids_at, 0);
  std::string good = EncodeRetryRecord({.txn_number = 3, .command = "grpc:insert", .written_ms = 5});
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeRetryRecord(good.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeRetryRecord(good + "x").ok());
}

}  // namespace
}  // namespace micromongo::storage
