// Array operators: $arrayElemAt $concatArrays $filter $first $firstN $in $indexOfArray
// $isArray $last $lastN $map $maxN $minN $range $reduce $reverseArray $size $slice
// $sortArray $zip. ($arrayToObject and $objectToArray are in object.cc.)

#include <algorithm>
#include <cmath>

#include "document/value_ops.h"
#include "pipeline/expressions/internal.h"
#include "pipeline/sort_pattern.h"

namespace micromongo::pipeline::internal {
namespace {

EvalResult ElemAt(std::string_view op, bool single_arg, const std::optional<Value>& array,
                  const std::optional<Value>& index) {
  if (IsNullish(array) || IsNullish(index)) return Null();
  if (array->type() != BsonType::kArray) {
    return Err(28689, StrCat(op, "'s ", single_arg ? "argument" : "first argument",
                             " must be an array, but is ", TypeName(array)));
  }
  if (!index->IsNumber()) {
    return Err(28690, StrCat(op, "'s second argument must be a numeric value, but is ", TypeName(index)));
  }
  auto i = Integral32(index);
  if (!i) {
    return Err(28691, StrCat(op, "'s second argument must be representable as a 32-bit integer: ",
                             FormatDouble(ToDouble(*index))));
  }
  const Array& arr = array->AsArray();
  int64_t n = static_cast<int64_t>(arr.size());
  int64_t k = *i < 0 ? n + *i : *i;
  if (k < 0 || k >= n) return Missing();
  return Some(arr[static_cast<size_t>(k)]);
}

EvalResult ArrayElemAtFn(Args& a, const Variables&) { return ElemAt("$arrayElemAt", false, a[0], a[1]); }
EvalResult FirstFn(Args& a, const Variables&) { return ElemAt("$first", true, a[0], Value(0)); }
EvalResult LastFn(Args& a, const Variables&) { return ElemAt("$last", true, a[0], Value(-1)); }

EvalResult ConcatArraysFn(Args& a, const Variables&) {
  Array out;
  for (const auto& v : a) {
    if (IsNullish(v)) return Null();
    if (v->type() != BsonType::kArray) {
      return Err(28664, StrCat("$concatArrays only supports arrays, not ", TypeName(v)));
    }
    out.insert(out.end(), v->AsArray().begin(), v->AsArray().end());
  }
  return Some(std::move(out));
}

EvalResult InFn(Args& a, const Variables& vars) {
  if (!a[1] || a[1]->type() != BsonType::kArray) {
    return Err(40081, StrCat("$in requires an array as a second argument, found: ", TypeName(a[1])));
  }
  for (const Value& e : a[1]->AsArray()) {
    if (CompareOptional(a[0], e, vars.collator) == 0) return Some(true);
  }
  return Some(false);
}

absl::StatusOr<int64_t> ArrayIndexArg(const std::optional<Value>& v, std::string_view what) {
  auto n = Integral32(v);
  if (!n) {
    return Err(40096, StrCat("$indexOfArrayrequires an integral ", what, ", found a value of type: ",
                             TypeName(v), ", with value: ", v ? v->ToJson() : "missing"));
  }
  if (*n < 0) return Err(40097, StrCat("$indexOfArray requires a nonnegative ", what, ", found: ", *n));
  return *n;
}

EvalResult IndexOfArrayFn(Args& a, const Variables& vars) {
  if (IsNullish(a[0])) return Null();
  if (a[0]->type() != BsonType::kArray) {
    return Err(40090, StrCat("$indexOfArray requires an array as a first argument, found: ", TypeName(a[0])));
  }
  const Array& arr = a[0]->AsArray();
  int64_t start = 0, end = static_cast<int64_t>(arr.size());
  if (a.size() > 2) {
    MM_ASSIGN(n, ArrayIndexArg(a[2], "starting index"));
    start = n;
  }
  if (a.size() > 3) {
    MM_ASSIGN(n, ArrayIndexArg(a[3], "ending index"));
    end = std::min(end, n);
  }
  for (int64_t i = start; i < end; ++i) {
    if (CompareOptional(arr[static_cast<size_t>(i)], a[1], vars.collator) == 0) {
      return Some(static_cast<int32_t>(i));
    }
  }
  return Some(-1);
}

EvalResult IsArrayFn(Args& a, const Variables&) { return Some(a[0] && a[0]->type() == BsonType::kArray); }

EvalResult SizeFn(Args& a, const Variables&) {
  if (!a[0] || a[0]->type() != BsonType::kArray) {
    return Err(17124, StrCat("The argument to $size must be an array, but was of type: ", TypeName(a[0])));
  }
  return Some(IntOrLong(static_cast<int64_t>(a[0]->AsArray().size())));
}

EvalResult ReverseArrayFn(Args& a, const Variables&) {
  if (IsNullish(a[0])) return Null();
  if (a[0]->type() != BsonType::kArray) {
    return Err(34435, StrCat("The argument to $reverseArray must be an array, but was of type: ",
                             TypeName(a[0])));
  }
  Array out(a[0]->AsArray().rbegin(), a[0]->AsArray().rend());
  return Some(std::move(out));
}

EvalResult SliceFn(Args& a, const Variables&) {
  if (IsNullish(a[0]) || IsNullish(a[1])) return Null();
  if (a[0]->type() != BsonType::kArray) {
    return Err(28724, StrCat("First argument to $slice must be an array, but is of type: ", TypeName(a[0])));
  }
  if (!a[1]->IsNumber()) {
    return Err(28725, StrCat("Second argument to $slice must be a numeric value, but is of type: ",
                             TypeName(a[1])));
  }
  auto second = Integral32(a[1]);
  if (!second) {
    return Err(28726, StrCat("Second argument to $slice can't be represented as a 32-bit integer: ",
                             FormatDouble(ToDouble(*a[1]))));
  }
  const Array& arr = a[0]->AsArray();
  int64_t n = static_cast<int64_t>(arr.size());
  int64_t start = 0, end = n;
  if (a.size() == 2) {
    if (*second >= 0) {
      end = std::min<int64_t>(n, *second);
    } else {
      start = std::max<int64_t>(0, n + *second);
    }
  } else {
    start = *second < 0 ? std::max<int64_t>(0, n + *second) : std::min<int64_t>(n, *second);
    if (IsNullish(a[2])) return Null();
    if (!a[2]->IsNumber()) {
      return Err(28727, StrCat("Third argument to $slice must be numeric, but is of type: ", TypeName(a[2])));
    }
    auto count = Integral32(a[2]);
    if (!count) {
      return Err(28728, StrCat("Third argument to $slice can't be represented as a 32-bit integer: ",
                               FormatDouble(ToDouble(*a[2]))));
    }
    if (*count <= 0) return Err(28729, StrCat("Third argument to $slice must be positive: ", *count));
    end = std::min<int64_t>(start + *count, n);
  }
  return Some(Array(arr.begin() + start, arr.begin() + std::max(start, end)));
}

EvalResult RangeFn(Args& a, const Variables&) {
  if (!IsNumeric(a[0])) {
    return Err(34443, StrCat("$range requires a numeric starting value, found value of type: ", TypeName(a[0])));
  }
  auto start = Integral32(a[0]);
  if (!start) {
    return Err(34444, StrCat("$range requires a starting value that can be represented as a 32-bit "
                             "integer, found value: ", a[0]->ToJson()));
  }
  if (!IsNumeric(a[1])) {
    return Err(34445, StrCat("$range requires a numeric ending value, found value of type: ", TypeName(a[1])));
  }
  auto end = Integral32(a[1]);
  if (!end) {
    return Err(34446, StrCat("$range requires an ending value that can be represented as a 32-bit "
                             "integer, found value: ", a[1]->ToJson()));
  }
  int64_t step = 1;
  if (a.size() == 3) {
    if (!IsNumeric(a[2])) {
      return Err(34447, StrCat("$range requires a numeric step value, found value of type:", TypeName(a[2])));
    }
    auto s = Integral32(a[2]);
    if (!s) {
      return Err(34448, StrCat("$range requires a step value that can be represented as a 32-bit "
                               "integer, found value: ", a[2]->ToJson()));
    }
    if (*s == 0) return Err(34449, "$range requires a non-zero step value");
    step = *s;
  }
  int64_t steps = (int64_t{*end} - *start) / step;
  int64_t length = steps >= 0 ? 1 + steps : 0;
  // MongoDB's internalQueryMaxRangeBytes (64 MiB), at its approximate size per int element.
  constexpr int64_t kLimit = 64 * 1024 * 1024;
  int64_t needed = 24 + length * 16;
  if (needed >= kLimit) {
    return Err(kExceededMemoryLimit, StrCat("$range would use too much memory (", needed,
                                            " bytes) and cannot spill to disk. Memory limit: ",
                                            kLimit, " bytes"));
  }
  Array out;
  out.reserve(static_cast<size_t>(std::max<int64_t>(0, length)));
  for (int64_t i = *start; step > 0 ? i < *end : i > *end; i += step) {
    out.push_back(static_cast<int32_t>(i));
  }
  return Some(std::move(out));
}

// ---- $map, $filter, $reduce ----------------------------------------------------------------

struct MapState {
  bool filter;
  std::string var;
  ExprPtr input, body, limit;
};

EvalResult EvalMap(const MapState& s, const Variables& vars) {
  MM_EVAL(input, s.input, vars);
  if (IsNullish(input)) return Null();
  if (input->type() != BsonType::kArray) {
    return Err(s.filter ? 28651 : 16883, StrCat("input to ", s.filter ? "$filter" : "$map",
                                                " must be an array not ", TypeName(input)));
  }
  const Array& arr = input->AsArray();
  if (arr.empty()) return input;
  std::optional<int64_t> limit;
  if (s.limit) {
    MM_EVAL(l, s.limit, vars);
    if (!IsNullish(l)) {
      auto n = Integral32(l);
      if (!n) {
        return Err(327391, StrCat("$filter: limit must be represented as a 32-bit integral value: ",
                                  l->ToJson()));
      }
      if (*n <= 0) return Err(327392, StrCat("$filter: limit must be greater than 0: ", l->ToJson()));
      limit = *n;
    }
  }
  Array out;
  out.reserve(arr.size());
  for (const Value& e : arr) {
    Binding b{s.var, &e, vars.bound};
    Variables inner = vars;
    inner.bound = &b;
    MM_EVAL(r, s.body, inner);
    if (!s.filter) {
      out.push_back(r ? *std::move(r) : Value(nullptr));
    } else if (IsTrue(r)) {
      out.push_back(e);
      if (limit && static_cast<int64_t>(out.size()) >= *limit) break;
    }
  }
  return SomeNested(Value(std::move(out)));
}

absl::StatusOr<ExprPtr> ParseMapOrFilter(std::string_view name, const Value& arg,
                                         const ParseContext& context) {
  bool filter = name == "$filter";
  if (arg.type() != BsonType::kDocument) {
    return Err(filter ? 28646 : 16878, StrCat(name, " only supports an object as its argument"));
  }
  MapState s;
  s.filter = filter;
  const Value* input = nullptr;
  const Value* as = nullptr;
  const Value* body = nullptr;
  const Value* limit = nullptr;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "input") {
      input = &v;
    } else if (k == "as") {
      as = &v;
    } else if (k == (filter ? "cond" : "in")) {
      body = &v;
    } else if (filter && k == "limit") {
      limit = &v;
    } else {
      return Err(filter ? 28647 : 16879, StrCat("Unrecognized parameter to ", name, ": ", k));
    }
  }
  if (input == nullptr) return Err(filter ? 28648 : 16880, StrCat("Missing 'input' parameter to ", name));
  if (body == nullptr) {
    return Err(filter ? 28650 : 16882,
               StrCat("Missing '", filter ? "cond" : "in", "' parameter to ", name));
  }
  s.var = "this";
  if (as != nullptr) s.var = as->type() == BsonType::kString ? as->AsString() : std::string();
  if (auto st = ValidateVariableName(s.var); !st.ok()) return st;
  MM_ASSIGN(in, Parse(*input, context));
  s.input = std::move(in);
  MM_ASSIGN(b, Parse(*body, WithScope(context, {s.var})));
  s.body = std::move(b);
  if (limit != nullptr) {
    MM_ASSIGN(l, Parse(*limit, context));
    s.limit = std::move(l);
  }
  std::vector<const ExprPtr*> parts{&s.input, &s.body, &s.limit};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<MapState>>(std::move(s), &EvalMap), context);
}

struct ReduceState {
  ExprPtr input, initial, in;
};

EvalResult EvalReduce(const ReduceState& s, const Variables& vars) {
  MM_EVAL(input, s.input, vars);
  if (IsNullish(input)) return Null();
  if (input->type() != BsonType::kArray) {
    return Err(40080, StrCat("$reduce requires that 'input' be an array, found: ", input->ToJson()));
  }
  MM_EVAL(acc, s.initial, vars);
  for (const Value& e : input->AsArray()) {
    Value current = acc ? *std::move(acc) : Value(nullptr);
    Binding value_binding{"value", &current, vars.bound};
    Binding this_binding{"this", &e, &value_binding};
    Variables inner = vars;
    inner.bound = &this_binding;
    auto r = s.in->Evaluate(inner);
    if (!r.ok()) return r.status();
    acc = *std::move(r);
  }
  return acc;
}

absl::StatusOr<ExprPtr> ParseReduce(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(40075, StrCat("$reduce requires an object as an argument, found: ", TypeName(arg)));
  }
  MM_ASSIGN(named, NamedArgs::Collect(arg, "$reduce", {"input", "initialValue", "in"}, 40076));
  ReduceState s;
  MM_ASSIGN(input, named.ParseRequired("input", context, 40077, "$reduce requires 'input' to be specified"));
  MM_ASSIGN(initial, named.ParseRequired("initialValue", context, 40078,
                                         "$reduce requires 'initialValue' to be specified"));
  MM_ASSIGN(in, named.ParseRequired("in", WithScope(context, {"this", "value"}), 40079,
                                    "$reduce requires 'in' to be specified"));
  s.input = std::move(input);
  s.initial = std::move(initial);
  s.in = std::move(in);
  std::vector<const ExprPtr*> parts{&s.input, &s.initial, &s.in};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<ReduceState>>(std::move(s), &EvalReduce), context);
}

// ---- $zip ---------------------------------------------------------------------------------

struct ZipState {
  std::vector<ExprPtr> inputs, defaults;
  bool longest = false;
};

EvalResult EvalZip(const ZipState& s, const Variables& vars) {
  std::vector<Value> arrays;
  size_t min_size = 0, max_size = 0;
  for (size_t i = 0; i < s.inputs.size(); ++i) {
    MM_EVAL(v, s.inputs[i], vars);
    if (IsNullish(v)) return Null();
    if (v->type() != BsonType::kArray) {
      return Err(34468, StrCat("$zip found a non-array expression in input: ", v->ToJson()));
    }
    size_t n = v->AsArray().size();
    min_size = i == 0 ? n : std::min(min_size, n);
    max_size = i == 0 ? n : std::max(max_size, n);
    arrays.push_back(*std::move(v));
  }
  std::vector<Value> defaults(s.inputs.size(), Value(nullptr));
  if (min_size != max_size) {
    for (size_t i = 0; i < s.defaults.size(); ++i) {
      MM_EVAL(d, s.defaults[i], vars);
      defaults[i] = d ? *std::move(d) : Value(nullptr);
    }
  }
  size_t length = s.longest ? max_size : min_size;
  Array out;
  out.reserve(length);
  for (size_t row = 0; row < length; ++row) {
    Array r;
    r.reserve(arrays.size());
    for (size_t col = 0; col < arrays.size(); ++col) {
      const Array& a = arrays[col].AsArray();
      r.push_back(row < a.size() ? a[row] : defaults[col]);
    }
    out.push_back(std::move(r));
  }
  return SomeNested(Value(std::move(out)));
}

absl::StatusOr<ExprPtr> ParseZip(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(34460, StrCat("$zip only supports an object as an argument, found ", TypeName(arg)));
  }
  ZipState s;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "inputs" || k == "defaults") {
      if (v.type() != BsonType::kArray) {
        return Err(k == "inputs" ? 34461 : 34462,
                   StrCat(k, " must be an array of expressions, found ", TypeName(v)));
      }
      for (const Value& e : v.AsArray()) {
        MM_ASSIGN(x, Parse(e, context));
        (k == "inputs" ? s.inputs : s.defaults).push_back(std::move(x));
      }
    } else if (k == "useLongestLength") {
      if (v.type() != BsonType::kBool) {
        return Err(34463, StrCat("useLongestLength must be a bool, found ", TypeName(v)));
      }
      s.longest = v.AsBool();
    } else {
      return Err(34464, StrCat("$zip found an unknown argument: ", k));
    }
  }
  if (s.inputs.empty()) return Err(34465, "$zip requires at least one input array");
  if (!s.longest && !s.defaults.empty()) {
    return Err(34466, "cannot specify defaults unless useLongestLength is true");
  }
  if (!s.defaults.empty() && s.defaults.size() != s.inputs.size()) {
    return Err(34467, "defaults and inputs must have the same length");
  }
  std::vector<const ExprPtr*> parts;
  for (const ExprPtr& e : s.inputs) parts.push_back(&e);
  for (const ExprPtr& e : s.defaults) parts.push_back(&e);
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<ZipState>>(std::move(s), &EvalZip), context);
}

// ---- $sortArray ----------------------------------------------------------------------------

struct SortArrayState {
  ExprPtr input;
  SortPattern pattern;
};

EvalResult EvalSortArray(const SortArrayState& s, const Variables& vars) {
  MM_EVAL(input, s.input, vars);
  if (IsNullish(input)) return Null();
  if (input->type() != BsonType::kArray) {
    return Err(2942504, StrCat("The input argument to $sortArray must be an array, but was of type: ",
                               TypeName(input)));
  }
  const Array& arr = input->AsArray();
  if (arr.size() < 2) return input;
  std::vector<std::pair<SortPattern::Key, size_t>> keys;
  keys.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) keys.emplace_back(s.pattern.KeyOf(arr[i], vars.collator), i);
  std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
    return s.pattern.Compare(a.first, b.first, vars.collator) < 0;
  });
  Array out;
  out.reserve(arr.size());
  for (const auto& [k, i] : keys) out.push_back(arr[i]);
  return Some(std::move(out));
}

absl::StatusOr<ExprPtr> ParseSortArray(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(2942500, StrCat("$sortArray requires an object as an argument, found: ", TypeName(arg)));
  }
  SortArrayState s;
  bool have_sort = false;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "input") {
      MM_ASSIGN(x, Parse(v, context));
      s.input = std::move(x);
    } else if (k == "sortBy") {
      if (v.type() == BsonType::kDocument) {
        auto p = SortPattern::Parse(v.AsDocument());
        if (!p.ok()) return Err(2942505, std::string(p.status().message()));
        s.pattern = *std::move(p);
      } else if (v.IsNumber()) {
        double d = v.ToDouble();
        if (d != 1 && d != -1) return Err(2942506, "The $sort element value must be either 1 or -1");
        s.pattern = SortPattern::WholeValue(d == 1);
      } else {
        return Err(2942507, "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to "
                            "sort embedded fields");
      }
      have_sort = true;
    } else {
      return Err(2942501, StrCat("$sortArray found an unknown argument: ", k));
    }
  }
  if (!s.input) return Err(2942502, "$sortArray requires 'input' to be specified");
  if (!have_sort) return Err(2942503, "$sortArray requires 'sortBy' to be specified");
  std::vector<const ExprPtr*> parts{&s.input};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<SortArrayState>>(std::move(s), &EvalSortArray),
                        context);
}

// ---- $firstN, $lastN, $minN, $maxN (array forms) --------------------------------------------

enum class NKind { kFirst, kLast, kMin, kMax };

struct NState {
  NKind kind;
  ExprPtr n, input;
};

absl::StatusOr<int64_t> ValidateN(const std::optional<Value>& v) {
  std::string text = v ? v->ToJson() : "missing";
  if (!IsNumeric(v)) return Err(5787902, StrCat("Value for 'n' must be of integral type, but found ", text));
  long double d = bson::ToLongDouble(*v);
  if (d != std::trunc(d)) return Err(5787903, StrCat("Value for 'n' must be of integral type, but found ", text));
  int64_t n = CoerceToLong(*v);
  if (n <= 0) return Err(5787908, StrCat("'n' must be greater than 0, found ", n));
  return n;
}

EvalResult EvalN(const NState& s, const Variables& vars) {
  MM_EVAL(nv, s.n, vars);
  MM_ASSIGN(n, ValidateN(nv));
  MM_EVAL(input, s.input, vars);
  if (!input || input->type() != BsonType::kArray) return Err(5788200, "Input must be an array");
  const Array& arr = input->AsArray();
  size_t k = static_cast<size_t>(std::min<int64_t>(n, static_cast<int64_t>(arr.size())));
  switch (s.kind) {
    case NKind::kFirst: return Some(Array(arr.begin(), arr.begin() + k));
    case NKind::kLast: return Some(Array(arr.end() - k, arr.end()));
    default: {
      // Non-null values, smallest first ($minN) or largest first ($maxN); ties keep order.
      Array values;
      for (const Value& e : arr) {
        if (!IsNullish(e)) values.push_back(e);
      }
      bool max = s.kind == NKind::kMax;
      std::stable_sort(values.begin(), values.end(), [&](const Value& a, const Value& b) {
        int c = Compare(a, b, vars.collator);
        return max ? c > 0 : c < 0;
      });
      if (values.size() > static_cast<size_t>(n)) values.resize(static_cast<size_t>(n));
      return Some(std::move(values));
    }
  }
}

absl::StatusOr<ExprPtr> ParseN(std::string_view name, const Value& arg, const ParseContext& context) {
  NState s;
  s.kind = name == "$firstN" ? NKind::kFirst
           : name == "$lastN" ? NKind::kLast
           : name == "$minN"  ? NKind::kMin
                              : NKind::kMax;
  bool min_max = s.kind == NKind::kMin || s.kind == NKind::kMax;
  if (arg.type() != BsonType::kDocument) {
    return Err(min_max ? 5787900 : 5787801, StrCat("specification must be an object; found ", arg.ToJson()));
  }
  MM_ASSIGN(named, NamedArgs::Collect(arg, name, {"n", "input"}, 5787901, "Unknown argument for 'n' operator: "));
  MM_ASSIGN(n, named.ParseRequired("n", context, 5787906, "Missing value for 'n'"));
  MM_ASSIGN(input, named.ParseRequired("input", context, 5787907, "Missing value for 'input'"));
  s.n = std::move(n);
  s.input = std::move(input);
  std::vector<const ExprPtr*> parts{&s.n, &s.input};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<NState>>(std::move(s), &EvalN), context);
}

}  // namespace

void RegisterArray(OperatorTable* t) {
  t->AddNary("$arrayElemAt", 2, 2, &ArrayElemAtFn);
  t->AddNary("$first", 1, 1, &FirstFn);
  t->AddNary("$last", 1, 1, &LastFn);
  t->AddNary("$concatArrays", 0, -1, &ConcatArraysFn);
  t->AddNary("$in", 2, 2, &InFn);
  t->AddNary("$indexOfArray", 2, 4, &IndexOfArrayFn);
  t->AddNary("$isArray", 1, 1, &IsArrayFn);
  t->AddNary("$size", 1, 1, &SizeFn);
  t->AddNary("$reverseArray", 1, 1, &ReverseArrayFn);
  t->AddNary("$slice", 2, 3, &SliceFn);
  t->AddNary("$range", 2, 3, &RangeFn);
  t->Add("$map", &ParseMapOrFilter);
  t->Add("$filter", &ParseMapOrFilter);
  t->Add("$reduce", &ParseReduce);
  t->Add("$zip", &ParseZip);
  t->Add("$sortArray", &ParseSortArray);
  t->Add("$firstN", &ParseN);
  t->Add("$lastN", &ParseN);
  t->Add("$minN", &ParseN);
  t->Add("$maxN", &ParseN);
}

}  // namespace micromongo::pipeline::internal
