// Arithmetic operators: $abs $add $ceil $divide $exp $floor $ln $log $log10 $mod $multiply
// $pow $round $sqrt $subtract $trunc. Results take the narrowest type that holds them, as
// MongoDB computes them: int32 widens to int64 on overflow, int64 to double; any decimal
// operand makes the result a decimal.

#include <cmath>
#include <limits>

#include "document/decimal.h"
#include "document/value_ops.h"
#include "pipeline/expressions/arithmetic_util.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {

// ---- Decimal rounding ----------------------------------------------------------------------

namespace {

using bson::DecimalParts;

unsigned __int128 Pow10(int n) {
  unsigned __int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

constexpr unsigned __int128 kMaxCoefficient = [] {
  unsigned __int128 p = 1;
  for (int i = 0; i < 34; ++i) p *= 10;
  return p;
}();

}  // namespace

std::optional<DecimalParts> QuantizeDecimal(DecimalParts d, int32_t exponent, RoundMode mode) {
  if (d.kind != DecimalParts::Kind::kFinite) return d;
  if (d.exponent == exponent) return d;
  if (d.exponent > exponent) {
    // More digits after the point: scale the coefficient up (exact, if it still fits).
    int shift = d.exponent - exponent;
    if (shift > 34) return d.coefficient == 0 ? std::optional<DecimalParts>(DecimalParts{
                                                    DecimalParts::Kind::kFinite, d.negative, 0, exponent})
                                              : std::nullopt;
    unsigned __int128 scaled = d.coefficient * Pow10(shift);
    if (scaled >= kMaxCoefficient || (d.coefficient != 0 && scaled / Pow10(shift) != d.coefficient)) {
      return std::nullopt;
    }
    d.coefficient = scaled;
    d.exponent = exponent;
    return d;
  }
  int shift = exponent - d.exponent;
  unsigned __int128 divisor = shift > 38 ? 0 : Pow10(shift);
  unsigned __int128 quotient = divisor == 0 ? 0 : d.coefficient / divisor;
  unsigned __int128 remainder = divisor == 0 ? d.coefficient : d.coefficient % divisor;
  bool round_up = false;
  if (remainder != 0) {
    switch (mode) {
      case RoundMode::kHalfEven: {
        if (divisor == 0) break;  // the remainder is far below half
        unsigned __int128 twice = remainder * 2;
        round_up = twice > divisor || (twice == divisor && (quotient & 1) != 0);
        break;
      }
      case RoundMode::kTowardZero: break;
      case RoundMode::kUp: round_up = !d.negative; break;      // toward +infinity
      case RoundMode::kDown: round_up = d.negative; break;     // toward -infinity
    }
  }
  d.coefficient = quotient + (round_up ? 1 : 0);
  d.exponent = exponent;
  if (d.coefficient >= kMaxCoefficient) return std::nullopt;
  return d;
}

namespace {

// ---- Helpers -------------------------------------------------------------------------------

absl::Status NotNumeric(std::string_view op, const std::optional<Value>& v) {
  return Err(28765, StrCat(op, " only supports numeric types, not ", TypeName(v)));
}

// The shape of the one-numeric-argument operators: nullish gives null, non-numbers 28765.
template <EvalResult (*F)(const Value&)>
EvalResult SingleNumeric(std::string_view op, Args& a) {
  if (IsNullish(a[0])) return Null();
  if (!a[0]->IsNumber()) return NotNumeric(op, a[0]);
  return F(*a[0]);
}

long double LongDouble(const Value& v) { return bson::ToLongDouble(v); }

// ---- $add, $subtract, $multiply, $divide, $mod ---------------------------------------------

// Accumulates $add's operands in the widest type seen so far, as MongoDB's AddState does:
// int64 sums overflow into doubles, the first double converts the integer sum, the first
// decimal converts whatever came before.
class AddState {
 public:
  void Add(const Value& operand) {
    Value v = operand;
    if (operand.type() == BsonType::kDate) {
      is_date_ = true;
      v = operand.AsDate().millis;
    } else {
      BsonType old = widest_;
      widest_ = WidestNumeric(widest_, operand.type());
      if (old != widest_) {
        if (widest_ == BsonType::kDouble) double_total_ = static_cast<double>(long_total_);
        if (widest_ == BsonType::kDecimal128) {
          decimal_total_ = old == BsonType::kDouble ? bson::DecimalFromLongDouble(double_total_)
                                                    : Value(Decimal128::FromString(std::to_string(long_total_)));
        }
      }
    }
    switch (widest_) {
      case BsonType::kInt32:
      case BsonType::kInt64: {
        int64_t r;
        if (__builtin_add_overflow(long_total_, CoerceToLong(v), &r)) {
          widest_ = BsonType::kDouble;
          double_total_ = static_cast<double>(long_total_) + ToDouble(v);
        } else {
          long_total_ = r;
        }
        break;
      }
      case BsonType::kDouble:
        double_total_ += ToDouble(v);
        break;
      default:
        decimal_total_ = bson::AddNumbers(decimal_total_, v);
        break;
    }
  }

  EvalResult Result() const {
    if (is_date_) {
      switch (widest_) {
        case BsonType::kInt32:
        case BsonType::kInt64: return Some(DateTime{long_total_});
        case BsonType::kDouble:
          if (!(double_total_ >= -0x1p63 && double_total_ < 0x1p63)) {
            return Err(kOverflow, "date overflow in $add");
          }
          return Some(DateTime{std::llround(double_total_)});
        default: return Some(DateTime{CoerceToLong(decimal_total_)});
      }
    }
    switch (widest_) {
      case BsonType::kInt32: return Some(IntOrLong(long_total_));
      case BsonType::kInt64: return Some(long_total_);
      case BsonType::kDouble: return Some(double_total_);
      default: return Some(decimal_total_);
    }
  }

 private:
  int64_t long_total_ = 0;
  double double_total_ = 0;
  Value decimal_total_ = Decimal128::FromString("0");
  BsonType widest_ = BsonType::kInt32;
  bool is_date_ = false;
};

EvalResult AddFn(Args& a, const Variables&) {
  AddState state;
  bool have_date = false;
  for (const auto& v : a) {
    if (IsNullish(v)) return Null();
    if (!v->IsNumber() && v->type() != BsonType::kDate) {
      return Err(kTypeMismatch, StrCat("$add only supports numeric or date types, not ", TypeName(v)));
    }
    if (v->type() == BsonType::kDate) {
      if (have_date) return Err(16612, "only one date allowed in an $add expression");
      have_date = true;
    }
    state.Add(*v);
  }
  return state.Result();
}

EvalResult SubtractFn(Args& a, const Variables&) {
  const std::optional<Value>& l = a[0];
  const std::optional<Value>& r = a[1];
  if (IsNumeric(l) && IsNumeric(r)) {
    BsonType t = WidestNumeric(l->type(), r->type());
    switch (t) {
      case BsonType::kDecimal128: return Some(bson::SubtractNumbers(*l, *r));
      case BsonType::kDouble: return Some(ToDouble(*l) - ToDouble(*r));
      case BsonType::kInt64: {
        int64_t out;
        if (__builtin_sub_overflow(l->ToInt64(), r->ToInt64(), &out)) {
          return Some(ToDouble(*l) - ToDouble(*r));
        }
        return Some(out);
      }
      default: return Some(IntOrLong(l->ToInt64() - r->ToInt64()));
    }
  }
  if (IsNullish(l) || IsNullish(r)) return Null();
  if (l->type() == BsonType::kDate) {
    if (r->type() == BsonType::kDate) return Some(int64_t{l->AsDate().millis - r->AsDate().millis});
    if (r->IsNumber()) return Some(DateTime{l->AsDate().millis - CoerceToLong(*r)});
    return Err(kTypeMismatch, StrCat("can't $subtract ", TypeName(r), " from Date"));
  }
  return Err(kTypeMismatch, StrCat("can't $subtract ", TypeName(r), " from ", TypeName(l)));
}

EvalResult MultiplyFn(Args& a, const Variables&) {
  double double_product = 1;
  int64_t long_product = 1;
  Value decimal_product;
  BsonType type = BsonType::kInt32;
  for (const auto& v : a) {
    if (IsNullish(v)) return Null();
    if (!v->IsNumber()) {
      return Err(kTypeMismatch, StrCat("$multiply only supports numeric types, not ", TypeName(v)));
    }
    BsonType old = type;
    type = WidestNumeric(type, v->type());
    if (type == BsonType::kDecimal128) {
      if (old != BsonType::kDecimal128) {
        decimal_product = old == BsonType::kDouble ? bson::DecimalFromLongDouble(double_product)
                                                   : Value(Decimal128::FromString(std::to_string(long_product)));
      }
      decimal_product = bson::MultiplyNumbers(decimal_product, *v);
      continue;
    }
    double d = ToDouble(*v);
    double_product *= d;
    if (type != BsonType::kDouble) {
      if (!std::isfinite(d) || __builtin_mul_overflow(long_product, CoerceToLong(*v), &long_product)) {
        type = BsonType::kDouble;
      }
    }
  }
  switch (type) {
    case BsonType::kDouble: return Some(double_product);
    case BsonType::kInt64: return Some(long_product);
    case BsonType::kInt32: return Some(IntOrLong(long_product));
    default: return Some(decimal_product);
  }
}

EvalResult DivideFn(Args& a, const Variables&) {
  const std::optional<Value>& l = a[0];
  const std::optional<Value>& r = a[1];
  if (IsNumeric(l) && IsNumeric(r)) {
    if (l->type() == BsonType::kDecimal128 || r->type() == BsonType::kDecimal128) {
      if (LongDouble(*r) == 0) return Err(kBadValue, "can't $divide by zero");
      return Some(bson::DivideNumbers(*l, *r));
    }
    double d = ToDouble(*r);
    if (d == 0) return Err(kBadValue, "can't $divide by zero");
    return Some(ToDouble(*l) / d);
  }
  if (IsNullish(l) || IsNullish(r)) return Null();
  return Err(kTypeMismatch, StrCat("$divide only supports numeric types, not ", TypeName(l), " and ",
                                   TypeName(r)));
}

EvalResult ModFn(Args& a, const Variables&) {
  const std::optional<Value>& l = a[0];
  const std::optional<Value>& r = a[1];
  if (IsNumeric(l) && IsNumeric(r)) {
    BsonType lt = l->type(), rt = r->type();
    if (lt == BsonType::kDecimal128 || rt == BsonType::kDecimal128) {
      long double y = LongDouble(*r);
      if (y == 0) return Err(16610, "can't $mod by zero");
      return Some(bson::DecimalFromLongDouble(std::fmod(LongDouble(*l), y)));
    }
    double y = ToDouble(*r);
    if (y == 0) return Err(16610, "can't $mod by zero");
    if (lt == BsonType::kDouble || (rt == BsonType::kDouble && y != std::trunc(y))) {
      return Some(std::fmod(ToDouble(*l), y));
    }
    int64_t x = CoerceToLong(*l), m = CoerceToLong(*r);
    int64_t out = m == -1 ? 0 : x % m;  // MongoDB's safeMod: x % -1 is 0 (no overflow)
    if (lt == BsonType::kInt64 || rt == BsonType::kInt64) return Some(out);
    return Some(static_cast<int32_t>(out));
  }
  if (IsNullish(l) || IsNullish(r)) return Null();
  return Err(16611, StrCat("$mod only supports numeric types, not ", TypeName(l), " and ", TypeName(r)));
}

// ---- $pow ----------------------------------------------------------------------------------

bool RepresentableAsLong(int64_t base, int64_t exp) {
  // The largest |base| for each exponent 0..63 whose power fits int64 (MongoDB's table).
  static const std::pair<int64_t, int64_t> kLimits[] = {
      {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()},
      {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()},
      {-3037000499LL, 3037000499LL}, {-2097152, 2097151}, {-55108, 55108}, {-6208, 6208},
      {-1448, 1448}, {-512, 511}, {-234, 234}, {-128, 127}, {-78, 78}, {-52, 52}, {-38, 38},
      {-28, 28}, {-22, 22}, {-18, 18}, {-15, 15}, {-13, 13}, {-11, 11}, {-9, 9}, {-8, 8},
      {-8, 7}, {-7, 7}, {-6, 6}, {-6, 6}, {-5, 5}, {-5, 5}, {-5, 5}, {-4, 4}, {-4, 4}, {-4, 4},
      {-4, 4}, {-3, 3}, {-3, 3}, {-3, 3}, {-3, 3}, {-3, 3}, {-3, 3}, {-3, 3}, {-3, 3}, {-2, 2},
      {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2},
      {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2}, {-2, 2},
      {-2, 2}, {-2, 2}, {-2, 1}};
  return base >= kLimits[exp].first && base <= kLimits[exp].second;
}

EvalResult PowFn(Args& a, const Variables&) {
  const std::optional<Value>& b = a[0];
  const std::optional<Value>& e = a[1];
  if (IsNullish(b) || IsNullish(e)) return Null();
  if (!b->IsNumber()) return Err(28762, StrCat("$pow's base must be numeric, not ", TypeName(b)));
  if (!e->IsNumber()) return Err(28763, StrCat("$pow's exponent must be numeric, not ", TypeName(e)));
  BsonType bt = b->type(), et = e->type();
  if (bt == BsonType::kDecimal128 || et == BsonType::kDecimal128) {
    long double x = LongDouble(*b), y = LongDouble(*e);
    if (x == 0 && y < 0) return Err(28764, "$pow cannot take a base of 0 and a negative exponent");
    return Some(bson::DecimalFromLongDouble(std::pow(x, y)));
  }
  double x = ToDouble(*b), y = ToDouble(*e);
  if (x == 0 && y < 0) return Err(28764, "$pow cannot take a base of 0 and a negative exponent");
  if (bt == BsonType::kDouble || et == BsonType::kDouble) return Some(std::pow(x, y));
  bool as_long = bt == BsonType::kInt64 || et == BsonType::kInt64;
  auto format = [&](int64_t r) { return as_long ? Some(Value(r)) : Some(IntOrLong(r)); };
  int64_t base = b->ToInt64(), exp = e->ToInt64();
  if (base == 0) return format(exp == 0 ? 1 : 0);
  if (base == 1) return format(1);
  if (base == -1) return format(exp % 2 == 0 ? 1 : -1);
  if (exp > 63 || exp < 0 || !RepresentableAsLong(base, exp)) {
    return Some(std::pow(static_cast<double>(base), static_cast<double>(exp)));
  }
  int64_t result = 1;
  while (exp > 1) {
    if (exp % 2 == 1) {
      result *= base;
      --exp;
    }
    base *= base;
    exp /= 2;
  }
  if (exp == 1) result *= base;
  return format(result);
}

// ---- One-argument functions ------------------------------------------------------------------

EvalResult AbsOf(const Value& v) {
  switch (v.type()) {
    case BsonType::kDouble: return Some(std::fabs(v.AsDouble()));
    case BsonType::kDecimal128: {
      bson::DecimalParts d = bson::DecimalPartsOf(v);
      d.negative = false;
      return Some(bson::DecimalValue(d));
    }
    case BsonType::kInt64:
      if (v.AsInt64() == std::numeric_limits<int64_t>::min()) {
        return Err(28680, "can't take $abs of long long min");
      }
      return Some(v.AsInt64() < 0 ? -v.AsInt64() : v.AsInt64());
    default: {
      int64_t n = v.AsInt32();
      return Some(IntOrLong(n < 0 ? -n : n));
    }
  }
}

template <RoundMode kMode, double (*F)(double)>
EvalResult RoundToInteger(const Value& v) {
  switch (v.type()) {
    case BsonType::kDouble: return Some(F(v.AsDouble()));
    case BsonType::kDecimal128: {
      auto q = QuantizeDecimal(bson::DecimalPartsOf(v), 0, kMode);
      if (!q) return Some(v);
      return Some(bson::DecimalValue(*q));
    }
    default: return Some(v);  // integers are unchanged
  }
}

double Ceil(double d) { return std::ceil(d); }
double Floor(double d) { return std::floor(d); }

EvalResult ExpOf(const Value& v) {
  if (v.type() == BsonType::kDecimal128) return Some(bson::DecimalFromLongDouble(std::exp(LongDouble(v))));
  return Some(std::exp(ToDouble(v)));
}

EvalResult LnOf(const Value& v) {
  if (v.type() == BsonType::kDecimal128 && LongDouble(v) > 0) {
    return Some(bson::DecimalFromLongDouble(std::log(LongDouble(v))));
  }
  double d = ToDouble(v);
  if (!(d > 0 || std::isnan(d))) {
    return Err(28766, StrCat("$ln's argument must be a positive number, but is ", FormatDouble(d)));
  }
  return Some(std::log(d));
}

EvalResult Log10Of(const Value& v) {
  if (v.type() == BsonType::kDecimal128 && LongDouble(v) > 0) {
    return Some(bson::DecimalFromLongDouble(std::log10(LongDouble(v))));
  }
  double d = ToDouble(v);
  if (!(d > 0 || std::isnan(d))) {
    return Err(28761, StrCat("$log10's argument must be a positive number, but is ", FormatDouble(d)));
  }
  return Some(std::log10(d));
}

EvalResult SqrtOf(const Value& v) {
  if (v.type() == BsonType::kDecimal128) {
    long double d = LongDouble(v);
    if (d < 0) return Err(28714, "$sqrt's argument must be greater than or equal to 0");
    return Some(bson::DecimalFromLongDouble(std::sqrt(d)));
  }
  double d = ToDouble(v);
  if (d < 0) return Err(28714, "$sqrt's argument must be greater than or equal to 0");
  return Some(std::sqrt(d));
}

EvalResult LogFn(Args& a, const Variables&) {
  if (IsNullish(a[0]) || IsNullish(a[1])) return Null();
  if (!a[0]->IsNumber()) return Err(28756, StrCat("$log's argument must be numeric, not ", TypeName(a[0])));
  if (!a[1]->IsNumber()) return Err(28757, StrCat("$log's base must be numeric, not ", TypeName(a[1])));
  long double x = LongDouble(*a[0]), b = LongDouble(*a[1]);
  if (a[0]->type() == BsonType::kDecimal128 || a[1]->type() == BsonType::kDecimal128) {
    if (x > 0 && b > 0 && b != 1) return Some(bson::DecimalFromLongDouble(std::log(x) / std::log(b)));
  }
  double xd = static_cast<double>(x), bd = static_cast<double>(b);
  if (!(xd > 0 || std::isnan(xd))) {
    return Err(28758, StrCat("$log's argument must be a positive number, but is ", FormatDouble(xd)));
  }
  if (!((bd > 0 && bd != 1) || std::isnan(bd))) {
    return Err(28759, StrCat("$log's base must be a positive number not equal to 1, but is ",
                             FormatDouble(bd)));
  }
  return Some(std::log(xd) / std::log(bd));
}

// ---- $round and $trunc ----------------------------------------------------------------------

template <RoundMode kMode>
EvalResult RoundOrTrunc(std::string_view op, Args& a) {
  if (IsNullish(a[0])) return Null();
  if (!a[0]->IsNumber()) {
    return Err(51081, StrCat(op, " only supports numeric types, not ", TypeName(a[0])));
  }
  int64_t places = 0;
  if (a.size() > 1) {
    if (IsNullish(a[1])) return Null();
    auto p = Integral64(a[1]);
    if (!p) return Err(51082, StrCat("precision argument to  ", op, " must be a integral value"));
    if (*p < -20 || *p > 100) {
      return Err(51083, StrCat("cannot apply ", op, " with precision value ", *p,
                               " value must be in [-20, 100]"));
    }
    places = *p;
  }
  const Value& v = *a[0];
  int32_t exponent = static_cast<int32_t>(-places);
  switch (v.type()) {
    case BsonType::kDecimal128: {
      auto q = QuantizeDecimal(bson::DecimalPartsOf(v), exponent, kMode);
      if (!q) return Some(v);
      return Some(bson::DecimalValue(*q));
    }
    case BsonType::kDouble: {
      double d = v.AsDouble();
      if (!std::isfinite(d)) return Some(v);
      // Rounded as MongoDB does: through the double's 34-digit decimal representation.
      auto q = QuantizeDecimal(bson::DecimalFromDouble(d, 34), exponent, kMode);
      if (!q) return Some(v);
      return Some(static_cast<double>(bson::ToLongDouble(bson::DecimalValue(*q))));
    }
    default: {
      if (places >= 0) return Some(v);
      auto q = QuantizeDecimal(bson::DecimalFromInt64(v.ToInt64()), exponent, kMode);
      if (!q) return Err(51080, StrCat("invalid conversion from Decimal128 result in ", op));
      long double r = bson::ToLongDouble(bson::DecimalValue(*q));
      if (r < -0x1p63L || r >= 0x1p63L) return Err(51080, StrCat("invalid conversion from Decimal128 result in ", op));
      int64_t n = static_cast<int64_t>(r);
      if (v.type() == BsonType::kInt64 || n > std::numeric_limits<int32_t>::max() ||
          n < std::numeric_limits<int32_t>::min()) {
        return Some(n);
      }
      return Some(static_cast<int32_t>(n));
    }
  }
}

}  // namespace

void RegisterArithmetic(OperatorTable* t) {
  t->AddNary("$add", 0, -1, &AddFn);
  t->AddNary("$subtract", 2, 2, &SubtractFn);
  t->AddNary("$multiply", 0, -1, &MultiplyFn);
  t->AddNary("$divide", 2, 2, &DivideFn);
  t->AddNary("$mod", 2, 2, &ModFn);
  t->AddNary("$pow", 2, 2, &PowFn);
  t->AddNary("$log", 2, 2, &LogFn);
  t->AddNary("$abs", 1, 1, [](Args& a, const Variables&) { return SingleNumeric<&AbsOf>("$abs", a); });
  t->AddNary("$ceil", 1, 1, [](Args& a, const Variables&) {
    return SingleNumeric<&RoundToInteger<RoundMode::kUp, &Ceil>>("$ceil", a);
  });
  t->AddNary("$floor", 1, 1, [](Args& a, const Variables&) {
    return SingleNumeric<&RoundToInteger<RoundMode::kDown, &Floor>>("$floor", a);
  });
  t->AddNary("$exp", 1, 1, [](Args& a, const Variables&) { return SingleNumeric<&ExpOf>("$exp", a); });
  t->AddNary("$ln", 1, 1, [](Args& a, const Variables&) { return SingleNumeric<&LnOf>("$ln", a); });
  t->AddNary("$log10", 1, 1, [](Args& a, const Variables&) { return SingleNumeric<&Log10Of>("$log10", a); });
  t->AddNary("$sqrt", 1, 1, [](Args& a, const Variables&) { return SingleNumeric<&SqrtOf>("$sqrt", a); });
  t->AddNary("$round", 1, 2, [](Args& a, const Variables&) {
    return RoundOrTrunc<RoundMode::kHalfEven>("$round", a);
  });
  t->AddNary("$trunc", 1, 2, [](Args& a, const Variables&) {
    return RoundOrTrunc<RoundMode::kTowardZero>("$trunc", a);
  });
}

}  // namespace micromongo::pipeline::internal
