#include "micromongo/document.h"

#include <gtest/gtest.h>

#include <cmath>

#include "document/builder.h"
#include "document/compare.h"
#include "document/json.h"
#include "document/status.h"
#include "micromongo/error.h"

namespace micromongo {
namespace {

TEST(DocumentTest, InitializerListsKeepOrderAndTypes) {
  Document d{{"b", 1}, {"a", int64_t{2}}, {"c", Document{{"x", "y"}}}, {"d", Array{1.5, true}}};
  std::vector<std::string> keys;
  for (const auto& [k, v] : d) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"b", "a", "c", "d"}));
  EXPECT_EQ(d.Get("b").type(), BsonType::kInt32);
  EXPECT_EQ(d.Get("a").type(), BsonType::kInt64);
  EXPECT_EQ(d.GetDocument("c").GetString("x"), "y");
  EXPECT_EQ(d.GetArray("d")[1].AsBool(), true);
  EXPECT_EQ(Value("text").type(), BsonType::kString);  // not bool
  EXPECT_EQ(Value(uint32_t{1}).type(), BsonType::kInt64);
}

// Documents appended to one buffer (a document sequence) come out byte for byte as each
// encoded alone, nested documents and arrays included, whatever the buffer held before.
TEST(DocumentTest, EncodeAppendWritesDocumentsBackToBack) {
  const std::vector<Document> docs = {
      Document{},
      Document{{"a", Array{Value(Array{1}), Value(nullptr)}}, {"b", Document{{"c", Document{{"d", "x"}}}}}},
      Document{{"_id", 7}, {"e", Array{}}, {"f", Decimal128::FromString("1.5")}},
  };
  for (std::string prefix : {std::string(), std::string("\x01\x02\x03", 3)}) {
    std::string sequence = prefix, expected = prefix;
    for (const Document& d : docs) {
      bson::EncodeAppend(d, &sequence);
      expected += bson::Encode(d);
    }
    EXPECT_EQ(sequence, expected);
  }
}

TEST(DocumentTest, TypedAccessorsThrowMongoErrors) {
  Document d{{"s", "x"}, {"n", 3}};
  EXPECT_EQ(d.GetInt64("n"), 3);
  EXPECT_EQ(d.GetDouble("n"), 3.0);
  try {
    d.GetInt32("s");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), 14);
    EXPECT_EQ(e.code_name(), "TypeMismatch");
  }
  EXPECT_THROW(d.Get("missing"), Error);
  EXPECT_EQ(d.Find("missing"), nullptr);
}

TEST(DocumentTest, ExtendedJsonRoundTrips) {
  const char* canonical =
      R"({"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}, "i": {"$numberInt": "1"}, )"
      R"("l": {"$numberLong": "9007199254740993"}, "d": {"$numberDouble": "1.5"}, )"
      R"("dec": {"$numberDecimal": "0.1"}, "t": {"$date": {"$numberLong": "1700000000000"}}, )"
      R"("b": {"$binary": {"base64": "AQI=", "subType": "04"}}, "r": {"$regularExpression": )"
      R"({"pattern": "^a", "options": "i"}}, "ts": {"$timestamp": {"t": 5, "i": 6}}, )"
      R"("mn": {"$minKey": 1}, "mx": {"$maxKey": 1}, "n": null, "a": [{"$numberInt": "1"}]})";
  Document d = Document::FromJson(canonical);
  EXPECT_EQ(d.GetInt64("l"), 9007199254740993LL);
  EXPECT_EQ(d.Get("t").AsDate().millis, 1700000000000);
  EXPECT_EQ(d.Get("b").AsBinary().subtype, 4);
  EXPECT_EQ(d.Get("dec").AsDecimal128().ToString(), "0.1");
  EXPECT_EQ(Document::FromJson(d.ToCanonicalJson()), d);
  EXPECT_EQ(Document::FromJson(d.ToJson()).GetInt64("l"), 9007199254740993LL);
  EXPECT_EQ(Document::FromBson(d.ToBson()), d);
  EXPECT_NE(d.ToJson().find("\"i\": 1,"), std::string::npos) << d.ToJson();  // relaxed
}

TEST(DocumentTest, MalformedInputIsAnError) {
  for (const char* bad :
       {"", "{", "[1]", "{\"a\": }", "{\"a\": {\"$oid\": \"zz\"}}", "{\"a\": 1} x",
        "{\"a\": {\"$numberInt\": \"2147483648\"}}", "{\"a\": {\"$date\": \"yesterday\"}}",
        "{\"a\": {\"$binary\": {\"base64\": \"!!\", \"subType\": \"00\"}}}",
        "{\"a\": \"\\ud800\"}", "{\"a\": 01}", "{'a': 1}"}) {
    try {
      Document::FromJson(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), 9) << bad;
    }
  }
  std::string bson = Document{{"a", "x"}}.ToBson();
  std::string truncated = bson.substr(0, bson.size() - 1);
  std::string bad_len = bson;
  bad_len[0] = 100;
  std::string unterminated = bson;
  unterminated[unterminated.size() - 2] = 'z';
  for (const std::string& b : {truncated, bad_len, unterminated, std::string("\x05\0\0\0", 4)}) {
    try {
      Document::FromBson(b);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), 22);
    }
  }
}

// Documents nested `levels` deep counting the top-level one: {"a": {"a": ... {"a": 1}}}.
std::string NestedBson(int levels) {
  bson::Builder b;
  std::vector<size_t> open;
  for (int i = 1; i < levels; ++i) open.push_back(b.StartDocument("a"));
  b.AppendInt32("a", 1);
  for (auto it = open.rbegin(); it != open.rend(); ++it) b.End(*it);
  return std::move(b).Finish();
}

std::string NestedJson(int levels, std::string_view leaf) {
  std::string json;
  for (int i = 1; i < levels; ++i) json += "{\"a\": ";
  json += StrCat("{\"a\": ", leaf, "}");
  json.append(levels - 1, '}');
  return json;
}

TEST(StatusTest, ErrorCodeNamesAreMongoDbs) {
  EXPECT_EQ(ErrorCodeName(0), "OK");
  EXPECT_EQ(ErrorCodeName(5), "GraphContainsCycle");
  EXPECT_EQ(ErrorCodeName(15), "Overflow");
  EXPECT_EQ(ErrorCodeName(168), "InvalidPipelineOperator");
  EXPECT_EQ(ErrorCodeName(241), "ConversionFailure");
  EXPECT_EQ(ErrorCodeName(292), "QueryExceededMemoryLimitNoDiskUseAllowed");
  EXPECT_EQ(ErrorCodeName(11000), "DuplicateKey");
  EXPECT_EQ(ErrorCodeName(13113), "MergeStageNoMatchingDocument");
  EXPECT_EQ(ErrorCodeName(31254), "Location31254");
  EXPECT_EQ(ErrorCodeName(40324), "Location40324");
}

TEST(DocumentTest, NestingLimits) {
  EXPECT_TRUE(bson::Validate(NestedBson(kMaxBsonDepth)).ok());
  EXPECT_EQ(MongoCodeOf(bson::Validate(NestedBson(kMaxBsonDepth + 1))), kOverflow);
  EXPECT_EQ(MongoCodeOf(bson::Validate(NestedBson(100000))), kOverflow);
  EXPECT_TRUE(bson::Validate(NestedBson(3), 3).ok());
  EXPECT_EQ(MongoCodeOf(bson::Validate(NestedBson(4), 3)), kOverflow);

  // Extended JSON: the same limit in BSON levels; a type wrapper at the deepest level is a
  // value, not a level.
  EXPECT_TRUE(bson::JsonToBson(NestedJson(kMaxBsonDepth, "1")).ok());
  EXPECT_TRUE(bson::JsonToBson(NestedJson(kMaxBsonDepth, R"({"$numberLong": "1"})")).ok());
  EXPECT_TRUE(bson::JsonToBson(NestedJson(kMaxBsonDepth, R"({"$date": {"$numberLong": "1"}})")).ok());
  EXPECT_TRUE(bson::JsonToBson(NestedJson(
      kMaxBsonDepth, R"({"$dbPointer": {"$ref": "c", "$id": {"$oid": "57e193d7a9cc81b4027498b5"}}})")).ok());
  EXPECT_EQ(MongoCodeOf(bson::JsonToBson(NestedJson(kMaxBsonDepth, "{}")).status()), kOverflow);
  EXPECT_EQ(MongoCodeOf(bson::JsonToBson(NestedJson(kMaxBsonDepth, "[]")).status()), kOverflow);
  EXPECT_EQ(MongoCodeOf(bson::JsonToBson(NestedJson(kMaxBsonDepth + 1, "1")).status()), kOverflow);
  std::string deep_arrays = "{\"a\": " + std::string(500000, '[') + std::string(500000, ']') + "}";
  EXPECT_EQ(MongoCodeOf(bson::JsonToBson(deep_arrays).status()), kOverflow);
}

// JSON text is UTF-8: bytes that are not (in keys or strings) are a parse error, never
// BSON that fails validation later (found by the json fuzzer).
TEST(DocumentTest, JsonWithInvalidUtf8IsAParseError) {
  for (std::string json : {std::string("{\"a\": \"\xd3\"}"), std::string("{\"\xcc\": 1}"),
                           std::string("{\"a\": \"ok\xed\xa0\x80\"}")}) {
    auto b = bson::JsonToBson(json);
    EXPECT_FALSE(b.ok()) << json;
    if (!b.ok()) {
      EXPECT_EQ(MongoCodeOf(b.status()), 9);
    }
  }
  EXPECT_TRUE(bson::JsonToBson("{\"caf\xc3\xa9\": \"\xe2\x82\xac\"}").ok());
}

// Keys and regular expressions are UTF-8 too, and regex options stay whole (found by the
// bson and json fuzzers: each printed as Extended JSON that did not parse back).
TEST(DocumentTest, KeysAndRegexOptionsMustBeUtf8) {
  const char bad_key[] = {0x0c, 0, 0, 0, 0x10, '\xb5', 0, 1, 0, 0, 0, 0};
  EXPECT_EQ(MongoCodeOf(bson::Validate(std::string_view(bad_key, sizeof bad_key))), 22);
  const char good_key[] = {0x0d, 0, 0, 0, 0x10, '\xc3', '\xa9', 0, 1, 0, 0, 0, 0};
  EXPECT_TRUE(bson::Validate(std::string_view(good_key, sizeof good_key)).ok());
  // Options past ASCII are kept in their order (sorting bytes would split characters).
  auto re = bson::JsonToBson(R"({"a": {"$regularExpression": {"pattern": "b", "options": "x\u0615i"}}})");
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(bson::Validate(*re).ok());
  EXPECT_EQ(bson::BsonToJson(*re), "{\"a\": {\"$regularExpression\": {\"pattern\": \"b\", \"options\": \"x\xd8\x95i\"}}}");
  EXPECT_TRUE(bson::JsonToBson(R"({"a": {"$regularExpression": {"pattern": "\u0615", "options": "xi"}}})").ok());
}

TEST(DocumentTest, RelaxedJsonNumbersAndDates) {
  Document d = Document::FromJson(
      R"({"i": 1, "l": 3000000000, "d": 1.0, "e": 1e3, "n": -0.5, "t": {"$date": "2001-02-03T04:05:06.789+01:00"},
          "u": "caf\u00e9 \ud83d\ude00", "q": {"$regex": "^a", "$options": "i"}})");
  EXPECT_EQ(d.Get("i").type(), BsonType::kInt32);
  EXPECT_EQ(d.Get("l").type(), BsonType::kInt64);
  EXPECT_EQ(d.Get("d").type(), BsonType::kDouble);
  EXPECT_EQ(d.GetDouble("e"), 1000.0);
  EXPECT_EQ(d.Get("t").AsDate().millis, 981169506789);
  EXPECT_EQ(d.GetString("u"), "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(d.GetDocument("q").GetString("$options"), "i");  // a query operator, not a regex
}

TEST(DocumentTest, SetRemoveAndMoveToFront) {
  Document d{{"a", 1}, {"_id", 2}};
  d.Set("a", "x").Set("c", 3);
  EXPECT_EQ(d.GetString("a"), "x");
  d.MoveToFront("_id");
  EXPECT_EQ(d.begin()->first, "_id");
  EXPECT_TRUE(d.Remove("a"));
  EXPECT_FALSE(d.Remove("a"));
  EXPECT_EQ(d.size(), 2u);
}

TEST(ObjectIdTest, GenerateIsUniqueAndIncreasing) {
  ObjectId a = ObjectId::Generate(), b = ObjectId::Generate();
  EXPECT_LT(a, b);
  EXPECT_EQ(ObjectId::FromHex(a.ToHex()), a);
  EXPECT_THROW(ObjectId::FromHex("xyz"), Error);
}

// MongoDB's comparison across numeric types stays exact beyond 2^53.
TEST(CompareTest, NumbersAcrossTypes) {
  auto cmp = [](const Value& a, const Value& b) {
    bson::Builder x, y;
    x.AppendValue("v", a);
    y.AppendValue("v", b);
    std::string bx = std::move(x).Finish(), by = std::move(y).Finish();
    return bson::CompareValues(bson::DocView(bx).begin()->value, bson::DocView(by).begin()->value);
  };
  EXPECT_EQ(cmp(1, 1.0), 0);
  EXPECT_EQ(cmp(int64_t{1}, 1), 0);
  EXPECT_GT(cmp(int64_t{9007199254740993}, 9007199254740992.0), 0);
  EXPECT_LT(cmp(std::nan(""), -1e308), 0);
  EXPECT_EQ(cmp(std::nan(""), std::nan("")), 0);
  EXPECT_EQ(cmp(Decimal128::FromString("2.50"), 2.5), 0);
  EXPECT_LT(cmp(5, "a"), 0);           // numbers before strings
  EXPECT_LT(cmp(nullptr, 0), 0);       // null before numbers
  EXPECT_LT(cmp(MinKey{}, nullptr), 0);
  EXPECT_GT(cmp(MaxKey{}, Regex{"a", ""}), 0);
  EXPECT_LT(cmp(Document{{"a", 1}}, Array{}), 0);  // objects before arrays
}

}  // namespace
}  // namespace micromongo

namespace micromongo {
namespace {

// A decimal beyond double's range converts to infinity (or 0), never throws: the
// projection fuzz target crashed the worker with std::stod's out_of_range.
TEST(DocumentTest, DecimalsBeyondDoubleRangeConvert) {
  Document d = Document::FromJson(R"({"big": {"$numberDecimal": "1E+6000"},
                                      "tiny": {"$numberDecimal": "1E-6000"},
                                      "neg": {"$numberDecimal": "-1E+6000"}})");
  EXPECT_EQ(d.Get("big").ToDouble(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(d.Get("tiny").ToDouble(), 0.0);
  EXPECT_EQ(d.Get("big").ToInt64(), INT64_MAX);
  EXPECT_EQ(d.Get("neg").ToInt64(), INT64_MIN);
}

}  // namespace
}  // namespace micromongo

namespace micromongo {
namespace {

// The form MongoDB's messages quote documents in (BSONObj::toString), as its duplicate key
// errors show them: "dup key: { _id: 1 }", "dup key: { email: \"a@b.c\" }".
TEST(ShellTextTest, DocumentsAsMongoDbMessagesQuoteThem) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"_id": 1})", "{ _id: 1 }"},
      {R"({"email": "a@b.c"})", R"({ email: "a@b.c" })"},
      {R"({"a": 1, "b": "x"})", R"({ a: 1, b: "x" })"},
      {R"({"n": {"$numberLong": "5"}, "d": 1.5, "w": 2.0})", "{ n: 5, d: 1.5, w: 2.0 }"},
      {R"({"x": null, "t": true})", "{ x: null, t: true }"},
      {R"({"_id": {"$oid": "5f0c9a1e2b3c4d5e6f708192"}})", "{ _id: ObjectId('5f0c9a1e2b3c4d5e6f708192') }"},
      {R"({"at": {"$date": {"$numberLong": "86400000"}}})", "{ at: new Date(86400000) }"},
      {R"({"a": {"b": [1, [2]]}, "e": {}, "z": []})", "{ a: { b: [ 1, [ 2 ] ] }, e: {}, z: [] }"},
      {R"({"q": "say \"hi\""})", R"({ q: "say \"hi\"" })"},
      {R"({"dec": {"$numberDecimal": "1.50"}})", "{ dec: 1.50 }"},
      {R"({"k": {"$minKey": 1}, "m": {"$maxKey": 1}})", "{ k: MinKey, m: MaxKey }"},
      {R"({"ts": {"$timestamp": {"t": 5, "i": 2}}})", "{ ts: Timestamp(5, 2) }"},
      {R"({"r": {"$regularExpression": {"pattern": "^a", "options": "i"}}})", "{ r: /^a/i }"},
      {R"({})", "{}"},
  };
  for (const auto& [json, text] : cases) {
    auto bson = bson::JsonToBson(json);
    ASSERT_TRUE(bson.ok()) << json;
    EXPECT_EQ(bson::BsonToShellText(*bson), text) << json;
  }
}

}  // namespace
}  // namespace micromongo
