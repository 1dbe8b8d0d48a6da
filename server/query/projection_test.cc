#include "query/projection.h"

#include <gtest/gtest.h>

#include "document/json.h"
#include "document/status.h"
#include "query/matcher.h"

namespace micromongo::query {
namespace {

std::string Bson(const char* json) { return *bson::JsonToBson(json); }
std::string Json(const std::string& bson) { return bson::BsonToJson(bson); }

TEST(ProjectionTest, Table) {
  const char* doc = R"({"_id": 1, "a": 1, "b": {"c": 2, "d": 3}, "e": [{"c": 4, "x": 0}, 5]})";
  struct Case {
    const char* spec;
    const char* expected;
  } cases[] = {
      {R"({"a": 1})", R"({"_id": 1, "a": 1})"},
      {R"({"a": 1, "_id": 0})", R"({"a": 1})"},
      {R"({"_id": 1})", R"({"_id": 1})"},
      {R"({"_id": 0})", R"({"a": 1, "b": {"c": 2, "d": 3}, "e": [{"c": 4, "x": 0}, 5]})"},
      {R"({"b.c": 1})", R"({"_id": 1, "b": {"c": 2}})"},
      {R"({"e.c": 1})", R"({"_id": 1, "e": [{"c": 4}]})"},
      {R"({"a": 0, "b.d": 0})", R"({"_id": 1, "b": {"c": 2}, "e": [{"c": 4, "x": 0}, 5]})"},
      {R"({"e.x": 0})", R"({"_id": 1, "a": 1, "b": {"c": 2, "d": 3}, "e": [{"c": 4}, 5]})"},
      {R"({"missing": 1})", R"({"_id": 1})"},
  };
  std::string d = Bson(doc);
  for (const auto& c : cases) {
    auto p = Projection::Parse(bson::DocView(Bson(c.spec)));
    ASSERT_TRUE(p.ok()) << c.spec << ": " << p.status();
    auto out = (*p)->Apply(bson::DocView(d));
    ASSERT_TRUE(out.ok()) << c.spec;
    EXPECT_EQ(Json(*out), Json(Bson(c.expected))) << c.spec;
  }
}

TEST(ProjectionTest, Operators) {
  std::string d = Bson(R"({"_id": 1, "a": [1, 2, 3, 4, 5], "s": [{"x": 1, "y": 1}, {"x": 2, "y": 2}],
                           "g": [70, 90, 80], "n": 3})");
  struct Case {
    const char* spec;
    const char* filter;
    const char* expected;
  } cases[] = {
      {R"({"a": {"$slice": 2}})", "{}", R"({"_id": 1, "a": [1, 2], "s": [{"x": 1, "y": 1}, {"x": 2, "y": 2}], "g": [70, 90, 80], "n": 3})"},
      {R"({"a": {"$slice": -2}, "n": 1})", "{}", R"({"_id": 1, "a": [4, 5], "n": 3})"},
      {R"({"a": {"$slice": [1, 2]}, "_id": 0, "n": 1})", "{}", R"({"a": [2, 3], "n": 3})"},
      {R"({"s": {"$elemMatch": {"x": 2}}})", "{}", R"({"_id": 1, "s": [{"x": 2, "y": 2}]})"},
      {R"({"s": {"$elemMatch": {"x": 9}}, "n": 1})", "{}", R"({"_id": 1, "n": 3})"},
      {R"({"g.$": 1})", R"({"g": {"$gte": 85}})", R"({"_id": 1, "g": [90]})"},
      {R"({"twice": {"$multiply": ["$n", 2]}, "_id": 0})", "{}", R"({"twice": 6})"},
      {R"({"n": 1, "label": {"$concat": ["n=", {"$toString": "$n"}]}})", "{}", R"({"_id": 1, "n": 3, "label": "n=3"})"},
  };
  for (const auto& c : cases) {
    auto p = Projection::Parse(bson::DocView(Bson(c.spec)));
    ASSERT_TRUE(p.ok()) << c.spec << ": " << p.status();
    auto m = Matcher::Parse(Bson(c.filter));
    auto out = (*p)->Apply(bson::DocView(d), m->get());
    ASSERT_TRUE(out.ok()) << c.spec << ": " << out.status();
    EXPECT_EQ(Json(*out), Json(Bson(c.expected))) << c.spec;
  }
  auto two = Projection::Parse(bson::DocView(Bson(R"({"a.$": 1, "g.$": 1})")));
  EXPECT_EQ(MongoCodeOf(two.status()), 31276);
  auto nested = Projection::Parse(bson::DocView(Bson(R"({"s.x": {"$elemMatch": {"a": 1}}})")));
  EXPECT_EQ(MongoCodeOf(nested.status()), 31275);
  auto no_match = Projection::Parse(bson::DocView(Bson(R"({"g.$": 1})")));
  auto m = Matcher::Parse(Bson(R"({"g": 1000})"));
  EXPECT_FALSE((*no_match)->Apply(bson::DocView(d), m->get()).ok());
}

TEST(ProjectionTest, MixingInclusionAndExclusionFails) {
  std::string spec = Bson(R"({"a": 1, "b": 0})");
  EXPECT_EQ(MongoCodeOf(Projection::Parse(bson::DocView(spec)).status()), 31254);
  spec = Bson(R"({"a": 0, "b": 1})");
  EXPECT_EQ(MongoCodeOf(Projection::Parse(bson::DocView(spec)).status()), 31253);
  spec = Bson(R"({"a": 1, "a.b": 1})");
  EXPECT_FALSE(Projection::Parse(bson::DocView(spec)).ok());
}

}  // namespace
}  // namespace micromongo::query
