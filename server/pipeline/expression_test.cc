#include "pipeline/expression.h"

#include <gtest/gtest.h>

#include "document/status.h"

namespace micromongo::pipeline {
namespace {

struct Case {
  const char* expr;
  const char* expected;  // relaxed JSON of {"r": <result>}; "missing" for a missing result
};

// Expected values follow MongoDB's aggregation expression reference.
const Case kCases[] = {
    {R"({"$add": [1, 2, 3]})", R"({"r": 6})"},
    {R"({"$add": ["$a", 0.5]})", R"({"r": 5.5})"},
    {R"({"$add": [2147483647, 1]})", R"({"r": 2147483648})"},
    {R"({"$add": [1, null]})", R"({"r": null})"},
    {R"({"$subtract": ["$a", 7]})", R"({"r": -2})"},
    {R"({"$multiply": ["$a", "$b.c"]})", R"({"r": 10})"},
    {R"({"$divide": [7, 2]})", R"({"r": 3.5})"},
    {R"({"$mod": [7, 3]})", R"({"r": 1})"},
    {R"({"$pow": [2, 10]})", R"({"r": 1024})"},
    {R"({"$sqrt": 16})", R"({"r": 4.0})"},
    {R"({"$abs": -3})", R"({"r": 3})"},
    {R"({"$ceil": 1.2})", R"({"r": 2.0})"},
    {R"({"$floor": -1.2})", R"({"r": -2.0})"},
    {R"({"$trunc": [3.789, 1]})", R"({"r": 3.7})"},
    {R"({"$round": [2.5, 0]})", R"({"r": 2.0})"},
    {R"({"$concat": ["$s", "-", "x"]})", R"({"r": "Hello-x"})"},
    {R"({"$concat": ["$s", "$nope"]})", R"({"r": null})"},
    {R"({"$toUpper": "$s"})", R"({"r": "HELLO"})"},
    {R"({"$toLower": "$s"})", R"({"r": "hello"})"},
    {R"({"$substrCP": ["héllo", 1, 3]})", R"({"r": "éll"})"},
    {R"({"$strLenCP": "héllo"})", R"({"r": 5})"},
    {R"({"$indexOfCP": ["héllo", "l"]})", R"({"r": 2})"},
    {R"({"$split": ["a,b,,c", ","]})", R"({"r": ["a", "b", "", "c"]})"},
    {R"({"$trim": {"input": "  x  "}})", R"({"r": "x"})"},
    {R"({"$ltrim": {"input": "xxay", "chars": "x"}})", R"({"r": "ay"})"},
    {R"({"$strcasecmp": ["ABC", "abd"]})", R"({"r": -1})"},
    {R"({"$replaceAll": {"input": "a.b.c", "find": ".", "replacement": "/"}})", R"({"r": "a/b/c"})"},
    {R"({"$replaceOne": {"input": "a.b.c", "find": ".", "replacement": "/"}})", R"({"r": "a/b.c"})"},
    {R"({"$eq": ["$a", 5.0]})", R"({"r": true})"},
    {R"({"$gt": ["$s", 1]})", R"({"r": true})"},
    {R"({"$cmp": [1, 2]})", R"({"r": -1})"},
    {R"({"$and": [true, "$a", {"$gt": ["$a", 1]}]})", R"({"r": true})"},
    {R"({"$or": [false, 0, null]})", R"({"r": false})"},
    {R"({"$not": [0]})", R"({"r": true})"},
    {R"({"$cond": [{"$gt": ["$a", 3]}, "big", "small"]})", R"({"r": "big"})"},
    {R"({"$cond": {"if": false, "then": 1, "else": 2}})", R"({"r": 2})"},
    {R"({"$ifNull": ["$nope", "$alsoNope", "fallback"]})", R"({"r": "fallback"})"},
    {R"({"$switch": {"branches": [{"case": {"$lt": ["$a", 0]}, "then": "neg"}], "default": "pos"}})",
     R"({"r": "pos"})"},
    {R"({"$arrayElemAt": ["$arr", -1]})", R"({"r": 3})"},
    {R"({"$concatArrays": ["$arr", [4]]})", R"({"r": [1, 2, 3, 4]})"},
    {R"({"$filter": {"input": "$arr", "as": "x", "cond": {"$gte": ["$$x", 2]}}})", R"({"r": [2, 3]})"},
    {R"({"$map": {"input": "$arr", "in": {"$multiply": ["$$this", 10]}}})", R"({"r": [10, 20, 30]})"},
    {R"({"$reduce": {"input": "$arr", "initialValue": 0, "in": {"$add": ["$$value", "$$this"]}}})",
     R"({"r": 6})"},
    {R"({"$in": [2, "$arr"]})", R"({"r": true})"},
    {R"({"$indexOfArray": ["$arr", 3]})", R"({"r": 2})"},
    {R"({"$isArray": "$arr"})", R"({"r": true})"},
    {R"({"$size": "$arr"})", R"({"r": 3})"},
    {R"({"$slice": ["$arr", -2]})", R"({"r": [2, 3]})"},
    {R"({"$slice": ["$arr", 1, 1]})", R"({"r": [2]})"},
    {R"({"$reverseArray": "$arr"})", R"({"r": [3, 2, 1]})"},
    {R"({"$zip": {"inputs": [[1, 2], ["a", "b"]]}})", R"({"r": [[1, "a"], [2, "b"]]})"},
    {R"({"$let": {"vars": {"x": 2}, "in": {"$multiply": ["$$x", "$a"]}}})", R"({"r": 10})"},
    {R"({"$literal": "$a"})", R"({"r": "$a"})"},
    {R"({"$type": "$a"})", R"({"r": "int"})"},
    {R"({"$type": "$nope"})", R"({"r": "missing"})"},
    {R"({"$toString": 2.5})", R"({"r": "2.5"})"},
    {R"({"$toInt": "42"})", R"({"r": 42})"},
    {R"({"$toDouble": true})", R"({"r": 1.0})"},
    {R"({"$toLong": 3.9})", R"({"r": {"$numberLong": "3"}})"},
    {R"({"$toBool": 0})", R"({"r": false})"},
    {R"({"$convert": {"input": "x", "to": "int", "onError": -1}})", R"({"r": -1})"},
    {R"({"$year": "$d"})", R"({"r": 2021})"},
    {R"({"$month": "$d"})", R"({"r": 3})"},
    {R"({"$dayOfMonth": "$d"})", R"({"r": 14})"},
    {R"({"$dayOfWeek": "$d"})", R"({"r": 1})"},
    {R"({"$hour": "$d"})", R"({"r": 15})"},
    {R"({"$millisecond": "$d"})", R"({"r": 123})"},
    {R"({"$dateToString": {"format": "%Y/%m/%d %H:%M", "date": "$d"}})", R"({"r": "2021/03/14 15:09"})"},
    {R"({"$objectToArray": "$b"})", R"({"r": [{"k": "c", "v": 2}]})"},
    {R"({"$arrayToObject": [[["k1", 1]]]})", R"({"r": {"k1": 1}})"},
    {R"({"$mergeObjects": ["$b", {"d": 1}]})", R"({"r": {"c": 2, "d": 1}})"},
    {R"("$docs.v")", R"({"r": [1, 2]})"},
    {R"({"x": "$a", "y": "$nope"})", R"({"r": {"x": 5}})"},
    {R"("$nope")", "missing"},
};

TEST(ExpressionTest, Table) {
  Document doc = Document::FromJson(
      R"({"a": 5, "b": {"c": 2}, "s": "Hello", "arr": [1, 2, 3], "docs": [{"v": 1}, {"v": 2}],
          "d": {"$date": "2021-03-14T15:09:26.123Z"}})");
  for (const Case& c : kCases) {
    auto spec = Document::FromJson(std::string("{\"e\": ") + c.expr + "}");
    auto expr = ParseExpression(spec.Get("e"));
    ASSERT_TRUE(expr.ok()) << c.expr << ": " << expr.status();
    auto r = EvaluateOn(**expr, doc);
    ASSERT_TRUE(r.ok()) << c.expr << ": " << r.status();
    if (std::string(c.expected) == "missing") {
      EXPECT_FALSE(r->has_value()) << c.expr;
      continue;
    }
    ASSERT_TRUE(r->has_value()) << c.expr;
    EXPECT_EQ(Document({{"r", **r}}).ToCanonicalJson(),
              Document::FromJson(c.expected).ToCanonicalJson())
        << c.expr;
  }
}

TEST(ExpressionTest, Errors) {
  struct Bad {
    const char* expr;
    int code;
  } parse_errors[] = {
      {R"({"$frobnicate": 1})", 168},
      {R"({"$add": 1, "$sub": 2})", 15983},
      {R"({"$subtract": [1]})", 16020},
      {R"({"$cond": {"if": true}})", 17081},  // missing 'then'
      // Constant subexpressions are evaluated while parsing, as MongoDB's optimize() does.
      {R"({"$divide": [1, 0]})", kBadValue},
  };
  for (const Bad& b : parse_errors) {
    auto spec = Document::FromJson(std::string("{\"e\": ") + b.expr + "}");
    auto expr = ParseExpression(spec.Get("e"));
    EXPECT_EQ(MongoCodeOf(expr.status()), b.code) << b.expr;
  }
  Document doc{{"s", "x"}, {"zero", 0}, {"big", 2000000000}};
  for (const char* e : {R"({"$divide": [1, "$zero"]})", R"({"$add": ["$s", 1]})",
                        R"({"$toInt": "$s"})", R"({"$range": [0, "$big"]})"}) {
    auto spec = Document::FromJson(std::string("{\"e\": ") + e + "}");
    auto expr = ParseExpression(spec.Get("e"));
    ASSERT_TRUE(expr.ok()) << e;
    EXPECT_FALSE(EvaluateOn(**expr, doc).ok()) << e;
  }
}

}  // namespace
}  // namespace micromongo::pipeline
