// The aggregation framework end to end, through a real worker and the public API:
// Collection::Aggregate and Database::Aggregate, joins across collections and databases,
// the writing stages, streaming, access paths (explain), spilling, and the statistics
// stages. (Each stage's semantics are unit-tested in server/pipeline/stages_test.cc.)

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <micromongo/micromongo.h>

#include "test_util.h"

namespace mm = micromongo;
using mm::Array;
using mm::Document;

namespace {

constexpr char kAggDb[] = "agg";
using AggregationTest = micromongo::testing::WorkerTest<kAggDb>;

using micromongo::testing::ErrorCodeOf;

std::vector<std::string> Json(const std::vector<Document>& docs) {
  std::vector<std::string> out;
  for (const Document& d : docs) out.push_back(d.ToJson());
  return out;
}

TEST_F(AggregationTest, GroupSortAndExpressions) {
  coll_->InsertMany({Document{{"_id", 1}, {"city", "Oslo"}, {"n", 3}}, Document{{"_id", 2}, {"city", "Lima"}, {"n", 4}},
                     Document{{"_id", 3}, {"city", "Oslo"}, {"n", 5}}});
  auto out = coll_->Aggregate({Document{{"$group", Document{{"_id", "$city"}, {"total", Document{{"$sum", "$n"}}},
                                                            {"avg", Document{{"$avg", "$n"}}}}}},
                               Document{{"$sort", Document{{"_id", 1}}}}})
                 .ToVector();
  EXPECT_EQ(Json(out), (std::vector<std::string>{Document{{"_id", "Lima"}, {"total", 4}, {"avg", 4.0}}.ToJson(),
                                                 Document{{"_id", "Oslo"}, {"total", 8}, {"avg", 4.0}}.ToJson()}));
  // Command let variables reach expressions in every stage.
  auto big = coll_->Aggregate({Document{{"$match", Document{{"$expr", Document{{"$gt", Array{"$n", "$$min"}}}}}}},
                               Document{{"$project", Document{{"_id", 1}, {"over", Document{{"$subtract", Array{"$n", "$$min"}}}}}}}},
                              {.let = Document{{"min", 3}}})
                 .ToVector();
  EXPECT_EQ(Json(big), (std::vector<std::string>{Document{{"_id", 2}, {"over", 1}}.ToJson(),
                                                 Document{{"_id", 3}, {"over", 2}}.ToJson()}));
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Aggregate({Document{{"$group", Document{{"n", Document{{"$sum", 1}}}}}}}).ToVector(); }),
            15955);
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Aggregate({Document{{"$bogus", 1}}}).ToVector(); }), 40324);
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Aggregate({Document{{"$match", Document{{"$expr", Document{{"$nope", 1}}}}}}}).ToVector(); }),
            168);  // InvalidPipelineOperator
  // In a projection an unknown operator is an unknown expression (MongoDB's projection parser).
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Aggregate({Document{{"$project", Document{{"x", Document{{"$nope", 1}}}}}}}).ToVector(); }),
            31325);
}

TEST_F(AggregationTest, DatabaseLevelDocuments) {
  mm::Database db = client_->Db();
  auto out = db.Aggregate({Document{{"$documents", Array{Document{{"x", 10}}, Document{{"x", 2}}, Document{{"x", 5}}}}},
                           Document{{"$bucketAuto", Document{{"groupBy", "$x"}, {"buckets", 4}}}}})
                 .ToVector();
  EXPECT_EQ(Json(out), (std::vector<std::string>{
                           Document{{"_id", Document{{"min", 2}, {"max", 5}}}, {"count", 1}}.ToJson(),
                           Document{{"_id", Document{{"min", 5}, {"max", 10}}}, {"count", 1}}.ToJson(),
                           Document{{"_id", Document{{"min", 10}, {"max", 10}}}, {"count", 1}}.ToJson()}));
  EXPECT_EQ(ErrorCodeOf([&] { db.Aggregate({Document{{"$match", Document{}}}}).ToVector(); }), 73);
}

// A $lookup into another collection, through its index and without one, and into another
// database.
TEST_F(AggregationTest, LookupAcrossCollectionsAndDatabases) {
  mm::Database db = client_->Db();
  mm::Collection customers = db["lookup_customers"];
  mm::Collection plain = db["lookup_customers_plain"];
  mm::Collection other = client_->Db("agg_other")["customers"];
  for (mm::Collection* c : {&customers, &plain, &other}) {
    c->InsertMany({Document{{"cid", 1}, {"name", "Ann"}}, Document{{"cid", 2}, {"name", "Bo"}}});
  }
  customers.CreateIndex(Document{{"cid", 1}}, {.unique = true});
  coll_->InsertMany({Document{{"_id", 1}, {"cid", 2}}, Document{{"_id", 2}, {"cid", 1}}, Document{{"_id", 3}, {"cid", 9}},
                     Document{{"_id", 4}, {"cid", 2}}});
  for (Document from : {Document{{"from", "lookup_customers"}}, Document{{"from", "lookup_customers_plain"}},
                        Document{{"from", Document{{"db", "agg_other"}, {"coll", "customers"}}}}}) {
    Document spec = from;
    spec.Append("localField", "cid");
    spec.Append("foreignField", "cid");
    spec.Append("as", "c");
    auto out = coll_->Aggregate({Document{{"$lookup", spec}},
                                 Document{{"$project", Document{{"names", "$c.name"}}}}})
                   .ToVector();
    EXPECT_EQ(Json(out), (std::vector<std::string>{
                             Document{{"_id", 1}, {"names", Array{"Bo"}}}.ToJson(), Document{{"_id", 2}, {"names", Array{"Ann"}}}.ToJson(),
                             Document{{"_id", 3}, {"names", Array{}}}.ToJson(), Document{{"_id", 4}, {"names", Array{"Bo"}}}.ToJson()}))
        << from.ToJson();
  }
}

// Joins read views through the view's pipeline.
TEST_F(AggregationTest, JoinsThroughViews) {
  mm::Database db = client_->Db();
  coll_->InsertMany({Document{{"_id", 1}, {"name", "Dev"}}, Document{{"_id", 2}, {"name", "Eliot"}, {"boss", "Dev"}},
                     Document{{"_id", 3}, {"name", "Ron"}, {"boss", "Eliot"}, {"left", true}},
                     Document{{"_id", 4}, {"name", "Asya"}, {"boss", "Ron"}}});
  db.CreateCollection("staff_view", {.view_on = coll_->name(),
                                     .pipeline = {Document{{"$match", Document{{"left", Document{{"$ne", true}}}}}}}});
  auto chain = coll_->Aggregate({Document{{"$match", Document{{"_id", 4}}}},
                                 Document{{"$graphLookup", Document{{"from", "staff_view"}, {"startWith", "$boss"},
                                                                    {"connectFromField", "boss"}, {"connectToField", "name"},
                                                                    {"as", "up"}}}},
                                 Document{{"$project", Document{{"n", Document{{"$size", "$up"}}}}}}})
                   .ToVector();
  EXPECT_EQ(Json(chain), (std::vector<std::string>{Document{{"_id", 4}, {"n", 0}}.ToJson()}));  // Ron left
  auto joined = coll_->Aggregate({Document{{"$match", Document{{"_id", 2}}}},
                                  Document{{"$lookup", Document{{"from", "staff_view"}, {"localField", "boss"},
                                                               {"foreignField", "name"}, {"as", "b"}}}},
                                  Document{{"$project", Document{{"b", "$b._id"}}}}})
                    .ToVector();
  EXPECT_EQ(Json(joined), (std::vector<std::string>{Document{{"_id", 2}, {"b", Array{1}}}.ToJson()}));
}

TEST_F(AggregationTest, OutReplacesAndKeepsIndexes) {
  mm::Database db = client_->Db();
  mm::Collection target = db["out_target"];
  target.InsertOne(Document{{"_id", "old"}});
  target.CreateIndex(Document{{"k", 1}}, {.name = "k_1"});
  coll_->InsertMany({Document{{"_id", 1}, {"k", "a"}}, Document{{"_id", 2}, {"k", "b"}}});
  EXPECT_TRUE(coll_->Aggregate({Document{{"$out", "out_target"}}}).ToVector().empty());
  EXPECT_EQ(target.CountDocuments(), 2);
  EXPECT_FALSE(target.FindOne(Document{{"_id", "old"}}).has_value());
  bool has_k = false;
  for (const Document& ix : target.ListIndexes()) has_k = has_k || ix.GetString("name") == "k_1";
  EXPECT_TRUE(has_k);
  // A failing $out (duplicate _id from $project) leaves the target as it was.
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Aggregate({Document{{"$project", Document{{"_id", "same"}}}}, Document{{"$out", "out_target"}}}); }),
            11000);
  EXPECT_EQ(target.CountDocuments(), 2);
  // Into another database.
  coll_->Aggregate({Document{{"$out", Document{{"db", "agg_out_db"}, {"coll", "copy"}}}}});
  EXPECT_EQ(client_->Db("agg_out_db")["copy"].CountDocuments(), 2);
}

TEST_F(AggregationTest, MergeModes) {
  mm::Database db = client_->Db();
  mm::Collection target = db["merge_target"];
  auto reset = [&] {
    target.DeleteMany(Document{});
    target.InsertMany({Document{{"_id", 1}, {"k", "a"}, {"v", 1}, {"keep", true}}, Document{{"_id", 2}, {"k", "b"}, {"v", 2}}});
  };
  coll_->InsertMany({Document{{"_id", 1}, {"k", "a"}, {"v", 10}}, Document{{"_id", 3}, {"k", "c"}, {"v", 30}}});
  auto merge = [&](Document spec) { coll_->Aggregate({Document{{"$merge", spec}}}).ToVector(); };

  reset();
  merge(Document{{"into", "merge_target"}});  // merge + insert
  EXPECT_EQ(target.FindOne(Document{{"_id", 1}})->ToJson(),
            (Document{{"_id", 1}, {"k", "a"}, {"v", 10}, {"keep", true}}.ToJson()));
  EXPECT_EQ(target.CountDocuments(), 3);

  reset();
  merge(Document{{"into", "merge_target"}, {"whenMatched", "replace"}, {"whenNotMatched", "discard"}});
  EXPECT_EQ(target.FindOne(Document{{"_id", 1}})->ToJson(), (Document{{"_id", 1}, {"k", "a"}, {"v", 10}}.ToJson()));
  EXPECT_EQ(target.CountDocuments(), 2);

  reset();
  merge(Document{{"into", "merge_target"}, {"whenMatched", "keepExisting"}});
  EXPECT_EQ(target.FindOne(Document{{"_id", 1}})->GetInt32("v"), 1);

  reset();
  EXPECT_EQ(ErrorCodeOf([&] { merge(Document{{"into", "merge_target"}, {"whenMatched", "fail"}}); }), 11000);
  reset();
  EXPECT_EQ(ErrorCodeOf([&] { merge(Document{{"into", "merge_target"}, {"whenNotMatched", "fail"}}); }), 13113);

  // A pipeline with $$new and let variables.
  reset();
  merge(Document{{"into", "merge_target"},
                 {"let", Document{{"incoming", "$v"}}},
                 {"whenMatched", Array{Document{{"$set", Document{{"v", Document{{"$add", Array{"$v", "$$incoming"}}}},
                                                                  {"was", "$$new.k"}}}}}},
                 {"whenNotMatched", "discard"}});
  EXPECT_EQ(target.FindOne(Document{{"_id", 1}})->ToJson(),
            (Document{{"_id", 1}, {"k", "a"}, {"v", 11}, {"keep", true}, {"was", "a"}}.ToJson()));

  // 'on' other fields needs a unique index on them.
  reset();
  EXPECT_EQ(ErrorCodeOf([&] { merge(Document{{"into", "merge_target"}, {"on", "k"}}); }), 51183);
  target.CreateIndex(Document{{"k", 1}}, {.unique = true});
  coll_->UpdateOne(Document{{"_id", 3}}, Document{{"$set", Document{{"k", "b"}}}});
  merge(Document{{"into", "merge_target"}, {"on", "k"}, {"whenMatched", Array{Document{{"$set", Document{{"v", "$$new.v"}}}}}}});
  EXPECT_EQ(target.FindOne(Document{{"k", "b"}})->ToJson(), (Document{{"_id", 2}, {"k", "b"}, {"v", 30}}.ToJson()));
  // Into another database.
  merge(Document{{"into", Document{{"db", "agg_merge_db"}, {"coll", "t"}}}});
  EXPECT_EQ(client_->Db("agg_merge_db")["t"].CountDocuments(), 2);
}

// Results stream: the first batch comes back before the pipeline reaches a document that
// fails; the error surfaces with the batch that needs it.
TEST_F(AggregationTest, ResultsStream) {
  std::vector<Document> docs;
  for (int i = 0; i < 3000; ++i) docs.push_back(Document{{"_id", i}, {"x", i == 2500 ? mm::Value("bad") : mm::Value(i)}});
  coll_->InsertMany(docs);
  mm::Cursor c = coll_->Aggregate({Document{{"$project", Document{{"y", Document{{"$add", Array{"$x", 1}}}}}}}},
                                  {.batch_size = 10});
  int read = 0;
  int code = 0;
  try {
    for (const Document& d : c) {
      EXPECT_EQ(d.GetInt32("y"), d.GetInt32("_id") + 1);
      ++read;
    }
  } catch (const mm::Error& e) {
    code = e.code();
  }
  EXPECT_GE(read, 10);
  EXPECT_EQ(code, 14);  // $add only supports numeric or date types
}

TEST_F(AggregationTest, ExplainShowsTheAccessPath) {
  coll_->InsertMany({Document{{"_id", 1}, {"k", 1}, {"u", 1}}, Document{{"_id", 2}, {"k", 2}, {"u", 2}}});
  coll_->CreateIndex(Document{{"k", 1}});
  auto plan = [&](Document match) {
    auto out = coll_->Aggregate({Document{{"$match", match}}, Document{{"$group", Document{{"_id", nullptr}}}}},
                                {.explain = true})
                   .ToVector();
    EXPECT_EQ(out.size(), 1u);
    const Document& cursor = out[0].GetArray("stages")[0].AsDocument().GetDocument("$cursor");
    EXPECT_EQ(out[0].GetArray("stages")[1].AsDocument().begin()->first, "$group");
    return cursor.GetDocument("queryPlanner").GetDocument("winningPlan");
  };
  EXPECT_EQ(plan(Document{{"_id", 1}}).GetString("stage"), "IDHACK");
  Document fetch = plan(Document{{"k", 2}});
  EXPECT_EQ(fetch.GetString("stage"), "FETCH");
  const Document& ix = fetch.GetDocument("inputStage");
  EXPECT_EQ(ix.GetString("stage"), "IXSCAN");
  EXPECT_EQ(ix.GetString("indexName"), "k_1");
  EXPECT_EQ(ix.GetDocument("indexBounds").GetArray("k")[0].AsString(), "[2, 2]");
  EXPECT_EQ(plan(Document{{"u", 2}}).GetString("stage"), "COLLSCAN");
}

TEST_F(AggregationTest, CollStatsAndIndexStats) {
  coll_->InsertMany({Document{{"_id", 1}, {"k", 1}}, Document{{"_id", 2}, {"k", 2}}});
  coll_->CreateIndex(Document{{"k", 1}});
  auto stats = coll_->Aggregate({Document{{"$collStats", Document{{"count", Document{}}, {"storageStats", Document{}}}}}})
                   .ToVector();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].GetInt64("count"), 2);
  EXPECT_EQ(stats[0].GetDocument("storageStats").GetInt64("count"), 2);
  EXPECT_EQ(stats[0].GetDocument("storageStats").GetInt32("nindexes"), 2);
  // size: the documents' BSON bytes, as MongoDB's dataSize; kept through every write.
  const Document one{{"_id", 1}, {"k", 1}}, two{{"_id", 2}, {"k", 2}};
  const Document& storage = stats[0].GetDocument("storageStats");
  EXPECT_EQ(storage.GetInt64("size"), static_cast<int64_t>(one.ToBson().size() + two.ToBson().size()));
  EXPECT_EQ(storage.GetInt64("avgObjSize"), static_cast<int64_t>(one.ToBson().size()));
  const int64_t id_index = storage.GetDocument("indexSizes").GetInt64("_id_");
  EXPECT_GT(id_index, 0);
  EXPECT_EQ(storage.GetInt64("totalIndexSize"), id_index + storage.GetDocument("indexSizes").GetInt64("k_1"));
  coll_->UpdateOne(Document{{"_id", 1}}, Document{{"$set", Document{{"s", "grown"}}}});
  coll_->DeleteOne(Document{{"_id", 2}});
  const Document grown{{"_id", 1}, {"k", 1}, {"s", "grown"}};
  Document after = coll_->Aggregate({Document{{"$collStats", Document{{"storageStats", Document{}}}}}})
                       .ToVector()
                       .at(0)
                       .GetDocument("storageStats");
  EXPECT_EQ(after.GetInt64("count"), 1);
  EXPECT_EQ(after.GetInt64("size"), static_cast<int64_t>(grown.ToBson().size()));
  EXPECT_EQ(after.GetDocument("indexSizes").GetInt64("_id_") * 2, id_index);  // keys of one size
  // k_1 (built over both documents, then written to by the update that kept k and the
  // delete): its entries, kept by every write without walking the index, are of one size
  // too.
  const int64_t k_index = storage.GetDocument("indexSizes").GetInt64("k_1");
  EXPECT_GT(k_index, 0);
  EXPECT_EQ(after.GetDocument("indexSizes").GetInt64("k_1") * 2, k_index);
  EXPECT_EQ(after.GetInt64("totalIndexSize"), (id_index + k_index) / 2);
  coll_->Find(Document{{"k", 1}}).ToVector();
  coll_->Find(Document{{"k", 2}}).ToVector();
  auto usage = coll_->Aggregate({Document{{"$indexStats", Document{}}}, Document{{"$match", Document{{"name", "k_1"}}}}})
                   .ToVector();
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_GE(usage[0].GetDocument("accesses").GetInt64("ops"), 2);
  // An update that moves the document to another key keeps the size; {$set: {k: [3, 4]}}
  // (multikey) doubles it; dropping the index removes it.
  auto k_size = [&]() -> std::optional<int64_t> {
    Document sizes = coll_->Aggregate({Document{{"$collStats", Document{{"storageStats", Document{}}}}}})
                         .ToVector()
                         .at(0)
                         .GetDocument("storageStats")
                         .GetDocument("indexSizes");
    const micromongo::Value* k = sizes.Find("k_1");
    if (k == nullptr) return std::nullopt;
    return k->AsInt64();
  };
  coll_->UpdateOne(Document{{"_id", 1}}, Document{{"$set", Document{{"k", 5}}}});
  EXPECT_EQ(k_size(), k_index / 2);
  coll_->UpdateOne(Document{{"_id", 1}}, Document{{"$set", Document{{"k", micromongo::Array{3, 4}}}}});
  EXPECT_EQ(k_size(), k_index);
  coll_->DropIndex("k_1");
  EXPECT_EQ(k_size(), std::nullopt);
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Aggregate({Document{{"$match", Document{}}}, Document{{"$collStats", Document{}}}}); }),
            40602);
}

// Find shares the aggregation's sort and projection semantics (MongoDB 4.4+).
TEST_F(AggregationTest, FindSortAndProjectionSemantics) {
  coll_->InsertMany({Document{{"_id", 1}, {"a", nullptr}}, Document{{"_id", 2}}, Document{{"_id", 3}, {"a", Array{}}},
                     Document{{"_id", 4}, {"a", Document{{"b", 1}, {"c", 2}}}}});
  std::vector<int> ids;
  for (const Document& d : coll_->Find(Document{}, {.sort = Document{{"a", 1}, {"_id", 1}}})) ids.push_back(d.GetInt32("_id"));
  EXPECT_EQ(ids, (std::vector<int>{3, 1, 2, 4}));  // the empty array first
  auto projected = coll_->FindOne(Document{{"_id", 4}}, {.projection = Document{{"a", Document{{"b", 1}}}}});
  EXPECT_EQ(projected->ToJson(), (Document{{"_id", 4}, {"a", Document{{"b", 1}}}}.ToJson()));
}

// A $group over more distinct keys than fit its memory limit: 292 without allowDiskUse; with
// it the groups spill to disk and the result is complete.
TEST(AggregationSpillTest, GroupSpillsWithAllowDiskUse) {
  micromongo::testing::TempDir dir;
  auto bridge = mm::WorkerBridge::Create(
      {.data_dir = dir.path(),
       .server_parameters = {{"internalDocumentSourceGroupMaxMemoryBytes", "200000"},
                             {"internalQueryMaxBlockingSortMemoryUsageBytes", "200000"}}});
  mm::MongoClient client("mongodb://localhost/spill", {.worker_bridge = bridge});
  mm::Collection coll = client.Db()["keys"];
  std::vector<Document> docs;
  for (int i = 0; i < 20000; ++i) docs.push_back(Document{{"k", "key-" + std::to_string(i % 5000)}, {"v", 1}});
  coll.InsertMany(docs);
  std::vector<Document> pipeline = {Document{{"$group", Document{{"_id", "$k"}, {"n", Document{{"$sum", "$v"}}}}}},
                                    Document{{"$match", Document{{"n", Document{{"$ne", 4}}}}}}};
  EXPECT_EQ(ErrorCodeOf([&] { coll.Aggregate(pipeline).ToVector(); }), 292);
  EXPECT_TRUE(coll.Aggregate(pipeline, {.allow_disk_use = true}).ToVector().empty());
  auto count = coll.Aggregate({Document{{"$group", Document{{"_id", "$k"}}}}, Document{{"$count", "n"}}},
                              {.allow_disk_use = true})
                   .ToVector();
  EXPECT_EQ(count[0].GetInt32("n"), 5000);
  // Sorts too: find and $sort spill the same way.
  EXPECT_EQ(ErrorCodeOf([&] { coll.Find(Document{}, {.sort = Document{{"k", -1}}}).ToVector(); }), 292);
  auto sorted = coll.Find(Document{}, {.sort = Document{{"k", -1}, {"_id", 1}}, .allow_disk_use = true}).ToVector();
  EXPECT_EQ(sorted.size(), 20000u);
  EXPECT_EQ(sorted[0].GetString("k"), "key-999");
  // Nothing is left in the spill directory once the cursors are done.
  bool leftovers = false;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path() + "/_tmp", ec)) {
    leftovers = leftovers || e.is_regular_file();
  }
  EXPECT_FALSE(leftovers);
  client.Close();
  bridge->Terminate();
}

}  // namespace
