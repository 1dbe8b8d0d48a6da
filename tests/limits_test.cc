// Limits a busy worker meets, each answered as MongoDB answers it while the worker keeps
// serving: many collections, a collection's 64 indexes, cursors of 100k documents, inserts
// larger than one message, and requests past the message limit.

#include <gtest/gtest.h>
#include <micromongo/micromongo.h>

#include "test_util.h"

namespace mm = micromongo;
using mm::Document;

namespace {

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = mm::WorkerBridge::Create({.data_dir = dir_.path()});
    client_ = std::make_unique<mm::MongoClient>("mongodb://localhost/limits",
                                                mm::ClientOptions{.worker_bridge = bridge_});
  }
  mm::Database Db() { return client_->Db(); }

  mm::testing::TempDir dir_;
  std::shared_ptr<mm::WorkerBridge> bridge_;
  std::unique_ptr<mm::MongoClient> client_;
};

TEST_F(LimitsTest, AThousandCollections) {
  mm::Database db = Db();
  for (int i = 0; i < 1000; ++i) {
    db["c" + std::to_string(i)].InsertOne(Document{{"_id", i}});
  }
  EXPECT_EQ(db.ListCollectionNames().size(), 1000u);
  EXPECT_EQ(db["c999"].FindOne(Document{})->Get("_id").AsInt32(), 999);
  db.Drop();
  EXPECT_TRUE(db.ListCollectionNames().empty());
}

TEST_F(LimitsTest, SixtyFourIndexes) {
  auto coll = Db()["indexed"];
  coll.InsertOne(Document{{"i0", 1}});
  for (int i = 0; i < 63; ++i) coll.CreateIndex(Document{{"i" + std::to_string(i), 1}});
  EXPECT_EQ(coll.ListIndexes().size(), 64u);
  EXPECT_EQ(mm::testing::ErrorCodeOf([&] { coll.CreateIndex(Document{{"i63", 1}}); }), 67);
  EXPECT_EQ(coll.ListIndexes().size(), 64u);
  coll.InsertOne(Document{{"i62", 2}});  // all 64 indexes maintained
  EXPECT_EQ(coll.CountDocuments(Document{{"i62", 2}}, {.hint = mm::Hint("i62_1")}), 1);
}

TEST_F(LimitsTest, CursorOfAHundredThousandDocuments) {
  auto coll = Db()["many"];
  std::vector<Document> docs;
  for (int i = 0; i < 100000; ++i) docs.push_back(Document{{"_id", i}, {"v", i % 7}});
  EXPECT_EQ(coll.InsertMany(docs).inserted_count, 100000);
  int64_t n = 0, sum = 0;
  for (const Document& d : coll.Find(Document{}, {.sort = Document{{"_id", 1}}})) {
    EXPECT_EQ(d.Get("_id").AsInt32(), n);
    sum += d.Get("v").AsInt32();
    ++n;
  }
  EXPECT_EQ(n, 100000);
  int64_t expected = 0;
  for (int i = 0; i < 100000; ++i) expected += i % 7;
  EXPECT_EQ(sum, expected);
  // More than maxWriteBatchSize at once: split in two requests, as drivers do.
  std::vector<Document> more;
  for (int i = 0; i < 100001; ++i) more.push_back(Document{{"_id", 200000 + i}});
  auto result = coll.InsertMany(more);
  EXPECT_EQ(result.inserted_count, 100001);
  EXPECT_EQ(result.inserted_ids.size(), 100001u);
  EXPECT_EQ(coll.EstimatedDocumentCount(), 200001);
}

TEST_F(LimitsTest, InsertsLargerThanAMessageAndRequestsPastTheLimit) {
  auto coll = Db()["big"];
  // 70 documents of 1 MiB: past one message (48 MB), inserted in several requests.
  std::string mib(1 << 20, 'x');
  std::vector<Document> docs;
  for (int i = 0; i < 70; ++i) docs.push_back(Document{{"_id", i}, {"s", mib}});
  EXPECT_EQ(coll.InsertMany(docs).inserted_count, 70);
  EXPECT_EQ(coll.CountDocuments(), 70);
  // Ordered: a duplicate in the second request stops there; indexes count from the start.
  std::vector<Document> dup;
  for (int i = 0; i < 60; ++i) dup.push_back(Document{{"_id", 100 + i}, {"s", mib}});
  dup[55] = Document{{"_id", 3}, {"s", mib}};
  try {
    coll.InsertMany(dup);
    ADD_FAILURE() << "no error";
  } catch (const mm::BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 1u);
    EXPECT_EQ(e.write_errors()[0].index, 55);
    EXPECT_EQ(e.write_errors()[0].code, 11000);
    EXPECT_EQ(e.result().inserted_count, 55);
  }
  EXPECT_EQ(coll.CountDocuments(), 125);
  // One request past the 64 MiB message limit: BSONObjectTooLarge, nothing changes.
  mm::Array values;
  for (int i = 0; i < 70; ++i) values.push_back(mib);
  EXPECT_EQ(mm::testing::ErrorCodeOf([&] {
              coll.CountDocuments(Document{{"s", Document{{"$in", values}}}});
            }),
            10334);
  EXPECT_EQ(coll.CountDocuments(), 125);
}

}  // namespace
