#include "index/index_key.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"

namespace micromongo::index {
namespace {

IndexSpec Spec(const char* keys, const char* options = "{}") {
  auto k = bson::JsonToBson(keys);
  auto o = bson::JsonToBson(options);
  auto built = IndexSpec::Build(bson::DocView(*k), bson::DocView(*o));
  EXPECT_TRUE(built.ok()) << keys << ": " << built.status();
  auto spec = IndexSpec::Parse(bson::DocView(*built));
  EXPECT_TRUE(spec.ok());
  return *spec;
}

std::vector<std::string> KeyValues(const IndexSpec& spec, const char* doc_json) {
  auto doc = bson::JsonToBson(doc_json);
  std::vector<IndexKey> keys;
  auto s = spec.Keys(bson::DocView(*doc), &keys);
  EXPECT_TRUE(s.ok()) << s;
  std::vector<std::string> out;
  for (const IndexKey& k : keys) out.push_back(bson::BsonToJson(spec.KeyValueDocument(k)));
  std::sort(out.begin(), out.end());
  return out;
}

struct KeyCase {
  const char* keys;
  const char* options;
  const char* doc;
  std::vector<std::string> expected;  // keyValue documents as JSON, sorted as strings
};

// MongoDB's manual: multikey indexes hold one key per array element; a missing field is
// indexed as null unless the index is sparse; partial indexes skip non-matching documents.
const KeyCase kKeyCases[] = {
    {R"({"a": 1})", "{}", R"({"a": 5})", {R"({"a": 5})"}},
    {R"({"a": 1})", "{}", R"({})", {R"({"a": null})"}},
    {R"({"a": 1})", R"({"sparse": true})", R"({})", {}},
    {R"({"a": 1})", "{}", R"({"a": [1, 2, 1]})", {R"({"a": 1})", R"({"a": 2})"}},
    {R"({"a.b": 1})", "{}", R"({"a": [{"b": 1}, {"b": 2}]})", {R"({"a.b": 1})", R"({"a.b": 2})"}},
    {R"({"a": 1, "b": -1})", "{}", R"({"a": 1, "b": [2, 3]})",
     {R"({"a": 1, "b": 2})", R"({"a": 1, "b": 3})"}},
    {R"({"a": 1, "b": 1})", "{}", R"({"b": "x"})", {R"({"a": null, "b": "x"})"}},
    {R"({"a": 1})", R"({"partialFilterExpression": {"a": {"$gt": 5}}})", R"({"a": 3})", {}},
    {R"({"a": 1})", R"({"partialFilterExpression": {"a": {"$gt": 5}}})", R"({"a": 7})", {R"({"a": 7})"}},
    // An empty array is indexed as undefined; a nested array is one key, whole.
    {R"({"a": 1})", "{}", R"({"a": []})", {R"({"a": {"$undefined": true}})"}},
    {R"({"a": 1})", "{}", R"({"a": [[1, 2], 3]})", {R"({"a": 3})", R"({"a": [1, 2]})"}},
    // An array element without the field contributes null.
    {R"({"a.b": 1})", "{}", R"({"a": [{"b": 1}, {"c": 2}]})", {R"({"a.b": null})", R"({"a.b": 1})"}},
    // A scalar where the path continues is missing.
    {R"({"a.b": 1})", "{}", R"({"a": 5})", {R"({"a.b": null})"}},
    // Fields under one array: every combination of their values.
    {R"({"a.b": 1, "a.c": 1})", "{}", R"({"a": [{"b": 1, "c": 2}, {"b": 3, "c": 4}]})",
     {R"({"a.b": 1, "a.c": 2})", R"({"a.b": 1, "a.c": 4})", R"({"a.b": 3, "a.c": 2})",
      R"({"a.b": 3, "a.c": 4})"}},
    // A numeric path component selects the element at that position.
    {R"({"a.0": 1})", "{}", R"({"a": [7, 8]})", {R"({"a.0": 7})"}},
};

TEST(IndexKeyTest, KeysFollowMultikeySparseAndPartialRules) {
  for (const KeyCase& c : kKeyCases) {
    std::vector<std::string> expected = c.expected;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(KeyValues(Spec(c.keys, c.options), c.doc), expected) << c.keys << " " << c.options << " " << c.doc;
  }
}

TEST(IndexKeyTest, EqualValuesShareAKeyAcrossNumericTypes) {
  IndexSpec spec = Spec(R"({"a": 1})");
  std::vector<IndexKey> x, y;
  auto d1 = bson::JsonToBson(R"({"a": 1})"), d2 = bson::JsonToBson(R"({"a": {"$numberLong": "1"}})");
  ASSERT_TRUE(spec.Keys(bson::DocView(*d1), &x).ok());
  ASSERT_TRUE(spec.Keys(bson::DocView(*d2), &y).ok());
  EXPECT_EQ(x[0].encoded, y[0].encoded);
}

// An entry's value holds its key values and the record's _id key string, read back by
// EntryKeyValues and EntryRecordId; EntryValueSize is its size without making it.
TEST(IndexKeyTest, EntryValuesHoldKeyValuesAndRecordIdOfTheirSize) {
  IndexSpec spec = Spec(R"({"a": 1, "b": -1})");
  for (const char* json : {R"({"a": [1, [2]], "b": null})", R"({"b": {"$numberDecimal": "1.5"}})",
                           R"({"a": {"c": [null, "x"]}, "b": [[]]})"}) {
    auto doc = bson::JsonToBson(json);
    std::vector<IndexKey> keys;
    ASSERT_TRUE(spec.Keys(bson::DocView(*doc), &keys).ok()) << json;
    const std::string id_key = "\x2b\x0e\x04";
    for (const IndexKey& k : keys) {
      std::string value = EntryValue(k, id_key);
      EXPECT_EQ(EntryValueSize(k, id_key), value.size()) << json;
      EXPECT_EQ(EntryRecordId(value), id_key) << json;
      EXPECT_EQ(EntryKeyValues(value).bytes(), k.values) << json;
    }
  }
}

TEST(IndexKeyTest, DescendingFieldsReverseByteOrder) {
  IndexSpec asc = Spec(R"({"a": 1})"), desc = Spec(R"({"a": -1})", R"({"name": "d"})");
  auto key = [](const IndexSpec& s, const char* json) {
    auto d = bson::JsonToBson(json);
    std::vector<IndexKey> k;
    EXPECT_TRUE(s.Keys(bson::DocView(*d), &k).ok());
    return k[0].encoded;
  };
  EXPECT_LT(key(asc, R"({"a": 1})"), key(asc, R"({"a": 2})"));
  EXPECT_GT(key(desc, R"({"a": 1})"), key(desc, R"({"a": 2})"));
}

TEST(IndexKeyTest, HashedKeysUseMongoDBsHash) {
  // MongoDB's manual: numbers of any type that are equal hash alike; arrays are refused.
  IndexSpec spec = Spec(R"({"a": "hashed"})");
  std::vector<IndexKey> x, y;
  auto d1 = bson::JsonToBson(R"({"a": 5})"), d2 = bson::JsonToBson(R"({"a": 5.0})");
  ASSERT_TRUE(spec.Keys(bson::DocView(*d1), &x).ok());
  ASSERT_TRUE(spec.Keys(bson::DocView(*d2), &y).ok());
  EXPECT_EQ(x[0].encoded, y[0].encoded);
  // The $toHashedIndexKey example of MongoDB's manual.
  auto str = bson::JsonToBson(R"({"a": "string to hash"})");
  std::vector<IndexKey> h;
  ASSERT_TRUE(spec.Keys(bson::DocView(*str), &h).ok());
  EXPECT_EQ(bson::BsonToJson(spec.KeyValueDocument(h[0])), R"({"a": 763543691661428748})");
  auto arr = bson::JsonToBson(R"({"a": [1]})");
  std::vector<IndexKey> z;
  EXPECT_EQ(MongoCodeOf(spec.Keys(bson::DocView(*arr), &z)), 16766);
}

TEST(IndexKeyTest, ParallelArraysCannotBeIndexed) {
  IndexSpec spec = Spec(R"({"a": 1, "b": 1})");
  auto doc = bson::JsonToBson(R"({"a": [1, 2], "b": [3, 4]})");
  std::vector<IndexKey> keys;
  EXPECT_EQ(MongoCodeOf(spec.Keys(bson::DocView(*doc), &keys)), kCannotIndexParallelArrays);
}

TEST(IndexKeyTest, TextIndexesKeyEveryTermWithItsScore) {
  // Compound: the prefix value, then one (term, score) per term; stop words and repeats
  // folded as MongoDB's scoreDocument does.
  IndexSpec spec = Spec(R"({"a":  1, "t":  "text"})");
  ASSERT_NE(spec.text(), nullptr);
  EXPECT_EQ(bson::BsonToJson(std::string(spec.key_pattern().bytes())), R"({"a": 1, "_fts": "text", "_ftsx": 1})");
  EXPECT_EQ(KeyValues(spec, R"({"a":  5, "t":  "Coffee and cakes"})"),
            (std::vector<std::string>{R"({"a": 5, "_fts": "cake", "_ftsx": 0.75})",
                                      R"({"a": 5, "_fts": "coffe", "_ftsx": 0.75})"}));
  EXPECT_EQ(KeyValues(spec, R"({"a":  5, "t":  7})"), (std::vector<std::string>{}));
  std::vector<IndexKey> keys;
  auto arr = bson::JsonToBson(R"({"a":  [1, 2], "t":  "x"})");
  EXPECT_EQ(MongoCodeOf(spec.Keys(bson::DocView(*arr), &keys)), 16675);
  // The stored form is accepted back (a restore), and $** indexes every string.
  IndexSpec again = Spec(R"({"_fts":  "text", "_ftsx":  1})", R"({"weights": {"b": 2}})");
  EXPECT_EQ(KeyValues(again, R"({"b": "cake", "c": "pie"})"),
            (std::vector<std::string>{R"({"_fts": "cake", "_ftsx": 2.2})"}));
  IndexSpec all = Spec(R"({"$**": "text"})");
  EXPECT_EQ(all.name(), "$**_text");
  EXPECT_EQ(KeyValues(all, R"({"b": "cake", "c": {"d": ["pie"]}})"),
            (std::vector<std::string>{R"({"_fts": "cake", "_ftsx": 1.1})", R"({"_fts": "pie", "_ftsx": 1.1})"}));
}

TEST(IndexKeyTest, BuildValidatesKeysAndOptions) {
  struct Bad {
    const char* keys;
    const char* options;
    int code;
  };
  const Bad bad[] = {
      {"{}", "{}", kCannotCreateIndex},
      {R"({"a": 0})", "{}", kCannotCreateIndex},
      {R"({"a": true})", "{}", kCannotCreateIndex},
      {R"({"a..b": 1})", "{}", kCannotCreateIndex},
      {R"({"a": "geoHaystack"})", "{}", kNotImplemented},
      {R"({"a": 1, "b": "2d"})", "{}", 16800},
      {R"({"a": "2d"})", R"({"bits": 0})", 13028},
      {R"({"a": "2d"})", R"({"min": 1, "max": 0})", 13067},
      {R"({"a": "text"})", R"({"collation": {"locale": "fr"}})", kCannotCreateIndex},
      {R"({"a": "text"})", R"({"weights": 5})", 17284},
      {R"({"a": "text"})", R"({"weights": {"a": "x"}})", 17283},
      {R"({"a": "text"})", R"({"weights": {"a": 0}})", 16674},
      {R"({"a": "text"})", R"({"weights": {"a..b": 1}})", 17291},
      {R"({"a": "text"})", R"({"weights": {"$a": 1}})", 17292},
      {R"({"a": "text"})", R"({"textIndexVersion": 2})", 17364},
      {R"({"a": "text"})", R"({"default_language": 1})", 17263},
      {R"({"a": "text"})", R"({"default_language": "xx"})", 17264},
      {R"({"a": "text"})", R"({"language_override": "a.b"})", 17136},
      {R"({"a": "text", "b": -2})", "{}", 17273},
      {R"({"a": "text", "b": 1, "c": "text"})", "{}", 17389},
      {R"({"_fts": "text", "_ftsx": 2})", "{}", 17272},
      {R"({"_fts": 1})", "{}", 17271},
      {R"({"a": 1})", R"({"unique": 1})", kTypeMismatch},
      {R"({"a": 1})", R"({"bogus": 1})", kInvalidIndexSpecificationOption},
      {R"({"a": "hashed"})", R"({"unique": true})", 16764},
      {R"({"a": "hashed", "b": "hashed"})", "{}", 31303},
      {R"({"a": 1})", R"({"expireAfterSeconds": "x"})", kCannotCreateIndex},
      {R"({"a": 1})", R"({"expireAfterSeconds": -1})", kInvalidOptions},
      {R"({"a": 1, "b": 1})", R"({"expireAfterSeconds": 10})", kCannotCreateIndex},
      {R"({"a": 1})", R"({"name": "_id_"})", kBadValue},
      {R"({"a": 1})", R"({"partialFilterExpression": {"a": {"$bad": 1}}})", kBadValue},
  };
  for (const Bad& b : bad) {
    auto k = bson::JsonToBson(b.keys);
    auto o = bson::JsonToBson(b.options);
    EXPECT_EQ(MongoCodeOf(IndexSpec::Build(bson::DocView(*k), bson::DocView(*o)).status()), b.code)
        << b.keys << " " << b.options;
  }
  auto k = bson::JsonToBson(R"({"a": 1, "b.c": -1})");
  EXPECT_EQ(IndexSpec::DefaultName(bson::DocView(*k)), "a_1_b.c_-1");
}

}  // namespace
}  // namespace micromongo::index

namespace micromongo::index {
namespace {

// Wildcard keys as (path, value) pairs, rendered "path=value", sorted.
std::vector<std::string> WildcardKeys(const IndexSpec& spec, const char* doc_json, uint64_t* multikey = nullptr) {
  auto doc = bson::JsonToBson(doc_json);
  std::vector<IndexKey> keys;
  uint64_t mk = 0;
  EXPECT_TRUE(spec.Keys(bson::DocView(*doc), &keys, &mk).ok());
  if (multikey != nullptr) *multikey = mk;
  std::vector<std::string> out;
  for (const IndexKey& k : keys) {
    bson::DocView values(k.values);
    auto it = values.begin();
    std::string path(it->value.String());
    ++it;
    // The value alone: rendered through a one-field document.
    bson::Builder b;
    b.AppendView("v", it->value);
    std::string one = bson::BsonToJson(std::move(b).Finish());
    out.push_back(path + "=" + one.substr(6, one.size() - 7));  // {"v": <value>}
  }
  std::sort(out.begin(), out.end());
  return out;
}

// MongoDB's WildcardKeyGenerator rules: leaves keyed by dotted path without positions,
// arrays walked one level (nested arrays whole), {} and [] (as undefined) keyed, dotted
// field names skipped, _id left out unless projected in.
TEST(WildcardKeysTest, EveryLeafIsKeyedByItsPath) {
  using V = std::vector<std::string>;
  IndexSpec all = Spec(R"({"$**": 1})");
  uint64_t mk = 0;
  EXPECT_EQ(WildcardKeys(all, R"({"_id": 1, "a": 1, "b": {"c": "x", "d": {}}, "e": []})", &mk),
            (V{"a=1", "b.c=\"x\"", "b.d={}", "e={\"$undefined\": true}"}));
  EXPECT_EQ(mk, 1u);  // the empty array
  EXPECT_EQ(WildcardKeys(all, R"({"a": [1, [2, 3], {"b": 4}, 1], "x.y": 5})", &mk),
            (V{"a.b=4", "a=1", "a=[2, 3]"}));  // sorted as strings
  EXPECT_EQ(mk, 1u);
  EXPECT_EQ(WildcardKeys(all, R"({"a": {"b": {"c": 1}}})", &mk), (V{"a.b.c=1"}));
  EXPECT_EQ(mk, 0u);
  IndexSpec sub = Spec(R"({"a.b.$**": 1})");
  EXPECT_EQ(WildcardKeys(sub, R"({"a": {"b": {"c": 1, "d": [2]}, "x": 3}, "z": 4})"), (V{"a.b.c=1", "a.b.d=2"}));
  EXPECT_EQ(WildcardKeys(sub, R"({"a": [{"b": 1}, {"b": {"e": 2}}, 7]})"), (V{"a.b.e=2", "a.b=1"}));
  IndexSpec included = Spec(R"({"$**": 1})", R"({"wildcardProjection": {"a": 1, "_id": 1}})");
  EXPECT_EQ(WildcardKeys(included, R"({"_id": 9, "a": {"b": 1}, "c": 2})"), (V{"_id=9", "a.b=1"}));
  IndexSpec excluded = Spec(R"({"$**": 1})", R"({"wildcardProjection": {"a.b": 0}})");
  EXPECT_EQ(WildcardKeys(excluded, R"({"_id": 9, "a": {"b": 1, "c": 2}, "d": 3})"), (V{"a.c=2", "d=3"}));
  EXPECT_TRUE(included.wildcard_projection()->Covers("a.b"));
  EXPECT_FALSE(included.wildcard_projection()->Covers("c"));
  EXPECT_FALSE(excluded.wildcard_projection()->Covers("a"));  // a.b is left out of it
  EXPECT_TRUE(excluded.wildcard_projection()->Covers("a.c"));
  EXPECT_FALSE(all.wildcard_projection()->Covers("_id"));
}

}  // namespace
}  // namespace micromongo::index
