#include "document/key_string.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>

#include "document/compare.h"
#include "document/json.h"

namespace micromongo::bson {
namespace {

// Values in strictly ascending MongoDB order (BSON comparison order, numbers by value).
const char* kAscending[] = {
    R"({"v": {"$minKey": 1}})",
    R"({"v": null})",
    R"({"v": {"$numberDouble": "NaN"}})",
    R"({"v": {"$numberDouble": "-Infinity"}})",
    R"({"v": {"$numberLong": "-9223372036854775808"}})",
    R"({"v": -2.5})",
    R"({"v": {"$numberDecimal": "-1.000000000000000000000000000000001"}})",
    R"({"v": -1})",
    R"({"v": {"$numberDecimal": "-0.999999999999999999999999999999999"}})",
    R"({"v": {"$numberDecimal": "-1E-6176"}})",
    R"({"v": 0})",
    R"({"v": {"$numberDecimal": "1E-6176"}})",
    R"({"v": {"$numberDecimal": "0.1"}})",
    R"({"v": 0.1})",  // 0.1000000000000000055511151231257827...
    R"({"v": {"$numberDecimal": "0.1000000000000000055511151231257828"}})",
    R"({"v": 0.5})",
    R"({"v": 1})",
    R"({"v": {"$numberDecimal": "1.000000000000000000000000000000001"}})",
    R"({"v": {"$numberDecimal": "1.000000000000000000000000000000002"}})",
    R"({"v": {"$numberLong": "9007199254740992"}})",
    R"({"v": {"$numberLong": "9007199254740993"}})",
    R"({"v": {"$numberDecimal": "9007199254740993.5"}})",
    R"({"v": 9007199254740994.0})",
    R"({"v": {"$numberLong": "9223372036854775807"}})",
    R"({"v": {"$numberDouble": "Infinity"}})",
    R"({"v": ""})",
    R"({"v": "a"})",
    R"({"v": "a\u0000"})",
    R"({"v": "a\u0000\u0000"})",
    R"({"v": "a\u0000b"})",
    R"({"v": "ab"})",
    R"({"v": "b"})",
    R"({"v": {}})",
    R"({"v": {"a": 1}})",
    R"({"v": {"a": 1, "b": 1}})",
    R"({"v": {"a": 2}})",
    R"({"v": {"b": 0}})",  // element type is compared before field name
    R"({"v": {"a": "x"}})",
    R"({"v": []})",
    R"({"v": [1]})",
    R"({"v": [1, 2]})",
    R"({"v": [2]})",
    R"({"v": {"$binary": {"base64": "AA==", "subType": "00"}}})",
    R"({"v": {"$binary": {"base64": "AAAA", "subType": "00"}}})",
    R"({"v": {"$oid": "000000000000000000000001"}})",
    R"({"v": {"$oid": "ffffffffffffffffffffffff"}})",
    R"({"v": false})",
    R"({"v": true})",
    R"({"v": {"$date": {"$numberLong": "-1"}}})",
    R"({"v": {"$date": {"$numberLong": "0"}}})",
    R"({"v": {"$date": {"$numberLong": "1700000000000"}}})",
    R"({"v": {"$timestamp": {"t": 1, "i": 2}}})",
    R"({"v": {"$timestamp": {"t": 2, "i": 1}}})",
    R"({"v": {"$regularExpression": {"pattern": "a", "options": ""}}})",
    R"({"v": {"$regularExpression": {"pattern": "a", "options": "i"}}})",
    R"({"v": {"$maxKey": 1}})",
};

struct Encoded {
  std::string bson;
  std::string key;
};

Encoded Encode(const char* json) {
  auto bytes = JsonToBson(json);
  EXPECT_TRUE(bytes.ok()) << json << ": " << bytes.status();
  Encoded e{*bytes, ""};
  AppendKeyString(DocView(e.bson).begin()->value, &e.key);
  return e;
}

TEST(KeyStringTest, EncodingOrderIsBsonOrder) {
  for (size_t i = 1; i < std::size(kAscending); ++i) {
    Encoded a = Encode(kAscending[i - 1]), b = Encode(kAscending[i]);
    EXPECT_LT(a.key, b.key) << kAscending[i - 1] << " vs " << kAscending[i];
    EXPECT_LT(CompareValues(DocView(a.bson).begin()->value,
                                  DocView(b.bson).begin()->value),
              0)
        << kAscending[i - 1] << " vs " << kAscending[i];
  }
}

TEST(KeyStringTest, StringBytesAreEscapedWhateverTheirLength) {
  // The string encoding: type byte, the bytes with each 00 written 00 FF, then 00 01.
  // Lengths and zero bytes around 64 (the encoder's chunk) and beyond.
  for (size_t length : {0, 1, 62, 63, 64, 65, 127, 128, 129, 300}) {
    for (size_t zero_at : {size_t{0}, size_t{62}, size_t{63}, size_t{64}, length / 2, length + 1}) {
      std::string text(length, 'x');
      if (zero_at < length) text[zero_at] = '\0';
      if (length > 1) text[length - 1] = '\0';
      std::string expected;
      for (char c : text) {
        expected.push_back(c);
        if (c == '\0') expected.push_back('\xFF');
      }
      expected.append("\0\1", 2);
      std::string doc(4, '\0');
      doc.push_back(static_cast<char>(BsonType::kString));
      doc.append("v\0", 2);
      int32_t n = static_cast<int32_t>(text.size() + 1);
      doc.append(reinterpret_cast<const char*>(&n), 4);
      doc.append(text);
      doc.push_back('\0');
      doc.push_back('\0');
      int32_t total = static_cast<int32_t>(doc.size());
      std::memcpy(doc.data(), &total, 4);
      std::string key;
      AppendKeyString(DocView(doc).begin()->value, &key);
      ASSERT_FALSE(key.empty());
      EXPECT_EQ(key.substr(1), expected) << "length " << length << ", zero at " << zero_at;
    }
  }
}

TEST(KeyStringTest, EqualNumbersShareOneKey) {
  const char* same[] = {R"({"v": 1})", R"({"v": 1.0})", R"({"v": {"$numberLong": "1"}})",
                        R"({"v": {"$numberDecimal": "1"}})"};
  for (const char* json : same) EXPECT_EQ(Encode(same[0]).key, Encode(json).key) << json;
  // Decimals equal to a double or an int64 share its key, however they are written.
  const std::pair<const char*, const char*> pairs[] = {
      {R"({"v": {"$numberDecimal": "1.000"}})", R"({"v": 1})"},
      {R"({"v": {"$numberDecimal": "0.5"}})", R"({"v": 0.5})"},
      {R"({"v": {"$numberDecimal": "-0"}})", R"({"v": 0})"},
      {R"({"v": {"$numberDecimal": "0.10"}})", R"({"v": {"$numberDecimal": "0.1"}})"},
      {R"({"v": {"$numberDecimal": "-2.50"}})", R"({"v": -2.5})"},
      {R"({"v": {"$numberDecimal": "9007199254740993"}})", R"({"v": {"$numberLong": "9007199254740993"}})"},
      {R"({"v": {"$numberDecimal": "1.10E+1"}})", R"({"v": {"$numberDecimal": "11"}})"},
      {R"({"v": {"$numberDecimal": "NaN"}})", R"({"v": {"$numberDouble": "NaN"}})"},
      {R"({"v": {"$numberDecimal": "Infinity"}})", R"({"v": {"$numberDouble": "Infinity"}})"},
  };
  for (const auto& [a, b] : pairs) EXPECT_EQ(Encode(a).key, Encode(b).key) << a << " vs " << b;
  EXPECT_NE(Encode(R"({"v": {"$numberDecimal": "1.000000000000000000000000000000001"}})").key,
            Encode(R"({"v": {"$numberDecimal": "1.000000000000000000000000000000002"}})").key);
  EXPECT_NE(Encode(R"({"v": 1})").key, Encode(R"({"v": "1"})").key);
  EXPECT_EQ(Encode(R"({"v": 0.0})").key, Encode(R"({"v": -0.0})").key);
}

// BSON whose array elements are not named "0", "1", ... (the corpus's degenerate arrays,
// found by the keystring fuzzer) is the same array for comparison as for key strings.
TEST(KeyStringTest, ArraysCompareByPositionNotFieldName) {
  const char bytes[] = {0x13, 0, 0, 0, 0x04, 'a', 0, 0x0b, 0, 0, 0, 0x10, 0, 0x0a, 0, 0, 0, 0, 0};
  const std::string named_oddly(bytes, sizeof bytes);
  ASSERT_TRUE(Validate(named_oddly).ok());
  Encoded normal = Encode(R"({"a": [10]})");
  ValueView odd = DocView(named_oddly).begin()->value;
  EXPECT_EQ(CompareValues(odd, DocView(normal.bson).begin()->value), 0);
  std::string odd_key;
  AppendKeyString(odd, &odd_key);
  EXPECT_EQ(odd_key, normal.key);
  // Documents still compare field names.
  EXPECT_NE(CompareValues(DocView(Encode(R"({"a": {"": 10}})").bson).begin()->value,
                          DocView(Encode(R"({"a": {"0": 10}})").bson).begin()->value),
            0);
}

// Decimals past the double range sort between the largest double and Infinity (found by
// the keystring fuzzer: the exact comparison read past a buffer for them).
TEST(KeyStringTest, DecimalsBeyondTheDoubleRange) {
  const char* ascending[] = {R"({"v": {"$numberDecimal": "-Infinity"}})", R"({"v": {"$numberDecimal": "-1E+400"}})",
                             R"({"v": -1.7976931348623157e308})", R"({"v": 1.7976931348623157e308})",
                             R"({"v": {"$numberDecimal": "1E+400"}})", R"({"v": {"$numberDecimal": "2E+400"}})",
                             R"({"v": {"$numberDouble": "Infinity"}})"};
  for (size_t i = 1; i < std::size(ascending); ++i) {
    Encoded a = Encode(ascending[i - 1]), b = Encode(ascending[i]);
    EXPECT_LT(a.key, b.key) << ascending[i - 1] << " vs " << ascending[i];
    EXPECT_LT(CompareValues(DocView(a.bson).begin()->value, DocView(b.bson).begin()->value), 0)
        << ascending[i - 1] << " vs " << ascending[i];
  }
}

// A decimal whose coefficient is 10^34 or more is zero (IEEE 754-2008), in comparisons and
// key strings alike (found by the keystring fuzzer).
TEST(KeyStringTest, NonCanonicalDecimalsAreZero) {
  char bytes[] = {0x18, 0, 0, 0, 0x13, 'v', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const uint64_t hi = 0x3049fffffffffa00ULL;  // exponent 4, coefficient about 1.04e34
  std::memcpy(bytes + 15, &hi, 8);
  std::string odd(bytes, sizeof bytes);
  ASSERT_TRUE(Validate(odd).ok());
  ValueView v = DocView(odd).begin()->value;
  Encoded zero = Encode(R"({"v": 0})");
  EXPECT_EQ(CompareValues(v, DocView(zero.bson).begin()->value), 0);
  std::string key;
  AppendKeyString(v, &key);
  EXPECT_EQ(key, zero.key);
}

// A collator's sort keys: strings equal under the collation share a key, at any depth.
class CaseInsensitive : public Collator {
 public:
  static std::string Fold(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }
  int Compare(std::string_view a, std::string_view b) const override {
    return Fold(a).compare(Fold(b));
  }
  std::string SortKey(std::string_view s) const override { return Fold(s); }
};

TEST(KeyStringTest, CollatedKeys) {
  CaseInsensitive ci;
  auto key = [&](const char* json, const Collator* c) {
    auto bytes = JsonToBson(json);
    std::string k;
    AppendKeyString(DocView(*bytes).begin()->value, &k, c);
    return k;
  };
  EXPECT_EQ(key(R"({"v": "ABC"})", &ci), key(R"({"v": "abc"})", &ci));
  EXPECT_EQ(key(R"({"v": {"a": ["X", {"b": "Y"}]}})", &ci), key(R"({"v": {"a": ["x", {"b": "y"}]}})", &ci));
  EXPECT_NE(key(R"({"v": "ABC"})", nullptr), key(R"({"v": "abc"})", nullptr));
  EXPECT_LT(key(R"({"v": "a"})", &ci), key(R"({"v": "B"})", &ci));
}

}  // namespace
}  // namespace micromongo::bson
