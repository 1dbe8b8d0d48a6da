// Time series collections (MongoDB 5.0+), a first slice: created with MongoDB's timeseries
// option (its checks and codes), listed with type "timeseries" and the canonical options,
// documents that need a date in their timeField and may share _ids, reads, updates and
// deletes as on any collection, and expiry by time. Expected values from the manual's
// "Time Series" pages and the collection-management specification tests.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <micromongo/micromongo.h>

#include "test_util.h"

namespace mm = micromongo;
using mm::Document;

namespace {

constexpr char kTimeseriesDb[] = "timeseries";
using TimeseriesCollectionTest = micromongo::testing::WorkerTest<kTimeseriesDb>;
using micromongo::testing::ErrorCodeOf;

using micromongo::testing::CollectionListing;

mm::DateTime At(int64_t millis) { return mm::DateTime{millis}; }

TEST_F(TimeseriesCollectionTest, IsListedWithItsCanonicalOptions) {
  mm::Database db = client_->Db();
  db.CreateCollection("weather", {.expire_after_seconds = 604800,
                                  .timeseries = Document{{"timeField", "time"}, {"metaField", "meta"},
                                                         {"granularity", "minutes"}}});
  Document listed = CollectionListing(db, "weather");
  EXPECT_EQ(listed.GetString("type"), "timeseries");
  EXPECT_EQ(listed.GetDocument("options"),
            (Document{{"expireAfterSeconds", int64_t{604800}},
                      {"timeseries", Document{{"timeField", "time"}, {"metaField", "meta"}, {"granularity", "minutes"},
                                              {"bucketMaxSpanSeconds", 86400}}}}));
  // The default granularity is seconds (buckets of an hour); custom bucketing replaces it.
  db.CreateCollection("plain_ts", {.timeseries = Document{{"timeField", "t"}}});
  EXPECT_EQ(CollectionListing(db, "plain_ts").GetDocument("options"),
            (Document{{"timeseries", Document{{"timeField", "t"}, {"granularity", "seconds"},
                                              {"bucketMaxSpanSeconds", 3600}}}}));
  db.CreateCollection("bucketed", {.timeseries = Document{{"timeField", "time"}, {"bucketMaxSpanSeconds", 3600},
                                                          {"bucketRoundingSeconds", 3600}}});
  EXPECT_EQ(CollectionListing(db, "bucketed").GetDocument("options"),
            (Document{{"timeseries", Document{{"timeField", "time"}, {"bucketRoundingSeconds", 3600},
                                              {"bucketMaxSpanSeconds", 3600}}}}));
  // No _id index; with a metaField, MongoDB 6.3+'s index on the metaField and timeField.
  EXPECT_EQ(db["weather"].ListIndexes(),
            (std::vector<Document>{Document{{"v", 2}, {"key", Document{{"meta", 1}, {"time", 1}}}, {"name", "meta_1_time_1"}}}));
  EXPECT_TRUE(db["plain_ts"].ListIndexes().empty());

  // collMod: the granularity only grows (seconds, minutes, hours), spans never shrink.
  db.ModifyCollection("weather", {.timeseries = Document{{"granularity", "hours"}}});
  EXPECT_EQ(CollectionListing(db, "weather").GetDocument("options").GetDocument("timeseries"),
            (Document{{"timeField", "time"}, {"metaField", "meta"}, {"granularity", "hours"},
                      {"bucketMaxSpanSeconds", 2592000}}));
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection("weather", {.timeseries = Document{{"granularity", "minutes"}}}); }),
            72);
  EXPECT_EQ(ErrorCodeOf([&] {
              db.ModifyCollection("bucketed", {.timeseries = Document{{"bucketMaxSpanSeconds", 60},
                                                                      {"bucketRoundingSeconds", 60}}});
            }),
            72);
  db.ModifyCollection("bucketed", {.timeseries = Document{{"bucketMaxSpanSeconds", 7200}, {"bucketRoundingSeconds", 7200}}});
  EXPECT_EQ(CollectionListing(db, "bucketed").GetDocument("options").GetDocument("timeseries"),
            (Document{{"timeField", "time"}, {"bucketRoundingSeconds", 7200}, {"bucketMaxSpanSeconds", 7200}}));
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection("weather", {.timeseries = Document{{"timeField", "t2"}}}); }), 40415);
  db["plain_coll"].InsertOne(Document{{"_id", 1}});
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection("plain_coll", {.timeseries = Document{{"granularity", "hours"}}}); }),
            72);
}

TEST_F(TimeseriesCollectionTest, CreateErrorsAreMongoDBs) {
  mm::Database db = client_->Db();
  struct Case {
    const char* name;
    Document timeseries;
    int code;
  } cases[] = {
      {"no_time_field", Document{{"metaField", "m"}}, 40414},
      {"dotted_time", Document{{"timeField", "a.b"}}, 72},
      {"dotted_meta", Document{{"timeField", "t"}, {"metaField", "m.x"}}, 72},
      {"meta_is_id", Document{{"timeField", "t"}, {"metaField", "_id"}}, 72},
      {"meta_is_time", Document{{"timeField", "t"}, {"metaField", "t"}}, 72},
      {"bad_granularity", Document{{"timeField", "t"}, {"granularity", "days"}}, 2},
      {"time_not_string", Document{{"timeField", 1}}, 14},
      {"unknown_field", Document{{"timeField", "t"}, {"bucketSize", 5}}, 40415},
      {"span_alone", Document{{"timeField", "t"}, {"bucketMaxSpanSeconds", 60}}, 72},
      {"span_not_rounding", Document{{"timeField", "t"}, {"bucketMaxSpanSeconds", 60}, {"bucketRoundingSeconds", 30}}, 72},
      {"span_and_granularity",
       Document{{"timeField", "t"}, {"granularity", "hours"}, {"bucketMaxSpanSeconds", 60}, {"bucketRoundingSeconds", 60}},
       72},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorCodeOf([&] { db.CreateCollection(c.name, {.timeseries = c.timeseries}); }), c.code) << c.name;
    EXPECT_TRUE(CollectionListing(db, c.name).Has("missing")) << c.name;
  }
  // Options MongoDB does not allow beside timeseries.
  EXPECT_EQ(ErrorCodeOf([&] {
              db.CreateCollection("with_capped", {.capped = true, .capped_size = 4096,
                                                  .timeseries = Document{{"timeField", "t"}}});
            }),
            72);
  EXPECT_EQ(ErrorCodeOf([&] {
              db.CreateCollection("with_validator", {.validator = Document{{"a", 1}},
                                                     .timeseries = Document{{"timeField", "t"}}});
            }),
            72);
}

TEST_F(TimeseriesCollectionTest, DocumentsNeedADateAndMayShareIds) {
  mm::Database db = client_->Db();
  db.CreateCollection("test", {.expire_after_seconds = 604800,
                               .timeseries = Document{{"timeField", "time"}, {"metaField", "meta"},
                                                      {"granularity", "minutes"}}});
  mm::Collection test = db["test"];
  // The specification test "insertMany with duplicate ids".
  test.InsertMany({Document{{"_id", 1}, {"time", At(1552949630482)}}, Document{{"_id", 1}, {"time", At(1552949630483)}}});
  EXPECT_EQ(test.Find({}, {.sort = Document{{"time", 1}}}).ToVector(),
            (std::vector<Document>{Document{{"_id", 1}, {"time", At(1552949630482)}},
                                   Document{{"_id", 1}, {"time", At(1552949630483)}}}));
  // An _id lookup finds both (no unique _id index).
  EXPECT_EQ(test.CountDocuments(Document{{"_id", 1}}), 2);
  EXPECT_EQ(test.Find(Document{{"_id", 1}}).ToVector().size(), 2u);
  // Every document needs a date in its timeField.
  EXPECT_EQ(ErrorCodeOf([&] { test.InsertOne(Document{{"_id", 2}}); }), 2);
  EXPECT_EQ(ErrorCodeOf([&] { test.InsertOne(Document{{"_id", 2}, {"time", "yesterday"}}); }), 2);
  EXPECT_EQ(test.CountDocuments(), 2);
  // Reads, aggregation, updates and deletes work as on any collection.
  test.InsertMany({Document{{"time", At(1552949640000)}, {"meta", Document{{"sensor", 5}}}, {"temp", 12}},
                   Document{{"time", At(1552949650000)}, {"meta", Document{{"sensor", 5}}}, {"temp", 14}},
                   Document{{"time", At(1552949660000)}, {"meta", Document{{"sensor", 6}}}, {"temp", 20}}});
  auto avg = test.Aggregate({Document{{"$match", Document{{"meta.sensor", 5}}}},
                             Document{{"$group", Document{{"_id", "$meta.sensor"}, {"avg", Document{{"$avg", "$temp"}}}}}}})
                 .ToVector();
  ASSERT_EQ(avg.size(), 1u);
  EXPECT_EQ(avg[0].Get("avg"), mm::Value(13.0));
  EXPECT_EQ(test.UpdateMany(Document{{"meta.sensor", 6}}, Document{{"$set", Document{{"checked", true}}}}).modified_count,
            1);
  EXPECT_EQ(test.DeleteMany(Document{{"meta.sensor", 5}}).deleted_count, 2);
  EXPECT_EQ(test.CountDocuments(), 3);
  EXPECT_EQ(test.CountDocuments(Document{{"checked", true}}), 1);
  // The _id index does not exist to hint. Secondary indexes name records by their time
  // key: index scans find the documents, duplicates of an _id included.
  EXPECT_EQ(ErrorCodeOf([&] { test.Find({}, {.hint = mm::Hint("_id_")}).ToVector(); }), 2);
  test.CreateIndex(Document{{"temp", 1}});
  test.CreateIndex(Document{{"_id", 1}});  // a secondary index here: there is no _id index
  test.InsertOne(Document{{"_id", 1}, {"time", At(1552949670000)}, {"temp", 30}});
  EXPECT_EQ(test.Find(Document{{"temp", Document{{"$gte", 20}}}}, {.sort = Document{{"temp", 1}}, .hint = mm::Hint("temp_1")})
                .ToVector()
                .size(),
            2u);
  EXPECT_EQ(test.CountDocuments(Document{{"_id", 1}}, {.hint = mm::Hint("_id_1")}), 3);
  test.DeleteOne(Document{{"temp", 30}});
  EXPECT_EQ(test.CountDocuments(Document{{"temp", 30}}, {.hint = mm::Hint("temp_1")}), 0);
  // MongoDB's restrictions.
  EXPECT_EQ(ErrorCodeOf([&] { test.CreateIndex(Document{{"temp", -1}}, {.unique = true}); }), 72);
  EXPECT_EQ(ErrorCodeOf([&] { test.CreateIndex(Document{{"note", "text"}}); }), 72);
  Document validation = test.Validate();
  EXPECT_TRUE(validation.GetBool("valid")) << validation.ToJson();
}

// $out with MongoDB 7.0.3+'s timeseries option, the cases of MongoDB's
// jstests/core/timeseries/timeseries_out_non_sharded.js: a new target becomes a time series
// collection; an existing one keeps its options and indexes (with or without the option),
// and the option must agree with them; a plain collection or a view of that name refuses it.
// $merge never writes a time series collection.
TEST_F(TimeseriesCollectionTest, OutWritesTimeSeriesCollections) {
  mm::Database db = client_->Db();
  mm::Collection source = db["out_source"];
  source.InsertMany({Document{{"_id", 1}, {"time", At(1000)}, {"tags", "a"}, {"v", 1}},
                     Document{{"_id", 2}, {"time", At(2000)}, {"tags", "b"}, {"v", 2}},
                     Document{{"_id", 3}, {"time", At(3000)}, {"tags", "a"}, {"v", 3}}});
  auto out = [&](Document spec, std::vector<Document> before = {}) {
    before.push_back(Document{{"$out", std::move(spec)}});
    source.Aggregate(before).ToVector();
  };
  Document time_and_tags{{"timeField", "time"}, {"metaField", "tags"}};
  out(Document{{"db", "timeseries"}, {"coll", "out_time"}, {"timeseries", time_and_tags}});
  Document listed = CollectionListing(db, "out_time");
  EXPECT_EQ(listed.GetString("type"), "timeseries");
  EXPECT_EQ(listed.GetDocument("options").GetDocument("timeseries"),
            (Document{{"timeField", "time"}, {"metaField", "tags"}, {"granularity", "seconds"},
                      {"bucketMaxSpanSeconds", 3600}}));
  EXPECT_EQ(db["out_time"].CountDocuments(), 3);
  // The index a new time series collection with a metaField gets.
  EXPECT_EQ(db["out_time"].ListIndexes(),
            (std::vector<Document>{Document{{"v", 2}, {"key", Document{{"tags", 1}, {"time", 1}}}, {"name", "tags_1_time_1"}}}));

  // Replacing an existing time series collection without the option keeps its options
  // (changed by collMod) and its indexes.
  db.ModifyCollection("out_time", {.expire_after_seconds = 360});
  db["out_time"].CreateIndex(Document{{"v", 1}});
  out(Document{{"db", "timeseries"}, {"coll", "out_time"}}, {Document{{"$match", Document{{"tags", "a"}}}}});
  listed = CollectionListing(db, "out_time");
  EXPECT_EQ(listed.GetString("type"), "timeseries");
  EXPECT_EQ(listed.GetDocument("options").Get("expireAfterSeconds"), mm::Value(int64_t{360}));
  EXPECT_EQ(db["out_time"].ListIndexes().size(), 2u);
  EXPECT_EQ(db["out_time"].CountDocuments(), 2);
  // ... and with an agreeing option; every document gets the new time.
  out(Document{{"db", "timeseries"}, {"coll", "out_time"}, {"timeseries", time_and_tags}},
      {Document{{"$set", Document{{"time", At(938661840000)}}}}});
  EXPECT_EQ(db["out_time"].CountDocuments(Document{{"time", At(938661840000)}}), 3);
  EXPECT_EQ(db["out_time"].ListIndexes().size(), 2u);

  // Another database, created by the $out.
  out(Document{{"db", "outDifferentDB"}, {"coll", "out_time"}, {"timeseries", Document{{"timeField", "time"}}}});
  EXPECT_EQ(client_->Db("outDifferentDB")["out_time"].CountDocuments(), 3);
  client_->Db("outDifferentDB").Drop();

  // Errors, each leaving the target as it was.
  auto code = [&](Document spec, std::vector<Document> before = {}) {
    return ErrorCodeOf([&] { out(std::move(spec), std::move(before)); });
  };
  source.Aggregate({Document{{"$out", "plain_out"}}}).ToVector();
  EXPECT_EQ(code(Document{{"db", "timeseries"}, {"coll", "plain_out"}, {"timeseries", Document{{"timeField", "time"}}}}),
            7268700);
  EXPECT_EQ(code(Document{{"db", "timeseries"}, {"coll", "out_time"},
                          {"timeseries", Document{{"timeField", "time"}, {"invalidField", "invalid"}}}}),
            40415);
  for (const Document& changed :
       {Document{{"timeField", "v"}}, Document{{"timeField", "time"}, {"metaField", "v"}},
        Document{{"timeField", "time"}, {"metaField", "tags"}, {"bucketMaxSpanSeconds", 330}, {"bucketRoundingSeconds", 330}},
        Document{{"timeField", "time"}, {"metaField", "tags"}, {"granularity", "minutes"}}}) {
    EXPECT_EQ(code(Document{{"db", "timeseries"}, {"coll", "out_time"}, {"timeseries", changed}}), 7406103)
        << changed.ToJson();
  }
  db.CreateCollection("view_out", {.view_on = "out_source"});
  EXPECT_EQ(code(Document{{"db", "timeseries"}, {"coll", "view_out"}, {"timeseries", Document{{"timeField", "time"}}}}),
            7268703);
  EXPECT_EQ(code(Document{{"db", "timeseries"}, {"coll", "out_time"}, {"timeseries", "time"}}), 14);
  // Documents without a date in the timeField fail the insert; the target keeps its contents.
  EXPECT_EQ(code(Document{{"db", "timeseries"}, {"coll", "out_time"}, {"timeseries", time_and_tags}},
                 {Document{{"$unset", "time"}}}),
            2);
  EXPECT_EQ(db["out_time"].CountDocuments(Document{{"time", At(938661840000)}}), 3);
  EXPECT_EQ(CollectionListing(db, "plain_out").GetString("type"), "collection");
  EXPECT_EQ(ErrorCodeOf([&] {
              source.Aggregate({Document{{"$merge", Document{{"into", "out_time"}}}}}).ToVector();
            }),
            166);
  EXPECT_EQ(db["out_time"].CountDocuments(), 3);
}

TEST(TimeseriesTtlTest, DocumentsExpireByTheirTime) {
  micromongo::testing::TempDir dir;
  auto bridge = mm::WorkerBridge::Create(
      {.data_dir = dir.path(), .server_parameters = {{"ttlMonitorSleepSecs", "1"}}});
  mm::MongoClient client("mongodb://localhost/timeseries_ttl", {.worker_bridge = bridge});
  mm::Database db = client.Db();
  db.CreateCollection("readings", {.expire_after_seconds = 86400, .timeseries = Document{{"timeField", "at"}}});
  mm::Collection readings = db["readings"];
  int64_t now = mm::DateTime::Now().millis;
  readings.InsertMany({Document{{"_id", 1}, {"at", At(now - 2 * 86400 * 1000LL)}},
                       Document{{"_id", 2}, {"at", At(now - 3600 * 1000)}}});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (readings.CountDocuments() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(micromongo::testing::IdsInOrder(readings.Find()), (std::vector<int>{2}));
  bridge->Terminate();
}

}  // namespace
