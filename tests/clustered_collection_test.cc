// Clustered collections (MongoDB 5.3+): created with clusteredIndex {key: {_id: 1},
// unique: true}, listed with it, and expiring documents by their _id date when they have
// expireAfterSeconds. micro-mongo stores every collection's records in _id order, so the
// clustering itself is the storage's; these tests hold the options, listings, errors and
// TTL to MongoDB's manual ("Clustered Collections").

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <micromongo/micromongo.h>

#include "test_util.h"

namespace mm = micromongo;
using mm::Array;
using mm::Document;

namespace {

constexpr char kClusteredDb[] = "clustered";
using ClusteredCollectionTest = micromongo::testing::WorkerTest<kClusteredDb>;
using micromongo::testing::ErrorCodeOf;

Document ClusteredById(const char* name = nullptr) {
  Document spec{{"key", Document{{"_id", 1}}}, {"unique", true}};
  if (name != nullptr) spec.Append("name", name);
  return spec;
}

TEST_F(ClusteredCollectionTest, IsListedWithItsClusteredIndexAndKeepsIdOrderAndUniqueness) {
  mm::Database db = client_->Db();
  db.CreateCollection("stocks", {.clustered_index = ClusteredById("stocks clustered key")});
  Document listed;
  for (const Document& c : db.ListCollections()) {
    if (c.GetString("name") == "stocks") listed = c;
  }
  Document expected_spec{{"v", 2}, {"key", Document{{"_id", 1}}}, {"name", "stocks clustered key"}, {"unique", true}};
  EXPECT_EQ(listed.GetDocument("options").GetDocument("clusteredIndex"), expected_spec) << listed.ToJson();
  mm::Collection stocks = db["stocks"];
  std::vector<Document> indexes = stocks.ListIndexes();
  ASSERT_EQ(indexes.size(), 1u);
  Document clustered = expected_spec;
  clustered.Append("clustered", true);
  EXPECT_EQ(indexes[0], clustered);
  // The default name is _id_.
  db.CreateCollection("plain", {.clustered_index = ClusteredById()});
  EXPECT_EQ(db["plain"].ListIndexes()[0].GetString("name"), "_id_");

  stocks.InsertMany({Document{{"_id", 3}, {"p", 1}}, Document{{"_id", "b"}}, Document{{"_id", 1}},
                     Document{{"_id", 2}}, Document{{"_id", "a"}}});
  // Records in _id order (BSON order: numbers before strings), whatever the insert order.
  std::vector<mm::Value> order;
  for (const Document& d : stocks.Find({}, {.hint = mm::Hint(Document{{"$natural", 1}})})) order.push_back(d.Get("_id"));
  EXPECT_EQ(order, (std::vector<mm::Value>{1, 2, 3, "a", "b"}));
  EXPECT_EQ(ErrorCodeOf([&] { stocks.InsertOne(Document{{"_id", 3}}); }), 11000);
  // The clustered index is hinted by its name; there is no index named _id_.
  Document by_key{{"_id", Document{{"$gte", 2}}}};
  EXPECT_EQ(stocks.CountDocuments(by_key, {.hint = mm::Hint("stocks clustered key")}), 2);
  Document plan = stocks.Explain().Find(by_key, {.hint = mm::Hint("stocks clustered key")});
  EXPECT_NE(plan.ToJson().find("\"indexName\": \"stocks clustered key\""), std::string::npos) << plan.ToJson();
  EXPECT_EQ(ErrorCodeOf([&] { stocks.Find(by_key, {.hint = mm::Hint("_id_")}).ToVector(); }), 2);
  // Secondary indexes work as on any collection; the clustered index cannot be dropped.
  stocks.CreateIndex(Document{{"p", 1}});
  EXPECT_EQ(stocks.CountDocuments(Document{{"p", 1}}), 1);
  EXPECT_EQ(ErrorCodeOf([&] { stocks.DropIndex("stocks clustered key"); }), 72);
  stocks.DropIndexes();
  EXPECT_EQ(stocks.ListIndexes().size(), 1u);
}

TEST_F(ClusteredCollectionTest, BadOptionsFailWithMongoDBsCodesAndCreateNothing) {
  mm::Database db = client_->Db();
  struct Case {
    const char* what;
    mm::CollectionOptions options;
    int code;
  };
  const Case cases[] = {
      {"unique false", {.clustered_index = Document{{"key", Document{{"_id", 1}}}, {"unique", false}}}, 5979700},
      {"unique missing", {.clustered_index = Document{{"key", Document{{"_id", 1}}}}}, 40414},
      {"another key", {.clustered_index = Document{{"key", Document{{"a", 1}}}, {"unique", true}}}, 197},
      {"a descending key", {.clustered_index = Document{{"key", Document{{"_id", -1}}}, {"unique", true}}}, 197},
      {"a compound key",
       {.clustered_index = Document{{"key", Document{{"_id", 1}, {"a", 1}}}, {"unique", true}}},
       197},
      {"version 1", {.clustered_index = Document{{"key", Document{{"_id", 1}}}, {"unique", true}, {"v", 1}}}, 5979704},
      {"an unknown field", {.clustered_index = Document{{"key", Document{{"_id", 1}}}, {"unique", true}, {"x", 1}}},
       40415},
      {"expireAfterSeconds without clustering", {.expire_after_seconds = 60}, 72},
      {"a negative expiry", {.clustered_index = ClusteredById(), .expire_after_seconds = -1}, 72},
      {"a clustered view", {.view_on = "x", .clustered_index = ClusteredById()}, 72},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorCodeOf([&] { db.CreateCollection("bad", c.options); }), c.code) << c.what;
  }
  for (const Document& c : db.ListCollections()) EXPECT_NE(c.GetString("name"), "bad");
  // collMod cannot cluster a collection, nor give an unclustered one an expiry.
  db.CreateCollection("unclustered");
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection("unclustered", {.clustered_index = ClusteredById()}); }), 72);
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection("unclustered", {.expire_after_seconds = 5}); }), 72);
}

// The manual: with expireAfterSeconds, documents whose _id is a date older than the expiry
// are deleted; other _ids never expire; collMod changes the expiry.
TEST(ClusteredTtlTest, DocumentsExpireByTheirIdDate) {
  micromongo::testing::TempDir dir;
  auto bridge = mm::WorkerBridge::Create(
      {.data_dir = dir.path(), .server_parameters = {{"ttlMonitorSleepSecs", "1"}}});
  mm::MongoClient client("mongodb://localhost/clustered_ttl", {.worker_bridge = bridge});
  mm::Database db = client.Db();
  db.CreateCollection("events", {.clustered_index = ClusteredById(), .expire_after_seconds = 2 * 86400});
  mm::Collection events = db["events"];
  int64_t now = mm::DateTime::Now().millis;
  mm::DateTime long_ago{now - 3 * 86400 * 1000LL}, an_hour_ago{now - 3600 * 1000}, tomorrow{now + 86400 * 1000};
  events.InsertMany({Document{{"_id", long_ago}}, Document{{"_id", an_hour_ago}}, Document{{"_id", tomorrow}},
                     Document{{"_id", 5}}, Document{{"_id", "yesterday"}}});
  Document listed;
  for (const Document& c : db.ListCollections()) listed = c;
  EXPECT_EQ(listed.GetDocument("options").GetInt64("expireAfterSeconds"), 2 * 86400);
  auto wait_for = [&](int64_t count) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (events.CountDocuments() > count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  wait_for(4);
  EXPECT_EQ(events.CountDocuments(), 4);
  EXPECT_EQ(events.CountDocuments(Document{{"_id", long_ago}}), 0);
  db.ModifyCollection("events", {.expire_after_seconds = 60});
  wait_for(3);
  EXPECT_EQ(events.CountDocuments(), 3);
  EXPECT_EQ(events.CountDocuments(Document{{"_id", an_hour_ago}}), 0);
  EXPECT_EQ(events.CountDocuments(Document{{"_id", tomorrow}}), 1);
  EXPECT_EQ(events.CountDocuments(Document{{"_id", 5}}), 1);
  bridge->Terminate();
}

}  // namespace
