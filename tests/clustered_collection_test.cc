// Clustered collections (MongoDB 5.3+): created with clusteredIndex {key: {_id: 1},
// unique: true}, listed with it, and expiring documents by their _id date when they have
// expireAfterSeconds. micro-mongo stores every collection's records in _id order, so the
// clustering itself is the storage's; these tests hold the options, listings, errors and
// TTL to MongoDB's manual ("Clustered Collections").

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
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
  EXPECT_NE(plan.ToJson().find("\"stage\": \"CLUSTERED_IXSCAN\""), std::string::npos) << plan.ToJson();
  EXPECT_EQ(ErrorCodeOf([&] { stocks.Find(by_key, {.hint = mm::Hint("_id_")}).ToVector(); }), 2);
  // Secondary indexes work as on any collection; the clustered index cannot be dropped.
  stocks.CreateIndex(Document{{"p", 1}});
  EXPECT_EQ(stocks.CountDocuments(Document{{"p", 1}}), 1);
  EXPECT_EQ(ErrorCodeOf([&] { stocks.DropIndex("stocks clustered key"); }), 72);
  stocks.DropIndexes();
  EXPECT_EQ(stocks.ListIndexes().size(), 1u);
}

// The first stage named `name` in an explain plan (depth first), or an empty document.
Document PlanStage(const Document& stage, const std::string& name) {
  if (stage.Has("stage") && stage.GetString("stage") == name) return stage;
  if (stage.Has("inputStage")) return PlanStage(stage.GetDocument("inputStage"), name);
  if (stage.Has("inputStages")) {
    for (const mm::Value& child : stage.GetArray("inputStages")) {
      Document found = PlanStage(child.AsDocument(), name);
      if (!found.empty()) return found;
    }
  }
  return {};
}

// MongoDB's bounded scans of a clustered collection (its jstests' clustered collection
// bounded scan cases): _ids 0..99 (a: -_id), null and "foo"; a query on _id scans the
// records from minRecord to maxRecord within the type of its values (NaN starts the
// numbers, Infinity ends them), shown as one CLUSTERED_IXSCAN stage with the filter.
TEST_F(ClusteredCollectionTest, IdQueriesExplainAsBoundedClusteredScans) {
  mm::Database db = client_->Db();
  db.CreateCollection("bounded", {.clustered_index = ClusteredById()});
  mm::Collection coll = db["bounded"];
  std::vector<Document> docs;
  for (int i = 0; i < 100; ++i) docs.push_back(Document{{"_id", i}, {"a", -i}});
  docs.push_back(Document{{"_id", nullptr}, {"a", nullptr}});
  docs.push_back(Document{{"_id", "foo"}, {"a", "foo"}});
  coll.InsertMany(docs);
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  struct Case {
    Document filter;
    mm::Value min, max;
    int64_t returned;
  };
  auto id = [](Document cond) { return Document{{"_id", mm::Value(std::move(cond))}}; };
  const std::vector<Case> cases = {
      {Document{{"_id", 5}}, 5, 5, 1},
      {id({{"$lt", 10}}), nan, 10, 10},
      {id({{"$lte", 10}}), nan, 10, 11},
      {id({{"$gt", 89}}), 89, inf, 10},
      {id({{"$gte", 89}}), 89, inf, 11},
      {id({{"$gt", 20}, {"$lt", 40}}), 20, 40, 19},
      {id({{"$gte", 20}, {"$lt", 40}}), 20, 40, 20},
      {id({{"$gt", 20}, {"$lte", 40}}), 20, 40, 20},
      {id({{"$gte", 20}, {"$lte", 40}}), 20, 40, 21},
      {id({{"$in", Array{10, 20, 30}}}), 10, 30, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.filter.ToJson());
    EXPECT_EQ(coll.CountDocuments(c.filter), c.returned);
    EXPECT_EQ(static_cast<int64_t>(coll.Find(c.filter).ToVector().size()), c.returned);
    Document plan = coll.Explain().Find(c.filter).GetDocument("queryPlanner").GetDocument("winningPlan");
    Document scan = PlanStage(plan, "CLUSTERED_IXSCAN");
    ASSERT_FALSE(scan.empty()) << plan.ToJson();
    EXPECT_FALSE(scan.Has("inputStage")) << plan.ToJson();
    EXPECT_EQ(scan.GetString("direction"), "forward");
    for (const auto& [field, want] : {std::pair<const char*, mm::Value>{"minRecord", c.min}, {"maxRecord", c.max}}) {
      ASSERT_TRUE(scan.Has(field)) << plan.ToJson();
      const mm::Value& got = scan.Get(field);
      if (want.type() == mm::BsonType::kDouble && std::isnan(want.AsDouble())) {
        EXPECT_TRUE(got.type() == mm::BsonType::kDouble && std::isnan(got.AsDouble())) << field << ": " << plan.ToJson();
      } else {
        EXPECT_EQ(got, want) << field << ": " << plan.ToJson();
      }
    }
  }
  // A filter on another field scans every record: a COLLSCAN with no record bounds.
  Document other{{"a", Document{{"$gt", -10}}}};
  EXPECT_EQ(coll.CountDocuments(other), 10);
  Document plan = coll.Explain().Find(other).GetDocument("queryPlanner").GetDocument("winningPlan");
  Document scan = PlanStage(plan, "COLLSCAN");
  ASSERT_FALSE(scan.empty()) << plan.ToJson();
  EXPECT_FALSE(scan.Has("minRecord") || scan.Has("maxRecord")) << plan.ToJson();
  EXPECT_TRUE(PlanStage(plan, "CLUSTERED_IXSCAN").empty()) << plan.ToJson();
  // A collection that is not clustered keeps MongoDB's _id plans: IDHACK, IXSCAN of _id_.
  mm::Collection plain = db["bounded_plain"];
  plain.InsertMany(docs);
  Document by_id = plain.Explain().Find(Document{{"_id", 5}}).GetDocument("queryPlanner").GetDocument("winningPlan");
  EXPECT_FALSE(PlanStage(by_id, "IDHACK").empty()) << by_id.ToJson();
  Document range = plain.Explain().Find(id({{"$gt", 89}})).GetDocument("queryPlanner").GetDocument("winningPlan");
  EXPECT_FALSE(PlanStage(range, "IXSCAN").empty()) << range.ToJson();
  EXPECT_TRUE(PlanStage(range, "CLUSTERED_IXSCAN").empty()) << range.ToJson();
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
