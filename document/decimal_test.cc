#include "document/decimal.h"

#include <cmath>

#include <gtest/gtest.h>

#include "document/builder.h"
#include "document/compare.h"
#include "document/value_ops.h"
#include "micromongo/document.h"

namespace micromongo::bson {
namespace {

Value Dec(const char* text) { return Decimal128::FromString(text); }

int Compare(const Value& a, const Value& b) {
  int c = CompareTree(a, b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

struct CompareCase {
  Value a, b;
  int expected;
};

// MongoDB compares decimal128 exactly with every numeric type (integers exactly, doubles
// at 34 significant digits): differences beyond long double's 18 digits still count.
TEST(DecimalTest, ComparesExactly) {
  const CompareCase cases[] = {
      {Dec("1"), Value(1), 0},
      {Dec("1.000"), Value(1.0), 0},
      {Dec("-0"), Value(0), 0},
      {Dec("0E-6000"), Dec("0E+6000"), 0},
      {Dec("9007199254740993"), Value(int64_t{9007199254740993}), 0},
      {Dec("9007199254740993"), Value(int64_t{9007199254740992}), 1},
      {Dec("9223372036854775807"), Value(int64_t{9223372036854775807}), 0},
      {Dec("-9223372036854775808"), Value(int64_t{-9223372036854775807 - 1}), 0},
      {Dec("1.000000000000000000000000000000001"), Value(1), 1},
      {Dec("1.000000000000000000000000000000001"), Dec("1.000000000000000000000000000000002"), -1},
      {Dec("123456789012345678901234567890123.4"), Dec("123456789012345678901234567890123.3"), 1},
      {Dec("0.1"), Value(0.1), -1},  // the double is 0.1000000000000000055511151231257827...
      {Dec("0.5"), Value(0.5), 0},
      {Dec("1E+10"), Value(int64_t{10000000000}), 0},
      {Dec("-1.5"), Value(-1), -1},
      {Dec("-2"), Dec("-1.999999999999999999999999999999999"), -1},
      {Dec("Infinity"), Value(1e308), 1},
      {Dec("-Infinity"), Dec("-9.999999999999999999999999999999999E+6144"), -1},
      {Dec("NaN"), Value(std::nan("")), 0},
      {Dec("NaN"), Dec("-Infinity"), -1},
  };
  for (const CompareCase& c : cases) {
    EXPECT_EQ(Compare(c.a, c.b), c.expected) << c.a.ToJson() << " vs " << c.b.ToJson();
    EXPECT_EQ(Compare(c.b, c.a), -c.expected) << c.b.ToJson() << " vs " << c.a.ToJson();
  }
}

struct ArithmeticCase {
  Value (*op)(const Value&, const Value&);
  Value a, b;
  const char* expected;  // Decimal128::ToString of the result
};

// Decimal arithmetic keeps its exact digits (division rounds to 34, half to even) and IEEE's preferred exponent (1.10 + 1.20
// is 2.30), as MongoDB's does.
TEST(DecimalTest, AddsSubtractsAndMultipliesExactly) {
  const ArithmeticCase cases[] = {
      {AddNumbers, Dec("0.1"), Dec("0.2"), "0.3"},
      {AddNumbers, Dec("1.10"), Dec("1.20"), "2.30"},
      {AddNumbers, Dec("1.000000000000000000000000000000001"), Value(1), "2.000000000000000000000000000000001"},
      {AddNumbers, Dec("0.1"), Value(0.2), "0.300000000000000"},  // the double converts at 15 digits, kept
      {SubtractNumbers, Dec("1"), Dec("0.000000000000000000000000000000001"), "0.999999999999999999999999999999999"},
      {SubtractNumbers, Dec("5"), Dec("5"), "0"},
      {MultiplyNumbers, Dec("1.5"), Dec("2"), "3.0"},
      {MultiplyNumbers, Dec("12345678901234567"), Dec("10000000000000001"), "123456789012345682345678901234567"},
      {MultiplyNumbers, Dec("-0.5"), Value(int64_t{3}), "-1.5"},
      // Results beyond 34 digits round half to even (checked against IEEE 754 decimal128).
      {AddNumbers, Dec("9999999999999999999999999999999999"), Dec("1"), "1.000000000000000000000000000000000E+34"},
      {AddNumbers, Dec("1E+40"), Dec("1"), "1.000000000000000000000000000000000E+40"},
      {AddNumbers, Dec("1234567890123456789012345678901234"), Dec("0.5"), "1234567890123456789012345678901234"},
      {AddNumbers, Dec("1234567890123456789012345678901235"), Dec("0.5"), "1234567890123456789012345678901236"},
      {SubtractNumbers, Dec("1E+40"), Dec("1"), "1.000000000000000000000000000000000E+40"},
      {AddNumbers, Dec("1"), Dec("1E-100"), "1.000000000000000000000000000000000"},
      {SubtractNumbers, Dec("1"), Dec("1E-100"), "1.000000000000000000000000000000000"},
      {AddNumbers, Dec("1E+40"), Dec("0E-10"), "1.000000000000000000000000000000000E+40"},
      {MultiplyNumbers, Dec("1234567890123456789"), Dec("9876543210987654321"), "1.219326311370217952237463801111264E+37"},
      {MultiplyNumbers, Dec("3.333333333333333333333333333333333"), Dec("3"), "9.999999999999999999999999999999999"},
      {DivideNumbers, Dec("1"), Dec("3"), "0.3333333333333333333333333333333333"},
      {DivideNumbers, Dec("2"), Dec("3"), "0.6666666666666666666666666666666667"},
      {DivideNumbers, Dec("1"), Dec("4"), "0.25"},
      {DivideNumbers, Dec("6.0"), Dec("2"), "3.0"},
      {DivideNumbers, Dec("10"), Value(4), "2.5"},
      {DivideNumbers, Dec("-7"), Dec("2"), "-3.5"},
      {DivideNumbers, Dec("1E+2"), Dec("4"), "25"},
      {DivideNumbers, Value(1), Dec("8"), "0.125"},
      {DivideNumbers, Dec("0.5"), Dec("0.000000000000000000000000000000001"), "5E+32"},
  };
  for (const ArithmeticCase& c : cases) {
    Value r = c.op(c.a, c.b);
    ASSERT_EQ(r.type(), BsonType::kDecimal128) << c.a.ToJson();
    EXPECT_EQ(r.AsDecimal128().ToString(), c.expected) << c.a.ToJson() << " and " << c.b.ToJson();
  }
}

TEST(DecimalTest, EncodingRoundTrips) {
  for (const char* text : {"0", "-0", "1.23E+100", "-9.999999999999999999999999999999999E+6144",
                           "1E-6176", "Infinity", "-Infinity", "NaN", "123.456"}) {
    Decimal128 d = Decimal128::FromString(text);
    char bytes[16];
    std::memcpy(bytes, &d.low, 8);
    std::memcpy(bytes + 8, &d.high, 8);
    char again[16];
    EncodeDecimal(DecodeDecimal(bytes), again);
    EXPECT_EQ(std::memcmp(bytes, again, 16), 0) << text;
  }
}

// Beyond long double's range a decimal is an infinity or zero, never an exception: the
// stold this replaced threw out_of_range, and $expr: NumberDecimal("1E+6111") killed
// the worker.
TEST(DecimalTest, ToLongDoubleSaturatesOutsideLongDoubleRange) {
  struct Case {
    const char* text;
    long double want;
  } cases[] = {
      {"1.5", 1.5L},
      {"-2.25E+3", -2250.0L},
      {"1E+6111", __builtin_infl()},
      {"-9.999999999999999999999999999999999E+6144", -__builtin_infl()},
      {"1E-6176", 0.0L},
      {"Infinity", __builtin_infl()},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ToLongDouble(Value(Decimal128::FromString(c.text))), c.want) << c.text;
  }
  EXPECT_TRUE(std::isnan(ToLongDouble(Value(Decimal128::FromString("NaN")))));
}

}  // namespace
}  // namespace micromongo::bson
