#pragma once

// Decimal128 helpers over the 16 little-endian bytes of a BSON decimal128 value (IEEE
// 754-2008 BID encoding): exact comparison with every numeric type, and exact addition,
// subtraction and multiplication whenever the result fits decimal128's 34 digits.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace micromongo::bson {

// NaN and infinities map onto long double's own.
long double DecimalToLongDouble(const char* bytes16);
std::string DecimalToString(const char* bytes16);

// A decimal as (-1)^negative * coefficient * 10^exponent, or an infinity or NaN.
struct DecimalParts {
  enum class Kind { kFinite, kInfinity, kNaN } kind = Kind::kFinite;
  bool negative = false;
  unsigned __int128 coefficient = 0;  // < 10^34
  int32_t exponent = 0;               // -6176 .. 6111
};

DecimalParts DecodeDecimal(const char* bytes16);
// The 16 bytes of a finite or special value (its coefficient must be < 10^34 and its
// exponent in range: callers check with Representable).
void EncodeDecimal(const DecimalParts& d, char* bytes16);
bool Representable(const DecimalParts& d);

DecimalParts DecimalFromInt64(int64_t v);
// A double rounded to `digits` significant decimal digits (MongoDB compares doubles with
// decimals at 34 digits and converts them for arithmetic at 15). With `keep_digits` the
// result keeps all of them, trailing zeros included, as MongoDB's Decimal128(double) does
// (0.5 becomes 0.500000000000000); otherwise it is the shortest exact form.
DecimalParts DecimalFromDouble(double v, int digits, bool keep_digits = false);

// <0, 0, >0 by value: 1.0 == 1.00, -0 == 0; NaN equals NaN and sorts below every number.
int CompareDecimals(const DecimalParts& a, const DecimalParts& b);

// a + b and a * b as IEEE 754 decimal128 computes them: exact with the preferred exponent
// (the smaller exponent for sums, the sum of exponents for products) when the result fits
// 34 digits, else rounded to 34 digits, half to even. nullopt for non-finite operands and
// results outside the exponent range (callers fall back to an approximation).
std::optional<DecimalParts> AddDecimals(const DecimalParts& a, const DecimalParts& b);
std::optional<DecimalParts> MultiplyDecimals(const DecimalParts& a, const DecimalParts& b);
// a / b rounded to 34 digits (half to even); an exact quotient takes the exponent closest
// to IEEE's preferred a.exponent - b.exponent. nullopt for b == 0, non-finite operands or
// results outside decimal128's exponent range.
std::optional<DecimalParts> DivideDecimals(const DecimalParts& a, const DecimalParts& b);

}  // namespace micromongo::bson
