#include "query/matcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"

#include "document/json.h"
#include "micromongo/document.h"
#include "document/status.h"

namespace micromongo::query {
namespace {

using absl::StrCat;

struct Case {
  const char* filter;
  const char* doc;
  bool matches;
};

// Expected answers follow MongoDB's manual (query operators, null/missing, arrays).
const Case kCases[] = {
    {R"({})", R"({"a": 1})", true},
    {R"({"a": 1})", R"({"a": 1})", true},
    {R"({"a": 1})", R"({"a": 1.0})", true},
    {R"({"a": 1})", R"({"a": {"$numberLong": "1"}})", true},
    {R"({"a": 1})", R"({"a": "1"})", false},
    {R"({"a": 1})", R"({"a": [3, 1]})", true},
    {R"({"a": [3, 1]})", R"({"a": [3, 1]})", true},
    {R"({"a": [1, 3]})", R"({"a": [3, 1]})", false},
    {R"({"a": [1]})", R"({"a": [[1], 2]})", true},
    {R"({"a": {"b": 1, "c": 2}})", R"({"a": {"b": 1, "c": 2}})", true},
    {R"({"a": {"b": 1, "c": 2}})", R"({"a": {"c": 2, "b": 1}})", false},
    {R"({"a.b": 1})", R"({"a": {"b": 1}})", true},
    {R"({"a.b": 1})", R"({"a": [{"b": 2}, {"b": 1}]})", true},
    {R"({"a.b": 1})", R"({"a": [{"b": [0, 1]}]})", true},
    {R"({"a.1": 5})", R"({"a": [4, 5]})", true},
    {R"({"a.1": 5})", R"({"a": [5, 4]})", false},
    {R"({"a.0.b": 1})", R"({"a": [{"b": 1}]})", true},
    {R"({"a.1": 5})", R"({"a": {"1": 5}})", true},
    {R"({"a": null})", R"({})", true},
    {R"({"a": null})", R"({"a": null})", true},
    {R"({"a": null})", R"({"a": 0})", false},
    {R"({"a.b": null})", R"({"a": [{"b": 1}, {"c": 1}]})", true},
    {R"({"a": {"$ne": null}})", R"({})", false},
    {R"({"a": {"$ne": 1}})", R"({})", true},
    {R"({"a": {"$ne": 1}})", R"({"a": [1, 2]})", false},
    {R"({"a": {"$ne": 1}})", R"({"a": [2, 3]})", true},
    {R"({"a": {"$gt": 1}})", R"({"a": 2})", true},
    {R"({"a": {"$gt": 1}})", R"({"a": "2"})", false},
    {R"({"a": {"$gt": 1}})", R"({"a": [0, 5]})", true},
    {R"({"a": {"$gt": 1, "$lt": 3}})", R"({"a": [0, 5]})", true},
    {R"({"a": {"$gte": 2.5}})", R"({"a": {"$numberLong": "3"}})", true},
    {R"({"a": {"$lt": {"$numberLong": "9007199254740993"}}})",
     R"({"a": 9007199254740992.0})", true},
    {R"({"a": {"$gt": {"$numberLong": "9007199254740993"}}})",
     R"({"a": 9007199254740992.0})", false},
    {R"({"a": {"$lte": "b"}})", R"({"a": "ab"})", true},
    {R"({"a": {"$gt": {"$minKey": 1}}})", R"({"a": "x"})", true},
    {R"({"a": {"$gte": null}})", R"({})", true},
    {R"({"a": {"$gt": null}})", R"({})", false},
    {R"({"a": {"$in": [1, 2]}})", R"({"a": 2})", true},
    {R"({"a": {"$in": [1, 2]}})", R"({"a": [5, 2]})", true},
    {R"({"a": {"$in": [null]}})", R"({})", true},
    {R"({"a": {"$in": []}})", R"({"a": 1})", false},
    {R"({"a": {"$nin": [1, 2]}})", R"({})", true},
    {R"({"a": {"$nin": [1, 2]}})", R"({"a": [3, 1]})", false},
    {R"({"a": {"$exists": true}})", R"({"a": null})", true},
    {R"({"a": {"$exists": false}})", R"({"a": null})", false},
    {R"({"a": {"$exists": false}})", R"({"b": 1})", true},
    {R"({"a.b": {"$exists": true}})", R"({"a": [{"c": 1}, {"b": 1}]})", true},
    {R"({"a": {"$not": {"$gt": 2}}})", R"({"a": 1})", true},
    {R"({"a": {"$not": {"$gt": 2}}})", R"({})", true},
    {R"({"a": {"$not": {"$gt": 2}}})", R"({"a": 3})", false},
    {R"({"$and": [{"a": 1}, {"b": 2}]})", R"({"a": 1, "b": 2})", true},
    {R"({"$and": [{"a": 1}, {"b": 2}]})", R"({"a": 1, "b": 3})", false},
    {R"({"$or": [{"a": 1}, {"b": 2}]})", R"({"a": 0, "b": 2})", true},
    {R"({"$or": [{"a": 1}, {"b": 2}]})", R"({"a": 0, "b": 0})", false},
    {R"({"$nor": [{"a": 1}, {"b": 2}]})", R"({"a": 0, "b": 0})", true},
    {R"({"$comment": "x", "a": 1})", R"({"a": 1})", true},
    {R"({"d": {"$date": "2024-01-01T00:00:00Z"}})", R"({"d": {"$date": "2024-01-01T00:00:00Z"}})",
     true},
    {R"({"_id": {"$oid": "65a000000000000000000001"}})",
     R"({"_id": {"$oid": "65a000000000000000000001"}})", true},
    // Query operators that look like legacy Extended JSON wrappers stay operators.
    {R"({"a": {"$type": "array"}})", R"({"a": []})", true},
    {R"({"a": {"$type": 2}})", R"({"a": "x"})", true},
    {R"({"a": {"$type": ["bool", "null"]}})", R"({"a": null})", true},
    {R"({"a": {"$type": -1}})", R"({"a": {"$minKey": 1}})", true},
    // $expr
    {R"({"$expr": {"$gt": ["$a", "$b"]}})", R"({"a": 5, "b": 3})", true},
    {R"({"$expr": {"$gt": ["$a", "$b"]}})", R"({"a": 1, "b": 3})", false},
    {R"({"$expr": {"$eq": [{"$size": "$t"}, 2]}, "a": 1})", R"({"a": 1, "t": [1, 2]})", true},
    {R"({"$expr": "$flag"})", R"({"flag": 0})", false},
    // $jsonSchema
    {R"({"$jsonSchema": {"required": ["a"], "properties": {"a": {"bsonType": "int", "minimum": 1}}}})",
     R"({"a": 5})", true},
    {R"({"$jsonSchema": {"required": ["a"]}})", R"({"b": 5})", false},
    {R"({"$jsonSchema": {"properties": {"a": {"bsonType": "int", "minimum": 6}}}})", R"({"a": 5})", false},
    {R"({"$jsonSchema": {"properties": {"a": {"minimum": 5, "exclusiveMinimum": true}}}})", R"({"a": 5})", false},
    {R"({"$jsonSchema": {"properties": {"a": {"minimum": 5}}}})", R"({"a": "text"})", true},
    {R"({"$jsonSchema": {"properties": {"s": {"type": "string", "minLength": 2, "maxLength": 3}}}})",
     R"({"s": "héé"})", true},
    {R"({"$jsonSchema": {"properties": {"s": {"pattern": "^a+$"}}}})", R"({"s": "aab"})", false},
    {R"({"$jsonSchema": {"properties": {"e": {"enum": [1, "x"]}}}})", R"({"e": 1.0})", true},
    {R"({"$jsonSchema": {"properties": {"e": {"enum": [1, "x"]}}}})", R"({"e": 2})", false},
    {R"({"$jsonSchema": {"additionalProperties": false, "properties": {"_id": {}, "a": {}}}})",
     R"({"_id": 1, "a": 1, "b": 2})", false},
    {R"({"$jsonSchema": {"properties": {"t": {"items": {"bsonType": "string"}, "minItems": 1, "uniqueItems": true}}}})",
     R"({"t": ["x", "y"]})", true},
    {R"({"$jsonSchema": {"properties": {"t": {"uniqueItems": true}}}})", R"({"t": [1, 1.0]})", false},
    {R"({"$jsonSchema": {"properties": {"t": {"maxItems": 1}}}})", R"({"t": [1, 2]})", false},
    {R"({"$jsonSchema": {"properties": {"n": {"anyOf": [{"bsonType": "string"}, {"minimum": 10}]}}}})",
     R"({"n": 12})", true},
    {R"({"$jsonSchema": {"properties": {"n": {"oneOf": [{"minimum": 1}, {"minimum": 5}]}}}})",
     R"({"n": 7})", false},
    {R"({"$jsonSchema": {"properties": {"n": {"not": {"bsonType": "string"}}}}})", R"({"n": "x"})", false},
    {R"({"$jsonSchema": {"properties": {"o": {"bsonType": "object", "required": ["k"]}}}})",
     R"({"o": {"k": null}})", true},
    // $regex
    {R"({"a": {"$regex": "^ab"}})", R"({"a": "abc"})", true},
    {R"({"a": {"$regex": "^AB"}})", R"({"a": "abc"})", false},
    {R"({"a": {"$regex": "^AB", "$options": "i"}})", R"({"a": "abc"})", true},
    {R"({"a": {"$regularExpression": {"pattern": "b$", "options": ""}}})", R"({"a": ["xb", 1]})", true},
    {R"({"a": {"$regex": "^b", "$options": "m"}})", R"({"a": "a\nb"})", true},
    {R"({"a": {"$regex": "a.b", "$options": "s"}})", R"({"a": "a\nb"})", true},
    {R"({"a": {"$regex": "a b # comment", "$options": "x"}})", R"({"a": "ab"})", true},
    {R"({"a": {"$regex": "1"}})", R"({"a": 1})", false},
    {R"({"a": {"$in": [{"$regularExpression": {"pattern": "^z", "options": ""}}, 5]}})",
     R"({"a": "zed"})", true},
    {R"({"a": {"$nin": [{"$regularExpression": {"pattern": "^z", "options": ""}}]}})",
     R"({"a": "zed"})", false},
    {R"({"a": {"$not": {"$regularExpression": {"pattern": "^z", "options": ""}}}})",
     R"({"a": "abc"})", true},
    {R"({"a": {"$eq": {"$regularExpression": {"pattern": "^z", "options": ""}}}})",
     R"({"a": "zed"})", false},
    // $mod
    {R"({"a": {"$mod": [4, 1]}})", R"({"a": 9})", true},
    {R"({"a": {"$mod": [4, 1]}})", R"({"a": 9.9})", true},
    {R"({"a": {"$mod": [4, -1]}})", R"({"a": -5})", true},
    {R"({"a": {"$mod": [4, 1]}})", R"({"a": "9"})", false},
    // $size, $all, $elemMatch
    {R"({"a": {"$size": 2}})", R"({"a": [1, [2, 3]]})", true},
    {R"({"a": {"$size": 1}})", R"({"a": [1, [2, 3]]})", false},
    {R"({"a": {"$size": 0}})", R"({"a": 5})", false},
    {R"({"a": {"$all": [1, 3]}})", R"({"a": [3, 2, 1]})", true},
    {R"({"a": {"$all": [1, 4]}})", R"({"a": [3, 2, 1]})", false},
    {R"({"a": {"$all": [[1, 2]]}})", R"({"a": [[1, 2], 3]})", true},
    {R"({"a": {"$all": []}})", R"({"a": [1]})", false},
    {R"({"a": {"$elemMatch": {"$gt": 1, "$lt": 3}}})", R"({"a": [0, 5, 2]})", true},
    {R"({"a": {"$elemMatch": {"$gt": 1, "$lt": 3}}})", R"({"a": [0, 5]})", false},
    {R"({"a": {"$elemMatch": {"b": 1, "c": {"$gt": 1}}}})", R"({"a": [{"b": 1, "c": 0}, {"b": 1, "c": 2}]})", true},
    {R"({"a": {"$elemMatch": {"b": 1, "c": {"$gt": 1}}}})", R"({"a": [{"b": 1, "c": 0}, {"b": 2, "c": 2}]})", false},
    {R"({"a": {"$elemMatch": {"b": 1}}})", R"({"a": {"b": 1}})", false},
    {R"({"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"b": 2}}]}})",
     R"({"a": [{"b": 1}, {"b": 2}]})", true},
    {R"({"a.b": {"$elemMatch": {"$eq": 2}}})", R"({"a": [{"b": [1]}, {"b": [2]}]})", true},
    // bitwise
    {R"({"a": {"$bitsAllSet": [0, 2]}})", R"({"a": 5})", true},
    {R"({"a": {"$bitsAllSet": 6}})", R"({"a": 5})", false},
    {R"({"a": {"$bitsAnySet": 6}})", R"({"a": 5})", true},
    {R"({"a": {"$bitsAllClear": [1]}})", R"({"a": 5})", true},
    {R"({"a": {"$bitsAnyClear": [0, 2]}})", R"({"a": 5})", false},
    {R"({"a": {"$bitsAllSet": [0, 100]}})", R"({"a": -1})", true},
    {R"({"a": {"$bitsAllSet": [0]}})", R"({"a": 1.5})", false},
    {R"({"a": {"$bitsAllSet": [8]}})", R"({"a": {"$binary": {"base64": "AAE=", "subType": "00"}}})", true},
};

std::string Bson(const char* json) {
  auto b = bson::JsonToBson(json);
  EXPECT_TRUE(b.ok()) << json;
  return *b;
}

TEST(MatcherTest, Table) {
  for (const Case& c : kCases) {
    auto m = Matcher::Parse(Bson(c.filter));
    ASSERT_TRUE(m.ok()) << c.filter << ": " << m.status();
    std::string doc = Bson(c.doc);
    EXPECT_EQ((*m)->Matches(bson::DocView(doc)), c.matches) << c.filter << " on " << c.doc;
  }
}

// Every operator against the same value at growing array depths. The rules (MongoDB's
// manual, "Query an Array" and "Query on Embedded/Nested Documents"; MongoDB 7/8): a leaf
// array offers itself and its elements, one level only; a field name inside an array
// reaches into its documents, never into nested arrays; a numeric component selects one
// element, which is then compared whole.
struct DepthCase {
  const char* filter;
  const char* docs[5];
  const char* matches;  // one 'T'/'F' per document
};

const DepthCase kDepthCases[] = {
    // a: 5, [5], [[5]], [[[5]]]
#define SCALAR_DEPTHS {R"({"a": 5})", R"({"a": [5]})", R"({"a": [[5]]})", R"({"a": [[[5]]]})", nullptr}
    {R"({"a": 5})", SCALAR_DEPTHS, "TTFF"},
    {R"({"a": {"$eq": 5}})", SCALAR_DEPTHS, "TTFF"},
    {R"({"a": {"$gt": 4}})", SCALAR_DEPTHS, "TTFF"},
    {R"({"a": {"$gte": 5}})", SCALAR_DEPTHS, "TTFF"},
    {R"({"a": {"$lt": 6}})", SCALAR_DEPTHS, "TTFF"},
    {R"({"a": {"$lte": 5}})", SCALAR_DEPTHS, "TTFF"},
    {R"({"a": {"$in": [5]}})", SCALAR_DEPTHS, "TTFF"},
    {R"({"a": {"$ne": 5}})", SCALAR_DEPTHS, "FFTT"},
    {R"({"a": {"$nin": [5]}})", SCALAR_DEPTHS, "FFTT"},
    {R"({"a": {"$not": {"$gt": 4}}})", SCALAR_DEPTHS, "FFTT"},
    {R"({"a": [5]})", SCALAR_DEPTHS, "FTTF"},
    {R"({"a": [[5]]})", SCALAR_DEPTHS, "FFTT"},
    {R"({"a": {"$in": [[5]]}})", SCALAR_DEPTHS, "FTTF"},
    {R"({"a": {"$type": "int"}})", SCALAR_DEPTHS, "TTFF"},
    {R"({"a": {"$type": "array"}})", SCALAR_DEPTHS, "FTTT"},
    {R"({"a": {"$mod": [5, 0]}})", SCALAR_DEPTHS, "TTFF"},
    {R"({"a": {"$bitsAllSet": [0, 2]}})", SCALAR_DEPTHS, "TTFF"},
    {R"({"a": {"$exists": true}})", SCALAR_DEPTHS, "TTTT"},
    {R"({"a": {"$size": 1}})", SCALAR_DEPTHS, "FTTT"},
    {R"({"a": {"$all": [5]}})", SCALAR_DEPTHS, "TTFF"},
    {R"({"a": {"$all": [[5]]}})", SCALAR_DEPTHS, "FTTF"},
    {R"({"a": {"$elemMatch": {"$eq": 5}}})", SCALAR_DEPTHS, "FTFF"},
    {R"({"a": {"$elemMatch": {"$eq": [5]}}})", SCALAR_DEPTHS, "FFTF"},
    {R"({"a": {"$elemMatch": {"$gt": 4}}})", SCALAR_DEPTHS, "FTFF"},
    {R"({"a": {"$elemMatch": {"$size": 1}}})", SCALAR_DEPTHS, "FFTT"},
    {R"({"a": null})", SCALAR_DEPTHS, "FFFF"},
#undef SCALAR_DEPTHS
    // a.b over {b: 5}, [{b: 5}], [[{b: 5}]], [{b: [5]}], [{b: [[5]]}]
#define FIELD_DEPTHS {R"({"a": {"b": 5}})", R"({"a": [{"b": 5}]})", R"({"a": [[{"b": 5}]]})", \
                      R"({"a": [{"b": [5]}]})", R"({"a": [{"b": [[5]]}]})"}
    {R"({"a.b": 5})", FIELD_DEPTHS, "TTFTF"},
    {R"({"a.b": {"$gt": 4}})", FIELD_DEPTHS, "TTFTF"},
    {R"({"a.b": {"$in": [1, 5]}})", FIELD_DEPTHS, "TTFTF"},
    {R"({"a.b": {"$ne": 5}})", FIELD_DEPTHS, "FFTFT"},
    {R"({"a.b": {"$nin": [5]}})", FIELD_DEPTHS, "FFTFT"},
    {R"({"a.b": [5]})", FIELD_DEPTHS, "FFFTT"},
    {R"({"a.b": null})", FIELD_DEPTHS, "FFFFF"},
    {R"({"a.b": {"$exists": true}})", FIELD_DEPTHS, "TTFTT"},
    {R"({"a.b": {"$exists": false}})", FIELD_DEPTHS, "FFTFF"},
    {R"({"a.b": {"$type": "array"}})", FIELD_DEPTHS, "FFFTT"},
    {R"({"a.b": {"$size": 1}})", FIELD_DEPTHS, "FFFTT"},
    {R"({"a.b": {"$elemMatch": {"$eq": 5}}})", FIELD_DEPTHS, "FFFTF"},
    {R"({"a": {"$elemMatch": {"b": 5}}})", FIELD_DEPTHS, "FTFTF"},
    {R"({"a": {"$elemMatch": {"b": {"$size": 1}}}})", FIELD_DEPTHS, "FFFTT"},
    {R"({"a.b": {"$all": [5]}})", FIELD_DEPTHS, "TTFTF"},
    {R"({"a.b": {"$mod": [5, 0]}})", FIELD_DEPTHS, "TTFTF"},
#undef FIELD_DEPTHS
    // Numeric components over [5], [[5]], [{b: 5}], [[{b: 5}]], {"0": [5]}
#define INDEX_DEPTHS {R"({"a": [5]})", R"({"a": [[5]]})", R"({"a": [{"b": 5}]})", \
                      R"({"a": [[{"b": 5}]]})", R"({"a": {"0": [5]}})"}
    {R"({"a.0": 5})", INDEX_DEPTHS, "TFFFT"},
    {R"({"a.0": [5]})", INDEX_DEPTHS, "FTFFT"},
    {R"({"a.0": {"$gt": 4}})", INDEX_DEPTHS, "TFFFT"},
    {R"({"a.0": {"$ne": 5}})", INDEX_DEPTHS, "FTTTF"},
    {R"({"a.0": {"$type": "array"}})", INDEX_DEPTHS, "FTFTT"},
    {R"({"a.0": {"$type": "int"}})", INDEX_DEPTHS, "TFFFT"},
    {R"({"a.0": {"$size": 1}})", INDEX_DEPTHS, "FTFTT"},
    {R"({"a.0": {"$elemMatch": {"$eq": 5}}})", INDEX_DEPTHS, "FTFFT"},
    {R"({"a.0": {"$exists": true}})", INDEX_DEPTHS, "TTTTT"},
    {R"({"a.0.b": 5})", INDEX_DEPTHS, "FFTTF"},
    {R"({"a.0.b": null})", INDEX_DEPTHS, "FFTFF"},
    {R"({"a.0.b": {"$exists": false}})", INDEX_DEPTHS, "TTFFT"},
    {R"({"a.0.0": 5})", INDEX_DEPTHS, "FTFFT"},
    {R"({"a.1": null})", INDEX_DEPTHS, "FFTFT"},
#undef INDEX_DEPTHS
    // null and missing inside arrays of documents (MongoDB's null_query_semantics tests)
    {R"({"a.b": null})",
     {R"({"a": [{"b": 3}, {}]})", R"({"a": [{"b": 1}, {"b": 3}]})", R"({"a": [{"b": null}, {"b": 3}]})",
      R"({"a": [1, [{"b": 2}], 3]})", R"({"a": [{"b": 1}, 2, {}, {"b": [3, 4]}]})"},
     "TFTFT"},
    {R"({"a.b": {"$ne": null}})",
     {R"({"a": [{"b": 3}, {}]})", R"({"a": [{"b": 1}, {"b": 3}]})", R"({"a": [{"b": null}, {"b": 3}]})",
      R"({"a": {"b": "hi"}})", R"({"a": 4})"},
     "FTFTF"},
    {R"({"a.1.b": null})",
     {R"({"a": [7, {"b": 9}, {"1": {"b": "foo"}}]})", R"({"a": [1, [{"b": 2}], 3]})",
      R"({"x": [7, {"y": 8}, 9]})", R"({"a": [{"1": {"foo": 4}}, {"foo": 5}]})", nullptr},
     "TFTT"},
};

std::string DepthBson(const char* json) {
  auto b = bson::JsonToBson(json);
  EXPECT_TRUE(b.ok()) << json;
  return b.ok() ? *b : std::string();
}

// Expects `filter` to match docs[i] exactly where matches[i] is 'T'.
void ExpectEach(const char* filter, const char* const* docs, const char* matches) {
  auto m = Matcher::Parse(DepthBson(filter));
  ASSERT_TRUE(m.ok()) << filter << ": " << m.status();
  for (size_t i = 0; matches[i] != '\0'; ++i) {
    ASSERT_NE(docs[i], nullptr) << filter;
    std::string doc = DepthBson(docs[i]);
    EXPECT_EQ((*m)->Matches(bson::DocView(doc)), matches[i] == 'T') << filter << " on " << docs[i];
  }
}

TEST(MatcherTest, NestedArraysAtEveryDepth) {
  for (const DepthCase& c : kDepthCases) ExpectEach(c.filter, c.docs, c.matches);
}

// MongoDB's own collection for numeric path components (jstests match_numeric_components):
// the documents with _id 0..30 and, per filter, the _ids it returns.
TEST(MatcherTest, NumericPathComponents) {
  const char* docs[] = {
      R"(42)", R"([42])", R"({"0": 42})", R"([[42]])", R"([{"0": 42}])", R"({"0": [42]})",
      R"({"0": {"0": 42}})", R"([[[42]]])", R"([[{"0": 42}]])", R"([{"0": [42]}])",
      R"([{"0": {"0": 42}}])", R"({"0": [[42]]})", R"({"0": [{"0": 42}]})",
      R"({"0": {"0": [42]}})", R"({"0": {"0": {"0": 42}}})", R"([[[[42]]]])",
      R"([[[{"0": 42}]]])", R"([[{"0": [42]}]])", R"([[{"0": {"0": 42}}]])",
      R"([{"0": [[42]]}])", R"([{"0": [{"0": 42}]}])", R"([{"0": {"0": [42]}}])",
      R"([{"0": {"0": {"0": 42}}}])", R"({"0": [[[42]]]})", R"({"0": [[{"0": 42}]]})",
      R"({"0": [{"0": [42]}]})", R"({"0": [{"0": {"0": 42}}]})", R"({"0": {"0": [[42]]}})",
      R"({"0": {"0": [{"0": 42}]}})", R"({"0": {"0": {"0": [42]}}})",
      R"({"0": {"0": {"0": {"0": 42}}}})"};
  struct Query {
    const char* filter;
    std::vector<int> ids;
  } queries[] = {
      {R"({"a.0": 42})", {1, 2, 4, 5, 9}},
      {R"({"a.0": {"$gt": 41}})", {1, 2, 4, 5, 9}},
      {R"({"a.0": {"$in": [41, 42, 43]}})", {1, 2, 4, 5, 9}},
      {R"({"a.0": {"$all": [42]}})", {1, 2, 4, 5, 9}},
      {R"({"a.0": {"$type": "number"}})", {1, 2, 4, 5, 9}},
      {R"({"a.0": {"$mod": [42, 0]}})", {1, 2, 4, 5, 9}},
      {R"({"$or": [{"a.0": 42}, {"notARealField": 123}]})", {1, 2, 4, 5, 9}},
      {R"({"a.0.0": 42})", {3, 4, 5, 6, 8, 9, 10, 12, 13, 17, 20, 21, 25}},
      {R"({"a.0": {"$exists": false}})", {0}},
      {R"({"a": {"$elemMatch": {"0.0": {"$eq": 42}}}})", {7, 8, 9, 10, 16, 17, 20, 21}},
      {R"({"a.0": {"$all": [{"$elemMatch": {"0": 42}}]}})", {7, 8, 11, 12, 15, 17, 19, 20, 23, 25}},
  };
  std::vector<std::string> bytes;
  for (const char* d : docs) bytes.push_back(DepthBson(StrCat(R"({"a": )", d, "}").c_str()));
  for (const Query& q : queries) {
    auto m = Matcher::Parse(DepthBson(q.filter));
    ASSERT_TRUE(m.ok()) << q.filter << ": " << m.status();
    std::vector<int> got;
    for (size_t i = 0; i < bytes.size(); ++i) {
      if ((*m)->Matches(bson::DocView(bytes[i]))) got.push_back(static_cast<int>(i));
    }
    EXPECT_EQ(got, q.ids) << q.filter;
    // $ne and $nin are the complements.
    if (std::string_view(q.filter) == R"({"a.0": 42})") {
      for (const char* neg : {R"({"a.0": {"$ne": 42}})", R"({"a.0": {"$nin": [41, 42, 43]}})"}) {
        auto n = Matcher::Parse(DepthBson(neg));
        ASSERT_TRUE(n.ok());
        for (size_t i = 0; i < bytes.size(); ++i) {
          bool in = std::find(q.ids.begin(), q.ids.end(), static_cast<int>(i)) != q.ids.end();
          EXPECT_EQ((*n)->Matches(bson::DocView(bytes[i])), !in) << neg << " on _id " << i;
        }
      }
    }
  }
  // $elemMatch's value form does not unwind nested arrays (MongoDB's f1 collection).
  const char* f1[] = {R"({"f1": 5})", R"({"f1": [3, 5]})", R"({"f1": [[3, 5], [5, 7]]})",
                      R"({"f1": [[[0], [3, 5]], [[0], [5, 7]]]})", R"({"f1": [3, 5, [7, 9]]})"};
  ExpectEach(R"({"f1.0": {"$elemMatch": {"$eq": 5}}})", f1, "FFTFF");
  ExpectEach(R"({"f1.0": {"$elemMatch": {"$eq": [3, 5]}}})", f1, "FFFTF");
  ExpectEach(R"({"f1.0.1": {"$elemMatch": {"$eq": 3}}})", f1, "FFFTF");
  // Regexes on numeric components.
  const char* b_docs[] = {R"({"b": "hello"})", R"({"b": {"0": "hello"}})", R"({"b": ["hello", "abc"]})"};
  ExpectEach(R"({"b.0": {"$regex": "hello"}})", b_docs, "FTT");
  ExpectEach(R"({"b.0": {"$all": [{"$regularExpression": {"pattern": "^hello", "options": ""}}]}})",
             b_docs, "FTT");
  ExpectEach(R"({"b.0": {"$not": {"$regex": "^h"}}})", b_docs, "TFF");
}

TEST(MatcherTest, BadFiltersAreErrorsWithMongoCodes) {
  struct Bad {
    const char* filter;
    int code;
  } bad[] = {
      {R"({"a": {"$foo": 1}})", kBadValue},
      {R"({"$foo": 1})", kBadValue},
      {R"({"a": {"$in": 1}})", kBadValue},
      {R"({"$and": []})", kBadValue},
      {R"({"$or": {}})", kBadValue},
      {R"({"$and": [1]})", kBadValue},
      {R"({"a": {"$not": 1}})", kBadValue},
      {R"({"$where": "this.a == 1"})", kNotImplemented},
      {R"({"a": {"$mod": [0, 1]}})", kBadValue},
      {R"({"a": {"$mod": [1]}})", kBadValue},
      {R"({"a": {"$mod": [1, 2, 3]}})", kBadValue},
      {R"({"a": {"$size": -1}})", kBadValue},
      {R"({"a": {"$size": 1.5}})", kBadValue},
      {R"({"a": {"$all": 1}})", kBadValue},
      {R"({"a": {"$elemMatch": 1}})", kBadValue},
      {R"({"a": {"$bitsAllSet": -1}})", kBadValue},
      {R"({"a": {"$bitsAllSet": "x"}})", kBadValue},
      {R"({"a": {"$regex": "("}})", 51091},
      {R"({"a": {"$options": "i"}})", kBadValue},
      {R"({"a": {"$regex": 5}})", kBadValue},
      {R"({"$expr": {"$bogus": 1}})", 168},
      {R"({"$jsonSchema": {"bogus": 1}})", kFailedToParse},
      {R"({"$jsonSchema": {"type": "integer"}})", kBadValue},
      {R"({"$jsonSchema": {"required": []}})", kFailedToParse},
      {R"({"$jsonSchema": {"type": "string", "bsonType": "string"}})", kFailedToParse},
  };
  for (const Bad& b : bad) {
    auto m = Matcher::Parse(Bson(b.filter));
    ASSERT_FALSE(m.ok()) << b.filter;
    EXPECT_EQ(MongoCodeOf(m.status()), b.code) << b.filter << ": " << m.status();
  }
}

TEST(MatcherTest, Type) {
  struct TypeCase {
    Value type;
    Value a;
    bool matches;
  } cases[] = {
      {"string", "x", true},       {2, 1, false},
      {"number", int64_t{1}, true}, {Array{"bool", 10}, nullptr, true},
      {Array{"bool", 10}, true, true}, {Array{"bool", 10}, 1, false},
      {"array", Array{}, true},    {"int", Array{1.5, 2}, true},
      {"minKey", MinKey{}, true},  {-1, MinKey{}, true},
      {"decimal", Decimal128::FromString("1"), true}, {"object", Document{}, true},
  };
  for (const TypeCase& c : cases) {
    auto m = Matcher::Parse(Document{{"a", Document{{"$type", c.type}}}}.ToBson());
    ASSERT_TRUE(m.ok()) << m.status();
    std::string bytes = Document{{"a", c.a}}.ToBson();
    EXPECT_EQ((*m)->Matches(bson::DocView(bytes)), c.matches)
        << c.type.ToJson() << " on " << c.a.ToJson();
  }
  auto bad_flags = Matcher::Parse(
      Document{{"a", Document{{"$regex", "a"}, {"$options", "q"}}}}.ToBson());
  EXPECT_EQ(MongoCodeOf(bad_flags.status()), 51108);
  for (Value bad : {Value("nope"), Value(99), Value(Array{1, "x"})}) {
    auto m = Matcher::Parse(Document{{"a", Document{{"$type", bad}}}}.ToBson());
    EXPECT_EQ(MongoCodeOf(m.status()), kBadValue) << bad.ToJson();
  }
}

TEST(MatcherTest, IdEqualityIsRecognised) {
  auto m = Matcher::Parse(Bson(R"({"_id": 5, "a": 1})"));
  ASSERT_TRUE(m.ok());
  ASSERT_NE((*m)->id_equality(), nullptr);
  EXPECT_EQ((*m)->id_equality()->Int32(), 5);
  auto range = Matcher::Parse(Bson(R"({"_id": {"$gt": 5}})"));
  EXPECT_EQ((*range)->id_equality(), nullptr);
}

}  // namespace
}  // namespace micromongo::query
