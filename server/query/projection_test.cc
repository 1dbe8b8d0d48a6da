#include "query/projection.h"

#include <gtest/gtest.h>

#include "document/json.h"
#include "document/status.h"

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
    EXPECT_EQ(Json((*p)->Apply(bson::DocView(d))), Json(Bson(c.expected))) << c.spec;
  }
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
