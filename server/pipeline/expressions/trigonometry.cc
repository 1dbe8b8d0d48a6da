// Trigonometric operators: $sin $cos $tan $asin $acos $atan $atan2 $asinh $acosh $atanh
// $sinh $cosh $tanh $degreesToRadians $radiansToDegrees. Numbers give doubles, decimals give
// decimals; null and missing give null; inputs outside an operator's domain fail with 50989.

#include <cmath>
#include <limits>

#include "document/value_ops.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {
namespace {

constexpr long double kInf = std::numeric_limits<long double>::infinity();

struct Domain {
  long double low, high;
  bool low_inclusive, high_inclusive;
  const char* text;  // as MongoDB prints it in the error
};

constexpr Domain kAll{-kInf, kInf, false, false, "(-inf,inf)"};
constexpr Domain kUnit{-1, 1, true, true, "[-1,1]"};
constexpr Domain kAtLeastOne{1, kInf, true, false, "[1,inf)"};

bool InDomain(long double x, const Domain& d) {
  if (std::isnan(x)) return true;
  bool low_ok = d.low_inclusive ? x >= d.low : x > d.low;
  bool high_ok = d.high_inclusive ? x <= d.high : x < d.high;
  return low_ok && high_ok;
}

template <long double (*F)(long double)>
EvalResult Trig(std::string_view op, const Domain* domain, Args& a) {
  if (IsNullish(a[0])) return Null();
  if (!a[0]->IsNumber()) {
    return Err(28765, StrCat(op, " only supports numeric types, not ", TypeName(a[0])));
  }
  long double x = bson::ToLongDouble(*a[0]);
  if (domain != nullptr && !InDomain(x, *domain)) {
    return Err(50989, StrCat("cannot apply ", op, " to ", FormatDouble(static_cast<double>(x)),
                             ", value must in ", domain->text));
  }
  long double r = F(x);
  if (a[0]->type() == BsonType::kDecimal128) return Some(bson::DecimalFromLongDouble(r));
  return Some(static_cast<double>(r));
}

long double Sin(long double x) { return std::sin(x); }
long double Cos(long double x) { return std::cos(x); }
long double Tan(long double x) { return std::tan(x); }
long double Asin(long double x) { return std::asin(x); }
long double Acos(long double x) { return std::acos(x); }
long double Atan(long double x) { return std::atan(x); }
long double Asinh(long double x) { return std::asinh(x); }
long double Acosh(long double x) { return std::acosh(x); }
long double Atanh(long double x) { return std::atanh(x); }
long double Sinh(long double x) { return std::sinh(x); }
long double Cosh(long double x) { return std::cosh(x); }
long double Tanh(long double x) { return std::tanh(x); }
constexpr long double kPi = 3.141592653589793238462643383279502884L;
long double ToRadians(long double x) { return x * kPi / 180; }
long double ToDegrees(long double x) { return x * 180 / kPi; }

EvalResult Atan2Fn(Args& a, const Variables&) {
  if (IsNullish(a[0]) || IsNullish(a[1])) return Null();
  if (!a[0]->IsNumber() || !a[1]->IsNumber()) {
    return Err(51044, StrCat("$atan2 only supports numeric types, not ", TypeName(a[0]), " and ",
                             TypeName(a[1])));
  }
  long double r = std::atan2(bson::ToLongDouble(*a[0]), bson::ToLongDouble(*a[1]));
  if (a[0]->type() == BsonType::kDecimal128 || a[1]->type() == BsonType::kDecimal128) {
    return Some(bson::DecimalFromLongDouble(r));
  }
  return Some(static_cast<double>(r));
}

}  // namespace

void RegisterTrigonometry(OperatorTable* t) {
  t->AddNary("$sin", 1, 1, [](Args& a, const Variables&) { return Trig<&Sin>("$sin", &kAll, a); });
  t->AddNary("$cos", 1, 1, [](Args& a, const Variables&) { return Trig<&Cos>("$cos", &kAll, a); });
  t->AddNary("$tan", 1, 1, [](Args& a, const Variables&) { return Trig<&Tan>("$tan", &kAll, a); });
  t->AddNary("$asin", 1, 1, [](Args& a, const Variables&) { return Trig<&Asin>("$asin", &kUnit, a); });
  t->AddNary("$acos", 1, 1, [](Args& a, const Variables&) { return Trig<&Acos>("$acos", &kUnit, a); });
  t->AddNary("$atan", 1, 1, [](Args& a, const Variables&) { return Trig<&Atan>("$atan", nullptr, a); });
  t->AddNary("$asinh", 1, 1, [](Args& a, const Variables&) { return Trig<&Asinh>("$asinh", nullptr, a); });
  t->AddNary("$acosh", 1, 1, [](Args& a, const Variables&) {
    return Trig<&Acosh>("$acosh", &kAtLeastOne, a);
  });
  t->AddNary("$atanh", 1, 1, [](Args& a, const Variables&) { return Trig<&Atanh>("$atanh", &kUnit, a); });
  t->AddNary("$sinh", 1, 1, [](Args& a, const Variables&) { return Trig<&Sinh>("$sinh", nullptr, a); });
  t->AddNary("$cosh", 1, 1, [](Args& a, const Variables&) { return Trig<&Cosh>("$cosh", nullptr, a); });
  t->AddNary("$tanh", 1, 1, [](Args& a, const Variables&) { return Trig<&Tanh>("$tanh", nullptr, a); });
  t->AddNary("$degreesToRadians", 1, 1, [](Args& a, const Variables&) {
    return Trig<&ToRadians>("$degreesToRadians", nullptr, a);
  });
  t->AddNary("$radiansToDegrees", 1, 1, [](Args& a, const Variables&) {
    return Trig<&ToDegrees>("$radiansToDegrees", nullptr, a);
  });
  t->AddNary("$atan2", 2, 2, &Atan2Fn);
}

}  // namespace micromongo::pipeline::internal
