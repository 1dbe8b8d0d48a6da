#include "query/sort.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "document/json.h"
#include "document/status.h"

namespace micromongo::query {
namespace {

std::string SortBson(const char* json) { return *bson::JsonToBson(json); }

// Sorts `docs` (JSON) by `spec` and returns their "n" fields in order.
std::vector<int> SortedNs(const char* spec, std::vector<const char*> docs) {
  auto s = SortSpec::Parse(bson::DocView(SortBson(spec)));
  EXPECT_TRUE(s.ok());
  std::vector<std::string> bsons;
  for (auto d : docs) bsons.push_back(SortBson(d));
  std::vector<size_t> order(bsons.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<std::string> keys;
  for (const std::string& b : bsons) keys.push_back(*s->KeyOf(bson::DocView(b)));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  std::vector<int> ns;
  for (size_t i : order) {
    bson::ValueView v;
    bson::DocView(bsons[i]).Find("n", &v);
    ns.push_back(v.Int32());
  }
  return ns;
}

TEST(SortTest, BsonTypeOrderAndNumbersAcrossTypes) {
  EXPECT_EQ(SortedNs(R"({"a": 1})", {R"({"n": 1, "a": "x"})", R"({"n": 2, "a": 2.5})",
                                     R"({"n": 3})", R"({"n": 4, "a": {"$numberLong": "2"}})",
                                     R"({"n": 5, "a": null})", R"({"n": 6, "a": {}})"}),
            (std::vector<int>{3, 5, 4, 2, 1, 6}));
}

TEST(SortTest, ArraysSortByMinAscendingAndMaxDescending) {
  std::vector<const char*> docs = {R"({"n": 1, "a": [1, 10]})", R"({"n": 2, "a": [5]})",
                                   R"({"n": 3, "a": [0, 7]})"};
  EXPECT_EQ(SortedNs(R"({"a": 1})", docs), (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(SortedNs(R"({"a": -1})", docs), (std::vector<int>{1, 3, 2}));
}

TEST(SortTest, DottedPathsAndSeveralKeys) {
  EXPECT_EQ(SortedNs(R"({"a.b": 1, "c": -1})",
                     {R"({"n": 1, "a": {"b": 2}, "c": 1})", R"({"n": 2, "a": {"b": 1}, "c": 1})",
                      R"({"n": 3, "a": {"b": 2}, "c": 5})"}),
            (std::vector<int>{2, 3, 1}));
}

// The manual's comparison/sort order: an empty array sorts before null and missing (as
// undefined), and an array along a dotted path contributes its elements' fields.
TEST(SortTest, EmptyArraysSortBeforeNullAndMissing) {
  std::vector<const char*> docs = {R"({"n": 1, "a": null})", R"({"n": 2})", R"({"n": 3, "a": []})",
                                   R"({"n": 4, "a": [0]})", R"({"n": 5, "a": [[]]})"};
  EXPECT_EQ(SortedNs(R"({"a": 1})", docs), (std::vector<int>{3, 1, 2, 4, 5}));
  EXPECT_EQ(SortedNs(R"({"a": -1})", docs), (std::vector<int>{5, 4, 1, 2, 3}));
  EXPECT_EQ(SortedNs(R"({"a.b": 1})", {R"({"n": 1, "a": [{"b": 3}, {"b": 1}]})", R"({"n": 2, "a": []})",
                                       R"({"n": 3, "a": {"b": 2}})", R"({"n": 4, "a": [5, {"b": 0}]})"}),
            (std::vector<int>{2, 4, 1, 3}));
}

TEST(SortTest, ParallelArraysAreAnError) {
  auto s = SortSpec::Parse(bson::DocView(SortBson(R"({"a": 1, "b": 1})")));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(MongoCodeOf(s->KeyOf(bson::DocView(SortBson(R"({"a": [1, 2], "b": [3, 4]})"))).status()), kBadValue);
  // The same array reached by both paths is not parallel.
  auto same = SortSpec::Parse(bson::DocView(SortBson(R"({"a.x": 1, "a.y": -1})")));
  EXPECT_TRUE(same->KeyOf(bson::DocView(SortBson(R"({"a": [{"x": 1, "y": 2}, {"x": 1, "y": 5}]})"))).ok());
}

TEST(SortTest, BadDirectionIsAnError) {
  EXPECT_EQ(MongoCodeOf(SortSpec::Parse(bson::DocView(SortBson(R"({"a": 2})"))).status()), 15975);
  EXPECT_EQ(MongoCodeOf(SortSpec::Parse(bson::DocView(SortBson(R"({"a": "x"})"))).status()), 15974);
}

}  // namespace
}  // namespace micromongo::query
