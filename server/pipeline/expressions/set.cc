// Set operators: $allElementsTrue $anyElementTrue $setDifference $setEquals $setIntersection
// $setIsSubset $setUnion. Arrays are sets of values equal under MongoDB's comparison (and
// the request's collation); $setUnion and $setIntersection return their results in
// MongoDB's sort order, as its ordered value sets do; $setDifference keeps the first
// operand's order.

#include <algorithm>

#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {
namespace {

// Sorted and deduplicated copy of an array.
Array ToSet(const Array& a, const bson::Collator* collator) {
  Array out = a;
  std::stable_sort(out.begin(), out.end(),
                   [&](const Value& x, const Value& y) { return Compare(x, y, collator) < 0; });
  out.erase(std::unique(out.begin(), out.end(),
                        [&](const Value& x, const Value& y) { return Compare(x, y, collator) == 0; }),
            out.end());
  return out;
}

bool SetContains(const Array& sorted, const Value& v, const bson::Collator* collator) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), v,
                             [&](const Value& x, const Value& y) { return Compare(x, y, collator) < 0; });
  return it != sorted.end() && Compare(*it, v, collator) == 0;
}

EvalResult AllElementsTrueFn(Args& a, const Variables&) {
  if (!a[0] || a[0]->type() != BsonType::kArray) {
    return Err(17040, StrCat("$allElementsTrue's argument must be an array, but is ", TypeName(a[0])));
  }
  for (const Value& e : a[0]->AsArray()) {
    if (!IsTrue(e)) return Some(false);
  }
  return Some(true);
}

EvalResult AnyElementTrueFn(Args& a, const Variables&) {
  if (!a[0] || a[0]->type() != BsonType::kArray) {
    return Err(17041, StrCat("$anyElementTrue's argument must be an array, but is ", TypeName(a[0])));
  }
  for (const Value& e : a[0]->AsArray()) {
    if (IsTrue(e)) return Some(true);
  }
  return Some(false);
}

EvalResult SetDifferenceFn(Args& a, const Variables& vars) {
  if (IsNullish(a[0]) || IsNullish(a[1])) return Null();
  if (a[0]->type() != BsonType::kArray) {
    return Err(17048, StrCat("both operands of $setDifference must be arrays. First argument is of type: ",
                             TypeName(a[0])));
  }
  if (a[1]->type() != BsonType::kArray) {
    return Err(17049, StrCat("both operands of $setDifference must be arrays. Second argument is of type: ",
                             TypeName(a[1])));
  }
  Array excluded = ToSet(a[1]->AsArray(), vars.collator);
  Array out;
  for (const Value& e : a[0]->AsArray()) {
    if (SetContains(excluded, e, vars.collator)) continue;
    bool seen = false;
    for (const Value& o : out) seen = seen || Compare(o, e, vars.collator) == 0;
    if (!seen) out.push_back(e);
  }
  return Some(std::move(out));
}

EvalResult SetEqualsFn(Args& a, const Variables& vars) {
  Array first;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i] || a[i]->type() != BsonType::kArray) {
      return Err(17044, StrCat("All operands of $setEquals must be arrays. ", i + 1,
                               "-th argument is of type: ", TypeName(a[i])));
    }
    Array set = ToSet(a[i]->AsArray(), vars.collator);
    if (i == 0) {
      first = std::move(set);
      continue;
    }
    if (set.size() != first.size()) return Some(false);
    for (size_t k = 0; k < set.size(); ++k) {
      if (Compare(set[k], first[k], vars.collator) != 0) return Some(false);
    }
  }
  return Some(true);
}

EvalResult SetIntersectionFn(Args& a, const Variables& vars) {
  Array current;
  for (size_t i = 0; i < a.size(); ++i) {
    if (IsNullish(a[i])) return Null();
    if (a[i]->type() != BsonType::kArray) {
      return Err(17047, StrCat("All operands of $setIntersection must be arrays. One argument is of type: ",
                               TypeName(a[i])));
    }
    Array set = ToSet(a[i]->AsArray(), vars.collator);
    if (i == 0) {
      current = std::move(set);
      continue;
    }
    Array kept;
    for (const Value& v : current) {
      if (SetContains(set, v, vars.collator)) kept.push_back(v);
    }
    current = std::move(kept);
  }
  return Some(std::move(current));
}

EvalResult SetIsSubsetFn(Args& a, const Variables& vars) {
  if (!a[0] || a[0]->type() != BsonType::kArray) {
    return Err(17046, StrCat("both operands of $setIsSubset must be arrays. First argument is of type: ",
                             TypeName(a[0])));
  }
  if (!a[1] || a[1]->type() != BsonType::kArray) {
    return Err(17042, StrCat("both operands of $setIsSubset must be arrays. Second argument is of type: ",
                             TypeName(a[1])));
  }
  Array super = ToSet(a[1]->AsArray(), vars.collator);
  for (const Value& e : a[0]->AsArray()) {
    if (!SetContains(super, e, vars.collator)) return Some(false);
  }
  return Some(true);
}

EvalResult SetUnionFn(Args& a, const Variables& vars) {
  Array all;
  for (const auto& v : a) {
    if (IsNullish(v)) return Null();
    if (v->type() != BsonType::kArray) {
      return Err(17043, StrCat("All operands of $setUnion must be arrays. One argument is of type: ",
                               TypeName(v)));
    }
    all.insert(all.end(), v->AsArray().begin(), v->AsArray().end());
  }
  return Some(ToSet(all, vars.collator));
}

absl::StatusOr<ExprPtr> ParseSetEquals(std::string_view, const Value& arg, const ParseContext& context) {
  MM_ASSIGN(args, ParseArgs(arg, context));
  if (args.size() < 2) {
    return Err(17045, StrCat("$setEquals needs at least two arguments had: ", args.size()));
  }
  return MakeNary(std::move(args), &SetEqualsFn, context);
}

}  // namespace

void RegisterSet(OperatorTable* t) {
  t->AddNary("$allElementsTrue", 1, 1, &AllElementsTrueFn);
  t->AddNary("$anyElementTrue", 1, 1, &AnyElementTrueFn);
  t->AddNary("$setDifference", 2, 2, &SetDifferenceFn);
  t->Add("$setEquals", &ParseSetEquals);
  t->AddNary("$setIntersection", 0, -1, &SetIntersectionFn);
  t->AddNary("$setIsSubset", 2, 2, &SetIsSubsetFn);
  t->AddNary("$setUnion", 0, -1, &SetUnionFn);
}

}  // namespace micromongo::pipeline::internal
