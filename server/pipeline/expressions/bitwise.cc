// Bitwise operators: $bitAnd $bitOr $bitXor $bitNot, on ints and longs (the result is a long
// if any operand is one); null and missing give null.

#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {
namespace {

bool IsIntegerType(const Value& v) { return v.type() == BsonType::kInt32 || v.type() == BsonType::kInt64; }

template <int64_t kIdentity, int64_t (*Op)(int64_t, int64_t)>
EvalResult BitFn(std::string_view op, Args& a) {
  int64_t acc = kIdentity;
  bool is_long = false;
  for (const auto& v : a) {
    if (IsNullish(v)) return Null();
    if (!IsIntegerType(*v)) {
      return Err(kTypeMismatch, StrCat("All operands of ", op, " must be ints or longs, but got ", TypeName(v)));
    }
    is_long = is_long || v->type() == BsonType::kInt64;
    acc = Op(acc, v->ToInt64());
  }
  if (is_long) return Some(acc);
  return Some(static_cast<int32_t>(acc));
}

int64_t And(int64_t a, int64_t b) { return a & b; }
int64_t Or(int64_t a, int64_t b) { return a | b; }
int64_t Xor(int64_t a, int64_t b) { return a ^ b; }

EvalResult BitNotFn(Args& a, const Variables&) {
  if (IsNullish(a[0])) return Null();
  if (a[0]->type() == BsonType::kInt32) return Some(~a[0]->AsInt32());
  if (a[0]->type() == BsonType::kInt64) return Some(~a[0]->AsInt64());
  return Err(kTypeMismatch, StrCat("$bitNot only supports int and long, not: ", TypeName(a[0])));
}

}  // namespace

void RegisterBitwise(OperatorTable* t) {
  t->AddNary("$bitAnd", 0, -1, [](Args& a, const Variables&) { return BitFn<-1, &And>("$bitAnd", a); });
  t->AddNary("$bitOr", 0, -1, [](Args& a, const Variables&) { return BitFn<0, &Or>("$bitOr", a); });
  t->AddNary("$bitXor", 0, -1, [](Args& a, const Variables&) { return BitFn<0, &Xor>("$bitXor", a); });
  t->AddNary("$bitNot", 1, 1, &BitNotFn);
}

}  // namespace micromongo::pipeline::internal
