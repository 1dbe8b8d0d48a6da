// The statistics each collection keeps in its k key (FORMAT.md): every commit merges its
// changes in, so a database opens without counting its records.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "document/builder.h"
#include "storage/counters.h"
#include "storage/engine.h"
#include "storage/key_codec.h"
#include "storage/kv.h"
#include "storage/transaction.h"

namespace micromongo::storage {
namespace {

class CollectionStatsTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mm-storage-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Reopen();
  }
  void TearDown() override {
    db_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    db_.reset();
    engine_.reset();
    auto engine = Engine::Open({.data_dir = dir_});
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    db_ = *engine_->GetDatabase("app", true);
  }
  std::shared_ptr<Collection> Coll(std::string_view name) {
    std::shared_lock<std::shared_mutex> ddl(db_->ddl_mutex());
    return *db_->GetOrCreateCollection(name);
  }
  static std::string Doc(int id, std::string_view text) {
    bson::Builder b;
    b.AppendInt32("_id", id);
    b.AppendString("text", text);
    return std::move(b).Finish();
  }
  static std::string Key(const Collection& c, int id) {
    std::string doc = Doc(id, "");
    return RecordKey(c.id(), bson::DocView(doc).begin()->value);
  }
  void Insert(Collection* c, int id, std::string_view text) {
    WriteUnit unit(db_.get());
    std::string doc = Doc(id, text);
    unit.PutRecord(c, Key(*c, id), doc, RecordWrite::kInsert);
    ASSERT_TRUE(db_->Commit(&unit).ok());
  }
  // Closes the database and writes `fill`'s batch straight into its store, past every
  // rule of Database.
  void WriteClosedStore(const std::function<void(KvBatch*)>& fill) {
    db_.reset();
    engine_.reset();
    auto env = KvEnv::Create({});
    auto kv = env->Open((std::filesystem::path(dir_) / "app").string());
    ASSERT_TRUE(kv.ok()) << kv.status();
    auto batch = (*kv)->NewBatch();
    fill(batch.get());
    ASSERT_TRUE((*kv)->Write(batch.get()).ok());
  }
  // The records as they are: count, BSON bytes and key bytes.
  CollectionStats Counted(const Collection& c) {
    CollectionStats stats;
    for (auto it = db_->ScanRecords(c); it->Valid(); it->Next()) {
      ++stats.count;
      stats.bytes += static_cast<int64_t>(it->value().size());
      stats.key_bytes += static_cast<int64_t>(it->key().size());
    }
    return stats;
  }
  void ExpectStoredAsCounted(const Collection& c) {
    auto stored = db_->StoredStats(c);
    ASSERT_TRUE(stored.ok()) << stored.status();
    CollectionStats counted = Counted(c);
    EXPECT_EQ(stored->count, counted.count);
    EXPECT_EQ(stored->bytes, counted.bytes);
    EXPECT_EQ(stored->key_bytes, counted.key_bytes);
    EXPECT_EQ(c.count(), counted.count);
  }

  // Index entries of the tests' index `index_id`: "k<i>", with values of any size.
  static std::string Entry(const Collection& c, uint32_t index_id, int i) {
    return IndexPrefix(c.id(), index_id) + "k" + std::to_string(i);
  }
  static std::string IndexSpec(std::string_view name) {
    bson::Builder b;
    b.AppendString("name", name);
    return std::move(b).Finish();
  }
  // The index's stored statistics agree with its entries, of which there are `entries`.
  void ExpectIndexAsCounted(const Collection& c, uint32_t index_id, int64_t entries) {
    IndexStats counted;
    for (auto it = db_->ScanIndex(c, index_id, static_cast<const KvSnapshot*>(nullptr)); it->Valid(); it->Next()) {
      ++counted.entries;
      counted.bytes += static_cast<int64_t>(it->key().size() + it->value().size());
    }
    auto stored = db_->StoredIndexStats(c, index_id);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->entries, counted.entries);
    EXPECT_EQ(stored->bytes, counted.bytes);
    EXPECT_EQ(counted.entries, entries);
  }

  std::string dir_;
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<Database> db_;
};

// Each secondary index keeps its entries and their bytes (what collStats reports), through
// builds, writes, transactions, rebuilds, reopening and the DDL that removes them.
TEST_F(CollectionStatsTest, EachIndexKeepsItsEntriesAndBytesOnEveryPath) {
  auto c = Coll("c");
  for (int id = 0; id < 5; ++id) Insert(c.get(), id, "five");
  // A build: its entries go in as files, its statistics with the catalog change.
  uint32_t ix = 0;
  auto build = [&](int from, int to) {
    return [&ix, from, to](const Collection& coll, uint32_t id, IndexBuildSink* sink) {
      ix = id;
      for (int i = from; i < to; ++i) {
        sink->unit()->PutIndexEntry(Entry(coll, id, i), std::string(i, 'v'), /*unique=*/false);
        if (auto s = sink->RecordDone(); !s.ok()) return s;
      }
      return absl::OkStatus();
    };
  };
  ASSERT_TRUE(db_->CreateIndex("c", IndexSpec("e"), build(0, 5)).ok());
  c = db_->FindCollection("c");
  ExpectIndexAsCounted(*c, ix, 5);
  {
    // A write that puts one entry and deletes another (of value "vv").
    WriteUnit unit(db_.get());
    unit.PutRecord(c.get(), Key(*c, 7), Doc(7, "seven"), RecordWrite::kInsert);
    unit.PutIndexEntry(Entry(*c, ix, 7), "seven", /*unique=*/false);
    unit.DeleteIndexEntry(Entry(*c, ix, 2), 2, /*unique=*/false);
    ASSERT_TRUE(db_->Commit(&unit).ok());
  }
  ExpectIndexAsCounted(*c, ix, 5);
  {
    // A transaction's statements count at its commit, not before.
    Transaction txn;
    {
      TransactionScope scope(&txn);
      for (int i : {8, 9}) {
        WriteUnit unit(db_.get());
        unit.PutRecord(c.get(), Key(*c, i), Doc(i, "txn"), RecordWrite::kInsert);
        unit.PutIndexEntry(Entry(*c, ix, i), "in a transaction", /*unique=*/false);
        if (i == 9) unit.DeleteIndexEntry(Entry(*c, ix, 8), 16, /*unique=*/false);
        ASSERT_TRUE(db_->Commit(&unit).ok());
      }
    }
    ExpectIndexAsCounted(*c, ix, 5);
    ASSERT_TRUE(txn.Commit().ok());
  }
  ExpectIndexAsCounted(*c, ix, 6);
  Reopen();
  c = db_->FindCollection("c");
  ExpectIndexAsCounted(*c, ix, 6);
  // A rebuild replaces the entries, and the statistics with them.
  ASSERT_TRUE(db_->RebuildIndex("c", ix, build(10, 13)).ok());
  c = db_->FindCollection("c");
  ExpectIndexAsCounted(*c, ix, 3);
  // A store whose statistics predate the indexes' (marker \x02) counts them at open.
  const uint32_t coll_id = c->id(), index_id = ix;
  WriteClosedStore([&](KvBatch* batch) {
    batch->Delete(IndexStatsKey(coll_id, index_id));
    batch->Put("mcollection_stats", std::string(1, '\2'));
  });
  Reopen();
  c = db_->FindCollection("c");
  ExpectIndexAsCounted(*c, ix, 3);
  ExpectStoredAsCounted(*c);
  // Dropping the index, or the collection, removes its statistics.
  ASSERT_TRUE(db_->CreateIndex("c", IndexSpec("f"), build(0, 4)).ok());
  const uint32_t dropped = ix;
  ASSERT_TRUE(db_->DropIndex("c", "f").ok());
  c = db_->FindCollection("c");
  EXPECT_EQ(db_->StoredIndexStats(*c, dropped)->entries, 0);
  ASSERT_TRUE(db_->DropCollection("c").ok());
  EXPECT_EQ(db_->StoredIndexStats(*c, index_id)->entries, 0);
  EXPECT_EQ(db_->StoredIndexStats(*c, index_id)->bytes, 0);
}

TEST_F(CollectionStatsTest, EveryWritePathKeepsThemAcrossReopen) {
  auto c = Coll("c");
  for (int id = 0; id < 5; ++id) Insert(c.get(), id, "short");
  {
    // A replace that grows a record, a delete, and a batch of several writes.
    WriteUnit unit(db_.get());
    std::string before = Doc(0, "short"), after = Doc(0, "a much longer text than before");
    unit.PutRecord(c.get(), Key(*c, 0), after, RecordWrite::kReplace, before);
    ASSERT_TRUE(unit.DeleteRecord(c.get(), Key(*c, 1), Doc(1, "short")).ok());
    std::string six = Doc(6, "six");
    unit.PutRecord(c.get(), Key(*c, 6), six, RecordWrite::kInsert);
    ASSERT_TRUE(unit.DeleteRecord(c.get(), Key(*c, 2), Doc(2, "short")).ok());
    ASSERT_TRUE(db_->Commit(&unit).ok());
  }
  auto target = Coll("d");
  Insert(target.get(), 1, "replaced by the rename");
  ASSERT_TRUE(db_->RenameCollection("c", "d", /*drop_target=*/true).ok());
  // The dropped target's statistics went with it (ids are never reused).
  auto gone = db_->StoredStats(*target);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->count, 0);
  EXPECT_EQ(gone->bytes, 0);
  Reopen();
  auto d = db_->FindCollection("d");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->count(), 4);  // 0, 3, 4, 6
  ExpectStoredAsCounted(*d);
  ASSERT_TRUE(db_->DropCollection("d").ok());
  auto dropped = db_->StoredStats(*d);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(dropped->count, 0);
}

TEST_F(CollectionStatsTest, OpenTakesTheStoredStatisticsWithoutCounting) {
  auto c = Coll("c");
  for (int id = 0; id < 3; ++id) Insert(c.get(), id, "x");
  {
    // Statistics that disagree with the records (what validate reports): opening the
    // database believes them, which shows it read them instead of counting.
    WriteUnit unit(db_.get());
    unit.batch()->Merge(StatsKey(c->id()), StatsOperand(10, 0, 0, 0));
    ASSERT_TRUE(db_->Commit(&unit).ok());
  }
  Reopen();
  EXPECT_EQ(db_->FindCollection("c")->count(), 13);
}

TEST_F(CollectionStatsTest, ADatabaseWrittenWithoutThemIsCountedOnceWhenItOpens) {
  auto c = Coll("c");
  for (int id = 0; id < 7; ++id) Insert(c.get(), id, "seven");
  ASSERT_TRUE(db_->CreateCollection("empty").ok());
  // The store as a build before statistics left it: no k keys, no format marker.
  WriteClosedStore([](KvBatch* batch) {
    batch->DeleteRange(std::string(1, kStatsPrefix), std::string(1, kStatsPrefix + 1));
    batch->Delete("mcollection_stats");
  });
  Reopen();
  auto counted = db_->FindCollection("c");
  EXPECT_EQ(counted->count(), 7);
  ExpectStoredAsCounted(*counted);
  ExpectStoredAsCounted(*db_->FindCollection("empty"));
  // From then on they are kept.
  Insert(counted.get(), 7, "eight");
  Reopen();
  EXPECT_EQ(db_->FindCollection("c")->count(), 8);
  ExpectStoredAsCounted(*db_->FindCollection("c"));
}

// Statistics written before they held the records' key bytes (three fields, marker
// \x01) are counted again once, then kept with the key bytes.
TEST_F(CollectionStatsTest, StatisticsWithoutKeyBytesAreCountedAgainWhenTheDatabaseOpens) {
  auto c = Coll("c");
  for (int id = 0; id < 4; ++id) Insert(c.get(), id, "four");
  CollectionStats before = Counted(*c);
  ASSERT_GT(before.key_bytes, 0);
  const uint32_t id = c->id();
  WriteClosedStore([&](KvBatch* batch) {
    batch->Put(StatsKey(id), EncodeCounters({{Counter::Rule::kSum, before.count}, {Counter::Rule::kSum, before.bytes}}));
    batch->Put("mcollection_stats", std::string(1, '\1'));
  });
  Reopen();
  auto reopened = db_->FindCollection("c");
  ExpectStoredAsCounted(*reopened);
  Insert(reopened.get(), 9, "nine");
  {
    WriteUnit unit(db_.get());
    ASSERT_TRUE(unit.DeleteRecord(reopened.get(), Key(*reopened, 0), Doc(0, "four")).ok());
    ASSERT_TRUE(db_->Commit(&unit).ok());
  }
  Reopen();
  ExpectStoredAsCounted(*db_->FindCollection("c"));
}

TEST_F(CollectionStatsTest, ARepairCountsTheRecordsAgain) {
  auto c = Coll("c");
  for (int id = 0; id < 6; ++id) Insert(c.get(), id, "six");
  std::string lost_from = Key(*c, 4), lost_to = Key(*c, 6);
  // Records lost behind the statistics' back, as a repair loses unreadable files.
  WriteClosedStore([&](KvBatch* batch) { batch->DeleteRange(lost_from, lost_to); });
  {
    auto engine = Engine::Open({.data_dir = dir_});
    ASSERT_TRUE(engine.ok());
    ASSERT_TRUE((*engine)->RepairDatabase("app").ok());
  }
  Reopen();
  EXPECT_EQ(db_->FindCollection("c")->count(), 4);
  ExpectStoredAsCounted(*db_->FindCollection("c"));
}

TEST_F(CollectionStatsTest, TimeSeriesSequencesGoOnPastEveryOneTakenBeforeReopen) {
  bson::Builder ts;
  size_t sub = ts.StartDocument("timeseries");
  ts.AppendString("timeField", "t");
  ts.End(sub);
  ASSERT_TRUE(db_->CreateCollection("ts", std::move(ts).Finish()).ok());
  auto c = db_->FindCollection("ts");
  ASSERT_TRUE(c->timeseries());
  bson::Builder tb;
  tb.AppendInt64("t", 1000);  // any value keys the record alike
  std::string time_doc = std::move(tb).Finish();
  bson::ValueView time = bson::DocView(time_doc).begin()->value;
  std::vector<std::string> keys;
  for (int i = 0; i < 3; ++i) {
    WriteUnit unit(db_.get());
    keys.push_back(TimeseriesRecordKey(c->id(), time, c->NextSequence()));
    std::string doc = Doc(i, "reading");
    unit.PutRecord(c.get(), keys.back(), doc, RecordWrite::kInsert);
    ASSERT_TRUE(db_->Commit(&unit).ok());
  }
  {
    // The newest record goes: its sequence number must still not be handed out again.
    WriteUnit unit(db_.get());
    ASSERT_TRUE(unit.DeleteRecord(c.get(), keys.back(), Doc(2, "reading")).ok());
    ASSERT_TRUE(db_->Commit(&unit).ok());
  }
  Reopen();
  c = db_->FindCollection("ts");
  EXPECT_EQ(c->count(), 2);
  EXPECT_EQ(c->NextSequence(), 4u);
  ExpectStoredAsCounted(*c);
}

}  // namespace
}  // namespace micromongo::storage
