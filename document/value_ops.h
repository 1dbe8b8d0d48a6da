#pragma once

// Operations on tree Values with MongoDB's semantics, shared by update operators and the
// expression evaluator: ordering/equality (1 == 1.0) and arithmetic with type promotion.

#include <array>

#include "micromongo/document.h"

namespace micromongo::bson {

class Collator;

// MongoDB's total order over values (CompareValues on their BSON encodings), strings
// under `collator` when given.
int CompareTree(const Value& a, const Value& b, const Collator* collator = nullptr);
inline bool TreeEqual(const Value& a, const Value& b, const Collator* collator = nullptr) {
  return CompareTree(a, b, collator) == 0;
}

// a + b, a - b, a * b: int32 widens to int64 on overflow, int64 to double; double if
// either is; decimal128 if either is (computed through long double).
Value AddNumbers(const Value& a, const Value& b);
Value SubtractNumbers(const Value& a, const Value& b);
Value MultiplyNumbers(const Value& a, const Value& b);
// a / b for $divide: a double, or a decimal128 (rounded to 34 digits) if either operand
// is one. Division by zero is the caller's error to report.
Value DivideNumbers(const Value& a, const Value& b);
// Any numeric value as long double (decimal128 approximated: beyond long double's range
// it is an infinity or zero, as strtold makes it).
long double ToLongDouble(const Value& v);
// The 16 little-endian bytes of a decimal128, as decimal.h's functions take them.
std::array<char, 16> DecimalBytes(const Decimal128& d);
// A decimal128 Value from a long double.
Value DecimalFromLongDouble(long double x);

// A numeric Value's decimal parts (integers exactly, doubles at 15 digits, as MongoDB
// converts them for decimal arithmetic), and a decimal128 Value from parts.
struct DecimalParts;
DecimalParts DecimalPartsOf(const Value& v);
Value DecimalValue(const DecimalParts& d);

// Whether documents and arrays nest more than `levels` deep in `v` (a scalar is 0 levels,
// [] and {} are 1). Iterative, and stops as soon as the answer is known.
bool NestedDeeperThan(const Value& v, int levels);

}  // namespace micromongo::bson
