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


// Every expression operator of MongoDB 8.0's aggregation reference is known (the
// accumulator-only and window-only names are not expressions).
TEST(ExpressionTest, EveryOperatorOfMongoDb8) {
  for (const char* name :
       {"$abs", "$accumulator", "$acos", "$acosh", "$add", "$allElementsTrue", "$and", "$anyElementTrue",
        "$arrayElemAt", "$arrayToObject", "$asin", "$asinh", "$atan", "$atan2", "$atanh", "$avg", "$binarySize",
        "$bitAnd", "$bitNot", "$bitOr", "$bitXor", "$bsonSize", "$ceil", "$cmp", "$concat", "$concatArrays", "$cond",
        "$convert", "$cos", "$cosh", "$dateAdd", "$dateDiff", "$dateFromParts", "$dateFromString", "$dateSubtract",
        "$dateToParts", "$dateToString", "$dateTrunc", "$dayOfMonth", "$dayOfWeek", "$dayOfYear", "$degreesToRadians",
        "$divide", "$eq", "$exp", "$filter", "$first", "$firstN", "$floor", "$function", "$getField", "$gt", "$gte",
        "$hour", "$ifNull", "$in", "$indexOfArray", "$indexOfBytes", "$indexOfCP", "$isArray", "$isNumber",
        "$isoDayOfWeek", "$isoWeek", "$isoWeekYear", "$last", "$lastN", "$let", "$literal", "$ln", "$log", "$log10",
        "$lt", "$lte", "$ltrim", "$map", "$max", "$maxN", "$median", "$mergeObjects", "$meta", "$min", "$minN",
        "$millisecond", "$minute", "$mod", "$month", "$multiply", "$ne", "$not", "$objectToArray", "$or",
        "$percentile", "$pow", "$radiansToDegrees", "$rand", "$range", "$reduce", "$regexFind", "$regexFindAll",
        "$regexMatch", "$replaceOne", "$replaceAll", "$reverseArray", "$round", "$rtrim", "$second",
        "$setDifference", "$setEquals", "$setField", "$setIntersection", "$setIsSubset", "$setUnion", "$size",
        "$sin", "$sinh", "$slice", "$sortArray", "$split", "$sqrt", "$stdDevPop", "$stdDevSamp", "$strcasecmp",
        "$strLenBytes", "$strLenCP", "$substr", "$substrBytes", "$substrCP", "$subtract", "$sum", "$switch", "$tan",
        "$tanh", "$toBool", "$toDate", "$toDecimal", "$toDouble", "$toHashedIndexKey", "$toInt", "$toLong",
        "$toObjectId", "$toString", "$toLower", "$toUpper", "$toUUID", "$trim", "$trunc", "$tsIncrement",
        "$tsSecond", "$type", "$unsetField", "$week", "$year", "$zip"}) {
    EXPECT_TRUE(IsExpressionOperator(name)) << name;
  }
  for (const char* name : {"$push", "$addToSet", "$rank", "$shift", "$top", "$count", "$foo"}) {
    EXPECT_FALSE(IsExpressionOperator(name)) << name;
  }
}

// ---- Operator families: the manual's examples and edge cases ----------------------------------

// Each case evaluates `expr` on kFamilyDoc; `expected` is relaxed JSON of the result, "missing"
// for none, or "error:<code>" for an error (at parse time for constant arguments, as MongoDB
// folds them, or when evaluated).
struct FamilyCase {
  const char* expr;
  const char* expected;
};

constexpr const char* kFamilyDoc = R"({
  "i": 5, "l": {"$numberLong": "7"}, "d": 2.5, "dec": {"$numberDecimal": "1.20"}, "n": null, "s": "Hello World",
  "arr": [1, 2, 3, 4], "nested": [[1, 2], [3]], "empty": [], "docs": [{"v": 1}, {"v": 2}, {"w": 3}],
  "o": {"a": 1, "b": {"c": 2}}, "t": true, "f": false,
  "date": {"$date": "2014-01-01T08:15:39.736Z"}, "ts": {"$timestamp": {"t": 1622731060, "i": 1}},
  "oid": {"$oid": "5ab9cbfa31c2ab715d42129e"}, "price.usd": 45.99})";

void RunFamily(const char* family, const std::vector<FamilyCase>& cases) {
  Document doc = Document::FromJson(kFamilyDoc);
  for (const FamilyCase& c : cases) {
    std::string expected = c.expected;
    auto spec = Document::FromJson(std::string("{\"e\": ") + c.expr + "}");
    auto expr = ParseExpression(spec.Get("e"));
    EvalResult r = expr.ok() ? EvaluateOn(**expr, doc) : EvalResult(expr.status());
    if (expected.rfind("error:", 0) == 0) {
      EXPECT_EQ(MongoCodeOf(r.status()), std::stoi(expected.substr(6))) << family << ": " << c.expr << " -> " << r.status();
      continue;
    }
    ASSERT_TRUE(r.ok()) << family << ": " << c.expr << ": " << r.status();
    if (expected == "missing") {
      EXPECT_FALSE(r->has_value()) << family << ": " << c.expr;
      continue;
    }
    ASSERT_TRUE(r->has_value()) << family << ": " << c.expr;
    EXPECT_EQ(Document({{"r", **r}}).ToCanonicalJson(), Document::FromJson("{\"r\": " + expected + "}").ToCanonicalJson())
        << family << ": " << c.expr;
  }
}

TEST(ExpressionFamilyTest, Arithmetic) {
  RunFamily("arithmetic", {
      {R"({"$add": ["$date", 259200000]})", R"({"$date": "2014-01-04T08:15:39.736Z"})"},
      {R"({"$add": ["$i", "$missing"]})", "null"},
      {R"({"$add": ["$i", "$l", "$d"]})", "14.5"},
      {R"({"$add": ["$i", "$dec"]})", R"({"$numberDecimal": "6.20"})"},
      {R"({"$add": ["$s", 1]})", "error:14"},
      {R"({"$add": ["$date", "$date"]})", "error:16612"},
      {R"({"$subtract": ["$date", {"$date": "2014-01-01T00:00:00Z"}]})", R"({"$numberLong": "29739736"})"},
      {R"({"$subtract": ["$date", 60000]})", R"({"$date": "2014-01-01T08:14:39.736Z"})"},
      {R"({"$multiply": [2147483647, "$i"]})", R"({"$numberLong": "10737418235"})"},
      {R"({"$multiply": ["$i", "$s"]})", "error:14"},
      {R"({"$divide": ["$i", 2]})", "2.5"},
      {R"({"$divide": ["$i", "$zero"]})", "null"},
      {R"({"$divide": ["$i", {"$subtract": ["$i", "$i"]}]})", "error:2"},
      {R"({"$mod": [-5, 3]})", "-2"},
      {R"({"$mod": ["$d", 2]})", "0.5"},
      {R"({"$abs": -2147483648})", R"({"$numberLong": "2147483648"})"},
      {R"({"$abs": "$n"})", "null"},
      {R"({"$ceil": "$dec"})", R"({"$numberDecimal": "2"})"},
      {R"({"$floor": -2.5})", "-3.0"},
      {R"({"$round": [19.25, 1]})", "19.2"},
      {R"({"$round": [28.73, -1]})", "30.0"},
      {R"({"$round": [-45.39, 1]})", "-45.4"},
      {R"({"$round": [34, -1]})", "30"},
      {R"({"$trunc": [-45.39, 1]})", "-45.3"},
      {R"({"$trunc": [19.25, 1]})", "19.2"},
      {R"({"$exp": 0})", "1.0"},
      {R"({"$ln": 1})", "0.0"},
      {R"({"$log": [100, 10]})", "2.0"},
      {R"({"$log10": 1000})", "3.0"},
      {R"({"$log10": 0})", "error:28761"},
      {R"({"$pow": [-2, -1]})", "-0.5"},
      {R"({"$pow": [0, -1]})", "error:28764"},
      {R"({"$pow": [2, 10]})", "1024"},
      {R"({"$sqrt": 25})", "5.0"},
      {R"({"$sqrt": -1})", "error:28714"},
  });
}

TEST(ExpressionFamilyTest, ComparisonAndBoolean) {
  RunFamily("comparison", {
      {R"({"$cmp": [1, "a"]})", "-1"},
      {R"({"$cmp": [[1, 2], [1, 3]]})", "-1"},
      {R"({"$eq": ["$i", 5.0]})", "true"},
      {R"({"$eq": [null, "$missing"]})", "false"},
      {R"({"$gt": [null, "$missing"]})", "true"},
      {R"({"$gte": ["$missing", null]})", "false"},
      {R"({"$lt": ["$missing", null]})", "true"},
      {R"({"$ne": ["$n", null]})", "false"},
      {R"({"$lte": ["$s", "Hello World"]})", "true"},
      {R"({"$and": []})", "true"},
      {R"({"$or": []})", "false"},
      {R"({"$and": [1, "green"]})", "true"},
      {R"({"$and": [null, true]})", "false"},
      {R"({"$or": [[false], false]})", "true"},
      {R"({"$not": [[]]})", "false"},
      {R"({"$not": ["$missing"]})", "true"},
      // Decimals are true unless zero, at any exponent (the fuzzer's crash was 1E+6111).
      {R"({"$not": [{"$numberDecimal": "1E+6111"}]})", "false"},
      {R"({"$not": [{"$numberDecimal": "1E-6176"}]})", "false"},
      {R"({"$not": [{"$numberDecimal": "0E+6111"}]})", "true"},
      {R"({"$not": [{"$numberDecimal": "-0.000"}]})", "true"},
      {R"({"$and": [{"$numberDecimal": "NaN"}, {"$numberDecimal": "-Infinity"}]})", "true"},
      {R"({"$cond": ["$missing", 1, 2]})", "2"},
      {R"({"$ifNull": ["$n", "$missing", "x"]})", "\"x\""},
      {R"({"$ifNull": ["$missing", "$alsoMissing"]})", "missing"},
      {R"({"$switch": {"branches": [{"case": "$f", "then": 1}]}})", "error:40066"},
      {R"({"$switch": {"branches": [{"case": {"$eq": ["$i", 5]}, "then": "five"}], "default": 0}})", "\"five\""},
  });
}

TEST(ExpressionFamilyTest, String) {
  RunFamily("string", {
      {R"({"$concat": ["$s", "!"]})", "\"Hello World!\""},
      {R"({"$concat": ["$s", 1]})", "error:16702"},
      {R"({"$substrBytes": ["$s", 6, 5]})", "\"World\""},
      {R"({"$substrBytes": ["café", 0, 4]})", "error:28657"},
      {R"({"$substrCP": ["café", 3, 1]})", "\"é\""},
      {R"({"$strLenBytes": "é"})", "2"},
      {R"({"$strLenCP": "é"})", "1"},
      {R"({"$indexOfBytes": ["$s", "o", 5]})", "7"},
      {R"({"$indexOfBytes": ["$n", "o"]})", "null"},
      {R"({"$indexOfCP": ["cafétéria", "t"]})", "4"},
      {R"({"$toUpper": "$n"})", "\"\""},
      {R"({"$toLower": 5})", "\"5\""},
      {R"({"$split": ["a-b", ""]})", "error:40087"},
      {R"({"$split": ["Hello World", " "]})", R"(["Hello", "World"])"},
      {R"({"$trim": {"input": "\t ggggoodbyeeeee \n"}})", "\"ggggoodbyeeeee\""},
      {R"({"$rtrim": {"input": "ggggoodbyeeeee", "chars": "ye"}})", "\"ggggoodb\""},
      {R"({"$strcasecmp": ["hello world", "$s"]})", "0"},
      {R"({"$replaceAll": {"input": "$s", "find": "o", "replacement": "0"}})", "\"Hell0 W0rld\""},
      {R"({"$replaceOne": {"input": "$n", "find": "o", "replacement": "0"}})", "null"},
      {R"({"$regexMatch": {"input": "$s", "regex": "world", "options": "i"}})", "true"},
      {R"({"$regexFind": {"input": "First lines\nsecond line", "regex": "line"}})",
       R"({"match": "line", "idx": 6, "captures": []})"},
      {R"({"$regexFind": {"input": "Single LINE description.", "regex": "line"}})", "null"},
      {R"x({"$regexFindAll": {"input": "a1b22", "regex": "([0-9]+)"}})x",
       R"([{"match": "1", "idx": 1, "captures": ["1"]}, {"match": "22", "idx": 3, "captures": ["22"]}])"},
      {R"({"$regexFind": {"input": "métier", "regex": "t(i)?(x)?"}})", R"({"match": "ti", "idx": 2, "captures": ["i", null]})"},
      {R"({"$regexMatch": {"input": "$missing", "regex": "x"}})", "false"},
      {R"({"$regexMatch": {"input": 1, "regex": "x"}})", "error:51104"},
      {R"({"$regexMatch": {"input": "x", "regex": "("}})", "error:51111"},
  });
}

TEST(ExpressionFamilyTest, Array) {
  RunFamily("array", {
      {R"({"$arrayElemAt": ["$arr", 10]})", "missing"},
      {R"({"$arrayElemAt": ["$arr", -1]})", "4"},
      {R"({"$arrayElemAt": ["$s", 0]})", "error:28689"},
      {R"({"$first": "$arr"})", "1"},
      {R"({"$last": "$empty"})", "missing"},
      {R"({"$slice": ["$arr", 1, 2]})", "[2, 3]"},
      {R"({"$slice": ["$arr", -10]})", "[1, 2, 3, 4]"},
      {R"({"$concatArrays": ["$arr", "$n"]})", "null"},
      {R"({"$filter": {"input": "$arr", "cond": {"$gt": ["$$this", 1]}, "limit": 2}})", "[2, 3]"},
      {R"({"$filter": {"input": "$missing", "cond": true}})", "null"},
      {R"({"$map": {"input": "$docs", "as": "d", "in": "$$d.v"}})", "[1, 2, null]"},
      {R"({"$reduce": {"input": "$nested", "initialValue": [], "in": {"$concatArrays": ["$$value", "$$this"]}}})", "[1, 2, 3]"},
      {R"({"$range": [0, 10, 3]})", "[0, 3, 6, 9]"},
      {R"({"$range": [5, 0, -2]})", "[5, 3, 1]"},
      {R"({"$range": [0, 5, 0]})", "error:34449"},
      {R"({"$in": [3, "$arr"]})", "true"},
      {R"({"$in": [3, "$missing"]})", "error:40081"},
      {R"({"$indexOfArray": ["$arr", 3, 0, 2]})", "-1"},
      {R"({"$isArray": ["$empty"]})", "true"},
      {R"({"$size": "$missing"})", "error:17124"},
      {R"({"$reverseArray": "$n"})", "null"},
      {R"({"$zip": {"inputs": [[1, 2, 3], ["a"]], "useLongestLength": true, "defaults": [0, "z"]}})",
       R"([[1, "a"], [2, "z"], [3, "z"]])"},
      {R"({"$firstN": {"n": 2, "input": "$arr"}})", "[1, 2]"},
      {R"({"$lastN": {"n": 9, "input": "$arr"}})", "[1, 2, 3, 4]"},
      {R"({"$maxN": {"n": 2, "input": [3, null, 1, 4]}})", "[4, 3]"},
      {R"({"$minN": {"n": 0, "input": [1]}})", "error:5787908"},
      {R"({"$sortArray": {"input": [3, 1, 2], "sortBy": -1}})", "[3, 2, 1]"},
      {R"({"$sortArray": {"input": "$docs", "sortBy": {"v": -1}}})", R"([{"v": 2}, {"v": 1}, {"w": 3}])"},
      {R"({"$objectToArray": "$o"})", R"([{"k": "a", "v": 1}, {"k": "b", "v": {"c": 2}}])"},
      {R"({"$arrayToObject": [[{"k": "x", "v": 1}, {"k": "x", "v": 2}]]})", R"({"x": 2})"},
  });
}

TEST(ExpressionFamilyTest, Set) {
  RunFamily("set", {
      {R"({"$setUnion": [[1, 2, 2], [3, 1]]})", "[1, 2, 3]"},
      {R"({"$setIntersection": [[1, 2, 3], [2, 3, 4]]})", "[2, 3]"},
      {R"({"$setDifference": [[1, 2, 3, 1], [2]]})", "[1, 3]"},
      {R"({"$setEquals": [[1, 2], [2, 1, 1]]})", "true"},
      {R"({"$setIsSubset": [[1], [1, 2]]})", "true"},
      {R"({"$setIsSubset": ["$n", [1]]})", "error:17046"},
      {R"({"$setUnion": ["$arr", "$missing"]})", "null"},
      {R"({"$anyElementTrue": [[0, null, 1]]})", "true"},
      {R"({"$allElementsTrue": [[1, []]]})", "true"},
      {R"({"$allElementsTrue": [[]]})", "true"},
      {R"({"$anyElementTrue": "$s"})", "error:17041"},
  });
}

TEST(ExpressionFamilyTest, ObjectAndType) {
  RunFamily("object", {
      {R"({"$getField": "price.usd"})", "45.99"},
      {R"({"$getField": {"field": "a", "input": "$o"}})", "1"},
      {R"({"$getField": {"field": "$a", "input": {}}})", "error:5654600"},
      {R"({"$setField": {"field": "a.b", "input": {}, "value": 1}})", R"({"a.b": 1})"},
      {R"({"$unsetField": {"field": "a", "input": "$o"}})", R"({"b": {"c": 2}})"},
      {R"({"$mergeObjects": ["$n", {"a": 1}]})", R"({"a": 1})"},
      {R"({"$type": "$d"})", "\"double\""},
      {R"({"$type": "$l"})", "\"long\""},
      {R"({"$type": "$arr"})", "\"array\""},
      {R"({"$type": "$ts"})", "\"timestamp\""},
      {R"({"$isNumber": "$dec"})", "true"},
      {R"({"$isNumber": "5"})", "false"},
      {R"({"$toDate": "2023-11-05"})", R"({"$date": "2023-11-05T00:00:00Z"})"},
      {R"({"$toDate": "abc"})", "error:241"},
      {R"({"$toDate": "$oid"})", R"({"$date": "2018-03-27T04:43:38Z"})"},
      {R"({"$toString": "$date"})", "\"2014-01-01T08:15:39.736Z\""},
      {R"({"$toString": "$oid"})", "\"5ab9cbfa31c2ab715d42129e\""},
      {R"({"$toInt": "1.5"})", "error:241"},
      {R"({"$toInt": 2147483648})", "error:241"},
      {R"({"$toLong": "$date"})", R"({"$numberLong": "1388564139736"})"},
      {R"({"$toDecimal": 2.5})", R"({"$numberDecimal": "2.50000000000000"})"},
      {R"({"$toBool": "false"})", "true"},
      {R"({"$toObjectId": "5ab9cbfa31c2ab715d42129e"})", R"({"$oid": "5ab9cbfa31c2ab715d42129e"})"},
      {R"({"$convert": {"input": "x", "to": "double", "onError": "bad", "onNull": "none"}})", "\"bad\""},
      {R"({"$convert": {"input": "$missing", "to": "double", "onNull": "none"}})", "\"none\""},
      {R"({"$convert": {"input": 1, "to": "nope"}})", "error:2"},
      {R"({"$toUUID": "123e4567-e89b-12d3-a456-426614174000"})",
       R"({"$binary": {"base64": "Ej5FZ+ibEtOkVkJmFBdAAA==", "subType": "04"}})"},
  });
}

TEST(ExpressionFamilyTest, DatesAndTimeZones) {
  RunFamily("date", {
      // The issue's example: 22:07 UTC is 00:07 the next day at +02:00.
      {R"({"$hour": {"date": {"$date": "2024-05-05T22:07:00Z"}, "timezone": "+02:00"}})", "0"},
      {R"({"$dayOfMonth": {"date": {"$date": "2024-05-05T22:07:00Z"}, "timezone": "+02:00"}})", "6"},
      // Daylight saving time in Oslo starts at 01:00 UTC on 2024-03-31.
      {R"({"$hour": {"date": {"$date": "2024-03-31T00:30:00Z"}, "timezone": "Europe/Oslo"}})", "1"},
      {R"({"$hour": {"date": {"$date": "2024-03-31T01:30:00Z"}, "timezone": "Europe/Oslo"}})", "3"},
      {R"({"$dateToString": {"date": "$date", "format": "%Y-%m-%d %H:%M:%S %z", "timezone": "America/New_York"}})",
       "\"2014-01-01 03:15:39 -0500\""},
      {R"({"$dateToString": {"date": "$date"}})", "\"2014-01-01T08:15:39.736Z\""},
      {R"({"$dateToString": {"date": "$missing", "onNull": "none"}})", "\"none\""},
      {R"({"$dateToString": {"date": "$date", "format": "%Q"}})", "error:18536"},
      {R"({"$year": "$date"})", "2014"},
      {R"({"$dayOfYear": "$date"})", "1"},
      {R"({"$week": {"$date": "2016-01-01T00:00:00Z"}})", "0"},
      {R"({"$isoWeek": {"$date": "2016-01-01T00:00:00Z"}})", "53"},
      {R"({"$isoWeekYear": {"$date": "2016-01-01T00:00:00Z"}})", R"({"$numberLong": "2015"})"},
      {R"({"$isoDayOfWeek": {"$date": "2016-01-01T00:00:00Z"}})", "5"},
      {R"({"$hour": {"date": "$date", "timezone": "Mars/Olympus"}})", "error:40485"},
      {R"({"$dateFromParts": {"year": 2017, "month": 2, "day": 8, "hour": 12, "timezone": "America/New_York"}})",
       R"({"$date": "2017-02-08T17:00:00Z"})"},
      {R"({"$dateFromParts": {"year": 2017, "month": 14, "day": 1}})", R"({"$date": "2018-02-01T00:00:00Z"})"},
      {R"({"$dateToParts": {"date": {"$date": "2017-01-01T01:29:09.123Z"}, "timezone": "America/New_York"}})",
       R"({"year": 2016, "month": 12, "day": 31, "hour": 20, "minute": 29, "second": 9, "millisecond": 123})"},
      {R"({"$dateFromString": {"dateString": "2017-02-08T12:10:40.787", "timezone": "America/New_York"}})",
       R"({"$date": "2017-02-08T17:10:40.787Z"})"},
      {R"({"$dateFromString": {"dateString": "15-06-2018", "format": "%d-%m-%Y"}})", R"({"$date": "2018-06-15T00:00:00Z"})"},
      {R"({"$dateFromString": {"dateString": "not a date", "onError": "bad"}})", "\"bad\""},
      {R"({"$dateAdd": {"startDate": {"$date": "2024-03-30T12:00:00Z"}, "unit": "day", "amount": 1, "timezone": "Europe/Oslo"}})",
       R"({"$date": "2024-03-31T11:00:00Z"})"},
      {R"({"$dateAdd": {"startDate": {"$date": "2021-01-31T00:00:00Z"}, "unit": "month", "amount": 1}})",
       R"({"$date": "2021-02-28T00:00:00Z"})"},
      {R"({"$dateSubtract": {"startDate": "$date", "unit": "hour", "amount": 8}})", R"({"$date": "2014-01-01T00:15:39.736Z"})"},
      {R"({"$dateDiff": {"startDate": {"$date": "2021-01-01T00:00:00Z"}, "endDate": {"$date": "2021-03-01T00:00:00Z"}, "unit": "month"}})",
       R"({"$numberLong": "2"})"},
      {R"({"$dateDiff": {"startDate": {"$date": "2021-01-03T00:00:00Z"}, "endDate": {"$date": "2021-01-10T00:00:00Z"}, "unit": "week", "startOfWeek": "monday"}})",
       R"({"$numberLong": "1"})"},
      {R"({"$dateTrunc": {"date": {"$date": "2021-03-20T11:30:05Z"}, "unit": "week", "startOfWeek": "monday"}})",
       R"({"$date": "2021-03-15T00:00:00Z"})"},
      {R"({"$dateTrunc": {"date": {"$date": "2021-03-20T11:30:05Z"}, "unit": "hour", "binSize": 6}})",
       R"({"$date": "2021-03-20T06:00:00Z"})"},
      {R"({"$dateTrunc": {"date": "$date", "unit": "decade"}})", "error:5439014"},
  });
}

TEST(ExpressionFamilyTest, MiscBitwiseTrigonometryAndAccumulators) {
  RunFamily("misc", {
      {R"({"$toHashedIndexKey": "string to hash"})", R"({"$numberLong": "763543691661428748"})"},
      {R"({"$tsSecond": "$ts"})", R"({"$numberLong": "1622731060"})"},
      {R"({"$tsIncrement": "$ts"})", R"({"$numberLong": "1"})"},
      {R"({"$binarySize": "abc"})", "3"},
      {R"({"$bsonSize": {}})", "5"},
      {R"({"$bsonSize": "$missing"})", "null"},
      {R"({"$let": {"vars": {"x": "$i"}, "in": {"$add": ["$$x", 1]}}})", "6"},
      {R"({"$literal": {"$add": [1, 2]}})", R"({"$add": [1, 2]})"},
      {R"({"$meta": "textScore"})", "missing"},
      {R"({"$meta": "nope"})", "error:17308"},
      {R"({"$function": {"body": "function() {}", "args": [], "lang": "js"}})", "error:238"},
      {R"({"$lte": [{"$rand": {}}, 1]})", "true"},
      {R"({"$bitAnd": [12, 7]})", "4"},
      {R"({"$bitOr": [12, "$l"]})", R"({"$numberLong": "15"})"},
      {R"({"$bitXor": [12, 7]})", "11"},
      {R"({"$bitNot": 12})", "-13"},
      {R"({"$bitAnd": [1.5, 1]})", "error:14"},
      {R"({"$sin": 0})", "0.0"},
      {R"({"$cos": 0})", "1.0"},
      {R"({"$degreesToRadians": 180})", "3.141592653589793"},
      {R"({"$radiansToDegrees": 3.141592653589793})", "180.0"},
      {R"({"$atan2": [1, 1]})", "0.7853981633974483"},
      {R"({"$acos": 2})", "error:50989"},
      {R"({"$sum": "$arr"})", "10"},
      {R"({"$sum": [1, 2, "$missing"]})", "3"},
      {R"({"$avg": [1, 2]})", "1.5"},
      {R"({"$max": []})", "null"},
      {R"({"$max": ["$arr", 9]})", "[1, 2, 3, 4]"},  // several operands: arrays are not traversed
      {R"({"$stdDevPop": [1, 2, 3, 4]})", "1.118033988749895"},
      {R"({"$median": {"input": [1, 2, 3], "method": "approximate"}})", "2.0"},
  });
}

}  // namespace
}  // namespace micromongo::pipeline
