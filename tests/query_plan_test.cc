// The query planner end to end: a query is never wrong because of an index. Random
// filters, sorts and projections over varied data (arrays, nested arrays, nulls, missing
// fields, mixed numeric types, dotted paths) run with every index hinted and with
// {$natural: 1}; the results must agree. Plus the plans MongoDB's manual describes, seen
// through explain.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <tuple>

#include <micromongo/micromongo.h>

#include "test_util.h"

namespace mm = micromongo;
using mm::Array;
using mm::Document;
using mm::Value;

namespace {

constexpr char kPlanDb[] = "plans";
using QueryPlanTest = micromongo::testing::WorkerTest<kPlanDb>;
using micromongo::testing::ErrorCodeOf;

std::vector<Value> ValuePool() {
  return {0,
          1,
          1.0,
          int64_t{2},
          mm::Decimal128::FromString("2.0"),
          2.5,
          -3,
          "a",
          "ab",
          "abc",
          "b",
          "B",
          true,
          false,
          nullptr,
          Array{},
          Array{1, 2},
          Array{2, "a"},
          Array{Value(Array{1})},  // [[1]] (Array{Array{1}} would copy [1] under clang)
          Array{nullptr},
          Document{{"e", 1}},
          Document{},
          mm::DateTime{1000},
          mm::ObjectId::FromHex("5f0000000000000000000001")};
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed), pool_(ValuePool()) {}

  Value Pick() { return pool_[rng_() % pool_.size()]; }
  Value Scalar() {
    for (;;) {
      Value v = Pick();
      if (v.type() != mm::BsonType::kArray && v.type() != mm::BsonType::kDocument) return v;
    }
  }
  int Int(int n) { return static_cast<int>(rng_() % n); }

  Document Doc(int id) {
    Document d{{"_id", id}};
    for (const char* f : {"a", "b", "c"}) {
      if (Int(5) != 0) d.Append(f, Pick());
    }
    int shape = Int(4);
    if (shape == 0) d.Append("d", Document{{"e", Pick()}});
    if (shape == 1) d.Append("d", Array{Document{{"e", Scalar()}}, Document{{"e", Scalar()}}});
    if (shape == 2) d.Append("d", Array{Document{{"e", Scalar()}}, 5});
    return d;
  }

  Document Leaf() {
    static const char* kFields[] = {"a", "b", "c", "d.e", "d", "a.0"};
    std::string f = kFields[Int(6)];
    switch (Int(13)) {
      case 0: return Document{{f, Pick()}};
      case 1: return Document{{f, Document{{"$gt", Scalar()}}}};
      case 2: return Document{{f, Document{{"$gte", Scalar()}}}};
      case 3: return Document{{f, Document{{"$lt", Scalar()}}}};
      case 4: return Document{{f, Document{{"$lte", Scalar()}, {"$gt", Scalar()}}}};
      case 5: return Document{{f, Document{{"$in", Array{Pick(), Pick(), Scalar()}}}}};
      case 6: return Document{{f, Document{{"$ne", Scalar()}}}};
      case 7: return Document{{f, Document{{"$nin", Array{Scalar(), Scalar()}}}}};
      case 8: return Document{{f, Document{{"$exists", Int(2) == 0}}}};
      case 9: return Document{{f, Document{{"$type", Int(2) == 0 ? "string" : "number"}}}};
      case 10: return Document{{f, mm::Regex{"^a", ""}}};
      case 11: return Document{{f, Document{{"$elemMatch", Document{{"$gte", Scalar()}, {"$lt", Scalar()}}}}}};
      default: return Document{{f, nullptr}};
    }
  }

  Document Filter() {
    int n = Int(3);
    if (n == 0) return Leaf();
    Array clauses;
    for (int i = 0; i <= n; ++i) clauses.push_back(Leaf());
    return Document{{Int(2) == 0 ? "$and" : "$or", clauses}};
  }

 private:
  std::mt19937 rng_;
  std::vector<Value> pool_;
};

std::vector<std::string> CursorJson(mm::Cursor cursor) {
  std::vector<std::string> out;
  for (const Document& d : cursor) out.push_back(d.ToJson());
  return out;
}

TEST_F(QueryPlanTest, HintedIndexesReturnWhatACollectionScanReturns) {
  const std::vector<Document> indexes = {
      Document{{"a", 1}},           Document{{"a", 1}, {"b", -1}}, Document{{"b", -1}},
      Document{{"d.e", 1}},         Document{{"c", 1}, {"a", 1}},  Document{{"a", -1}, {"c", 1}, {"b", 1}},
      Document{{"d.e", 1}, {"c", -1}}};
  for (const Document& keys : indexes) coll_->CreateIndex(keys);
  Generator gen(20261202);
  int stored = 0;
  for (int i = 0; i < 300; ++i) {
    // Documents with two arrays under one compound index fail with 171 and are not stored.
    if (ErrorCodeOf([&] { coll_->InsertOne(gen.Doc(i)); }) == 0) ++stored;
  }
  ASSERT_GT(stored, 150);

  const std::vector<std::optional<Document>> sorts = {
      std::nullopt,
      Document{{"a", 1}, {"_id", 1}},
      Document{{"b", -1}, {"_id", -1}},
      Document{{"a", -1}, {"b", 1}, {"_id", 1}},
      Document{{"c", 1}, {"a", 1}, {"_id", 1}},
      Document{{"a", 1}},
      Document{{"d.e", 1}},
      Document{{"a", 1}, {"b", -1}},
  };
  const std::vector<std::optional<Document>> projections = {
      std::nullopt, Document{{"a", 1}, {"_id", 0}}, Document{{"c", 1}, {"a", 1}, {"_id", 0}},
      Document{{"b", 0}}};
  int compared = 0;
  for (int q = 0; q < 400; ++q) {
    Document filter = gen.Filter();
    const auto& sort = sorts[gen.Int(static_cast<int>(sorts.size()))];
    const auto& projection = projections[gen.Int(static_cast<int>(projections.size()))];
    // A total order (an _id tie-break) makes skip and limit deterministic.
    bool total = sort && sort->Has("_id");
    mm::FindOptions options{.projection = projection, .sort = sort};
    if (total && gen.Int(2) == 0) {
      options.skip = gen.Int(5);
      options.limit = 1 + gen.Int(20);
    }
    options.hint = mm::Hint(Document{{"$natural", 1}});
    std::vector<std::string> want = CursorJson(coll_->Find(filter, options));
    if (!total) std::sort(want.begin(), want.end());
    int64_t want_count = coll_->CountDocuments(filter, {.hint = mm::Hint(Document{{"$natural", 1}})});
    auto check = [&](const mm::Hint& hint, const std::string& label) {
      options.hint = hint;
      std::vector<std::string> got = CursorJson(coll_->Find(filter, options));
      if (!total) std::sort(got.begin(), got.end());
      EXPECT_EQ(got, want) << label << " filter " << filter.ToJson() << " sort "
                           << (sort ? sort->ToJson() : "-") << " projection "
                           << (projection ? projection->ToJson() : "-");
      EXPECT_EQ(coll_->CountDocuments(filter, {.hint = hint}), want_count) << label << " " << filter.ToJson();
      ++compared;
    };
    check(mm::Hint(Document{{"$natural", -1}}), "natural -1");
    for (const Document& keys : indexes) check(mm::Hint(keys), keys.ToJson());
    // And the plan the planner picks itself.
    options.hint.reset();
    std::vector<std::string> got = CursorJson(coll_->Find(filter, options));
    if (!total) std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want) << "planner's choice, filter " << filter.ToJson();
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(compared, 3000);
}

// Covered queries (no multikey field) return what a collection scan with the same
// projection returns: projections of every key field (the index scan's documents as they
// are), of some of them (the rest dropped), with dotted fields, and sorted by the index.
// Their fields come in the index's key order, as MongoDB's PROJECTION_COVERED builds them
// from the key, where a fetched document's projection keeps the document's order.
TEST_F(QueryPlanTest, CoveredQueriesReturnWhatACollectionScanReturns) {
  std::vector<Document> docs;
  for (int i = 0; i < 60; ++i) {
    docs.push_back(Document{{"_id", i},
                            {"k", i % 7 == 0 ? Value(nullptr) : Value(i % 13)},
                            {"g", i % 3 == 0 ? Value("s" + std::to_string(i % 5)) : Value(i % 4 + 0.5)},
                            {"d", Document{{"e", i % 6}, {"f", i}}},
                            {"x", i}});
  }
  coll_->InsertMany(docs);
  struct Case {
    Document index, filter, projection;
    std::optional<Document> sort;
  };
  const std::vector<Case> cases = {
      {Document{{"k", 1}}, Document{{"k", Document{{"$gte", 3}}}}, Document{{"k", 1}, {"_id", 0}}, {}},
      {Document{{"k", 1}}, Document{{"k", Document{{"$lt", 5}}}}, Document{{"k", 1}, {"_id", 0}},
       Document{{"k", -1}}},
      // Every field the query reads is bounded away from null (a missing field's key):
      // otherwise the index cannot tell null from missing and the plan fetches.
      {Document{{"g", 1}, {"k", 1}}, Document{{"g", Document{{"$gt", 1}}}, {"k", Document{{"$gte", 0}}}},
       Document{{"k", 1}, {"_id", 0}}, {}},
      {Document{{"g", 1}, {"k", 1}}, Document{{"g", "s1"}, {"k", Document{{"$lt", 100}}}},
       Document{{"k", 1}, {"g", 1}, {"_id", 0}}, {}},
      {Document{{"g", 1}, {"k", 1}},
       Document{{"g", Document{{"$in", Array{"s1", "s3", 1.5}}}}, {"k", Document{{"$in", Array{1, 2, 12}}}}},
       Document{{"g", 1}, {"k", 1}, {"_id", 0}}, Document{{"g", 1}, {"k", 1}}},
      {Document{{"d.e", 1}}, Document{{"d.e", Document{{"$in", Array{0, 5}}}}}, Document{{"d.e", 1}, {"_id", 0}}, {}},
      {Document{{"d.e", 1}, {"k", 1}}, Document{{"d.e", 2}, {"k", Document{{"$gte", 0}}}},
       Document{{"k", 1}, {"d.e", 1}, {"_id", 0}}, {}},
      {Document{{"k", 1}, {"_id", 1}}, Document{{"k", 4}, {"_id", Document{{"$gte", 0}}}},
       Document{{"_id", 1}, {"k", 1}}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.index.ToJson() + " " + c.filter.ToJson() + " " + c.projection.ToJson());
    coll_->DropIndexes();
    coll_->CreateIndex(c.index);
    mm::FindOptions options{.projection = c.projection, .sort = c.sort};
    Document explained = coll_->Explain(mm::ExplainVerbosity::kExecutionStats).Find(c.filter, options);
    EXPECT_EQ(explained.GetDocument("executionStats").GetInt64("totalDocsExamined"), 0) << explained.ToJson();
    std::vector<std::string> got = CursorJson(coll_->Find(c.filter, options));
    options.hint = mm::Hint(Document{{"$natural", 1}});
    std::vector<std::string> want;
    for (const Document& d : coll_->Find(c.filter, options)) {
      Document in_key_order;  // the fields of the index's key pattern, in its order
      for (const auto& [path, direction] : c.index) {
        std::string top = path.substr(0, path.find('.'));
        if (d.Has(top) && !in_key_order.Has(top)) in_key_order.Append(top, d.Get(top));
      }
      EXPECT_EQ(in_key_order.size(), d.size()) << d.ToJson();
      want.push_back(in_key_order.ToJson());
    }
    ASSERT_FALSE(want.empty());
    if (!c.sort) {
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
    }
    EXPECT_EQ(got, want);
  }
}

// An index scan over many ranges ($in points, $or ranges) moves from one range to the
// next without a seek when the key it stopped at already lies in (or past) the next ones;
// in both directions, with ranges that are empty, adjacent, or start at that very key.
// Expected: the values the filter names that the data holds, in index order.
TEST_F(QueryPlanTest, ScansOverManyRangesReturnEveryKeyOnceInOrder) {
  // a = 0, 2, 4, ..., 198 (no odd values), with duplicates of multiples of 10.
  std::vector<Document> docs;
  int id = 0;
  for (int a = 0; a < 200; a += 2) {
    docs.push_back(Document{{"_id", id++}, {"a", a}});
    if (a % 10 == 0) docs.push_back(Document{{"_id", id++}, {"a", a}});
  }
  coll_->InsertMany(docs);
  coll_->CreateIndex(Document{{"a", 1}});
  struct Case {
    const char* name;
    Document filter;
    std::vector<int> values;  // each a value the filter names, in ascending order
  };
  auto in = [](std::vector<int> v) {
    Array a;
    for (int x : v) a.push_back(x);
    return Document{{"a", Document{{"$in", a}}}};
  };
  auto range = [](int lo, int hi) { return Document{{"a", Document{{"$gte", lo}, {"$lt", hi}}}}; };
  const std::vector<Case> cases = {
      {"consecutive points", in({10, 12, 14, 16}), {10, 12, 14, 16}},
      {"absent points between", in({1, 3, 4, 5, 7, 8, 9, 11}), {4, 8}},
      {"only absent points", in({1, 3, 5, 199, 201}), {}},
      {"points past the last key", in({196, 198, 250, 300}), {196, 198}},
      {"sparse points", in({0, 50, 100, 150}), {0, 50, 100, 150}},
      {"adjacent ranges", Document{{"$or", Array{range(0, 6), range(6, 12), range(12, 13)}}}, {0, 2, 4, 6, 8, 10, 12}},
      {"empty range between", Document{{"$or", Array{range(20, 23), range(23, 24), range(24, 27)}}}, {20, 22, 24, 26}},
  };
  for (const Case& c : cases) {
    std::vector<int> want;
    for (int v : c.values) {
      for (const Document& d : docs) {
        if (d.Get("a") == Value(v)) want.push_back(v);
      }
    }
    for (int dir : {1, -1}) {
      SCOPED_TRACE(std::string(c.name) + (dir > 0 ? " forward" : " backward"));
      mm::FindOptions options{.projection = Document{{"a", 1}, {"_id", 0}},
                              .sort = Document{{"a", dir}},
                              .hint = mm::Hint(Document{{"a", 1}})};
      std::vector<int> got;
      for (const Document& d : coll_->Find(c.filter, options)) got.push_back(static_cast<int>(d.Get("a").ToInt64()));
      std::vector<int> expected = want;
      if (dir < 0) std::reverse(expected.begin(), expected.end());
      EXPECT_EQ(got, expected);
    }
  }
  // Consecutive points whose keys follow one another need one seek, not one per point.
  Document explain = coll_->Explain(mm::ExplainVerbosity::kExecutionStats)
                         .Find(in({10, 12, 14, 16, 18, 20}), {.hint = mm::Hint(Document{{"a", 1}})});
  std::string json = explain.ToJson();
  EXPECT_NE(json.find("\"seeks\": 1,"), std::string::npos) << json;
  // Points a few keys apart are reached by stepping over the keys between (cheaper than a
  // seek through every level of the LSM tree); points far apart by a seek each.
  for (int dir : {1, -1}) {
    SCOPED_TRACE(dir > 0 ? "forward" : "backward");
    auto seeks_of = [&](const Document& filter) {
      std::string j = coll_->Explain(mm::ExplainVerbosity::kExecutionStats)
                          .Find(filter, {.sort = Document{{"a", dir}}, .hint = mm::Hint(Document{{"a", 1}})})
                          .ToJson();
      size_t at = j.find("\"seeks\": ");
      return at == std::string::npos ? -1 : std::stoi(j.substr(at + 9));
    };
    EXPECT_EQ(seeks_of(in({10, 16, 22, 28})), 1);  // 3 or 4 keys between
    EXPECT_EQ(seeks_of(in({0, 100, 198})), 3);     // 50 keys between
  }
}

// Without arrays, bounds answer equalities, ranges and $in on key fields exactly and the
// FETCH above them applies only the rest of the filter (MongoDB's exact tightness): flat
// filters over scalar fields must still return what a collection scan returns.
TEST_F(QueryPlanTest, ExactBoundsSkipOnlyThePredicatesTheyAnswer) {
  const std::vector<Document> indexes = {Document{{"a", 1}}, Document{{"a", 1}, {"b", -1}}, Document{{"b", -1}},
                                         Document{{"d.e", 1}}, Document{{"c", 1}, {"a", 1}}};
  for (const Document& keys : indexes) coll_->CreateIndex(keys);
  Generator gen(20261203);
  for (int i = 0; i < 300; ++i) {
    Document d{{"_id", i}};
    for (const char* f : {"a", "b", "c"}) {
      if (gen.Int(5) != 0) d.Append(f, gen.Scalar());
    }
    if (gen.Int(2) == 0) d.Append("d", Document{{"e", gen.Scalar()}});
    coll_->InsertOne(d);
  }
  auto leaf = [&](const std::string& f) -> Value {
    switch (gen.Int(7)) {
      case 0: return gen.Scalar();
      case 1: return Document{{"$gt", gen.Scalar()}};
      case 2: return Document{{"$gte", gen.Scalar()}, {"$lt", gen.Scalar()}};
      case 3: return Document{{"$lte", gen.Scalar()}};
      case 4: return Document{{"$in", Array{gen.Scalar(), gen.Scalar()}}};
      case 5: return gen.Int(2) ? Document{{"$eq", gen.Scalar()}} : Document{{"$exists", gen.Int(2) == 0}};
      default: return Document{{"$ne", gen.Scalar()}};
    }
  };
  int compared = 0;
  for (int q = 0; q < 400; ++q) {
    Document filter;
    for (const char* f : {"a", "b", "c", "d.e"}) {
      if (gen.Int(2) == 0) filter.Append(f, leaf(f));
    }
    mm::FindOptions options;
    options.hint = mm::Hint(Document{{"$natural", 1}});
    std::vector<std::string> want = CursorJson(coll_->Find(filter, options));
    std::sort(want.begin(), want.end());
    for (const Document& keys : indexes) {
      options.hint = mm::Hint(keys);
      std::vector<std::string> got = CursorJson(coll_->Find(filter, options));
      std::sort(got.begin(), got.end());
      EXPECT_EQ(got, want) << keys.ToJson() << " filter " << filter.ToJson();
      // Counts the index answers alone are COUNT_SCANs.
      EXPECT_EQ(coll_->CountDocuments(filter, {.hint = mm::Hint(keys)}), static_cast<int64_t>(want.size()))
          << keys.ToJson() << " count " << filter.ToJson();
      ++compared;
    }
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_EQ(compared, 2000);

  // What explain shows: FETCH keeps only the predicates its index does not answer.
  auto fetch = [&](const Document& filter, const Document& hint) {
    return coll_->Explain(mm::ExplainVerbosity::kQueryPlanner)
        .Find(filter, {.hint = mm::Hint(hint)})
        .GetDocument("queryPlanner")
        .GetDocument("winningPlan");
  };
  Document exact = fetch(Document{{"a", 1}, {"b", Document{{"$gt", 0}, {"$lte", 5}}}}, Document{{"a", 1}, {"b", -1}});
  EXPECT_EQ(exact.GetString("stage"), "FETCH");
  EXPECT_FALSE(exact.Has("filter")) << exact.ToJson();
  Document rest = fetch(Document{{"a", 1}, {"c", 2}}, Document{{"a", 1}, {"b", -1}});
  EXPECT_EQ(rest.GetDocument("filter").ToJson(), Document({{"c", 2}}).ToJson());
  // Null, decimals and arrays are looser in the bounds than in the filter: kept.
  for (const Value& v : {Value(nullptr), Value(mm::Decimal128::FromString("2.0")), Value(Array{1})}) {
    Document f{{"a", v}};
    EXPECT_TRUE(fetch(f, Document{{"a", 1}}).Has("filter")) << f.ToJson();
  }
  // Once an array is stored, its elements' bounds are not intersected: [1, 7] matches
  // {$gt: 5, $lt: 2} (7 > 5, 1 < 2) though no one key lies in both.
  coll_->InsertOne(Document{{"_id", 1000}, {"a", Array{1, 7}}});
  Document both{{"a", Document{{"$gt", 5}, {"$lt", 2}}}};
  EXPECT_EQ(coll_->CountDocuments(both, {.hint = mm::Hint(Document{{"a", 1}})}), 1);
  EXPECT_EQ(coll_->CountDocuments(both, {.hint = mm::Hint(Document{{"$natural", 1}})}), 1);
}

}  // namespace

namespace {

// The inventory of MongoDB's "Analyze Query Performance" tutorial.
void InsertInventory(mm::Collection& c) {
  const std::pair<const char*, const char*> items[] = {{"f1", "food"},  {"f2", "food"},    {"p1", "paper"},
                                                       {"p2", "paper"}, {"f3", "food"},    {"t1", "toys"},
                                                       {"a1", "apparel"}, {"a2", "apparel"}, {"t2", "toys"},
                                                       {"f4", "food"}};
  const int quantities[] = {500, 100, 200, 150, 300, 500, 250, 400, 50, 75};
  std::vector<Document> docs;
  for (int i = 0; i < 10; ++i) {
    docs.push_back(Document{{"_id", i + 1}, {"item", items[i].first}, {"type", items[i].second},
                            {"quantity", quantities[i]}});
  }
  c.InsertMany(docs);
}

const Document& Stage(const Document& explain) {
  return explain.GetDocument("queryPlanner").GetDocument("winningPlan");
}


TEST_F(QueryPlanTest, ExplainFollowsTheManualsQueryPerformanceTutorial) {
  InsertInventory(*coll_);
  Document range{{"quantity", Document{{"$gte", 100}, {"$lte", 200}}}};
  // Without an index: a collection scan examining all ten documents.
  Document scan = coll_->Explain(mm::ExplainVerbosity::kExecutionStats).Find(range);
  EXPECT_EQ(Stage(scan).GetString("stage"), "COLLSCAN");
  EXPECT_EQ(scan.GetDocument("executionStats").GetInt64("nReturned"), 3);
  EXPECT_EQ(scan.GetDocument("executionStats").GetInt64("totalKeysExamined"), 0);
  EXPECT_EQ(scan.GetDocument("executionStats").GetInt64("totalDocsExamined"), 10);

  coll_->CreateIndex(Document{{"quantity", 1}});
  Document ix = coll_->Explain(mm::ExplainVerbosity::kExecutionStats).Find(range);
  EXPECT_EQ(Stage(ix).GetString("stage"), "FETCH");
  const Document& ixscan = Stage(ix).GetDocument("inputStage");
  EXPECT_EQ(ixscan.GetString("stage"), "IXSCAN");
  EXPECT_EQ(ixscan.GetString("indexName"), "quantity_1");
  EXPECT_EQ(ixscan.GetDocument("keyPattern"), (Document{{"quantity", 1}}));
  EXPECT_EQ(ixscan.GetDocument("indexBounds").GetArray("quantity"), (Array{"[100, 200]"}));
  EXPECT_EQ(ixscan.GetString("direction"), "forward");
  EXPECT_FALSE(ixscan.GetBool("isMultiKey"));
  EXPECT_EQ(ix.GetDocument("executionStats").GetInt64("nReturned"), 3);
  EXPECT_EQ(ix.GetDocument("executionStats").GetInt64("totalKeysExamined"), 3);
  EXPECT_EQ(ix.GetDocument("executionStats").GetInt64("totalDocsExamined"), 3);

  // Two compound indexes: the one with the equality first examines fewer keys and wins.
  coll_->CreateIndex(Document{{"quantity", 1}, {"type", 1}});
  coll_->CreateIndex(Document{{"type", 1}, {"quantity", 1}});
  Document food{{"quantity", Document{{"$gte", 100}, {"$lte", 300}}}, {"type", "food"}};
  EXPECT_EQ(coll_->Find(food).ToVector().size(), 2u);
  Document both = coll_->Explain(mm::ExplainVerbosity::kAllPlansExecution).Find(food);
  const Document& winner = Stage(both).GetDocument("inputStage");
  EXPECT_EQ(winner.GetString("indexName"), "type_1_quantity_1");
  EXPECT_EQ(winner.GetDocument("indexBounds").GetArray("type"), (Array{"[\"food\", \"food\"]"}));
  EXPECT_EQ(winner.GetDocument("indexBounds").GetArray("quantity"), (Array{"[100, 300]"}));
  EXPECT_EQ(both.GetDocument("executionStats").GetInt64("totalKeysExamined"), 2);
  EXPECT_EQ(both.GetDocument("executionStats").GetInt64("totalDocsExamined"), 2);
  EXPECT_EQ(both.GetDocument("queryPlanner").GetArray("rejectedPlans").size(), 2u);
  EXPECT_EQ(both.GetDocument("executionStats").GetArray("allPlansExecution").size(), 2u);

  // A count its index answers alone: COUNT over COUNT_SCAN, bounds shown by their ends
  // (the manual's explain results page), no document examined.
  Document count = coll_->Explain(mm::ExplainVerbosity::kExecutionStats)
                       .CountDocuments(Document{{"quantity", Document{{"$gt", 200}}}}, {.hint = mm::Hint("quantity_1")});
  EXPECT_EQ(Stage(count).GetString("stage"), "COUNT");
  const Document& count_scan = Stage(count).GetDocument("inputStage");
  EXPECT_EQ(count_scan.GetString("stage"), "COUNT_SCAN");
  EXPECT_EQ(count_scan.GetString("indexName"), "quantity_1");
  EXPECT_EQ(count_scan.GetDocument("indexBounds"),
            (Document{{"startKey", Document{{"quantity", 200}}},
                      {"startKeyInclusive", false},
                      {"endKey", Document{{"quantity", std::numeric_limits<double>::infinity()}}},
                      {"endKeyInclusive", true}}));
  EXPECT_EQ(count.GetDocument("executionStats").GetInt64("totalKeysExamined"), 5);
  EXPECT_EQ(count.GetDocument("executionStats").GetInt64("totalDocsExamined"), 0);
  EXPECT_EQ(coll_->CountDocuments(Document{{"quantity", Document{{"$gt", 200}}}}), 5);
  // Descending fields: the ends in the index's order.
  coll_->CreateIndex(Document{{"type", 1}, {"quantity", -1}});
  Document desc = coll_->Explain(mm::ExplainVerbosity::kQueryPlanner)
                      .CountDocuments(Document{{"type", "food"}, {"quantity", Document{{"$lt", 300}}}},
                             {.hint = mm::Hint(Document{{"type", 1}, {"quantity", -1}})});
  EXPECT_EQ(Stage(desc).GetDocument("inputStage").GetDocument("indexBounds"),
            (Document{{"startKey", Document{{"type", "food"}, {"quantity", 300}}},
                      {"startKeyInclusive", false},
                      {"endKey", Document{{"type", "food"}, {"quantity", -std::numeric_limits<double>::infinity()}}},
                      {"endKeyInclusive", true}}));
  EXPECT_EQ(coll_->CountDocuments(Document{{"type", "food"}, {"quantity", Document{{"$lt", 300}}}},
                                  {.hint = mm::Hint(Document{{"type", 1}, {"quantity", -1}})}),
            2);
}

TEST_F(QueryPlanTest, IndexesGiveSortsCoverQueriesAndServeOrBranches) {
  InsertInventory(*coll_);
  coll_->CreateIndex(Document{{"quantity", 1}});
  coll_->CreateIndex(Document{{"type", 1}, {"item", 1}});
  auto explain = coll_->Explain(mm::ExplainVerbosity::kExecutionStats);

  // The three largest quantities, read backward from the index: no SORT stage, 3 keys.
  mm::FindOptions top3{.sort = Document{{"quantity", -1}}, .limit = 3};
  Document sorted = explain.Find({}, top3);
  EXPECT_EQ(Stage(sorted).GetString("stage"), "LIMIT");
  const Document& fetch = Stage(sorted).GetDocument("inputStage");
  EXPECT_EQ(fetch.GetString("stage"), "FETCH");
  EXPECT_EQ(fetch.GetDocument("inputStage").GetString("direction"), "backward");
  EXPECT_EQ(fetch.GetDocument("inputStage").GetDocument("indexBounds").GetArray("quantity"),
            (Array{"[MaxKey, MinKey]"}));
  EXPECT_EQ(sorted.GetDocument("executionStats").GetInt64("totalKeysExamined"), 3);
  std::vector<int> quantities;
  for (const Document& d : coll_->Find({}, top3)) quantities.push_back(d.GetInt32("quantity"));
  EXPECT_EQ(quantities, (std::vector<int>{500, 500, 400}));

  // The manual's covered query: the index holds every field the query reads.
  mm::FindOptions items{.projection = Document{{"item", 1}, {"_id", 0}}};
  Document filter{{"type", "food"}, {"item", mm::Regex{"^f", ""}}};
  Document covered = explain.Find(filter, items);
  EXPECT_EQ(Stage(covered).GetString("stage"), "PROJECTION_COVERED");
  EXPECT_EQ(Stage(covered).GetDocument("inputStage").GetString("stage"), "IXSCAN");
  EXPECT_EQ(covered.GetDocument("executionStats").GetInt64("totalDocsExamined"), 0);
  EXPECT_EQ(covered.GetDocument("executionStats").GetInt64("nReturned"), 4);
  std::vector<std::string> names;
  for (const Document& d : coll_->Find(filter, items)) names.push_back(d.ToJson());
  EXPECT_EQ(names, (std::vector<std::string>{R"({"item": "f1"})", R"({"item": "f2"})", R"({"item": "f3"})",
                                             R"({"item": "f4"})"}));

  // $or: one index scan per branch under OR.
  Document either{{"$or", Array{Document{{"type", "toys"}}, Document{{"quantity", Document{{"$lt", 100}}}}}}};
  Document ored = explain.Find(either);
  EXPECT_EQ(Stage(ored).GetString("stage"), "FETCH");
  EXPECT_EQ(Stage(ored).GetDocument("inputStage").GetString("stage"), "OR");
  EXPECT_EQ(Stage(ored).GetDocument("inputStage").GetArray("inputStages").size(), 2u);
  EXPECT_EQ(ored.GetDocument("executionStats").GetInt64("nReturned"), 3);  // t1, t2 (in both branches), f4

  // {$natural: -1} forces a backward collection scan.
  Document natural = explain.Find(Document{{"type", "toys"}}, {.hint = mm::Hint(Document{{"$natural", -1}})});
  EXPECT_EQ(Stage(natural).GetString("stage"), "COLLSCAN");
  EXPECT_EQ(Stage(natural).GetString("direction"), "backward");
  // A hidden index cannot be hinted; an unknown one neither.
  EXPECT_EQ(micromongo::testing::ErrorCodeOf([&] { explain.Find({}, {.hint = mm::Hint("nope_1")}); }), 2);
}

TEST_F(QueryPlanTest, ExplainOfWritesWritesNothing) {
  InsertInventory(*coll_);
  coll_->CreateIndex(Document{{"type", 1}});
  auto explain = coll_->Explain(mm::ExplainVerbosity::kExecutionStats);
  Document del = explain.DeleteMany(Document{{"type", "food"}});
  EXPECT_EQ(Stage(del).GetString("stage"), "DELETE");
  EXPECT_EQ(del.GetDocument("executionStats").GetDocument("executionStages").GetInt64("nWouldDelete"), 4);
  Document upd = explain.UpdateOne(Document{{"type", "food"}}, Document{{"$set", Document{{"x", 1}}}});
  EXPECT_EQ(Stage(upd).GetString("stage"), "UPDATE");
  EXPECT_EQ(upd.GetDocument("executionStats").GetDocument("executionStages").GetInt64("nMatched"), 1);
  Document count = explain.CountDocuments(Document{{"type", "paper"}});
  EXPECT_EQ(Stage(count).GetString("stage"), "COUNT");
  EXPECT_EQ(count.GetDocument("executionStats").GetDocument("executionStages").GetInt64("nCounted"), 2);
  // Counting needs no document: the index answers.
  EXPECT_EQ(count.GetDocument("executionStats").GetInt64("totalDocsExamined"), 0);
  Document fam = explain.FindOneAndDelete(Document{{"type", "toys"}}, {.sort = Document{{"quantity", 1}}});
  EXPECT_EQ(Stage(fam).GetString("stage"), "DELETE");
  Document agg = explain.Aggregate({Document{{"$match", Document{{"type", "food"}}}},
                                    Document{{"$group", Document{{"_id", nullptr}, {"n", Document{{"$sum", 1}}}}}}});
  const Document& cursor = agg.GetArray("stages")[0].AsDocument().GetDocument("$cursor");
  EXPECT_EQ(cursor.GetDocument("executionStats").GetInt64("totalKeysExamined"), 4);
  // Nothing was written.
  EXPECT_EQ(coll_->CountDocuments(), 10);
  EXPECT_EQ(coll_->CountDocuments(Document{{"x", 1}}), 0);
}

TEST_F(QueryPlanTest, WinnersAreCachedPerShapeAndForgottenWhenIndexesChange) {
  InsertInventory(*coll_);
  coll_->CreateIndex(Document{{"quantity", 1}, {"type", 1}});
  coll_->CreateIndex(Document{{"type", 1}, {"quantity", 1}});
  auto cached = [&] { return coll_->Aggregate({Document{{"$planCacheStats", Document{}}}}).ToVector(); };
  EXPECT_TRUE(cached().empty());
  Document food{{"quantity", Document{{"$gte", 100}, {"$lte", 300}}}, {"type", "food"}};
  EXPECT_EQ(coll_->Find(food).ToVector().size(), 2u);
  auto entries = cached();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].GetString("cachedPlan"), "FETCH(IXSCAN type_1_quantity_1 1(),)");
  EXPECT_EQ(entries[0].GetDocument("createdFromQuery").GetDocument("query"), food);
  // Another query of the same shape (other values) uses the entry; another shape adds one.
  Document paper{{"quantity", Document{{"$gte", 0}, {"$lte", 1000}}}, {"type", "paper"}};
  EXPECT_EQ(coll_->Find(paper).ToVector().size(), 2u);
  EXPECT_EQ(cached().size(), 1u);
  EXPECT_EQ(coll_->Find(Document{{"type", "toys"}, {"quantity", 50}}).ToVector().size(), 1u);
  EXPECT_EQ(cached().size(), 2u);
  // A new index: the collection's entries are gone.
  coll_->CreateIndex(Document{{"item", 1}});
  EXPECT_TRUE(cached().empty());
}

TEST(TtlTest, TheMonitorDeletesExpiredDocumentsOnly) {
  micromongo::testing::TempDir dir;
  auto bridge = mm::WorkerBridge::Create(
      {.data_dir = dir.path(), .server_parameters = {{"ttlMonitorSleepSecs", "1"}}});
  mm::MongoClient client("mongodb://localhost/ttl", {.worker_bridge = bridge});
  mm::Collection events = client.Db()["events"];
  int64_t now = mm::DateTime::Now().millis;
  mm::DateTime past{now - 3600 * 1000}, future{now + 3600 * 1000};
  // MongoDB's manual: a date older than expireAfterSeconds expires; an array expires by its
  // earliest date; a field that is not a date (or is missing) never does.
  events.InsertMany({Document{{"_id", 1}, {"at", past}}, Document{{"_id", 2}, {"at", future}},
                     Document{{"_id", 3}, {"at", "yesterday"}}, Document{{"_id", 4}, {"at", Array{future, past}}},
                     Document{{"_id", 5}}, Document{{"_id", 6}, {"at", future}, {"keep", true}}});
  mm::Collection kept = client.Db()["partial"];
  kept.InsertMany({Document{{"_id", 1}, {"at", past}, {"tmp", true}}, Document{{"_id", 2}, {"at", past}}});
  events.CreateIndex(Document{{"at", 1}}, {.expire_after_seconds = 60});
  kept.CreateIndex(Document{{"at", 1}},
                   {.partial_filter_expression = Document{{"tmp", true}}, .expire_after_seconds = 0});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((events.CountDocuments() > 4 || kept.CountDocuments() > 1) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::vector<int> left;
  for (const Document& d : events.Find({}, {.sort = Document{{"_id", 1}}})) left.push_back(d.GetInt32("_id"));
  EXPECT_EQ(left, (std::vector<int>{2, 3, 5, 6}));
  // Only the documents a partial TTL index holds expire.
  ASSERT_EQ(kept.CountDocuments(), 1);
  EXPECT_EQ(kept.FindOne()->GetInt32("_id"), 2);
  std::vector<Document> indexes = events.ListIndexes();
  ASSERT_EQ(indexes.size(), 2u);
  EXPECT_EQ(indexes[1].GetInt64("expireAfterSeconds"), 60);
  // collMod changes the expiry: a day-old date stays while the expiry is two days.
  events.ModifyIndex({.name = "at_1", .expire_after_seconds = 2 * 86400});
  EXPECT_EQ(events.ListIndexes()[1].GetInt64("expireAfterSeconds"), 2 * 86400);
  events.InsertOne(Document{{"_id", 7}, {"at", mm::DateTime{now - 86400 * 1000}}});
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(events.CountDocuments(Document{{"_id", 7}}), 1);
  bridge->Terminate();
}

TEST_F(QueryPlanTest, HiddenIndexesAreMaintainedButNotPlannedAndCollatedIndexesServeTheirCollation) {
  InsertInventory(*coll_);
  coll_->CreateIndex(Document{{"quantity", 1}}, {.hidden = true});
  auto explain = coll_->Explain();
  Document q{{"quantity", 500}};
  EXPECT_EQ(Stage(explain.Find(q)).GetString("stage"), "COLLSCAN");
  EXPECT_EQ(micromongo::testing::ErrorCodeOf([&] { coll_->Find(q, {.hint = mm::Hint("quantity_1")}).ToVector(); }), 2);
  EXPECT_EQ(coll_->ListIndexes()[1].GetBool("hidden"), true);
  // collMod unhides it: planned again.
  coll_->ModifyIndex({.name = "quantity_1", .hidden = false});
  EXPECT_EQ(Stage(explain.Find(q)).GetDocument("inputStage").GetString("indexName"), "quantity_1");
  EXPECT_FALSE(coll_->ListIndexes()[1].Has("hidden"));
  coll_->ModifyIndex({.key_pattern = Document{{"quantity", 1}}, .hidden = true});
  EXPECT_EQ(Stage(explain.Find(q)).GetString("stage"), "COLLSCAN");
  EXPECT_EQ(coll_->Find(q).ToVector().size(), 2u);
  EXPECT_EQ(micromongo::testing::ErrorCodeOf([&] { coll_->ModifyIndex({.name = "nope_1", .hidden = true}); }), 27);
  EXPECT_EQ(micromongo::testing::ErrorCodeOf([&] { coll_->ModifyIndex({.name = "quantity_1"}); }), 72);
  EXPECT_EQ(micromongo::testing::ErrorCodeOf([&] { coll_->ModifyIndex({.name = "_id_", .hidden = true}); }), 2);

  // Case-insensitive strings: an index with the query's collation bounds them; a binary
  // index cannot.
  Document fr{{"locale", "fr"}, {"strength", 2}};
  coll_->CreateIndex(Document{{"item", 1}}, {.name = "item_fr", .collation = fr});
  Document upper{{"item", "F1"}};
  Document plan = Stage(explain.Find(upper, {.collation = fr}));
  EXPECT_EQ(plan.GetString("stage"), "FETCH");
  EXPECT_EQ(plan.GetDocument("inputStage").GetString("indexName"), "item_fr");
  EXPECT_EQ(coll_->Find(upper, {.collation = fr}).ToVector().size(), 1u);
  EXPECT_EQ(Stage(explain.Find(upper)).GetString("stage"), "COLLSCAN");
  EXPECT_EQ(coll_->Find(upper).ToVector().size(), 0u);
}

// distinct on the leading field of an index reads one entry per value (DISTINCT_SCAN, one
// seek each) and answers exactly what a collection scan does: documents missing the field
// (keyed null) add null only when some document holds null itself; numbers equal across
// types are one value; dotted paths; descending and compound indexes; filters on the field.
TEST_F(QueryPlanTest, DistinctScansGiveWhatACollectionScanGives) {
  mm::Collection& coll = *coll_;
  std::vector<Document> docs;
  std::vector<Value> pool = {1, 1.0, int64_t{1}, 2, 2.5, "x", "y", Document{{"z", 1}}, mm::Decimal128::FromString("3")};
  for (int i = 0; i < 300; ++i) {
    Document d{{"_id", i}};
    if (i % 13 != 0) d.Append("a", pool[i % pool.size()]);
    d.Append("n", Document{{"b", pool[(i * 7) % pool.size()]}});
    d.Append("c", i % 5);
    docs.push_back(d);
  }
  coll.InsertMany(docs);
  coll.CreateIndex(Document{{"a", 1}, {"c", 1}});
  coll.CreateIndex(Document{{"n.b", -1}});
  auto sorted = [](std::vector<Value> v) {
    std::vector<std::string> out;
    for (const Value& x : v) out.push_back(x.ToJson());
    std::sort(out.begin(), out.end());
    return out;
  };
  mm::DistinctOptions natural;
  natural.hint = mm::Hint(Document{{"$natural", 1}});
  std::vector<Document> filters = {Document{}, Document{{"a", Document{{"$gt", 1}}}},
                                   Document{{"a", Document{{"$in", Array{1, "y", Value()}}}}},
                                   Document{{"a", Value()}}, Document{{"a", Document{{"$ne", Value()}}}},
                                   Document{{"n.b", Document{{"$lte", 2}}}}};
  for (const char* key : {"a", "n.b"}) {
    for (const Document& f : filters) {
      EXPECT_EQ(sorted(coll.Distinct(key, f)), sorted(coll.Distinct(key, f, natural))) << key << " " << f.ToJson();
    }
  }
  // Missing fields alone do not make null a value; a stored null does.
  // (Of equal numbers, the first document's: 1.0 at _id 1.)
  Value three = mm::Decimal128::FromString("3");
  EXPECT_EQ(sorted(coll.Distinct("a")), sorted({1.0, 2, 2.5, "x", "y", Document{{"z", 1}}, three}));
  coll.InsertOne(Document{{"_id", 1000}, {"a", Value()}});
  EXPECT_EQ(sorted(coll.Distinct("a")), sorted({Value(), 1.0, 2, 2.5, "x", "y", Document{{"z", 1}}, three}));

  Document e = coll.Explain(mm::ExplainVerbosity::kExecutionStats).Distinct("a", Document{{"a", Document{{"$gte", 2}}}});
  Document plan = e.GetDocument("queryPlanner").GetDocument("winningPlan");
  EXPECT_EQ(plan.GetString("stage"), "PROJECTION_COVERED") << e.ToJson();
  EXPECT_EQ(plan.GetDocument("inputStage").GetString("stage"), "DISTINCT_SCAN") << e.ToJson();
  // One key per value (2, 2.5, 3, then the strings and the document): no record read.
  Document stats = e.GetDocument("executionStats");
  EXPECT_EQ(stats.GetInt64("totalDocsExamined"), 0) << e.ToJson();
  EXPECT_LE(stats.GetInt64("totalKeysExamined"), 8) << e.ToJson();
  EXPECT_NE(coll.Explain().Distinct("n.b").ToJson().find("DISTINCT_SCAN"), std::string::npos);  // descending
  // A filter on another field, or an array in the field, needs the documents.
  Document other = coll.Explain().Distinct("a", Document{{"c", 1}});
  EXPECT_EQ(other.ToJson().find("DISTINCT_SCAN"), std::string::npos) << other.ToJson();
  coll.InsertOne(Document{{"_id", 1001}, {"a", Array{7, 8}}});
  Document multikey = coll.Explain().Distinct("a");
  EXPECT_EQ(multikey.ToJson().find("DISTINCT_SCAN"), std::string::npos) << multikey.ToJson();
  EXPECT_EQ(sorted(coll.Distinct("a")), sorted({Value(), 1.0, 2, 2.5, "x", "y", Document{{"z", 1}}, three, 7, 8}));
}

// Wildcard indexes answer exactly what a collection scan does: random filters, sorts and
// projections over the generator's documents (arrays of documents, nested arrays, nulls,
// missing fields), each wildcard index hinted where it can serve (error 291 where no
// predicate of the query can use it), and the planner's own choice.
TEST_F(QueryPlanTest, WildcardIndexesReturnWhatACollectionScanReturns) {
  const std::vector<std::pair<Document, mm::IndexOptions>> indexes = {
      {Document{{"$**", 1}}, {}},
      {Document{{"d.$**", 1}}, {}},
      {Document{{"$**", 1}}, {.name = "projected", .wildcard_projection = Document{{"a", 1}, {"d.e", 1}}}},
      {Document{{"$**", 1}}, {.name = "excluding", .wildcard_projection = Document{{"b", 0}}}},
  };
  for (const auto& [keys, options] : indexes) coll_->CreateIndex(keys, options);
  Generator gen(20261203);
  for (int i = 0; i < 300; ++i) coll_->InsertOne(gen.Doc(i));
  const std::vector<std::string> names = {"$**_1", "d.$**_1", "projected", "excluding"};
  const std::vector<std::optional<Document>> sorts = {std::nullopt, Document{{"a", 1}, {"_id", 1}},
                                                      Document{{"d.e", -1}, {"_id", 1}}, Document{{"b", 1}}};
  int compared = 0, used = 0;
  for (int q = 0; q < 400; ++q) {
    Document filter = gen.Filter();
    const auto& sort = sorts[gen.Int(static_cast<int>(sorts.size()))];
    bool total = sort && sort->Has("_id");
    mm::FindOptions options{.sort = sort};
    if (gen.Int(3) == 0) options.projection = Document{{"a", 1}, {"_id", 0}};
    options.hint = mm::Hint(Document{{"$natural", 1}});
    std::vector<std::string> want = CursorJson(coll_->Find(filter, options));
    if (!total) std::sort(want.begin(), want.end());
    for (const std::string& name : names) {
      options.hint = mm::Hint(name);
      std::vector<std::string> got;
      int code = ErrorCodeOf([&] { got = CursorJson(coll_->Find(filter, options)); });
      if (code == 291) continue;  // NoQueryExecutionPlans: no predicate this index can answer
      ASSERT_EQ(code, 0) << name << " " << filter.ToJson();
      ++used;
      if (!total) std::sort(got.begin(), got.end());
      EXPECT_EQ(got, want) << name << " filter " << filter.ToJson() << " sort " << (sort ? sort->ToJson() : "-");
      ++compared;
    }
    options.hint.reset();
    std::vector<std::string> got = CursorJson(coll_->Find(filter, options));
    if (!total) std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want) << "planner's choice, filter " << filter.ToJson();
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(used, 200);
}

// The manual's wildcard examples: keys per leaf path, queries on any path, explain's
// {$_path, <path>} key pattern, what a wildcard index cannot do, and its options.
TEST_F(QueryPlanTest, WildcardIndexesServeAnyPathAsTheManualShows) {
  coll_->InsertMany({Document{{"_id", 1}, {"product_attributes", Document{{"size", Document{{"length", 72}}},
                                                                           {"material", "cotton"}}}},
                     Document{{"_id", 2}, {"product_attributes", Document{{"size", "L"}, {"colors", Array{"red", "blue"}}}}},
                     Document{{"_id", 3}, {"other", 1}}});
  coll_->CreateIndex(Document{{"product_attributes.$**", 1}});
  auto ids = [&](const Document& filter) {
    std::vector<int> out;
    for (const Document& d : coll_->Find(filter, {.sort = Document{{"_id", 1}}})) out.push_back(d.GetInt32("_id"));
    return out;
  };
  EXPECT_EQ(ids(Document{{"product_attributes.size.length", Document{{"$gt", 60}}}}), (std::vector<int>{1}));
  EXPECT_EQ(ids(Document{{"product_attributes.material", "cotton"}}), (std::vector<int>{1}));
  EXPECT_EQ(ids(Document{{"product_attributes.colors", "blue"}}), (std::vector<int>{2}));
  Document e = coll_->Explain(mm::ExplainVerbosity::kExecutionStats).Find(Document{{"product_attributes.size", "L"}});
  const Document& scan = Stage(e).GetDocument("inputStage");
  EXPECT_EQ(scan.GetString("stage"), "IXSCAN") << e.ToJson();
  EXPECT_EQ(scan.GetString("indexName"), "product_attributes.$**_1");
  EXPECT_EQ(scan.GetDocument("keyPattern"), (Document{{"$_path", 1}, {"product_attributes.size", 1}}));
  EXPECT_EQ(scan.GetDocument("indexBounds").GetArray("$_path"), (Array{"[\"product_attributes.size\", \"product_attributes.size\"]"}));
  EXPECT_TRUE(scan.GetBool("isMultiKey"));  // colors is an array
  EXPECT_EQ(e.GetDocument("executionStats").GetInt64("totalKeysExamined"), 1);
  // Null (a missing field matches) and paths outside the index: no wildcard plan.
  for (const Document& f : {Document{{"product_attributes.size", Value()}}, Document{{"other", 1}},
                            Document{{"product_attributes.size", Document{{"$ne", "L"}}}}}) {
    Document plan = coll_->Explain().Find(f);
    EXPECT_EQ(Stage(plan).GetString("stage"), "COLLSCAN") << f.ToJson() << plan.ToJson();
  }
  EXPECT_EQ(ids(Document{{"product_attributes.size", Value()}}), (std::vector<int>{3}));
  // Options MongoDB refuses, and the listing.
  EXPECT_EQ(ErrorCodeOf([&] { coll_->CreateIndex(Document{{"$**", 1}}, {.unique = true}); }), 67);
  EXPECT_EQ(ErrorCodeOf([&] {
              coll_->CreateIndex(Document{{"a.$**", 1}}, {.wildcard_projection = Document{{"b", 1}}});
            }),
            67);
  EXPECT_EQ(ErrorCodeOf([&] {
              coll_->CreateIndex(Document{{"$**", 1}}, {.wildcard_projection = Document{{"a", 1}, {"b", 0}}});
            }),
            31253);
  coll_->CreateIndex(Document{{"$**", 1}}, {.wildcard_projection = Document{{"other", 1}}});
  std::vector<Document> listed = coll_->ListIndexes();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[2].GetString("name"), "$**_1");
  EXPECT_EQ(listed[2].GetDocument("wildcardProjection"), (Document{{"other", 1}}));
  EXPECT_EQ(ids(Document{{"other", Document{{"$gte", 1}}}}), (std::vector<int>{3}));
  EXPECT_EQ(Stage(coll_->Explain().Find(Document{{"other", 1}})).GetDocument("inputStage").GetString("indexName"),
            "$**_1");
}

// Without arrays, a wildcard index also gives sorts on the queried path and covers a
// projection of that path alone (MongoDB's rules for non-multikey wildcard paths).
TEST_F(QueryPlanTest, WildcardIndexesSortAndCoverWhenNoArrayWasSeen) {
  std::vector<Document> docs;
  for (int i = 0; i < 50; ++i) docs.push_back(Document{{"_id", i}, {"x", (i * 7) % 50}, {"y", Document{{"z", i % 3}}}});
  coll_->InsertMany(docs);
  coll_->CreateIndex(Document{{"$**", 1}});
  mm::FindOptions sorted{.sort = Document{{"x", -1}}, .limit = 3};
  std::vector<int> xs;
  for (const Document& d : coll_->Find(Document{{"x", Document{{"$gt", 5}}}}, sorted)) xs.push_back(d.GetInt32("x"));
  EXPECT_EQ(xs, (std::vector<int>{49, 48, 47}));
  Document plan = Stage(coll_->Explain().Find(Document{{"x", Document{{"$gt", 5}}}}, sorted));
  EXPECT_EQ(plan.ToJson().find("\"SORT\""), std::string::npos) << plan.ToJson();
  EXPECT_NE(plan.ToJson().find("\"direction\": \"backward\""), std::string::npos) << plan.ToJson();
  mm::FindOptions only_x{.projection = Document{{"x", 1}, {"_id", 0}}};
  Document covered = coll_->Explain(mm::ExplainVerbosity::kExecutionStats).Find(Document{{"x", Document{{"$gte", 45}}}}, only_x);
  EXPECT_EQ(covered.GetDocument("executionStats").GetInt64("totalDocsExamined"), 0) << covered.ToJson();
  EXPECT_EQ(covered.GetDocument("executionStats").GetInt64("nReturned"), 5);
  std::vector<std::string> got = CursorJson(coll_->Find(Document{{"x", Document{{"$gte", 48}}}}, only_x));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{R"({"x": 48})", R"({"x": 49})"}));
  // A dotted path below a document.
  EXPECT_EQ(coll_->CountDocuments(Document{{"y.z", 2}}), 16);
  EXPECT_EQ(Stage(coll_->Explain().Find(Document{{"y.z", 2}})).GetDocument("inputStage").GetString("stage"), "IXSCAN");
}

// returnKey and showRecordId, from the manual's cursor.returnKey() and cursor.showRecordId()
// pages: the index key a document was found by ({} without an index), and a $recordId
// field (BinData here: records are clustered by _id, as MongoDB's clustered collections).
TEST_F(QueryPlanTest, ReturnKeyAndShowRecordIdAsTheManualShows) {
  coll_->InsertMany({Document{{"_id", 1}, {"borough", "Brooklyn"}, {"cuisine", "Hamburgers"}, {"d", Document{{"e", 5}}}},
                     Document{{"_id", 2}, {"borough", "Brooklyn"}, {"cuisine", "Bakery"}, {"d", Document{{"e", 6}}}},
                     Document{{"_id", 3}, {"borough", "Queens"}, {"cuisine", "Hamburgers"}}});
  coll_->CreateIndex(Document{{"cuisine", 1}});
  coll_->CreateIndex(Document{{"borough", 1}, {"cuisine", -1}});
  coll_->CreateIndex(Document{{"d.e", 1}});
  auto keys = [&](const Document& filter, mm::FindOptions options) {
    options.return_key = true;
    return CursorJson(coll_->Find(filter, options));
  };
  const std::vector<std::string> hamburgers = {R"({"cuisine": "Hamburgers"})", R"({"cuisine": "Hamburgers"})"};
  EXPECT_EQ(keys(Document{{"cuisine", "Hamburgers"}}, {.hint = mm::Hint(Document{{"cuisine", 1}})}), hamburgers);
  // The projection gives way to the key; compound and dotted key patterns name the fields.
  EXPECT_EQ(keys(Document{{"borough", "Brooklyn"}},
                 {.projection = Document{{"_id", 1}}, .sort = Document{{"cuisine", 1}},
                  .hint = mm::Hint(Document{{"borough", 1}, {"cuisine", -1}})}),
            (std::vector<std::string>{R"({"borough": "Brooklyn", "cuisine": "Bakery"})",
                                      R"({"borough": "Brooklyn", "cuisine": "Hamburgers"})"}));
  EXPECT_EQ(keys(Document{{"d.e", Document{{"$gte", 6}}}}, {}), std::vector<std::string>{R"({"d.e": 6})"});
  // No index: empty documents; the _id index and IDHACK: the _id.
  EXPECT_EQ(keys(Document{{"borough", "Queens"}}, {.hint = mm::Hint(Document{{"$natural", 1}})}),
            std::vector<std::string>{"{}"});
  EXPECT_EQ(keys(Document{{"_id", 2}}, {}), std::vector<std::string>{R"({"_id": 2})"});
  EXPECT_EQ(keys(Document{{"_id", Document{{"$gt", 2}}}}, {.hint = mm::Hint(Document{{"_id", 1}})}),
            std::vector<std::string>{R"({"_id": 3})"});

  // showRecordId: one distinct id per document, the same by every access path, after the
  // projection and through a blocking sort.
  std::map<int, mm::Binary> ids;
  for (const Document& d : coll_->Find({}, {.show_record_id = true})) {
    ASSERT_TRUE(d.Has("$recordId")) << d.ToJson();
    ASSERT_EQ(d.Get("$recordId").type(), mm::BsonType::kBinary);
    EXPECT_EQ(d.Get("$recordId").AsBinary().subtype, 0);
    ids[d.GetInt32("_id")] = d.Get("$recordId").AsBinary();
  }
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_NE(ids[1], ids[2]);
  EXPECT_NE(ids[2], ids[3]);
  std::vector<Document> sorted = coll_->Find(Document{{"cuisine", "Hamburgers"}},
                                             {.projection = Document{{"borough", 1}}, .sort = Document{{"borough", -1}},
                                              .hint = mm::Hint(Document{{"cuisine", 1}}), .show_record_id = true})
                                     .ToVector();
  ASSERT_EQ(sorted.size(), 2u);
  EXPECT_EQ(sorted[0].GetInt32("_id"), 3);
  EXPECT_EQ(sorted[0].GetString("borough"), "Queens");
  EXPECT_EQ(sorted[0].size(), 3u);  // _id, borough, $recordId
  EXPECT_EQ(sorted[0].Get("$recordId").AsBinary(), ids[3]);
  EXPECT_EQ(sorted[1].Get("$recordId").AsBinary(), ids[1]);
  // Both: the key, then the record id.
  std::vector<Document> both =
      coll_->Find(Document{{"_id", 1}}, {.return_key = true, .show_record_id = true}).ToVector();
  ASSERT_EQ(both.size(), 1u);
  EXPECT_EQ(both[0].GetInt32("_id"), 1);
  EXPECT_EQ(both[0].Get("$recordId").AsBinary(), ids[1]);
  EXPECT_EQ(both[0].size(), 2u);
}

// min and max, from the manual's cursor.min()/cursor.max() pages: the hinted index's keys
// from min (inclusive) to max (exclusive), and MongoDB's errors.
TEST_F(QueryPlanTest, MinAndMaxBoundTheHintedIndexAsTheManualShows) {
  const std::tuple<int, const char*, const char*, double> products[] = {
      {6, "apple", "cortland", 0.29},   {2, "apple", "fuji", 1.99},      {1, "apple", "honey crisp", 1.99},
      {3, "apple", "jonagold", 1.29},   {4, "apple", "jonathan", 1.29},  {5, "apple", "mcintosh", 1.29},
      {7, "orange", "cara cara", 2.99}, {10, "orange", "navel", 1.39},   {9, "orange", "satsuma", 1.99},
      {8, "orange", "valencia", 0.99}};
  for (const auto& [id, item, type, price] : products) {
    coll_->InsertOne(Document{{"_id", id}, {"item", item}, {"type", type}, {"price", price}});
  }
  coll_->CreateIndex(Document{{"price", 1}});
  coll_->CreateIndex(Document{{"item", 1}, {"type", 1}});
  auto ids = [&](mm::FindOptions options, const Document& filter = {}) {
    std::vector<int> out;
    for (const Document& d : coll_->Find(filter, options)) out.push_back(d.GetInt32("_id"));
    return out;
  };
  Document jonagold{{"item", "apple"}, {"type", "jonagold"}};
  EXPECT_EQ(ids({.hint = mm::Hint(Document{{"item", 1}, {"type", 1}}), .min = jonagold}),
            (std::vector<int>{3, 4, 5, 7, 10, 9, 8}));
  EXPECT_EQ(ids({.hint = mm::Hint(Document{{"item", 1}, {"type", 1}}), .max = jonagold}), (std::vector<int>{6, 2, 1}));
  std::vector<int> priced = ids({.hint = mm::Hint("price_1"), .min = Document{{"price", 1.39}},
                                 .max = Document{{"price", 2.99}}});
  std::sort(priced.begin(), priced.end());
  EXPECT_EQ(priced, (std::vector<int>{1, 2, 9, 10}));
  // With a filter and a sort the index gives.
  EXPECT_EQ(ids({.sort = Document{{"price", -1}}, .hint = mm::Hint("price_1"), .min = Document{{"price", 1.0}}},
                Document{{"item", "orange"}}),
            (std::vector<int>{7, 9, 10}));
  Document explained = coll_->Explain().Find(Document{}, {.hint = mm::Hint("price_1"), .min = Document{{"price", 1.0}}});
  EXPECT_EQ(Stage(explained).GetDocument("inputStage").GetString("indexName"), "price_1") << explained.ToJson();
  // MongoDB's errors: no hint, fields not those of the hinted index, min not before max.
  EXPECT_EQ(ErrorCodeOf([&] { ids({.min = Document{{"price", 1}}}); }), 51173);
  EXPECT_EQ(ErrorCodeOf([&] { ids({.hint = mm::Hint("price_1"), .min = Document{{"item", "a"}}}); }), 51174);
  EXPECT_EQ(ErrorCodeOf([&] { ids({.hint = mm::Hint("item_1_type_1"), .min = Document{{"item", "a"}}}); }), 51174);
  EXPECT_EQ(ErrorCodeOf([&] {
              ids({.hint = mm::Hint("price_1"), .min = Document{{"price", 2}}, .max = Document{{"price", 2}}});
            }),
            51175);
}

// A micromongo-server started by the test (not a WorkerBridge's), so that the test can read
// its log and kill -9 it.
class LoggedServer {
 public:
  LoggedServer(const std::string& dir) : dir_(dir) { Start(); }
  ~LoggedServer() { Kill(); }
  void Start() {
    std::string socket = dir_ + "/s.sock";
    std::filesystem::remove(socket);
    pid_ = fork();
    if (pid_ == 0) {
      int log = open((dir_ + "/server.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(log, 2);
      execl(MM_SERVER, MM_SERVER, "--listen", ("unix:" + socket).c_str(), "--data-dir", (dir_ + "/data").c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (access(socket.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    bridge_ = mm::WorkerBridge::Connect("unix:" + socket, std::chrono::milliseconds(20000));
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::string Log() const {
    std::ifstream in(dir_ + "/server.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::shared_ptr<mm::WorkerBridge> bridge() const { return bridge_; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  std::shared_ptr<mm::WorkerBridge> bridge_;
};

// An index build over a big collection logs its progress; killed in the middle, it leaves
// no index behind (MongoDB would restart it; either way never a half-built one), and
// building it again gives a complete, usable index.
TEST(IndexBuildTest, LogsProgressAndACrashMidBuildLeavesNoHalfBuiltIndex) {
  micromongo::testing::TempDir dir;
  LoggedServer server(dir.path());
  const int kDocs = 200000;
  {
    mm::MongoClient client("mongodb://localhost/builds", {.worker_bridge = server.bridge()});
    mm::Collection coll = client.Db()["big"];
    std::vector<Document> batch;
    for (int i = 0; i < kDocs; ++i) {
      batch.push_back(Document{{"_id", i}, {"k", kDocs - i}, {"tag", Array{i % 7, i % 11}}});
      if (batch.size() == 5000) {
        coll.InsertMany(batch);
        batch.clear();
      }
    }
    coll.CreateIndex(Document{{"k", 1}});
    std::string log = server.Log();
    EXPECT_NE(log.find(R"(Index build: started {"index": "k_1", "namespace": "builds.big", "documents": 0, "total": 200000})"), std::string::npos) << log;
    EXPECT_NE(log.find(R"(Index build: progress {"index": "k_1", "namespace": "builds.big", "documents": 100000, "total": 200000, "percent": 50.0})"), std::string::npos) << log;
    EXPECT_NE(log.find(R"(Index build: done {"index": "k_1", "namespace": "builds.big", "documents": 200000, "total": 200000, "durationSecs": )"), std::string::npos) << log;

    // A second build, killed once it has logged some progress.
    std::atomic<bool> finished{false};
    std::thread build([&] {
      try {
        coll.CreateIndex(Document{{"tag", 1}});
        finished = true;
      } catch (const mm::Error&) {
      }
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (server.Log().find(R"(Index build: progress {"index": "tag_1", "namespace": "builds.big", "documents": 40000,)") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    server.Kill();
    build.join();
    client.Close();
    server.bridge()->Terminate();
  }
  server.Start();
  mm::MongoClient client("mongodb://localhost/builds", {.worker_bridge = server.bridge()});
  mm::Collection coll = client.Db()["big"];
  EXPECT_EQ(coll.CountDocuments(), kDocs);
  std::vector<std::string> names;
  for (const Document& d : coll.ListIndexes()) names.push_back(d.GetString("name"));
  // Normally the kill lands mid-build and the index is gone; had the build won the race,
  // the index would be there, whole (checked below either way).
  if (std::find(names.begin(), names.end(), "tag_1") == names.end()) {
    EXPECT_EQ(names, (std::vector<std::string>{"_id_", "k_1"}));
    coll.CreateIndex(Document{{"tag", 1}});
  }
  mm::FindOptions by_tag;
  by_tag.hint = mm::Hint("tag_1");
  mm::FindOptions natural;
  natural.hint = mm::Hint(Document{{"$natural", 1}});
  for (int t : {0, 3, 10}) {
    EXPECT_EQ(coll.CountDocuments(Document{{"tag", t}}, {.hint = mm::Hint("tag_1")}),
              coll.CountDocuments(Document{{"tag", t}}, {.hint = mm::Hint(Document{{"$natural", 1}})}));
  }
  EXPECT_EQ(coll.Find(Document{{"tag", 5}}, by_tag).ToVector().size(),
            coll.Find(Document{{"tag", 5}}, natural).ToVector().size());
  client.Close();
  server.bridge()->Terminate();
}

}  // namespace
