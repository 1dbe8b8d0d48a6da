// Numeric arithmetic, value comparison and array access shared by update operators.

#include <cmath>
#include <limits>

#include "document/builder.h"
#include "document/compare.h"
#include "document/status.h"
#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
namespace {

long double ToLongDouble(const Value& v) {
  if (auto d = v.GetIf<Decimal128>()) return std::stold(d->ToString());
  if (auto i = v.GetIf<int64_t>()) return static_cast<long double>(*i);
  return v.ToDouble();
}

Value DecimalFrom(long double x) {
  if (std::isnan(x)) return Decimal128::FromString("NaN");
  if (std::isinf(x)) return Decimal128::FromString(x > 0 ? "Infinity" : "-Infinity");
  char text[64];
  std::snprintf(text, sizeof(text), "%.17Lg", x);
  return Decimal128::FromString(text);
}

template <typename IntOp, typename FloatOp>
Value Arithmetic(const Value& a, const Value& b, IntOp int_op, FloatOp float_op) {
  BsonType ta = a.type(), tb = b.type();
  if (ta == BsonType::kDecimal128 || tb == BsonType::kDecimal128) {
    // Decimal arithmetic through long double: exact for the integers and short fractions
    // real data holds.
    return DecimalFrom(float_op(ToLongDouble(a), ToLongDouble(b)));
  }
  if (ta == BsonType::kDouble || tb == BsonType::kDouble) {
    return static_cast<double>(float_op(a.ToDouble(), b.ToDouble()));
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

Value MultiplyNumbers(const Value& a, const Value& b) {
  return Arithmetic(
      a, b, [](int64_t x, int64_t y, int64_t* r) { return __builtin_mul_overflow(x, y, r); },
      [](long double x, long double y) { return x * y; });
}

int CompareTreeValues(const Value& a, const Value& b) {
  bson::Builder x, y;
  x.AppendValue("", a);
  y.AppendValue("", b);
  std::string bx = std::move(x).Finish(), by = std::move(y).Finish();
  return bson::CompareValues(bson::DocView(bx).begin()->value, bson::DocView(by).begin()->value);
}

absl::StatusOr<Array*> ArrayAt(Document* doc, const query::FieldPath& path, bool create,
                               std::string_view op) {
  auto slot = Resolve(doc, path, create);
  if (!slot.ok()) return slot.status();
  if (slot->value == nullptr) {
    if (!create || (slot->doc == nullptr && slot->array == nullptr)) return nullptr;
    slot->Assign(Array{});
  }
  if (auto* a = std::get_if<Array>(&slot->value->variant())) return a;
  return MongoError(kBadValue, StrCat("The field '", path.dotted(), "' must be an array but is of type ",
                                      BsonTypeName(slot->value->type()), " in ", op));
}

}  // namespace micromongo::update
