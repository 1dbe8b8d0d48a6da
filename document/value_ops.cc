#include "document/value_ops.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "document/builder.h"
#include "document/compare.h"
#include "document/decimal.h"

namespace micromongo::bson {

std::array<char, 16> DecimalBytes(const Decimal128& d) {
  std::array<char, 16> bytes;
  std::memcpy(bytes.data(), &d.low, 8);
  std::memcpy(bytes.data() + 8, &d.high, 8);
  return bytes;
}

long double ToLongDouble(const Value& v) {
  // Not std::stold: a decimal beyond long double's range (1E+6111) made it throw
  // out_of_range, which killed the worker (found by the filter fuzzer through $expr).
  if (auto d = v.GetIf<Decimal128>()) return DecimalToLongDouble(DecimalBytes(*d).data());
  if (auto i = v.GetIf<int64_t>()) return static_cast<long double>(*i);
  if (auto i = v.GetIf<int32_t>()) return *i;
  if (auto d = v.GetIf<double>()) return *d;
  return 0;
}

bool NestedDeeperThan(const Value& v, int levels) {
  // Depth-first with an explicit stack of (value, its depth).
  std::vector<std::pair<const Value*, int>> stack{{&v, 1}};
  while (!stack.empty()) {
    auto [value, depth] = stack.back();
    stack.pop_back();
    if (const Array* a = value->GetIf<Array>()) {
      if (depth > levels) return true;
      for (const Value& e : *a) {
        if (e.type() == BsonType::kArray || e.type() == BsonType::kDocument) {
          stack.push_back({&e, depth + 1});
        }
      }
    } else if (const Document* d = value->GetIf<Document>()) {
      if (depth > levels) return true;
      for (const auto& [k, e] : *d) {
        if (e.type() == BsonType::kArray || e.type() == BsonType::kDocument) {
          stack.push_back({&e, depth + 1});
        }
      }
    }
  }
  return false;
}

Value DecimalFromLongDouble(long double x) {
  if (std::isnan(x)) return Decimal128::FromString("NaN");
  if (std::isinf(x)) return Decimal128::FromString(x > 0 ? "Infinity" : "-Infinity");
  char text[64];
  std::snprintf(text, sizeof(text), "%.17Lg", x);
  return Decimal128::FromString(text);
}

namespace {

}  // namespace

DecimalParts DecimalPartsOf(const Value& v) {
  if (auto d = v.GetIf<Decimal128>()) return DecodeDecimal(DecimalBytes(*d).data());
  if (auto i = v.GetIf<int64_t>()) return DecimalFromInt64(*i);
  if (auto i = v.GetIf<int32_t>()) return DecimalFromInt64(*i);
  if (auto x = v.GetIf<double>()) return DecimalFromDouble(*x, 15, /*keep_digits=*/true);
  return DecimalParts{};
}

Value DecimalValue(const DecimalParts& d) {
  char bytes[16];
  EncodeDecimal(d, bytes);
  Decimal128 out;
  std::memcpy(&out.low, bytes, 8);
  std::memcpy(&out.high, bytes + 8, 8);
  return out;
}

namespace {

using ExactDecimalOp = std::optional<DecimalParts> (*)(const DecimalParts&, const DecimalParts&);

template <typename IntOp, typename FloatOp>
Value Arithmetic(const Value& a, const Value& b, IntOp int_op, FloatOp float_op,
                 ExactDecimalOp exact = nullptr, bool negate_b = false) {
  BsonType ta = a.type(), tb = b.type();
  if (ta == BsonType::kDecimal128 || tb == BsonType::kDecimal128) {
    if (exact != nullptr) {
      DecimalParts y = DecimalPartsOf(b);
      if (negate_b) y.negative = !y.negative;
      if (auto r = exact(DecimalPartsOf(a), y)) return DecimalValue(*r);
    }
    // Results that need rounding to 34 digits: through long double (about 18 digits).
    return DecimalFromLongDouble(float_op(ToLongDouble(a), ToLongDouble(b)));
  }
  if (ta == BsonType::kDouble || tb == BsonType::kDouble) {
    return static_cast<double>(float_op(ToLongDouble(a), ToLongDouble(b)));
  }
  int64_t x = a.ToInt64(), y = b.ToInt64(), r;
  if (int_op(x, y, &r)) {
    return static_cast<double>(float_op(static_cast<long double>(x), static_cast<long double>(y)));
  }
  if (ta == BsonType::kInt32 && tb == BsonType::kInt32 && r >= std::numeric_limits<int32_t>::min() &&
      r <= std::numeric_limits<int32_t>::max()) {
    return static_cast<int32_t>(r);
  }
  return r;
}

}  // namespace

Value AddNumbers(const Value& a, const Value& b) {
  return Arithmetic(
      a, b, [](int64_t x, int64_t y, int64_t* r) { return __builtin_add_overflow(x, y, r); },
      [](long double x, long double y) { return x + y; }, &AddDecimals);
}

Value SubtractNumbers(const Value& a, const Value& b) {
  return Arithmetic(
      a, b, [](int64_t x, int64_t y, int64_t* r) { return __builtin_sub_overflow(x, y, r); },
      [](long double x, long double y) { return x - y; }, &AddDecimals, /*negate_b=*/true);
}

Value MultiplyNumbers(const Value& a, const Value& b) {
  return Arithmetic(
      a, b, [](int64_t x, int64_t y, int64_t* r) { return __builtin_mul_overflow(x, y, r); },
      [](long double x, long double y) { return x * y; }, &MultiplyDecimals);
}

Value DivideNumbers(const Value& a, const Value& b) {
  if (a.type() == BsonType::kDecimal128 || b.type() == BsonType::kDecimal128) {
    if (auto q = DivideDecimals(DecimalPartsOf(a), DecimalPartsOf(b))) return DecimalValue(*q);
    return DecimalFromLongDouble(ToLongDouble(a) / ToLongDouble(b));
  }
  return static_cast<double>(ToLongDouble(a) / ToLongDouble(b));
}

int CompareTree(const Value& a, const Value& b, const Collator* collator) {
  Builder x, y;
  x.AppendValue("", a);
  y.AppendValue("", b);
  std::string bx = std::move(x).Finish(), by = std::move(y).Finish();
  return CompareValues(DocView(bx).begin()->value, DocView(by).begin()->value, collator);
}

}  // namespace micromongo::bson
