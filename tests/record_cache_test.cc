// The worker's record cache (--record-cache-mb, storage/record_cache.h) changes speed,
// never an answer: reads after writes, deletes, drops and re-creations, transactions'
// snapshots and concurrent writers see exactly what a worker without a cache shows, with a
// cache too small for the data (evicting all the time), the default one, and none.

#include <atomic>
#include <thread>

#include "test_util.h"

namespace micromongo::record_cache_test {
namespace {

using testing::Ids;
using testing::TempDir;

Document D(std::string_view json) { return Document::FromJson(json); }

class RecordCacheTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    bridge_ = WorkerBridge::Create({.data_dir = dir_.path(), .record_cache_mb = GetParam()});
    client_ = std::make_unique<MongoClient>("mongodb://localhost/cache", ClientOptions{.worker_bridge = bridge_});
    other_ = std::make_unique<MongoClient>("mongodb://localhost/cache", ClientOptions{.worker_bridge = bridge_});
  }
  void TearDown() override {
    client_.reset();
    other_.reset();
    bridge_->Terminate();
  }
  TempDir dir_;
  std::shared_ptr<WorkerBridge> bridge_;
  std::unique_ptr<MongoClient> client_, other_;
};

TEST_P(RecordCacheTest, ReadsSeeEveryWriteDeleteAndDrop) {
  Collection c = client_->Db()["docs"];
  std::vector<Document> docs;
  // About 2 MiB of records: more than the 1 MiB cache holds.
  for (int i = 0; i < 2000; ++i) docs.push_back(Document{{"_id", i}, {"v", 0}, {"pad", std::string(1000, 'p')}});
  c.InsertMany(docs);
  c.CreateIndex(D(R"({"v": 1})"));
  for (int round = 1; round <= 3; ++round) {
    c.UpdateMany(D(R"({"_id": {"$mod": [3, 0]}})"), Document{{"$set", Document{{"v", round}}}});
    c.DeleteMany(D(R"({"_id": {"$mod": [7, 0]}})"));
    for (int i = 0; i < 2000; i += 13) {
      auto found = c.FindOne(Document{{"_id", i}});
      if (i % 7 == 0) {
        EXPECT_FALSE(found.has_value()) << i;
        c.InsertOne(Document{{"_id", i}, {"v", -round}, {"pad", "back"}});
        EXPECT_EQ(c.FindOne(Document{{"_id", i}})->GetInt32("v"), -round) << i;
      } else {
        ASSERT_TRUE(found.has_value()) << i;
        EXPECT_EQ(found->GetInt32("v"), i % 3 == 0 ? round : 0) << i;
      }
    }
    // Through the index (a FETCH of scattered records) and a scan alike.
    EXPECT_EQ(c.CountDocuments(Document{{"v", round}}), c.CountDocuments(Document{{"v", round}},
                                                                         {.hint = Hint(D(R"({"$natural": 1})"))}));
    std::set<int> by_index = Ids(c.Find(Document{{"v", round}}));
    std::set<int> by_scan = Ids(c.Find(Document{{"v", round}}, {.hint = Hint(D(R"({"$natural": 1})"))}));
    EXPECT_EQ(by_index, by_scan);
  }
  // Dropped and created again with the same _ids: none of the old records is served.
  c.Drop();
  c.InsertOne(D(R"({"_id": 3, "v": "new"})"));
  EXPECT_EQ(c.FindOne(D(R"({"_id": 3})"))->GetString("v"), "new");
  EXPECT_FALSE(c.FindOne(D(R"({"_id": 6})")).has_value());
  client_->Db().Drop();
  EXPECT_FALSE(client_->Db()["docs"].FindOne(D(R"({"_id": 3})")).has_value());
}

TEST_P(RecordCacheTest, ATransactionKeepsReadingItsSnapshot) {
  Collection c = client_->Db()["accounts"];
  Collection o = other_->Db()["accounts"];
  c.InsertOne(D(R"({"_id": 1, "balance": 100})"));
  ClientSession session = client_->StartSession();
  session.StartTransaction();
  EXPECT_EQ(c.FindOne(D(R"({"_id": 1})"), {.session = &session})->GetInt32("balance"), 100);
  for (int i = 1; i <= 3; ++i) {
    o.UpdateOne(D(R"({"_id": 1})"), D(R"({"$inc": {"balance": 1}})"));
    EXPECT_EQ(o.FindOne(D(R"({"_id": 1})"))->GetInt32("balance"), 100 + i);  // fills the cache
    EXPECT_EQ(c.FindOne(D(R"({"_id": 1})"), {.session = &session})->GetInt32("balance"), 100);
  }
  session.AbortTransaction();
  EXPECT_EQ(c.FindOne(D(R"({"_id": 1})"))->GetInt32("balance"), 103);
}

// Threads increment their own documents and read each back at once; another thread reads
// all of them through an index, and no counter may ever go back.
TEST_P(RecordCacheTest, ConcurrentWritersReadTheirWritesAndNothingGoesBack) {
  Collection c = client_->Db()["counters"];
  constexpr int kThreads = 3, kDocs = 60, kRounds = 150;
  std::vector<Document> docs;
  for (int i = 0; i < kDocs; ++i) docs.push_back(Document{{"_id", i}, {"n", 0}, {"g", 1}});
  c.InsertMany(docs);
  c.CreateIndex(D(R"({"g": 1})"));
  std::atomic<int> done{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      MongoClient mine("mongodb://localhost/cache", ClientOptions{.worker_bridge = bridge_});
      Collection coll = mine.Db()["counters"];
      for (int r = 1; r <= kRounds && !failed; ++r) {
        int id = t + kThreads * (r % (kDocs / kThreads));
        int before = coll.FindOne(Document{{"_id", id}})->GetInt32("n");
        coll.UpdateOne(Document{{"_id", id}}, D(R"({"$inc": {"n": 1}})"));
        int after = coll.FindOne(Document{{"_id", id}})->GetInt32("n");
        if (after != before + 1) {
          ADD_FAILURE() << "doc " << id << ": " << before << " then " << after;
          failed = true;
        }
      }
      ++done;
    });
  }
  threads.emplace_back([&] {
    MongoClient reader("mongodb://localhost/cache", ClientOptions{.worker_bridge = bridge_});
    Collection coll = reader.Db()["counters"];
    std::vector<int> seen(kDocs, 0);
    while (done < kThreads && !failed) {
      for (const Document& d : coll.Find(D(R"({"g": 1})"))) {
        int id = d.GetInt32("_id"), n = d.GetInt32("n");
        if (n < seen[id]) {
          ADD_FAILURE() << "doc " << id << " went back from " << seen[id] << " to " << n;
          failed = true;
        }
        seen[id] = n;
      }
    }
  });
  for (auto& th : threads) th.join();
  EXPECT_FALSE(failed);
  int total = 0;
  for (const Document& d : c.Find({})) total += d.GetInt32("n");
  EXPECT_EQ(total, kThreads * kRounds);
}

INSTANTIATE_TEST_SUITE_P(CacheSizes, RecordCacheTest, ::testing::Values(0, 1, 64),
                         [](const auto& info) { return "mb" + std::to_string(info.param); });

}  // namespace
}  // namespace micromongo::record_cache_test
