#include "document/value_ops.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "document/builder.h"
#include "document/compare.h"

namespace micromongo::bson {

long double ToLongDouble(const Value& v) {
  if (auto d = v.GetIf<Decimal128>()) return std::stold(d->ToString());
  if (auto i = v.GetIf<int64_t>()) return static_cast<long double>(*i);
  if (auto i = v.GetIf<int32_t>()) return *i;
  if (auto d = v.GetIf<double>()) return *d;
  return 0;
}

Value DecimalFromLongDouble(long double x) {
  if (std::isnan(x)) return Decimal128::FromString("NaN");
  if (std::isinf(x)) return Decimal128::FromString(x > 0 ? "Infinity" : "-Infinity");
  char text[64];
  std::snprintf(text, sizeof(text), "%.17Lg", x);
  return Decimal128::FromString(text);
}

namespace {

template <typename IntOp, typename FloatOp>
Value Arithmetic(const Value& a, const Value& b, IntOp int_op, FloatOp float_op) {
  BsonType ta = a.type(), tb = b.type();
  if (ta == BsonType::kDecimal128 || tb == BsonType::kDecimal128) {
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
      [](long double x, long double y) { return x + y; });
}

Value SubtractNumbers(const Value& a, const Value& b) {
  return Arithmetic(
      a, b, [](int64_t x, int64_t y, int64_t* r) { return __builtin_sub_overflow(x, y, r); },
      [](long double x, long double y) { return x - y; });
}

Value MultiplyNumbers(const Value& a, const Value& b) {
  return Arithmetic(
      a, b, [](int64_t x, int64_t y, int64_t* r) { return __builtin_mul_overflow(x, y, r); },
      [](long double x, long double y) { return x * y; });
}

int CompareTree(const Value& a, const Value& b, const Collator* collator) {
  Builder x, y;
  x.AppendValue("", a);
  y.AppendValue("", b);
  std::string bx = std::move(x).Finish(), by = std::move(y).Finish();
  return CompareValues(DocView(bx).begin()->value, DocView(by).begin()->value, collator);
}

}  // namespace micromongo::bson
