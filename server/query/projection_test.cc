#include "query/projection.h"

#include <gtest/gtest.h>

#include "document/json.h"
#include "document/status.h"
#include "query/matcher.h"

namespace micromongo::query {
namespace {

std::string DocBson(const char* json) { return *bson::JsonToBson(json); }
std::string Json(const std::string& bson) { return bson::BsonToJson(bson); }

// Applies the $addFields specification `spec` to `doc` and expects `expected`.
void ExpectAddFields(const char* doc, const char* spec, const char* expected) {
  auto p = Projection::ParseAddFields(Document::FromJson(spec), {});
  ASSERT_TRUE(p.ok()) << spec << ": " << p.status();
  std::string d = DocBson(doc);
  auto out = (*p)->Apply(bson::DocView(d), Projection::ApplyContext{});
  ASSERT_TRUE(out.ok()) << spec << ": " << out.status();
  EXPECT_EQ(Json(*out), Json(DocBson(expected))) << doc << " " << spec;
}

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
      // MongoDB 4.4+: a nested object is a sub-projection, not a literal.
      {R"({"b": {"c": 1}})", R"({"_id": 1, "b": {"c": 2}})"},
      {R"({"b": {"d": 0}, "e": {"x": 0}})", R"({"_id": 1, "a": 1, "b": {"c": 2}, "e": [{"c": 4}, 5]})"},
      {R"({"_id": 0, "b": {"c": 1, "z": {"$literal": 7}}})", R"({"b": {"c": 2, "z": 7}})"},
  };
  std::string d = DocBson(doc);
  for (const auto& c : cases) {
    auto p = Projection::ParseFind(bson::DocView(DocBson(c.spec)));
    ASSERT_TRUE(p.ok()) << c.spec << ": " << p.status();
    auto out = (*p)->Apply(bson::DocView(d));
    ASSERT_TRUE(out.ok()) << c.spec;
    EXPECT_EQ(Json(*out), Json(DocBson(c.expected))) << c.spec;
  }
}

TEST(ProjectionTest, Operators) {
  std::string d = DocBson(R"({"_id": 1, "a": [1, 2, 3, 4, 5], "s": [{"x": 1, "y": 1}, {"x": 2, "y": 2}],
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
    auto p = Projection::ParseFind(bson::DocView(DocBson(c.spec)));
    ASSERT_TRUE(p.ok()) << c.spec << ": " << p.status();
    auto m = Matcher::Parse(DocBson(c.filter));
    auto out = (*p)->Apply(bson::DocView(d), m->get());
    ASSERT_TRUE(out.ok()) << c.spec << ": " << out.status();
    EXPECT_EQ(Json(*out), Json(DocBson(c.expected))) << c.spec;
  }
  auto two = Projection::ParseFind(bson::DocView(DocBson(R"({"a.$": 1, "g.$": 1})")));
  EXPECT_EQ(MongoCodeOf(two.status()), 31276);
  auto nested = Projection::ParseFind(bson::DocView(DocBson(R"({"s.x": {"$elemMatch": {"a": 1}}})")));
  EXPECT_EQ(MongoCodeOf(nested.status()), 31275);
  auto no_match = Projection::ParseFind(bson::DocView(DocBson(R"({"g.$": 1})")));
  auto m = Matcher::Parse(DocBson(R"({"g": 1000})"));
  EXPECT_FALSE((*no_match)->Apply(bson::DocView(d), m->get()).ok());
}

// $project: the manual's examples and aggregation rules (expressions at any depth,
// $$REMOVE, literals other than numbers and booleans are expressions).
TEST(ProjectionTest, AggregateProject) {
  std::string d = DocBson(R"({"_id": 1, "title": "abc123", "isbn": "0001122223334",
                           "author": {"last": "zzz", "first": "aaa"}, "copies": 5, "lastModified": "2016-07-28"})");
  struct Case {
    const char* spec;
    const char* expected;
  } cases[] = {
      {R"({"title": 1, "author": 1})", R"({"_id": 1, "title": "abc123", "author": {"last": "zzz", "first": "aaa"}})"},
      {R"({"_id": 0, "title": 1, "author": 1})", R"({"title": "abc123", "author": {"last": "zzz", "first": "aaa"}})"},
      {R"({"lastModified": 0})", R"({"_id": 1, "title": "abc123", "isbn": "0001122223334",
                                      "author": {"last": "zzz", "first": "aaa"}, "copies": 5})"},
      {R"({"author.first": 0, "lastModified": 0})",
       R"({"_id": 1, "title": "abc123", "isbn": "0001122223334", "author": {"last": "zzz"}, "copies": 5})"},
      {R"({"author": {"first": 0}, "lastModified": 0})",
       R"({"_id": 1, "title": "abc123", "isbn": "0001122223334", "author": {"last": "zzz"}, "copies": 5})"},
      {R"({"title": 1, "isbn": {"prefix": {"$substr": ["$isbn", 0, 3]}}, "lastName": "$author.last",
           "copiesSold": "$copies"})",
       R"({"_id": 1, "title": "abc123", "isbn": {"prefix": "000"}, "lastName": "zzz", "copiesSold": 5})"},
      {R"({"title": 1, "author.first": 1, "author.last": 1, "author.middle": {"$cond": {"if": {"$eq": ["", "$author.middle"]},
           "then": "$$REMOVE", "else": "$author.middle"}}})",
       R"({"_id": 1, "title": "abc123", "author": {"last": "zzz", "first": "aaa"}})"},
      {R"({"x": [1, "$copies"], "s": "lit"})", R"({"_id": 1, "x": [1, 5], "s": "lit"})"},
  };
  for (const auto& c : cases) {
    auto spec = Document::FromJson(c.spec);
    auto p = Projection::ParseProject(spec, {});
    ASSERT_TRUE(p.ok()) << c.spec << ": " << p.status();
    auto out = (*p)->Apply(bson::DocView(d), Projection::ApplyContext{});
    ASSERT_TRUE(out.ok()) << c.spec << ": " << out.status();
    EXPECT_EQ(Json(*out), Json(DocBson(c.expected))) << c.spec;
  }
  struct Bad {
    const char* spec;
    int code;
  } bad[] = {
      {R"({})", 51272},
      {R"({"a": 0, "b": "$x"})", 31310},
      {R"({"a": 0, "b": {"$add": [1, 2]}})", 31252},
      {R"({"a": {}})", 51270},
      {R"({"a.$": 1})", 31324},
      {R"({"a": {"$elemMatch": {"b": 1}}})", kInvalidPipelineOperator},
      {R"({"a": 1, "a.b": 1})", 31249},
      {R"({"a.b": 1, "a": 1})", 31250},
  };
  for (const auto& b : bad) {
    EXPECT_EQ(MongoCodeOf(Projection::ParseProject(Document::FromJson(b.spec), {}).status()), b.code) << b.spec;
  }
}

// $addFields / $set: dotted and nested paths set fields inside documents and in every
// element of arrays; a null or scalar on the path becomes a document.
TEST(ProjectionTest, AddFields) {
  struct Case {
    const char* doc;
    const char* spec;
    const char* expected;
  } cases[] = {
      {R"({"_id": 1, "dims": null})", R"({"dims.x": 1})", R"({"_id": 1, "dims": {"x": 1}})"},
      {R"({"_id": 1, "dims": {"y": 2}})", R"({"dims.x": 1})", R"({"_id": 1, "dims": {"y": 2, "x": 1}})"},
      {R"({"_id": 1, "a": [{"b": 1}, 2]})", R"({"a.c": 5})", R"({"_id": 1, "a": [{"b": 1, "c": 5}, {"c": 5}]})"},
      {R"({"_id": 1, "a": 1})", R"({"a": "$$REMOVE"})", R"({"_id": 1})"},
      {R"({"_id": 1})", R"({"a": {}})", R"({"_id": 1, "a": {}})"},
      {R"({"_id": 1, "s": [1, 2]})", R"({"total": {"$sum": "$s"}, "s": 0})", R"({"_id": 1, "s": 0, "total": 3})"},
  };
  for (const auto& c : cases) ExpectAddFields(c.doc, c.spec, c.expected);
}

// Computed fields at the top level are set on the document's bytes: the other fields are
// copied as stored (decimals, nested arrays, null at any depth), a field the document has
// keeps its place, a new one goes last, one whose expression is missing goes (every copy
// of it, as $$REMOVE removes the field).
TEST(ProjectionTest, TopLevelComputedFieldsKeepTheOtherFieldsAsStored) {
  struct Case {
    const char* doc;
    const char* spec;
    const char* expected;
  } cases[] = {
      {R"({"_id": 1, "d": {"x": [{"$numberDecimal": "1.10"}, [null, []]]}, "s": 1})",
       R"({"t": {"$add": ["$s", 1]}})",
       R"({"_id": 1, "d": {"x": [{"$numberDecimal": "1.10"}, [null, []]]}, "s": 1, "t": 2})"},
      {R"({"_id": 1, "a": 1, "b": 2})", R"({"b": "$a", "a": "$b", "c": "$missing"})",
       R"({"_id": 1, "a": 2, "b": 1})"},
      {R"({"_id": 1, "a": 1, "b": null})", R"({"b": "$$REMOVE", "z": null})", R"({"_id": 1, "a": 1, "z": null})"},
      {R"({"_id": 1, "a": 1, "a": 2})", R"({"a": "$$REMOVE"})", R"({"_id": 1})"},
  };
  for (const auto& c : cases) ExpectAddFields(c.doc, c.spec, c.expected);
  // A find projection that includes fields and computes one.
  auto p = Projection::ParseFind(bson::DocView(DocBson(R"({"a": 1, "n": {"$size": "$e"}})")));
  ASSERT_TRUE(p.ok()) << p.status();
  std::string d = DocBson(R"({"_id": 1, "a": [1, [2]], "e": [null, {"$numberDecimal": "2"}]})");
  EXPECT_EQ(Json(*(*p)->Apply(bson::DocView(d))), Json(DocBson(R"({"_id": 1, "a": [1, [2]], "n": 2})")));
}

// $unset is an exclusion: it reaches into arrays of subdocuments.
TEST(ProjectionTest, UnsetReachesIntoArrays) {
  auto p = Projection::Exclusion({"items.sku", "b"});
  ASSERT_TRUE(p.ok());
  std::string d = DocBson(R"({"_id": 1, "items": [{"sku": "a", "qty": 1}, {"sku": "b"}, 7], "b": 2})");
  EXPECT_EQ(Json(*(*p)->Apply(bson::DocView(d), Projection::ApplyContext{})),
            Json(DocBson(R"({"_id": 1, "items": [{"qty": 1}, {}, 7]})")));
}

TEST(ProjectionTest, MixingInclusionAndExclusionFails) {
  std::string spec = DocBson(R"({"a": 1, "b": 0})");
  EXPECT_EQ(MongoCodeOf(Projection::ParseFind(bson::DocView(spec)).status()), 31254);
  spec = DocBson(R"({"a": 0, "b": 1})");
  EXPECT_EQ(MongoCodeOf(Projection::ParseFind(bson::DocView(spec)).status()), 31253);
  spec = DocBson(R"({"a": 1, "a.b": 1})");
  EXPECT_FALSE(Projection::ParseFind(bson::DocView(spec)).ok());
}

}  // namespace
}  // namespace micromongo::query
