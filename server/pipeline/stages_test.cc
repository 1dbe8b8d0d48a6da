// The aggregation stages, one table per stage, from the MongoDB manual's documented
// examples (its input documents, pipeline and documented output) plus edge cases: missing
// vs null, empty input, arrays, errors with MongoDB's codes.
//
// Pipelines run over an in-memory DataAccess holding the collections a case names; reads
// filter with the real matcher. ($out, $merge and access paths run through a real worker
// in tests/aggregation_test.cc.)

#include <gtest/gtest.h>

#include <map>

#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"
#include "pipeline/pipeline.h"
#include "query/matcher.h"

namespace micromongo::pipeline {
namespace {

// Collections in memory, in insertion order.
class MemoryData final : public DataAccess {
 public:
  std::map<std::string, std::vector<std::string>, std::less<>> collections;

  absl::StatusOr<std::optional<ViewDefinition>> ResolveView(std::string_view, std::string_view) override {
    return std::optional<ViewDefinition>();
  }
  absl::StatusOr<StagePtr> Read(const ReadRequest& request, ReadPlan* plan) override {
    if (plan != nullptr) *plan = {"COLLSCAN", ""};
    std::vector<std::string> out;
    auto it = collections.find(request.collection);
    if (it != collections.end()) {
      for (const std::string& d : it->second) {
        if (request.filter != nullptr) {
          auto m = request.filter->Evaluate(bson::DocView(d));
          if (!m.ok()) return m.status();
          if (!*m) continue;
        }
        out.push_back(d);
      }
    }
    return RowsSource(std::move(out));
  }
  bool CanUseIndex(const ReadRequest&) override { return false; }
  absl::StatusOr<std::unique_ptr<EqualityReader>> OpenEqualityReader(std::string_view, std::string_view,
                                                                     std::string_view, const bson::Collator*) override {
    return std::unique_ptr<EqualityReader>();
  }
  absl::StatusOr<std::unique_ptr<OutWriter>> OpenOut(std::string_view, std::string_view, bool, std::string_view) override {
    return MongoError(kNotImplemented, "writes run against a real worker in tests/");
  }
  absl::Status Merge(const MergeRequest&, std::vector<std::string>) override {
    return MongoError(kNotImplemented, "writes run against a real worker in tests/");
  }
  absl::StatusOr<Document> CollStats(std::string_view, std::string_view, const Document&) override {
    return MongoError(kNotImplemented, "statistics run against a real worker in tests/");
  }
  absl::StatusOr<std::vector<Document>> IndexStats(std::string_view, std::string_view) override {
    return MongoError(kNotImplemented, "statistics run against a real worker in tests/");
  }
};

std::vector<std::string> Docs(const char* json_array) {
  Document wrapper = Document::FromJson(std::string("{\"a\": ") + json_array + "}");
  std::vector<std::string> out;
  for (const Value& v : wrapper.GetArray("a")) out.push_back(bson::Encode(v.AsDocument()));
  return out;
}

std::vector<Document> Stages(const char* json_array) {
  Document wrapper = Document::FromJson(std::string("{\"a\": ") + json_array + "}");
  std::vector<Document> out;
  for (const Value& v : wrapper.GetArray("a")) out.push_back(v.AsDocument());
  return out;
}

// Runs `pipeline` over the documents of collection "c"; the other collections are for
// $lookup, $graphLookup and $unionWith. Returns the output as canonical JSON, one document
// per line, or the error.
absl::StatusOr<std::string> RunPipeline(const std::map<std::string, const char*>& colls, const char* pipeline,
                                bool allow_disk_use = false, int64_t memory_limit = kDefaultBlockingMemoryLimit) {
  MemoryData data;
  for (const auto& [name, docs] : colls) data.collections[name] = Docs(docs);
  ParseOptions options;
  auto p = Pipeline::Parse(Stages(pipeline), options);
  if (!p.ok()) return p.status();
  ExecContext ctx;
  ctx.data = &data;
  ctx.db = "test";
  ctx.collection = "c";
  ctx.allow_disk_use = allow_disk_use;
  ctx.memory_limit = ctx.group_memory_limit = memory_limit;
  // Spill files are unlinked as soon as they are made: nothing is left in the directory.
  ctx.temp_dir = ::testing::TempDir();
  auto top = p->OpenOnCollection("test", "c", &ctx);
  if (!top.ok()) return top.status();
  auto out = Drain(top->get());
  if (!out.ok()) return out.status();
  std::string lines;
  for (const std::string& d : *out) lines += bson::Decode(bson::DocView(d)).ToCanonicalJson() + "\n";
  return lines;
}

std::string Expected(const char* json_array) {
  std::string lines;
  for (const std::string& d : Docs(json_array)) lines += bson::Decode(bson::DocView(d)).ToCanonicalJson() + "\n";
  return lines;
}

struct StageCase {
  const char* name;
  std::map<std::string, const char*> colls;
  const char* pipeline;
  const char* expected;  // JSON array of the output documents, in order
};

void RunCases(const std::vector<StageCase>& cases) {
  for (const StageCase& c : cases) {
    auto got = RunPipeline(c.colls, c.pipeline);
    ASSERT_TRUE(got.ok()) << c.name << ": " << got.status();
    EXPECT_EQ(*got, Expected(c.expected)) << c.name;
  }
}

struct ErrorCase {
  const char* name;
  const char* input;
  const char* pipeline;
  int code;
};

void RunErrors(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    auto got = RunPipeline({{"c", c.input}}, c.pipeline);
    EXPECT_EQ(MongoCodeOf(got.status()), c.code) << c.name << ": " << got.status();
  }
}

// ---- Collections of the manual's examples -----------------------------------------------------

constexpr const char* kSales = R"([
  {"_id": 1, "item": "abc", "price": {"$numberDecimal": "10"}, "quantity": 2, "date": {"$date": "2014-03-01T08:00:00Z"}},
  {"_id": 2, "item": "jkl", "price": {"$numberDecimal": "20"}, "quantity": 1, "date": {"$date": "2014-03-01T09:00:00Z"}},
  {"_id": 3, "item": "xyz", "price": {"$numberDecimal": "5"}, "quantity": 10, "date": {"$date": "2014-03-15T09:00:00Z"}},
  {"_id": 4, "item": "xyz", "price": {"$numberDecimal": "5"}, "quantity": 20, "date": {"$date": "2014-04-04T11:21:39.736Z"}},
  {"_id": 5, "item": "abc", "price": {"$numberDecimal": "10"}, "quantity": 10, "date": {"$date": "2014-04-04T21:23:13.331Z"}},
  {"_id": 6, "item": "def", "price": {"$numberDecimal": "7.5"}, "quantity": 5, "date": {"$date": "2015-06-04T05:08:13Z"}},
  {"_id": 7, "item": "def", "price": {"$numberDecimal": "7.5"}, "quantity": 10, "date": {"$date": "2015-09-10T08:43:00Z"}},
  {"_id": 8, "item": "abc", "price": {"$numberDecimal": "10"}, "quantity": 5, "date": {"$date": "2016-02-06T20:20:13Z"}}])";

constexpr const char* kBooks = R"([
  {"_id": 8751, "title": "The Banquet", "author": "Dante", "copies": 2},
  {"_id": 8752, "title": "Divine Comedy", "author": "Dante", "copies": 1},
  {"_id": 8645, "title": "Eclogues", "author": "Dante", "copies": 2},
  {"_id": 7000, "title": "The Odyssey", "author": "Homer", "copies": 10},
  {"_id": 7020, "title": "Iliad", "author": "Homer", "copies": 10}])";

constexpr const char* kCakeSales = R"([
  {"_id": 0, "type": "chocolate", "orderDate": {"$date": "2020-05-18T14:10:30Z"}, "state": "CA", "price": 13, "quantity": 120},
  {"_id": 1, "type": "chocolate", "orderDate": {"$date": "2021-03-20T11:30:05Z"}, "state": "WA", "price": 14, "quantity": 140},
  {"_id": 2, "type": "vanilla", "orderDate": {"$date": "2021-01-11T06:31:15Z"}, "state": "CA", "price": 12, "quantity": 145},
  {"_id": 3, "type": "vanilla", "orderDate": {"$date": "2020-02-08T13:13:23Z"}, "state": "WA", "price": 13, "quantity": 104},
  {"_id": 4, "type": "strawberry", "orderDate": {"$date": "2019-05-18T16:09:01Z"}, "state": "CA", "price": 41, "quantity": 162},
  {"_id": 5, "type": "strawberry", "orderDate": {"$date": "2019-01-08T06:12:03Z"}, "state": "WA", "price": 43, "quantity": 134}])";

constexpr const char* kArtwork = R"([
  {"_id": 1, "title": "The Pillars of Society", "artist": "Grosz", "year": 1926, "price": {"$numberDecimal": "199.99"}},
  {"_id": 2, "title": "Melancholy III", "artist": "Munch", "year": 1902, "price": {"$numberDecimal": "280.00"}},
  {"_id": 3, "title": "Dancer", "artist": "Miro", "year": 1925, "price": {"$numberDecimal": "76.04"}},
  {"_id": 4, "title": "The Great Wave off Kanagawa", "artist": "Hokusai", "price": {"$numberDecimal": "167.30"}},
  {"_id": 5, "title": "The Persistence of Memory", "artist": "Dali", "year": 1931, "price": {"$numberDecimal": "483.00"}},
  {"_id": 6, "title": "Composition VII", "artist": "Kandinsky", "year": 1913, "price": {"$numberDecimal": "385.00"}},
  {"_id": 7, "title": "The Scream", "artist": "Munch", "price": {"$numberDecimal": "159.00"}},
  {"_id": 8, "title": "Blue Flower", "artist": "O'Keefe", "year": 1918, "price": {"$numberDecimal": "118.42"}}])";

// ---- Tables ---------------------------------------------------------------------------------

TEST(StagesTest, Group) {
  RunCases({
      {"count", {{"c", kSales}}, R"([{"$group": {"_id": null, "count": {"$count": {}}}}])",
       R"([{"_id": null, "count": 8}])"},
      {"having",
       {{"c", kSales}},
       R"([{"$group": {"_id": "$item", "totalSaleAmount": {"$sum": {"$multiply": ["$price", "$quantity"]}}}},
           {"$match": {"totalSaleAmount": {"$gte": 100}}}, {"$sort": {"totalSaleAmount": -1}}])",
       R"([{"_id": "abc", "totalSaleAmount": {"$numberDecimal": "170"}},
           {"_id": "xyz", "totalSaleAmount": {"$numberDecimal": "150"}},
           {"_id": "def", "totalSaleAmount": {"$numberDecimal": "112.5"}}])"},
      {"by day",
       {{"c", kSales}},
       R"([{"$match": {"date": {"$gte": {"$date": "2014-01-01T00:00:00Z"}, "$lt": {"$date": "2015-01-01T00:00:00Z"}}}},
           {"$group": {"_id": {"$dateToString": {"format": "%Y-%m-%d", "date": "$date"}},
                       "totalSaleAmount": {"$sum": {"$multiply": ["$price", "$quantity"]}},
                       "averageQuantity": {"$avg": "$quantity"}, "count": {"$sum": 1}}},
           {"$sort": {"totalSaleAmount": -1}}])",
       R"([{"_id": "2014-04-04", "totalSaleAmount": {"$numberDecimal": "200"}, "averageQuantity": 15.0, "count": 2},
           {"_id": "2014-03-15", "totalSaleAmount": {"$numberDecimal": "50"}, "averageQuantity": 10.0, "count": 1},
           {"_id": "2014-03-01", "totalSaleAmount": {"$numberDecimal": "40"}, "averageQuantity": 1.5, "count": 2}])"},
      {"null id",
       {{"c", kSales}},
       R"([{"$group": {"_id": null, "totalSaleAmount": {"$sum": {"$multiply": ["$price", "$quantity"]}},
                       "averageQuantity": {"$avg": "$quantity"}, "count": {"$sum": 1}}}])",
       R"([{"_id": null, "totalSaleAmount": {"$numberDecimal": "452.5"}, "averageQuantity": 7.875, "count": 8}])"},
      {"distinct", {{"c", kSales}}, R"([{"$group": {"_id": "$item"}}, {"$sort": {"_id": 1}}])",
       R"([{"_id": "abc"}, {"_id": "def"}, {"_id": "jkl"}, {"_id": "xyz"}])"},
      {"pivot", {{"c", kBooks}}, R"([{"$group": {"_id": "$author", "books": {"$push": "$title"}}}, {"$sort": {"_id": -1}}])",
       R"([{"_id": "Homer", "books": ["The Odyssey", "Iliad"]},
           {"_id": "Dante", "books": ["The Banquet", "Divine Comedy", "Eclogues"]}])"},
      {"$$ROOT",
       {{"c", kBooks}},
       R"([{"$group": {"_id": "$author", "books": {"$push": "$$ROOT"}}},
           {"$addFields": {"totalCopies": {"$sum": "$books.copies"}}}, {"$project": {"books": 0}}, {"$sort": {"_id": 1}}])",
       R"([{"_id": "Dante", "totalCopies": 5}, {"_id": "Homer", "totalCopies": 20}])"},
      // Missing and null keys are one group; a document _id with a missing field has null there.
      {"missing key",
       {{"c", R"([{"_id": 1, "k": null}, {"_id": 2}, {"_id": 3, "k": 1}])"}},
       R"([{"$group": {"_id": "$k", "n": {"$sum": 1}, "ids": {"$push": "$_id"}}}, {"$sort": {"_id": 1}}])",
       R"([{"_id": null, "n": 2, "ids": [1, 2]}, {"_id": 1, "n": 1, "ids": [3]}])"},
      {"compound key",
       {{"c", R"([{"_id": 1, "a": 1}, {"_id": 2, "a": 1, "b": 2}])"}},
       R"([{"$group": {"_id": {"a": "$a", "b": "$b"}, "n": {"$sum": 1}}}, {"$sort": {"n": 1}}])",
       R"([{"_id": {"a": 1, "b": null}, "n": 1}, {"_id": {"a": 1, "b": 2}, "n": 1}])"},
      // 1, 1.0 and NumberLong(1) are one key (the first seen is the group's _id).
      {"numeric equality",
       {{"c", R"([{"k": 1}, {"k": 1.0}, {"k": {"$numberLong": "1"}}, {"k": "1"}])"}},
       R"([{"$group": {"_id": "$k", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}])",
       R"([{"_id": 1, "n": 3}, {"_id": "1", "n": 1}])"},
      {"empty input", {{"c", "[]"}}, R"([{"$group": {"_id": null, "n": {"$sum": 1}}}])", "[]"},
      {"first last min max",
       {{"c", R"([{"g": 1, "v": 3}, {"g": 1, "v": null}, {"g": 1}, {"g": 1, "v": 7}])"}},
       R"([{"$group": {"_id": "$g", "f": {"$first": "$v"}, "l": {"$last": "$v"}, "mn": {"$min": "$v"},
                       "mx": {"$max": "$v"}, "s": {"$sum": "$v"}, "a": {"$avg": "$v"}, "set": {"$addToSet": "$v"},
                       "all": {"$push": "$v"}}},
           {"$set": {"set": {"$sortArray": {"input": "$set", "sortBy": 1}}}}])",
       R"([{"_id": 1, "f": 3, "l": 7, "mn": 3, "mx": 7, "s": 10, "a": 5.0, "set": [null, 3, 7], "all": [3, null, 7]}])"},
      // $sum and $avg ignore what is not a number; $min and $max compare whole values in
      // BSON order (numbers < strings < objects < arrays < booleans) and skip null and
      // missing; an int64 input makes the sum an int64.
      {"accumulators over fields of mixed types",
       {{"c", R"([{"g": "ints", "v": 2}, {"g": "ints", "v": {"$numberLong": "3"}},
                  {"g": "mixed", "v": 1.5}, {"g": "mixed", "v": 2}, {"g": "mixed", "v": "x"},
                  {"g": "mixed", "v": null}, {"g": "mixed"}, {"g": "mixed", "v": [1, 2]},
                  {"g": "mixed", "v": {"a": 1}}, {"g": "mixed", "v": true},
                  {"g": "strings", "v": "b"}, {"g": "strings", "v": "a"}, {"g": "strings", "v": "c"},
                  {"g": "nothing", "v": null}, {"g": "nothing"}])"}},
       R"([{"$group": {"_id": "$g", "s": {"$sum": "$v"}, "a": {"$avg": "$v"}, "mn": {"$min": "$v"},
                       "mx": {"$max": "$v"}}},
           {"$sort": {"_id": 1}}])",
       R"([{"_id": "ints", "s": {"$numberLong": "5"}, "a": 2.5, "mn": 2, "mx": {"$numberLong": "3"}},
           {"_id": "mixed", "s": 3.5, "a": 1.75, "mn": 1.5, "mx": true},
           {"_id": "nothing", "s": 0, "a": null, "mn": null, "mx": null},
           {"_id": "strings", "s": 0, "a": null, "mn": "a", "mx": "c"}])"},
      {"n accumulators",
       {{"c", R"([{"g": 1, "s": 10}, {"g": 1, "s": 40}, {"g": 1, "s": 20}, {"g": 1, "s": 30}])"}},
       R"([{"$group": {"_id": "$g", "top2": {"$topN": {"n": 2, "sortBy": {"s": -1}, "output": "$s"}},
                       "bottom": {"$bottom": {"sortBy": {"s": -1}, "output": "$s"}},
                       "first2": {"$firstN": {"n": 2, "input": "$s"}}, "max2": {"$maxN": {"n": 2, "input": "$s"}},
                       "median": {"$median": {"input": "$s", "method": "approximate"}}}}])",
       R"([{"_id": 1, "top2": [40, 30], "bottom": 10, "first2": [10, 40], "max2": [40, 30], "median": 20.0}])"},
  });
  RunErrors({
      {"no _id", "[]", R"([{"$group": {"n": {"$sum": 1}}}])", 15955},
      {"not an object", "[]", R"([{"$group": 1}])", 15947},
      {"two accumulators", "[]", R"([{"$group": {"_id": 1, "n": {"$sum": 1, "$max": 1}}}])", 40238},
      {"not an accumulator", "[]", R"([{"$group": {"_id": 1, "n": 1}}])", 40234},
      {"dotted field", "[]", R"([{"$group": {"_id": 1, "a.b": {"$sum": 1}}}])", 40235},
      {"unknown accumulator", "[]", R"([{"$group": {"_id": 1, "n": {"$foo": 1}}}])", 15952},
      {"array to unary", "[]", R"([{"$group": {"_id": 1, "n": {"$sum": [1, 2]}}}])", 40237},
      {"$accumulator", "[]", R"([{"$group": {"_id": 1, "n": {"$accumulator": {}}}}])", kNotImplemented},
  });
}

TEST(StagesTest, GroupSpills) {
  std::string input = "[";
  for (int i = 0; i < 3000; ++i) input += (i ? "," : "") + std::string("{\"k\": ") + std::to_string(i % 1000) + ", \"v\": 1}";
  input += "]";
  const char* pipeline = R"([{"$group": {"_id": "$k", "n": {"$sum": "$v"}, "vs": {"$push": "$v"}}}, {"$match": {"n": {"$ne": 3}}}])";
  // 1000 groups do not fit in 20 KB: without allowDiskUse the stage fails with 292...
  auto failed = RunPipeline({{"c", input.c_str()}}, pipeline, false, 20000);
  EXPECT_EQ(MongoCodeOf(failed.status()), kQueryExceededMemoryLimitNoDiskUseAllowed);
  // ... with it, groups spill to sorted runs and merge back into the same totals.
  auto spilled = RunPipeline({{"c", input.c_str()}}, pipeline, true, 20000);
  ASSERT_TRUE(spilled.ok()) << spilled.status();
  EXPECT_EQ(*spilled, "");
  auto count = RunPipeline({{"c", input.c_str()}}, R"([{"$group": {"_id": "$k"}}, {"$count": "n"}])", true, 20000);
  EXPECT_EQ(*count, Expected(R"([{"n": 1000}])"));
}

// $facet's input and a $setWindowFields partition past the limit: 292 without allowDiskUse;
// with it they are held on disk and the results are complete.
TEST(StagesTest, FacetAndWindowsSpill) {
  std::string input = "[";
  for (int i = 0; i < 2000; ++i) input += (i ? "," : "") + std::string("{\"i\": ") + std::to_string(i) + "}";
  input += "]";
  const char* facet = R"([{"$facet": {"n": [{"$count": "n"}], "top": [{"$sort": {"i": -1}}, {"$limit": 1}, {"$project": {"_id": 0}}]}}])";
  EXPECT_EQ(MongoCodeOf(RunPipeline({{"c", input.c_str()}}, facet, false, 20000).status()),
            kQueryExceededMemoryLimitNoDiskUseAllowed);
  auto faceted = RunPipeline({{"c", input.c_str()}}, facet, true, 20000);
  ASSERT_TRUE(faceted.ok()) << faceted.status();
  EXPECT_EQ(*faceted, Expected(R"([{"n": [{"n": 2000}], "top": [{"i": 1999}]}])"));
  const char* window = R"([{"$setWindowFields": {"sortBy": {"i": 1}, "output": {"s": {"$sum": "$i", "window": {"documents": [-1, 0]}}}}},
                           {"$skip": 1998}, {"$project": {"_id": 0}}])";
  EXPECT_EQ(MongoCodeOf(RunPipeline({{"c", input.c_str()}}, window, false, 20000).status()),
            kQueryExceededMemoryLimitNoDiskUseAllowed);
  auto windowed = RunPipeline({{"c", input.c_str()}}, window, true, 20000);
  ASSERT_TRUE(windowed.ok()) << windowed.status();
  EXPECT_EQ(*windowed, Expected(R"([{"i": 1998, "s": 3995}, {"i": 1999, "s": 3997}])"));
}

TEST(StagesTest, Sort) {
  RunCases({
      {"manual order",
       {{"c", R"([{"_id": 1, "a": null}, {"_id": 2}, {"_id": 3, "a": []}, {"_id": 4, "a": 1}, {"_id": 5, "a": "x"},
                  {"_id": 6, "a": {}}, {"_id": 7, "a": [2]}, {"_id": 8, "a": false}])"}},
       R"([{"$sort": {"a": 1, "_id": 1}}, {"$project": {"_id": 1}}])",
       R"([{"_id": 3}, {"_id": 1}, {"_id": 2}, {"_id": 4}, {"_id": 7}, {"_id": 5}, {"_id": 6}, {"_id": 8}])"},
      {"top k", {{"c", kCakeSales}}, R"([{"$sort": {"quantity": -1}}, {"$skip": 1}, {"$limit": 2}, {"$project": {"quantity": 1}}])",
       R"([{"_id": 2, "quantity": 145}, {"_id": 1, "quantity": 140}])"},
      {"stable ties", {{"c", R"([{"_id": 3, "k": 1}, {"_id": 1, "k": 1}, {"_id": 2, "k": 0}])"}},
       R"([{"$sort": {"k": 1}}])", R"([{"_id": 2, "k": 0}, {"_id": 3, "k": 1}, {"_id": 1, "k": 1}])"},
  });
  RunErrors({
      {"empty", "[]", R"([{"$sort": {}}])", 15976},
      {"bad direction", "[]", R"([{"$sort": {"a": 2}}])", 15975},
      {"not an object", "[]", R"([{"$sort": 1}])", 15973},
      {"parallel arrays", R"([{"a": [1, 2], "b": [1, 2]}, {}])", R"([{"$sort": {"a": 1, "b": 1}}])", kBadValue},
  });
  // A sort past the limit fails without allowDiskUse and spills with it.
  std::string input = "[";
  for (int i = 0; i < 2000; ++i) input += (i ? "," : "") + std::string("{\"k\": ") + std::to_string((i * 7919) % 2000) + "}";
  input += "]";
  EXPECT_EQ(MongoCodeOf(RunPipeline({{"c", input.c_str()}}, R"([{"$sort": {"k": 1}}])", false, 20000).status()),
            kQueryExceededMemoryLimitNoDiskUseAllowed);
  auto sorted = RunPipeline({{"c", input.c_str()}}, R"([{"$sort": {"k": -1}}, {"$limit": 3}, {"$project": {"_id": 0}}])", true, 20000);
  EXPECT_EQ(*sorted, Expected(R"([{"k": 1999}, {"k": 1998}, {"k": 1997}])"));
  auto all = RunPipeline({{"c", input.c_str()}}, R"([{"$sort": {"k": 1}}, {"$skip": 1995}, {"$project": {"_id": 0}}])", true, 20000);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, Expected(R"([{"k": 1995}, {"k": 1996}, {"k": 1997}, {"k": 1998}, {"k": 1999}])"));
}

TEST(StagesTest, MatchSkipLimitCount) {
  const char* scores = R"([{"_id": 1, "subject": "History", "score": 88}, {"_id": 2, "subject": "History", "score": 92},
                           {"_id": 3, "subject": "History", "score": 97}, {"_id": 4, "subject": "History", "score": 71},
                           {"_id": 5, "subject": "History", "score": 79}, {"_id": 6, "subject": "History", "score": 83}])";
  RunCases({
      {"count", {{"c", scores}}, R"([{"$match": {"score": {"$gt": 80}}}, {"$count": "passing_scores"}])",
       R"([{"passing_scores": 4}])"},
      {"count nothing", {{"c", scores}}, R"([{"$match": {"score": {"$gt": 100}}}, {"$count": "n"}])", "[]"},
      {"skip limit", {{"c", scores}}, R"([{"$skip": 4}, {"$limit": 1}, {"$project": {"score": 1}}])",
       R"([{"_id": 5, "score": 79}])"},
      {"$expr", {{"c", scores}}, R"([{"$match": {"$expr": {"$gt": ["$score", {"$add": [90, 1]}]}}}, {"$project": {"_id": 1}}])",
       R"([{"_id": 2}, {"_id": 3}])"},
  });
  RunErrors({
      {"limit 0", "[]", R"([{"$limit": 0}])", 15958},
      {"negative limit", "[]", R"([{"$limit": -1}])", 5107201},
      {"negative skip", "[]", R"([{"$skip": -1}])", 5107200},
      {"fractional skip", "[]", R"([{"$skip": 1.5}])", 5107200},
      {"count with $", "[]", R"([{"$count": "$x"}])", 40158},
      {"count with .", "[]", R"([{"$count": "a.b"}])", 40160},
      {"count not a string", "[]", R"([{"$count": 1}])", 40156},
      {"match not an object", "[]", R"([{"$match": 1}])", 15959},
      {"$expr fails", R"([{"a": 0}])", R"([{"$match": {"$expr": {"$divide": [1, "$a"]}}}])", kBadValue},
  });
}

TEST(StagesTest, ProjectAddFieldsUnsetReplaceRoot) {
  const char* scores = R"([{"_id": 1, "student": "Maya", "homework": [10, 5, 10], "quiz": [10, 8], "extraCredit": 0},
                           {"_id": 2, "student": "Ryan", "homework": [5, 6, 5], "quiz": [8, 8], "extraCredit": 8}])";
  const char* books = R"([{"_id": 1, "title": "Antelope Antics", "isbn": "0001122223334",
                           "author": {"last": "An", "first": "Auntie"},
                           "copies": [{"warehouse": "A", "qty": 5}, {"warehouse": "B", "qty": 15}]}])";
  RunCases({
      {"addFields",
       {{"c", scores}},
       R"([{"$addFields": {"totalHomework": {"$sum": "$homework"}, "totalQuiz": {"$sum": "$quiz"}}},
           {"$addFields": {"totalScore": {"$add": ["$totalHomework", "$totalQuiz", "$extraCredit"]}}},
           {"$project": {"homework": 0, "quiz": 0}}])",
       R"([{"_id": 1, "student": "Maya", "extraCredit": 0, "totalHomework": 25, "totalQuiz": 18, "totalScore": 43},
           {"_id": 2, "student": "Ryan", "extraCredit": 8, "totalHomework": 16, "totalQuiz": 16, "totalScore": 40}])"},
      {"set in embedded", {{"c", R"([{"_id": 1, "specs": {"doors": 4, "wheels": 4}}])"}},
       R"([{"$set": {"specs.fuel_type": "unleaded"}}])",
       R"([{"_id": 1, "specs": {"doors": 4, "wheels": 4, "fuel_type": "unleaded"}}])"},
      {"set on null", {{"c", R"([{"_id": 1, "dims": null}])"}}, R"([{"$set": {"dims.x": 1}}])",
       R"([{"_id": 1, "dims": {"x": 1}}])"},
      {"unset", {{"c", books}}, R"([{"$unset": ["isbn", "author.first", "copies.warehouse"]}])",
       R"([{"_id": 1, "title": "Antelope Antics", "author": {"last": "An"}, "copies": [{"qty": 5}, {"qty": 15}]}])"},
      {"project slice expression", {{"c", scores}}, R"([{"$project": {"first2": {"$slice": ["$homework", 2]}, "_id": 0}}])",
       R"([{"first2": [10, 5]}, {"first2": [5, 6]}])"},
      {"project nested inclusion", {{"c", books}}, R"([{"$project": {"author": {"last": 1}, "_id": 0}}])",
       R"([{"author": {"last": "An"}}])"},
      {"replaceRoot",
       {{"c", R"([{"_id": 1, "name": "Arlene", "age": 34, "pets": {"dogs": 2, "cats": 1}},
                  {"_id": 2, "name": "Sam", "age": 41, "pets": {"cats": 1, "fish": 3}},
                  {"_id": 3, "name": "Maria", "age": 25}])"}},
       R"([{"$replaceRoot": {"newRoot": {"$mergeObjects": [{"dogs": 0, "cats": 0, "birds": 0, "fish": 0}, "$pets"]}}}])",
       R"([{"dogs": 2, "cats": 1, "birds": 0, "fish": 0}, {"dogs": 0, "cats": 1, "birds": 0, "fish": 3},
           {"dogs": 0, "cats": 0, "birds": 0, "fish": 0}])"},
      {"replaceWith", {{"c", R"([{"_id": 1, "a": {"b": 1}}])"}}, R"([{"$replaceWith": "$a"}])", R"([{"b": 1}])"},
  });
  RunErrors({
      {"replaceRoot missing", R"([{"_id": 1}])", R"([{"$replaceRoot": {"newRoot": "$name"}}])", 40228},
      {"replaceRoot no newRoot", "[]", R"([{"$replaceRoot": {}}])", 40231},
      {"replaceRoot unknown", "[]", R"([{"$replaceRoot": {"newRoot": "$a", "x": 1}}])", 40230},
      {"project empty", "[]", R"([{"$project": {}}])", 51272},
      {"project mixed", "[]", R"([{"$project": {"a": 1, "b": 0}}])", 31254},
      {"addFields not an object", "[]", R"([{"$addFields": 1}])", 40272},
      {"unset empty", "[]", R"([{"$unset": []}])", 31119},
      {"unset number", "[]", R"([{"$unset": 1}])", 31002},
  });
}

TEST(StagesTest, Unwind) {
  const char* clothing = R"([{"_id": 1, "item": "Shirt", "sizes": ["S", "M", "L"]}, {"_id": 2, "item": "Shorts", "sizes": []},
                             {"_id": 3, "item": "Hat", "sizes": "M"}, {"_id": 4, "item": "Gloves"},
                             {"_id": 5, "item": "Scarf", "sizes": null}])";
  RunCases({
      {"plain", {{"c", clothing}}, R"([{"$unwind": "$sizes"}])",
       R"([{"_id": 1, "item": "Shirt", "sizes": "S"}, {"_id": 1, "item": "Shirt", "sizes": "M"},
           {"_id": 1, "item": "Shirt", "sizes": "L"}, {"_id": 3, "item": "Hat", "sizes": "M"}])"},
      {"preserve", {{"c", clothing}}, R"([{"$unwind": {"path": "$sizes", "preserveNullAndEmptyArrays": true}}])",
       R"([{"_id": 1, "item": "Shirt", "sizes": "S"}, {"_id": 1, "item": "Shirt", "sizes": "M"},
           {"_id": 1, "item": "Shirt", "sizes": "L"}, {"_id": 2, "item": "Shorts"}, {"_id": 3, "item": "Hat", "sizes": "M"},
           {"_id": 4, "item": "Gloves"}, {"_id": 5, "item": "Scarf", "sizes": null}])"},
      {"index", {{"c", clothing}}, R"([{"$unwind": {"path": "$sizes", "includeArrayIndex": "arrayIndex"}}])",
       R"([{"_id": 1, "item": "Shirt", "sizes": "S", "arrayIndex": {"$numberLong": "0"}},
           {"_id": 1, "item": "Shirt", "sizes": "M", "arrayIndex": {"$numberLong": "1"}},
           {"_id": 1, "item": "Shirt", "sizes": "L", "arrayIndex": {"$numberLong": "2"}},
           {"_id": 3, "item": "Hat", "sizes": "M", "arrayIndex": null}])"},
      {"nested path", {{"c", R"([{"_id": 1, "a": {"b": [1, 2]}}])"}}, R"([{"$unwind": "$a.b"}])",
       R"([{"_id": 1, "a": {"b": 1}}, {"_id": 1, "a": {"b": 2}}])"},
  });
  RunErrors({
      {"no $", "[]", R"([{"$unwind": "sizes"}])", 28818},
      {"no path", "[]", R"([{"$unwind": {}}])", 28812},
      {"bad preserve", "[]", R"([{"$unwind": {"path": "$a", "preserveNullAndEmptyArrays": 1}}])", 28809},
      {"bad option", "[]", R"([{"$unwind": {"path": "$a", "x": 1}}])", 28811},
      {"index with $", "[]", R"([{"$unwind": {"path": "$a", "includeArrayIndex": "$i"}}])", 28822},
      {"not a string", "[]", R"([{"$unwind": 1}])", 15981},
  });
}

TEST(StagesTest, Lookup) {
  const char* orders = R"([{"_id": 1, "item": "almonds", "price": 12, "quantity": 2},
                           {"_id": 2, "item": "pecans", "price": 20, "quantity": 1}, {"_id": 3}])";
  const char* inventory = R"([{"_id": 1, "sku": "almonds", "description": "product 1", "instock": 120},
                              {"_id": 2, "sku": "bread", "description": "product 2", "instock": 80},
                              {"_id": 3, "sku": "cashews", "description": "product 3", "instock": 60},
                              {"_id": 4, "sku": "pecans", "description": "product 4", "instock": 70},
                              {"_id": 5, "sku": null, "description": "Incomplete"}, {"_id": 6}])";
  const char* orders2 = R"([{"_id": 1, "item": "almonds", "price": 12, "ordered": 2},
                            {"_id": 2, "item": "pecans", "price": 20, "ordered": 1},
                            {"_id": 3, "item": "cookies", "price": 10, "ordered": 60}])";
  const char* warehouses = R"([{"_id": 1, "stock_item": "almonds", "warehouse": "A", "instock": 120},
                               {"_id": 2, "stock_item": "pecans", "warehouse": "A", "instock": 80},
                               {"_id": 3, "stock_item": "almonds", "warehouse": "B", "instock": 60},
                               {"_id": 4, "stock_item": "cookies", "warehouse": "B", "instock": 40},
                               {"_id": 5, "stock_item": "cookies", "warehouse": "A", "instock": 80}])";
  RunCases({
      {"equality",
       {{"c", orders}, {"inventory", inventory}},
       R"([{"$lookup": {"from": "inventory", "localField": "item", "foreignField": "sku", "as": "inventory_docs"}}])",
       R"([{"_id": 1, "item": "almonds", "price": 12, "quantity": 2,
            "inventory_docs": [{"_id": 1, "sku": "almonds", "description": "product 1", "instock": 120}]},
           {"_id": 2, "item": "pecans", "price": 20, "quantity": 1,
            "inventory_docs": [{"_id": 4, "sku": "pecans", "description": "product 4", "instock": 70}]},
           {"_id": 3, "inventory_docs": [{"_id": 5, "sku": null, "description": "Incomplete"}, {"_id": 6}]}])"},
      {"let and pipeline",
       {{"c", orders2}, {"warehouses", warehouses}},
       R"([{"$lookup": {"from": "warehouses", "let": {"order_item": "$item", "order_qty": "$ordered"},
                        "pipeline": [{"$match": {"$expr": {"$and": [{"$eq": ["$stock_item", "$$order_item"]},
                                                                    {"$gte": ["$instock", "$$order_qty"]}]}}},
                                     {"$project": {"stock_item": 0, "_id": 0}}],
                        "as": "stockdata"}}])",
       R"([{"_id": 1, "item": "almonds", "price": 12, "ordered": 2,
            "stockdata": [{"warehouse": "A", "instock": 120}, {"warehouse": "B", "instock": 60}]},
           {"_id": 2, "item": "pecans", "price": 20, "ordered": 1, "stockdata": [{"warehouse": "A", "instock": 80}]},
           {"_id": 3, "item": "cookies", "price": 10, "ordered": 60, "stockdata": [{"warehouse": "A", "instock": 80}]}])"},
      {"equality and pipeline",
       {{"c", orders2}, {"warehouses", warehouses}},
       R"([{"$lookup": {"from": "warehouses", "localField": "item", "foreignField": "stock_item",
                        "pipeline": [{"$match": {"warehouse": "B"}}, {"$project": {"_id": 1}}], "as": "b"}}, {"$project": {"b": 1}}])",
       R"([{"_id": 1, "b": [{"_id": 3}]}, {"_id": 2, "b": []}, {"_id": 3, "b": [{"_id": 4}]}])"},
      {"array local field",
       {{"c", R"([{"_id": 1, "items": ["almonds", "bread", "nothing"]}])"}, {"inventory", inventory}},
       R"([{"$lookup": {"from": "inventory", "localField": "items", "foreignField": "sku", "as": "found"}},
           {"$project": {"ids": "$found._id"}}])",
       R"([{"_id": 1, "ids": [1, 2]}])"},
      {"documents source",
       {{"c", R"([{"_id": 1, "k": 2}])"}},
       R"([{"$lookup": {"pipeline": [{"$documents": [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}]}], "as": "d"}},
           {"$project": {"n": {"$size": "$d"}}}])",
       R"([{"_id": 1, "n": 2}])"},
  });
  RunErrors({
      {"no as", "[]", R"([{"$lookup": {"from": "x", "localField": "a", "foreignField": "b"}}])", kFailedToParse},
      {"half equality", "[]", R"([{"$lookup": {"from": "x", "localField": "a", "as": "o"}}])", kFailedToParse},
      {"unknown option", "[]", R"([{"$lookup": {"from": "x", "localField": "a", "foreignField": "b", "as": "o", "y": 1}}])",
       kFailedToParse},
      {"out inside", "[]", R"([{"$lookup": {"from": "x", "pipeline": [{"$out": "z"}], "as": "o"}}])", 51047},
      {"undefined variable", "[]", R"([{"$lookup": {"from": "x", "pipeline": [{"$match": {"$expr": "$$nope"}}], "as": "o"}}])",
       17276},
  });
}

TEST(StagesTest, GraphLookup) {
  const char* employees = R"([{"_id": 1, "name": "Dev"}, {"_id": 2, "name": "Eliot", "reportsTo": "Dev"},
                              {"_id": 3, "name": "Ron", "reportsTo": "Eliot"}, {"_id": 4, "name": "Andrew", "reportsTo": "Eliot"},
                              {"_id": 5, "name": "Asya", "reportsTo": "Ron"}, {"_id": 6, "name": "Dan", "reportsTo": "Andrew"}])";
  RunCases({
      {"hierarchy",
       {{"c", employees}},
       R"([{"$graphLookup": {"from": "c", "startWith": "$reportsTo", "connectFromField": "reportsTo",
                             "connectToField": "name", "as": "reportingHierarchy"}},
           {"$project": {"name": 1, "chain": {"$sortArray": {"input": "$reportingHierarchy.name", "sortBy": 1}}}}])",
       R"([{"_id": 1, "name": "Dev", "chain": []}, {"_id": 2, "name": "Eliot", "chain": ["Dev"]},
           {"_id": 3, "name": "Ron", "chain": ["Dev", "Eliot"]}, {"_id": 4, "name": "Andrew", "chain": ["Dev", "Eliot"]},
           {"_id": 5, "name": "Asya", "chain": ["Dev", "Eliot", "Ron"]}, {"_id": 6, "name": "Dan", "chain": ["Andrew", "Dev", "Eliot"]}])"},
      {"maxDepth and depthField",
       {{"c", employees}},
       R"([{"$match": {"name": "Asya"}},
           {"$graphLookup": {"from": "c", "startWith": "$reportsTo", "connectFromField": "reportsTo",
                             "connectToField": "name", "as": "up", "maxDepth": 1, "depthField": "level"}},
           {"$project": {"up": {"$sortArray": {"input": {"$map": {"input": "$up", "in": ["$$this.name", "$$this.level"]}},
                                               "sortBy": 1}}}}])",
       R"([{"_id": 5, "up": [["Eliot", {"$numberLong": "1"}], ["Ron", {"$numberLong": "0"}]]}])"},
      {"restrictSearchWithMatch",
       {{"c", employees}},
       R"([{"$match": {"name": "Asya"}},
           {"$graphLookup": {"from": "c", "startWith": "$reportsTo", "connectFromField": "reportsTo",
                             "connectToField": "name", "as": "up", "restrictSearchWithMatch": {"name": {"$ne": "Eliot"}}}},
           {"$project": {"n": "$up.name"}}])",
       R"([{"_id": 5, "n": ["Ron"]}])"},
  });
  RunErrors({
      {"missing options", "[]", R"([{"$graphLookup": {"from": "c", "as": "x"}}])", 40105},
      {"negative depth", "[]", R"([{"$graphLookup": {"from": "c", "startWith": 1, "connectFromField": "a",
                                                       "connectToField": "b", "as": "x", "maxDepth": -1}}])", 40101},
      {"unknown option", "[]", R"([{"$graphLookup": {"from": "c", "foo": 1}}])", 40104},
  });
}

TEST(StagesTest, BucketsAndCounts) {
  const char* artists = R"([
    {"_id": 1, "last_name": "Bernard", "first_name": "Emil", "year_born": 1868, "year_died": 1941, "nationality": "France"},
    {"_id": 2, "last_name": "Rippl-Ronai", "first_name": "Joszef", "year_born": 1861, "year_died": 1927, "nationality": "Hungary"},
    {"_id": 3, "last_name": "Ostroumova", "first_name": "Anna", "year_born": 1871, "year_died": 1955, "nationality": "Russia"},
    {"_id": 4, "last_name": "Van Gogh", "first_name": "Vincent", "year_born": 1853, "year_died": 1890, "nationality": "Holland"},
    {"_id": 5, "last_name": "Maurer", "first_name": "Alfred", "year_born": 1868, "year_died": 1932, "nationality": "USA"},
    {"_id": 6, "last_name": "Munch", "first_name": "Edvard", "year_born": 1863, "year_died": 1944, "nationality": "Norway"},
    {"_id": 7, "last_name": "Redon", "first_name": "Odilon", "year_born": 1840, "year_died": 1916, "nationality": "France"},
    {"_id": 8, "last_name": "Diriks", "first_name": "Edvard", "year_born": 1855, "year_died": 1930, "nationality": "Norway"}])";
  const char* exhibits = R"([
    {"_id": 1, "tags": ["painting", "satire", "Expressionism", "caricature"]}, {"_id": 2, "tags": ["woodcut", "Expressionism"]},
    {"_id": 3, "tags": ["oil", "Surrealism", "painting"]}, {"_id": 4, "tags": ["woodblock", "ukiyo-e"]},
    {"_id": 5, "tags": ["Surrealism", "painting", "oil"]}, {"_id": 6, "tags": ["oil", "painting", "abstract"]},
    {"_id": 7, "tags": ["Expressionism", "painting", "oil"]}, {"_id": 8, "tags": ["abstract", "painting"]}])";
  RunCases({
      {"bucket",
       {{"c", artists}},
       R"([{"$bucket": {"groupBy": "$year_born", "boundaries": [1840, 1850, 1860, 1870, 1880], "default": "Other",
                        "output": {"count": {"$sum": 1},
                                   "artists": {"$push": {"name": {"$concat": ["$first_name", " ", "$last_name"]},
                                                         "year_born": "$year_born"}}}}},
           {"$match": {"count": {"$gt": 3}}}])",
       R"([{"_id": 1860, "count": 4, "artists": [{"name": "Emil Bernard", "year_born": 1868},
                                                {"name": "Joszef Rippl-Ronai", "year_born": 1861},
                                                {"name": "Alfred Maurer", "year_born": 1868},
                                                {"name": "Edvard Munch", "year_born": 1863}]}])"},
      {"bucket default and counts", {{"c", artists}},
       R"([{"$bucket": {"groupBy": "$year_born", "boundaries": [1850, 1860, 1870], "default": "Other"}}])",
       R"([{"_id": 1850, "count": 2}, {"_id": 1860, "count": 4}, {"_id": "Other", "count": 2}])"},
      {"bucketAuto", {{"c", kArtwork}}, R"([{"$bucketAuto": {"groupBy": "$price", "buckets": 4}}])",
       R"([{"_id": {"min": {"$numberDecimal": "76.04"}, "max": {"$numberDecimal": "159.00"}}, "count": 2},
           {"_id": {"min": {"$numberDecimal": "159.00"}, "max": {"$numberDecimal": "199.99"}}, "count": 2},
           {"_id": {"min": {"$numberDecimal": "199.99"}, "max": {"$numberDecimal": "385.00"}}, "count": 2},
           {"_id": {"min": {"$numberDecimal": "385.00"}, "max": {"$numberDecimal": "483.00"}}, "count": 2}])"},
      {"bucketAuto few documents", {{"c", R"([{"x": 10}, {"x": 2}, {"x": 5}])"}},
       R"([{"$bucketAuto": {"groupBy": "$x", "buckets": 4}}])",
       R"([{"_id": {"min": 2, "max": 5}, "count": 1}, {"_id": {"min": 5, "max": 10}, "count": 1},
           {"_id": {"min": 10, "max": 10}, "count": 1}])"},
      // Powers of two: 1 rounds down to 0.5, 16 up to 32; the boundary after 4 is 8.
      {"bucketAuto granularity", {{"c", R"([{"x": 1}, {"x": 3}, {"x": 4}, {"x": 9}, {"x": 16}])"}},
       R"([{"$bucketAuto": {"groupBy": "$x", "buckets": 2, "granularity": "POWERSOF2"}}])",
       R"([{"_id": {"min": 0.5, "max": 8}, "count": 3}, {"_id": {"min": 8, "max": 32}, "count": 2}])"},
      {"sortByCount",
       {{"c", exhibits}},
       R"([{"$unwind": "$tags"}, {"$sortByCount": "$tags"}, {"$sort": {"count": -1, "_id": 1}}, {"$limit": 5}])",
       R"([{"_id": "painting", "count": 6}, {"_id": "oil", "count": 4}, {"_id": "Expressionism", "count": 3},
           {"_id": "Surrealism", "count": 2}, {"_id": "abstract", "count": 2}])"},
  });
  RunErrors({
      {"unsorted boundaries", "[]", R"([{"$bucket": {"groupBy": "$a", "boundaries": [2, 1]}}])", 40194},
      {"mixed boundaries", "[]", R"([{"$bucket": {"groupBy": "$a", "boundaries": [1, "a"]}}])", 40193},
      {"one boundary", "[]", R"([{"$bucket": {"groupBy": "$a", "boundaries": [1]}}])", 40192},
      {"default inside", "[]", R"([{"$bucket": {"groupBy": "$a", "boundaries": [1, 5], "default": 3}}])", 40199},
      {"no default", R"([{"a": 9}])", R"([{"$bucket": {"groupBy": "$a", "boundaries": [1, 5]}}])", 40066},
      {"bucketAuto buckets", "[]", R"([{"$bucketAuto": {"groupBy": "$a", "buckets": 0}}])", 40243},
      {"bucketAuto granularity", "[]", R"([{"$bucketAuto": {"groupBy": "$a", "buckets": 2, "granularity": "X"}}])", 40257},
      {"bucketAuto negative", R"([{"a": -1}, {"a": 2}])",
       R"([{"$bucketAuto": {"groupBy": "$a", "buckets": 2, "granularity": "R5"}}])", 40268},
      {"sortByCount no $", "[]", R"([{"$sortByCount": "tags"}])", 40148},
  });
}

TEST(StagesTest, FacetUnionRedactDocumentsSample) {
  const char* forecasts = R"([{"_id": 1, "title": "123 Department Report", "tags": ["G", "STLW"], "year": 2014,
    "subsections": [{"subtitle": "Section 1: Overview", "tags": ["SI", "G"], "content": "Section 1: This is the content of section 1."},
                    {"subtitle": "Section 2: Analysis", "tags": ["STLW"], "content": "Section 2: This is the content of section 2."},
                    {"subtitle": "Section 3: Budgeting", "tags": ["TK"],
                     "content": {"text": "Section 3: This is the content of section3.", "tags": ["HCS"]}}]}])";
  RunCases({
      {"facet",
       {{"c", kArtwork}},
       R"([{"$facet": {"byArtist": [{"$sortByCount": "$artist"}, {"$sort": {"count": -1, "_id": 1}}, {"$limit": 2}],
                       "priceBuckets": [{"$bucket": {"groupBy": "$price", "boundaries": [0, 150, 500]}}],
                       "none": [{"$match": {"x": 1}}]}}])",
       R"([{"byArtist": [{"_id": "Munch", "count": 2}, {"_id": "Dali", "count": 1}],
            "priceBuckets": [{"_id": 0, "count": 2}, {"_id": 150, "count": 6}], "none": []}])"},
      {"unionWith",
       {{"c", R"([{"_id": 1, "y": 2017}])"}, {"s2018", R"([{"_id": 2, "y": 2018}, {"_id": 3, "y": 2018}])"}},
       R"([{"$unionWith": {"coll": "s2018", "pipeline": [{"$match": {"_id": 3}}]}}, {"$unionWith": "s2018"}])",
       R"([{"_id": 1, "y": 2017}, {"_id": 3, "y": 2018}, {"_id": 2, "y": 2018}, {"_id": 3, "y": 2018}])"},
      {"redact",
       {{"c", forecasts}},
       R"([{"$match": {"year": 2014}},
           {"$redact": {"$cond": {"if": {"$gt": [{"$size": {"$setIntersection": ["$tags", ["STLW", "G"]]}}, 0]},
                                  "then": "$$DESCEND", "else": "$$PRUNE"}}}])",
       R"([{"_id": 1, "title": "123 Department Report", "tags": ["G", "STLW"], "year": 2014,
            "subsections": [{"subtitle": "Section 1: Overview", "tags": ["SI", "G"], "content": "Section 1: This is the content of section 1."},
                            {"subtitle": "Section 2: Analysis", "tags": ["STLW"], "content": "Section 2: This is the content of section 2."}]}])"},
      {"documents", {}, R"([{"$documents": [{"x": 10}, {"x": 2}, {"x": 5}]}, {"$sort": {"x": 1}}])",
       R"([{"x": 2}, {"x": 5}, {"x": 10}])"},
      {"sample all", {{"c", kBooks}}, R"([{"$sample": {"size": 10}}, {"$count": "n"}])", R"([{"n": 5}])"},
      {"sample some", {{"c", kBooks}}, R"([{"$sample": {"size": 2}}, {"$group": {"_id": "$_id"}}, {"$count": "n"}])",
       R"([{"n": 2}])"},
  });
  RunErrors({
      {"facet empty", "[]", R"([{"$facet": {}}])", 40169},
      {"facet not array", "[]", R"([{"$facet": {"a": 1}}])", 40170},
      {"facet out", "[]", R"([{"$facet": {"a": [{"$out": "x"}]}}])", 40600},
      {"facet nested", "[]", R"([{"$facet": {"a": [{"$facet": {"b": []}}]}}])", 40600},
      {"redact bad value", R"([{"a": 1}])", R"([{"$redact": "other"}])", 17053},
      {"documents not array", "[]", R"([{"$documents": 1}])", 5858203},
      {"documents not first", "[]", R"([{"$match": {}}, {"$documents": []}])", 40602},
      {"sample negative", "[]", R"([{"$sample": {"size": -1}}])", 28747},
      {"sample no size", "[]", R"([{"$sample": {}}])", 28749},
      {"unknown stage", "[]", R"([{"$frobnicate": {}}])", 40324},
      {"two fields", "[]", R"([{"$match": {}, "$limit": 1}])", 40323},
      {"out not last", "[]", R"([{"$out": "x"}, {"$match": {}}])", 40601},
      {"geoNear without near", "[]", R"([{"$geoNear": {"distanceField": "d"}}])", kBadValue},
      {"geoNear without distanceField", "[]", R"([{"$geoNear": {"near": [0, 0]}}])", kBadValue},
      {"geoNear not first", "[]", R"([{"$match": {}}, {"$geoNear": {"near": [0, 0], "distanceField": "d"}}])",
       40603},
      {"geoNear bad option", "[]", R"([{"$geoNear": {"near": [0, 0], "distanceField": "d", "x": 1}}])", kBadValue},
      {"changeStream elsewhere", "[]", R"([{"$changeStream": {}}])", 40602},
  });
}

TEST(StagesTest, SetWindowFields) {
  RunCases({
      {"cumulative per state",
       {{"c", kCakeSales}},
       R"([{"$setWindowFields": {"partitionBy": "$state", "sortBy": {"orderDate": 1},
            "output": {"cumulativeQuantityForState": {"$sum": "$quantity", "window": {"documents": ["unbounded", "current"]}}}}},
           {"$project": {"state": 1, "cumulativeQuantityForState": 1}}])",
       R"([{"_id": 4, "state": "CA", "cumulativeQuantityForState": 162}, {"_id": 0, "state": "CA", "cumulativeQuantityForState": 282},
           {"_id": 2, "state": "CA", "cumulativeQuantityForState": 427}, {"_id": 5, "state": "WA", "cumulativeQuantityForState": 134},
           {"_id": 3, "state": "WA", "cumulativeQuantityForState": 238}, {"_id": 1, "state": "WA", "cumulativeQuantityForState": 378}])"},
      {"moving average per year",
       {{"c", kCakeSales}},
       R"([{"$setWindowFields": {"partitionBy": {"$year": "$orderDate"}, "sortBy": {"orderDate": 1},
            "output": {"averageQuantity": {"$avg": "$quantity", "window": {"documents": [-1, 0]}}}}},
           {"$project": {"averageQuantity": 1}}])",
       R"([{"_id": 5, "averageQuantity": 134.0}, {"_id": 4, "averageQuantity": 148.0}, {"_id": 3, "averageQuantity": 104.0},
           {"_id": 0, "averageQuantity": 112.0}, {"_id": 2, "averageQuantity": 145.0}, {"_id": 1, "averageQuantity": 142.5}])"},
      {"range of a year",
       {{"c", kCakeSales}},
       R"([{"$setWindowFields": {"partitionBy": "$state", "sortBy": {"orderDate": 1},
            "output": {"recent": {"$sum": "$quantity", "window": {"range": [-1, 0], "unit": "year"}}}}},
           {"$project": {"recent": 1}}])",
       R"([{"_id": 4, "recent": 162}, {"_id": 0, "recent": 282}, {"_id": 2, "recent": 265},
           {"_id": 5, "recent": 134}, {"_id": 3, "recent": 104}, {"_id": 1, "recent": 140}])"},
      {"rank and documentNumber",
       {{"c", R"([{"_id": 1, "s": 10}, {"_id": 2, "s": 20}, {"_id": 3, "s": 20}, {"_id": 4, "s": 30}])"}},
       R"([{"$setWindowFields": {"sortBy": {"s": -1},
            "output": {"rank": {"$rank": {}}, "dense": {"$denseRank": {}}, "n": {"$documentNumber": {}}}}}])",
       R"([{"_id": 4, "s": 30, "rank": 1, "dense": 1, "n": 1}, {"_id": 2, "s": 20, "rank": 2, "dense": 2, "n": 2},
           {"_id": 3, "s": 20, "rank": 2, "dense": 2, "n": 3}, {"_id": 1, "s": 10, "rank": 4, "dense": 3, "n": 4}])"},
      {"shift",
       {{"c", kCakeSales}},
       R"([{"$setWindowFields": {"partitionBy": "$state", "sortBy": {"quantity": -1},
            "output": {"shiftQuantityForState": {"$shift": {"output": "$quantity", "by": 1, "default": "Not available"}}}}},
           {"$project": {"quantity": 1, "shiftQuantityForState": 1}}])",
       R"([{"_id": 4, "quantity": 162, "shiftQuantityForState": 145}, {"_id": 2, "quantity": 145, "shiftQuantityForState": 120},
           {"_id": 0, "quantity": 120, "shiftQuantityForState": "Not available"},
           {"_id": 1, "quantity": 140, "shiftQuantityForState": 134}, {"_id": 5, "quantity": 134, "shiftQuantityForState": 104},
           {"_id": 3, "quantity": 104, "shiftQuantityForState": "Not available"}])"},
      {"expMovingAvg",
       {{"c", R"([{"stock": "ABC", "d": 1, "price": 13}, {"stock": "ABC", "d": 2, "price": 15.4},
                  {"stock": "ABC", "d": 3, "price": 12}, {"stock": "ABC", "d": 4, "price": 11.7}])"}},
       R"([{"$setWindowFields": {"partitionBy": "$stock", "sortBy": {"d": 1},
            "output": {"ema": {"$expMovingAvg": {"input": "$price", "N": 2}}}}},
           {"$project": {"_id": 0, "ema": {"$round": ["$ema", 6]}}}])",
       R"([{"ema": 13.0}, {"ema": 14.6}, {"ema": 12.866667}, {"ema": 12.088889}])"},
      {"derivative",
       {{"c", R"([{"t": {"$date": "2020-05-18T14:10:30Z"}, "miles": 1295.1}, {"t": {"$date": "2020-05-18T14:11:00Z"}, "miles": 1295.63},
                  {"t": {"$date": "2020-05-18T14:11:30Z"}, "miles": 1296.25}, {"t": {"$date": "2020-05-18T14:12:00Z"}, "miles": 1296.76}])"}},
       R"([{"$setWindowFields": {"sortBy": {"t": 1},
            "output": {"speed": {"$derivative": {"input": "$miles", "unit": "hour"}, "window": {"range": [-30, 0], "unit": "second"}}}}},
           {"$project": {"_id": 0, "speed": {"$round": ["$speed", 1]}}}])",
       R"([{"speed": null}, {"speed": 63.6}, {"speed": 74.4}, {"speed": 61.2}])"},
      {"integral",
       {{"c", R"([{"x": 0, "y": 0}, {"x": 1, "y": 2}, {"x": 3, "y": 2}])"}},
       R"([{"$setWindowFields": {"sortBy": {"x": 1}, "output": {"area": {"$integral": {"input": "$y"}, "window": {"documents": ["unbounded", "current"]}}}}},
           {"$project": {"_id": 0, "area": 1}}])",
       R"([{"area": 0.0}, {"area": 1.0}, {"area": 5.0}])"},
      {"covariance",
       {{"c", R"([{"x": 1, "y": 2}, {"x": 2, "y": 4}, {"x": 3, "y": 6}])"}},
       R"([{"$setWindowFields": {"sortBy": {"x": 1}, "output": {"cp": {"$covariancePop": ["$x", "$y"]}, "cs": {"$covarianceSamp": ["$x", "$y"]}}}},
           {"$project": {"_id": 0, "cp": {"$round": ["$cp", 6]}, "cs": 1}}])",
       // Included fields keep their place; computed ones follow.
       R"([{"cs": 2.0, "cp": 1.333333}, {"cs": 2.0, "cp": 1.333333}, {"cs": 2.0, "cp": 1.333333}])"},
      {"window accumulators",
       {{"c", R"([{"i": 1, "v": 5}, {"i": 2, "v": 1}, {"i": 3, "v": 4}, {"i": 4, "v": 2}])"}},
       R"([{"$setWindowFields": {"sortBy": {"i": 1}, "output": {
              "max": {"$max": "$v", "window": {"documents": [-1, 1]}}, "push": {"$push": "$v", "window": {"documents": ["current", 1]}},
              "count": {"$count": {}, "window": {"documents": ["unbounded", "current"]}}, "all": {"$min": "$v"}}}},
           {"$project": {"_id": 0, "v": 0}}])",
       R"([{"i": 1, "max": 5, "push": [5, 1], "count": 1, "all": 1}, {"i": 2, "max": 5, "push": [1, 4], "count": 2, "all": 1},
           {"i": 3, "max": 4, "push": [4, 2], "count": 3, "all": 1}, {"i": 4, "max": 4, "push": [2], "count": 4, "all": 1}])"},
  });
  RunErrors({
      {"unknown function", "[]", R"([{"$setWindowFields": {"output": {"a": {"$summ": 1}}}}])", kFailedToParse},
      {"rank without sort", "[]", R"([{"$setWindowFields": {"output": {"a": {"$rank": {}}}}}])", 5371601},
      {"bounds reversed", "[]", R"([{"$setWindowFields": {"sortBy": {"a": 1}, "output": {"a": {"$sum": 1, "window": {"documents": [1, -1]}}}}}])",
       kFailedToParse},
      {"no output", "[]", R"([{"$setWindowFields": {"sortBy": {"a": 1}}}])", 40414},
      {"unknown field", "[]", R"([{"$setWindowFields": {"output": {}, "x": 1}}])", 40415},
      {"array partition", R"([{"p": [1]}])", R"([{"$setWindowFields": {"partitionBy": "$p", "output": {"n": {"$sum": 1}}}}])", 5722800},
  });
}

TEST(StagesTest, DensifyAndFill) {
  const char* weather = R"([
    {"metadata": {"sensorId": 5578}, "timestamp": {"$date": "2021-05-18T00:00:00.000Z"}, "temp": 12},
    {"metadata": {"sensorId": 5578}, "timestamp": {"$date": "2021-05-18T04:00:00.000Z"}, "temp": 11},
    {"metadata": {"sensorId": 5578}, "timestamp": {"$date": "2021-05-18T08:00:00.000Z"}, "temp": 11},
    {"metadata": {"sensorId": 5578}, "timestamp": {"$date": "2021-05-18T12:00:00.000Z"}, "temp": 12}])";
  const char* coffee = R"([{"altitude": 600, "variety": "Arabica Typica", "score": 68.3},
                           {"altitude": 750, "variety": "Arabica Typica", "score": 69.5},
                           {"altitude": 950, "variety": "Arabica Typica", "score": 70.5},
                           {"altitude": 1250, "variety": "Gesha", "score": 88.15},
                           {"altitude": 1700, "variety": "Gesha", "score": 85.5},
                           {"altitude": 1600, "variety": "Gesha", "score": 91}])";
  RunCases({
      {"densify dates",
       {{"c", weather}},
       R"([{"$densify": {"field": "timestamp", "range": {"step": 1, "unit": "hour",
            "bounds": [{"$date": "2021-05-18T00:00:00.000Z"}, {"$date": "2021-05-18T08:00:00.000Z"}]}}},
           {"$project": {"_id": 0, "metadata": 0}}])",
       R"([{"timestamp": {"$date": "2021-05-18T00:00:00Z"}, "temp": 12}, {"timestamp": {"$date": "2021-05-18T01:00:00Z"}},
           {"timestamp": {"$date": "2021-05-18T02:00:00Z"}}, {"timestamp": {"$date": "2021-05-18T03:00:00Z"}},
           {"timestamp": {"$date": "2021-05-18T04:00:00Z"}, "temp": 11}, {"timestamp": {"$date": "2021-05-18T05:00:00Z"}},
           {"timestamp": {"$date": "2021-05-18T06:00:00Z"}}, {"timestamp": {"$date": "2021-05-18T07:00:00Z"}},
           {"timestamp": {"$date": "2021-05-18T08:00:00Z"}, "temp": 11}, {"timestamp": {"$date": "2021-05-18T12:00:00Z"}, "temp": 12}])"},
      {"densify partitions full",
       {{"c", coffee}},
       R"([{"$densify": {"field": "altitude", "partitionByFields": ["variety"], "range": {"bounds": "full", "step": 200}}}])",
       R"([{"altitude": 600, "variety": "Arabica Typica", "score": 68.3}, {"altitude": 750, "variety": "Arabica Typica", "score": 69.5},
           {"variety": "Arabica Typica", "altitude": 800}, {"altitude": 950, "variety": "Arabica Typica", "score": 70.5},
           {"variety": "Arabica Typica", "altitude": 1000}, {"variety": "Arabica Typica", "altitude": 1200},
           {"variety": "Arabica Typica", "altitude": 1400}, {"variety": "Arabica Typica", "altitude": 1600},
           {"variety": "Gesha", "altitude": 600}, {"variety": "Gesha", "altitude": 800}, {"variety": "Gesha", "altitude": 1000},
           {"variety": "Gesha", "altitude": 1200}, {"altitude": 1250, "variety": "Gesha", "score": 88.15},
           {"variety": "Gesha", "altitude": 1400}, {"altitude": 1600, "variety": "Gesha", "score": 91},
           {"altitude": 1700, "variety": "Gesha", "score": 85.5}])"},
      {"fill locf",
       {{"c", R"([{"date": {"$date": "2021-03-08T00:00:00Z"}, "score": 90}, {"date": {"$date": "2021-03-09T00:00:00Z"}, "score": 92},
                  {"date": {"$date": "2021-03-10T00:00:00Z"}}, {"date": {"$date": "2021-03-11T00:00:00Z"}},
                  {"date": {"$date": "2021-03-12T00:00:00Z"}, "score": 85}, {"date": {"$date": "2021-03-13T00:00:00Z"}}])"}},
       R"([{"$fill": {"sortBy": {"date": 1}, "output": {"score": {"method": "locf"}}}}, {"$project": {"_id": 0, "score": 1}}])",
       R"([{"score": 90}, {"score": 92}, {"score": 92}, {"score": 92}, {"score": 85}, {"score": 85}])"},
      {"fill linear",
       {{"c", R"([{"t": 9, "price": 500}, {"t": 10}, {"t": 11, "price": 515}, {"t": 12}, {"t": 13}, {"t": 14, "price": 485}])"}},
       R"([{"$fill": {"sortBy": {"t": 1}, "output": {"price": {"method": "linear"}}}}, {"$project": {"_id": 0, "price": 1}}])",
       R"([{"price": 500}, {"price": 507.5}, {"price": 515}, {"price": 505.0}, {"price": 495.0}, {"price": 485}])"},
      {"fill value",
       {{"c", R"([{"_id": 0, "hour": 1, "bootsSold": 5}, {"_id": 1, "hour": 2}])"}},
       R"([{"$fill": {"output": {"bootsSold": {"value": 0}}}}])",
       R"([{"_id": 0, "hour": 1, "bootsSold": 5}, {"_id": 1, "hour": 2, "bootsSold": 0}])"},
  });
  RunErrors({
      {"densify step", "[]", R"([{"$densify": {"field": "a", "range": {"step": 0, "bounds": "full"}}}])", 5733401},
      {"densify partition bounds", "[]", R"([{"$densify": {"field": "a", "range": {"step": 1, "bounds": "partition"}}}])", 5733408},
      {"densify type", R"([{"a": "x"}])", R"([{"$densify": {"field": "a", "range": {"step": 1, "bounds": "full"}}}])", 5733201},
      {"fill both", "[]", R"([{"$fill": {"output": {"a": {"value": 1, "method": "locf"}}}}])", 6050203},
      {"fill method", "[]", R"([{"$fill": {"output": {"a": {"method": "next"}}}}])", 6050202},
  });
}

// A sort or a spill packs each row into one string and unpacks it later: every piece of
// metadata must come back as it was, beside the document's own bytes.
TEST(RowTest, PackedRowsComeBackWithTheirMetadata) {
  auto value = [](const char* json) {
    auto doc = bson::JsonToBson(std::string("{\"v\": ") + json + "}");
    EXPECT_TRUE(doc.ok()) << json;
    return bson::ToValue(bson::DocView(*doc).begin()->value);
  };
  auto bytes = [](const std::optional<Value>& v) {
    if (!v) return std::string("missing");
    bson::Builder b;
    b.AppendValue("v", *v);
    return std::move(b).Finish();
  };
  struct Case {
    const char* doc;
    bool has_meta;
    DocumentMeta meta;
  };
  std::vector<Case> cases = {
      {R"({"a": 1})", false, {}},
      {R"({"a": [[1, [2]], {"b": null}]})", true, {}},
      {R"({})", true, {.text_score = 1.5}},
      {R"({"a": {"$numberDecimal": "1.10"}})", true, {.text_score = 0.0, .search_score = 2.25}},
      {R"({"loc": [1, 2]})", true,
       {.geo_near_distance = 12.5, .geo_near_point = value(R"({"type": "Point", "coordinates": [[1.5], {"$numberDecimal": "-2"}]})")}},
      {R"({"x": "s"})", true,
       {.rand_val = 0.25, .sort_key = value(R"([null, [], [[null]], {"$numberDecimal": "NaN"}, "z"])")}},
      {R"({"_id": 7})", true,
       {.index_key = value(R"({"": 1, "": {"a": [null]}})"), .record_id = value(R"({"$numberLong": "-9"})")}},
      {R"({"a": 1})", true,
       {.text_score = 3, .search_score = 4, .geo_near_distance = 5, .geo_near_point = value("[0, 0]"),
        .rand_val = 0.5, .sort_key = value("[1]"), .index_key = value(R"({"": null})"), .record_id = value("1")}},
  };
  for (const Case& c : cases) {
    auto doc = bson::JsonToBson(c.doc);
    ASSERT_TRUE(doc.ok()) << c.doc;
    Row row{.doc = *doc, .meta = c.has_meta ? std::make_shared<DocumentMeta>(c.meta) : nullptr};
    Row back;
    ASSERT_TRUE(UnpackRow(PackRow(row), &back).ok()) << c.doc;
    EXPECT_EQ(back.doc, *doc) << c.doc;
    ASSERT_EQ(back.meta != nullptr, c.has_meta) << c.doc;
    if (!c.has_meta) continue;
    const DocumentMeta& m = *back.meta;
    EXPECT_EQ(m.text_score, c.meta.text_score) << c.doc;
    EXPECT_EQ(m.search_score, c.meta.search_score) << c.doc;
    EXPECT_EQ(m.geo_near_distance, c.meta.geo_near_distance) << c.doc;
    EXPECT_EQ(m.rand_val, c.meta.rand_val) << c.doc;
    EXPECT_EQ(bytes(m.geo_near_point), bytes(c.meta.geo_near_point)) << c.doc;
    EXPECT_EQ(bytes(m.sort_key), bytes(c.meta.sort_key)) << c.doc;
    EXPECT_EQ(bytes(m.index_key), bytes(c.meta.index_key)) << c.doc;
    EXPECT_EQ(bytes(m.record_id), bytes(c.meta.record_id)) << c.doc;
  }
  Row row;
  EXPECT_FALSE(UnpackRow("abc", &row).ok());
}

}  // namespace
}  // namespace micromongo::pipeline
