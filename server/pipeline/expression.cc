#include "pipeline/expression.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>

#include "document/builder.h"
#include "document/status.h"
#include "document/value_ops.h"

namespace micromongo::pipeline {
namespace {

using Args = std::vector<std::optional<Value>>;
using ExprPtr = std::unique_ptr<Expression>;

absl::Status Err(int code, std::string_view message) { return MongoError(code, message); }

bool IsNullish(const std::optional<Value>& v) { return !v || v->IsNull() || v->type() == BsonType::kUndefined; }

// Expressions that put values inside a new array or document ([...], {...}, $setField,
// $objectToArray) check that the result still fits in a BSON document, so that repeated
// nesting ({$reduce: {..., in: ["$$value"]}}) fails at once instead of building an
// arbitrarily deep value. One level is left for the document that holds the result.
absl::StatusOr<Value> Nested(Value v) {
  if (bson::NestedDeeperThan(v, kMaxBsonDepth - 1)) {
    return Err(kOverflow, StrCat("cannot convert document to BSON because it exceeds the limit of ",
                                 kMaxBsonDepth, " levels of nesting"));
  }
  return v;
}

EvalResult SomeNested(Value v) {
  auto r = Nested(std::move(v));
  if (!r.ok()) return r.status();
  return std::optional<Value>(*std::move(r));
}

// ---- Leaves -------------------------------------------------------------------------------

class Constant : public Expression {
 public:
  explicit Constant(Value v) : v_(std::move(v)) {}
  EvalResult Evaluate(const Variables&) const override { return std::optional<Value>(v_); }

 private:
  Value v_;
};

// Walks a dotted path into a value; arrays map the rest of the path over their elements.
std::optional<Value> Walk(const Value& v, const std::vector<std::string>& parts, size_t i) {
  if (i == parts.size()) return v;
  if (v.type() == BsonType::kDocument) {
    const Value* child = v.AsDocument().Find(parts[i]);
    if (child == nullptr) return std::nullopt;
    return Walk(*child, parts, i + 1);
  }
  if (v.type() == BsonType::kArray) {
    Array out;
    for (const Value& e : v.AsArray()) {
      if (e.type() != BsonType::kDocument && e.type() != BsonType::kArray) continue;
      auto r = Walk(e, parts, i);
      if (r) out.push_back(*std::move(r));
    }
    return Value(std::move(out));
  }
  return std::nullopt;
}

// $$ROOT as a value (decoded if it is BSON); nullopt if there is none.
std::optional<Value> RootValue(const Variables& vars) {
  if (vars.root != nullptr) return Value(*vars.root);
  if (vars.root_bson != nullptr) return Value(bson::Decode(*vars.root_bson));
  return std::nullopt;
}

class FieldPathExpr : public Expression {
 public:
  FieldPathExpr(std::string var, std::vector<std::string> parts)
      : var_(std::move(var)), parts_(std::move(parts)) {}
  EvalResult Evaluate(const Variables& vars) const override {
    std::optional<Value> base;
    if (var_ == "ROOT" || var_ == "CURRENT") {
      auto it = vars.bound.find("CURRENT");
      if (var_ == "CURRENT" && it != vars.bound.end()) {
        base = it->second;
      } else if (!parts_.empty()) {
        // Start at the root's field without copying the whole root.
        if (vars.root != nullptr) {
          const Value* child = vars.root->Find(parts_[0]);
          if (child == nullptr) return std::optional<Value>();
          return Walk(*child, parts_, 1);
        }
        if (vars.root_bson != nullptr) {
          bson::ValueView child;
          if (!vars.root_bson->Find(parts_[0], &child)) return std::optional<Value>();
          return Walk(bson::ToValue(child), parts_, 1);
        }
      } else {
        base = RootValue(vars);
      }
    } else if (var_ == "REMOVE") {
      return std::optional<Value>();
    } else if (var_ == "NOW") {
      base = Value(DateTime::Now());
    } else {
      auto it = vars.bound.find(var_);
      if (it == vars.bound.end()) {
        return Err(17276, StrCat("Use of undefined variable: ", var_));
      }
      base = it->second;
    }
    if (!base) return base;
    if (parts_.empty()) return base;
    return Walk(*base, parts_, 0);
  }

 private:
  std::string var_;
  std::vector<std::string> parts_;
};

class ArrayExpr : public Expression {
 public:
  explicit ArrayExpr(std::vector<ExprPtr> items) : items_(std::move(items)) {}
  EvalResult Evaluate(const Variables& vars) const override {
    Array out;
    for (const auto& e : items_) {
      auto v = e->Evaluate(vars);
      if (!v.ok()) return v.status();
      out.push_back(*v ? **v : Value(nullptr));
    }
    return SomeNested(Value(std::move(out)));
  }

 private:
  std::vector<ExprPtr> items_;
};

class ObjectExpr : public Expression {
 public:
  explicit ObjectExpr(std::vector<std::pair<std::string, ExprPtr>> fields) : fields_(std::move(fields)) {}
  EvalResult Evaluate(const Variables& vars) const override {
    Document out;
    for (const auto& [k, e] : fields_) {
      auto v = e->Evaluate(vars);
      if (!v.ok()) return v.status();
      if (*v) out.Append(k, **v);
    }
    return SomeNested(Value(std::move(out)));
  }

 private:
  std::vector<std::pair<std::string, ExprPtr>> fields_;
};

// ---- Operators ----------------------------------------------------------------------------

using Fn = std::function<EvalResult(const Args&)>;
// Operators that compare strings ($eq, $in, ...) see the request's collation.
using CollatedFn = std::function<EvalResult(const Args&, const bson::Collator*)>;

class OperatorExpr : public Expression {
 public:
  OperatorExpr(std::string name, std::vector<ExprPtr> args, CollatedFn fn)
      : name_(std::move(name)), args_(std::move(args)), fn_(std::move(fn)) {}
  EvalResult Evaluate(const Variables& vars) const override {
    Args values;
    values.reserve(args_.size());
    for (const auto& a : args_) {
      auto v = a->Evaluate(vars);
      if (!v.ok()) return v.status();
      values.push_back(*std::move(v));
    }
    return fn_(values, vars.collator);
  }

 private:
  std::string name_;
  std::vector<ExprPtr> args_;
  CollatedFn fn_;
};

// Operators whose arguments are evaluated lazily or under new variables.
using Special = std::function<EvalResult(const Variables&)>;
class SpecialExpr : public Expression {
 public:
  explicit SpecialExpr(Special fn) : fn_(std::move(fn)) {}
  EvalResult Evaluate(const Variables& vars) const override { return fn_(vars); }

 private:
  Special fn_;
};

std::optional<Value> Some(Value v) { return std::optional<Value>(std::move(v)); }
const std::optional<Value> kNull = std::optional<Value>(Value(nullptr));

absl::StatusOr<double> NumberArg(const std::optional<Value>& v, std::string_view op) {
  if (!v || !v->IsNumber()) {
    return Err(28765, StrCat(op, " only supports numeric types, not ",
                             v ? BsonTypeName(v->type()) : "missing"));
  }
  return static_cast<double>(bson::ToLongDouble(*v));
}

// Keeps the integer type when the result is integral and fits, as MongoDB does for
// $abs/$ceil/$floor/$trunc of integers.
Value NumberLike(const Value& input, double result) {
  if (input.type() == BsonType::kInt32 && result >= INT32_MIN && result <= INT32_MAX) {
    return static_cast<int32_t>(result);
  }
  if (input.type() == BsonType::kInt64) return static_cast<int64_t>(result);
  if (input.type() == BsonType::kDecimal128) return bson::DecimalFromLongDouble(result);
  return result;
}

std::string ShortestDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[40];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  return buf;
}

// UTF-8 code points of a string.
std::vector<std::string> CodePoints(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

absl::StatusOr<std::string> StringArg(const std::optional<Value>& v, std::string_view op) {
  if (IsNullish(v)) return std::string();
  if (v->type() != BsonType::kString) {
    return Err(16007, StrCat(op, " requires a string argument, found: ", BsonTypeName(v->type())));
  }
  return v->AsString();
}

absl::StatusOr<const Array*> ArrayArg(const std::optional<Value>& v, std::string_view op) {
  if (!v || v->type() != BsonType::kArray) {
    return Err(28689, StrCat(op, "'s argument must be an array, but is ",
                             v ? BsonTypeName(v->type()) : "missing"));
  }
  return &v->AsArray();
}

std::optional<int64_t> IntArg(const std::optional<Value>& v) {
  if (!v || !v->IsNumber()) return std::nullopt;
  long double d = bson::ToLongDouble(*v);
  if (d != std::trunc(d)) return std::nullopt;
  return static_cast<int64_t>(d);
}

absl::StatusOr<DateTime> DateArg(const std::optional<Value>& v, std::string_view op) {
  if (v && v->type() == BsonType::kDate) return v->AsDate();
  if (v && v->type() == BsonType::kTimestamp) {
    return DateTime{static_cast<int64_t>(v->AsTimestamp().t) * 1000};
  }
  if (v && v->type() == BsonType::kObjectId) {
    return DateTime{static_cast<int64_t>(v->AsObjectId().timestamp()) * 1000};
  }
  return Err(16006, StrCat("can't convert from BSON type ", v ? BsonTypeName(v->type()) : "missing",
                           " to Date in ", op));
}

std::tm Breakdown(DateTime d, int* millis) {
  int64_t ms = d.millis;
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  *millis = static_cast<int>(ms - secs * 1000);
  time_t t = static_cast<time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

int IsoWeekday(const std::tm& tm) { return tm.tm_wday == 0 ? 7 : tm.tm_wday; }

std::string DateToString(DateTime d, const std::string& format) {
  int ms;
  std::tm tm = Breakdown(d, &ms);
  std::string out;
  char buf[32];
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) {
      out.push_back(format[i]);
      continue;
    }
    char c = format[++i];
    switch (c) {
      case 'Y': std::snprintf(buf, sizeof buf, "%04d", tm.tm_year + 1900); break;
      case 'm': std::snprintf(buf, sizeof buf, "%02d", tm.tm_mon + 1); break;
      case 'd': std::snprintf(buf, sizeof buf, "%02d", tm.tm_mday); break;
      case 'H': std::snprintf(buf, sizeof buf, "%02d", tm.tm_hour); break;
      case 'M': std::snprintf(buf, sizeof buf, "%02d", tm.tm_min); break;
      case 'S': std::snprintf(buf, sizeof buf, "%02d", tm.tm_sec); break;
      case 'L': std::snprintf(buf, sizeof buf, "%03d", ms); break;
      case 'j': std::snprintf(buf, sizeof buf, "%03d", tm.tm_yday + 1); break;
      case 'w': std::snprintf(buf, sizeof buf, "%d", tm.tm_wday + 1); break;
      case 'u': std::snprintf(buf, sizeof buf, "%d", IsoWeekday(tm)); break;
      case 'U': std::strftime(buf, sizeof buf, "%U", &tm); break;
      case 'V': std::strftime(buf, sizeof buf, "%V", &tm); break;
      case 'G': std::strftime(buf, sizeof buf, "%G", &tm); break;
      case 'z': std::snprintf(buf, sizeof buf, "+0000"); break;
      case 'Z': std::snprintf(buf, sizeof buf, "0"); break;
      case '%': std::snprintf(buf, sizeof buf, "%%"); break;
      default: std::snprintf(buf, sizeof buf, "%%%c", c);
    }
    out += buf;
  }
  return out;
}

std::string TypeName(const std::optional<Value>& v) {
  return v ? std::string(BsonTypeName(v->type())) : "missing";
}

// $convert's conversions; nullopt target type name means "unsupported conversion".
absl::StatusOr<Value> Convert(const Value& in, std::string_view to) {
  BsonType t = in.type();
  auto fail = [&] {
    return Err(241, StrCat("Unsupported conversion from ", BsonTypeName(t), " to ", to,
                           " in $convert with no onError value"));
  };
  if (to == "double" || to == "decimal" || to == "int" || to == "long") {
    long double x;
    if (in.IsNumber()) {
      x = bson::ToLongDouble(in);
    } else if (t == BsonType::kBool) {
      x = in.AsBool() ? 1 : 0;
    } else if (t == BsonType::kDate) {
      x = static_cast<long double>(in.AsDate().millis);
    } else if (t == BsonType::kString) {
      const std::string& s = in.AsString();
      char* end = nullptr;
      x = std::strtold(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) {
        return Err(241, StrCat("Failed to parse number '", s, "' in $convert"));
      }
      if ((to == "int" || to == "long") && s.find_first_of(".eE") != std::string::npos) {
        return Err(241, StrCat("Failed to parse number '", s, "' in $convert"));
      }
    } else {
      return fail();
    }
    if (to == "double") return static_cast<double>(x);
    if (to == "decimal") return bson::DecimalFromLongDouble(x);
    if (!std::isfinite(static_cast<double>(x))) return fail();
    long double tr = std::trunc(x);
    if (to == "int") {
      if (tr < INT32_MIN || tr > INT32_MAX) {
        return Err(241, "Conversion would overflow target type in $convert");
      }
      return static_cast<int32_t>(tr);
    }
    if (tr < -9.2233720368547758e18L || tr >= 9.2233720368547758e18L) {
      return Err(241, "Conversion would overflow target type in $convert");
    }
    return static_cast<int64_t>(tr);
  }
  if (to == "bool") {
    if (t == BsonType::kBool) return in;
    if (in.IsNumber()) return bson::ToLongDouble(in) != 0;
    return true;  // strings, objects, dates ... are true
  }
  if (to == "string") {
    switch (t) {
      case BsonType::kString: return in;
      case BsonType::kBool: return std::string(in.AsBool() ? "true" : "false");
      case BsonType::kInt32: return std::to_string(in.AsInt32());
      case BsonType::kInt64: return std::to_string(in.AsInt64());
      case BsonType::kDouble: return ShortestDouble(in.AsDouble());
      case BsonType::kDecimal128: return in.AsDecimal128().ToString();
      case BsonType::kObjectId: return in.AsObjectId().ToHex();
      case BsonType::kDate: return DateToString(in.AsDate(), "%Y-%m-%dT%H:%M:%S.%LZ");
      default: return fail();
    }
  }
  if (to == "date") {
    if (t == BsonType::kDate) return in;
    if (t == BsonType::kInt64 || t == BsonType::kDouble || t == BsonType::kDecimal128) {
      return DateTime{static_cast<int64_t>(bson::ToLongDouble(in))};
    }
    if (t == BsonType::kObjectId) return DateTime{int64_t{in.AsObjectId().timestamp()} * 1000};
    if (t == BsonType::kTimestamp) return DateTime{int64_t{in.AsTimestamp().t} * 1000};
    if (t == BsonType::kString) {
      auto doc = Document::FromJson("{\"d\": {\"$date\": \"" + in.AsString() + "\"}}");
      return doc.Get("d");
    }
    return fail();
  }
  if (to == "objectId") {
    if (t == BsonType::kObjectId) return in;
    if (t == BsonType::kString && in.AsString().size() == 24) {
      try {
        return ObjectId::FromHex(in.AsString());
      } catch (const std::exception&) {
      }
    }
    return Err(241, "Failed to parse objectId in $convert");
  }
  return Err(kBadValue, StrCat("Unknown type name: ", to));
}

std::string_view TypeAliasOf(const Value& v) {
  if (v.type() == BsonType::kString) return v.AsString();
  auto n = IntArg(v);
  if (!n) return "";
  switch (*n) {
    case 1: return "double";
    case 2: return "string";
    case 7: return "objectId";
    case 8: return "bool";
    case 9: return "date";
    case 16: return "int";
    case 18: return "long";
    case 19: return "decimal";
    default: return "";
  }
}

absl::StatusOr<std::vector<ExprPtr>> ParseArgs(const Value& spec) {
  std::vector<ExprPtr> out;
  if (spec.type() == BsonType::kArray) {
    for (const Value& e : spec.AsArray()) {
      auto x = ParseExpression(e);
      if (!x.ok()) return x.status();
      out.push_back(*std::move(x));
    }
  } else {
    auto x = ParseExpression(spec);
    if (!x.ok()) return x.status();
    out.push_back(*std::move(x));
  }
  return out;
}

// Named arguments of operators that take a document ({$map: {input, as, in}}).
absl::StatusOr<std::map<std::string, ExprPtr>> ParseNamed(
    const Value& spec, std::string_view op, std::initializer_list<std::string_view> required,
    std::initializer_list<std::string_view> optional, std::initializer_list<std::string_view> raw) {
  if (spec.type() != BsonType::kDocument) {
    return Err(kFailedToParse, StrCat(op, " expects an object as its argument"));
  }
  std::map<std::string, ExprPtr> out;
  for (const auto& [k, v] : spec.AsDocument()) {
    bool known = std::find(required.begin(), required.end(), k) != required.end() ||
                 std::find(optional.begin(), optional.end(), k) != optional.end();
    if (!known) return Err(kFailedToParse, StrCat(op, " found an unknown argument: ", k));
    if (std::find(raw.begin(), raw.end(), k) != raw.end()) {
      out[k] = std::make_unique<Constant>(v);
      continue;
    }
    auto x = ParseExpression(v);
    if (!x.ok()) return x.status();
    out[k] = *std::move(x);
  }
  for (std::string_view r : required) {
    if (!out.count(std::string(r))) {
      return Err(kFailedToParse, StrCat("Missing '", r, "' parameter to ", op));
    }
  }
  return out;
}

EvalResult Eval(const std::map<std::string, ExprPtr>& args, const char* name, const Variables& vars) {
  auto it = args.find(name);
  if (it == args.end()) return std::optional<Value>();
  return it->second->Evaluate(vars);
}

std::string VarName(const std::map<std::string, ExprPtr>& args, const char* key, const char* def) {
  auto it = args.find(key);
  if (it == args.end()) return def;
  auto v = it->second->Evaluate(Variables{});
  return v.ok() && *v && (*v)->type() == BsonType::kString ? (*v)->AsString() : def;
}

absl::Status Arity(std::string_view op, size_t got, size_t min, size_t max) {
  if (got < min || got > max) {
    if (min == max) {
      return Err(16020, StrCat("Expression ", op, " takes exactly ", min, " arguments. ", got,
                               " were passed in."));
    }
    return Err(16020, StrCat("Expression ", op, " takes ", min, " to ", max, " arguments. ", got,
                             " were passed in."));
  }
  return absl::OkStatus();
}

// Regular operators: name, arity range, function of the evaluated arguments.
struct OpDef {
  const char* name;
  size_t min_args, max_args;
  Fn fn;
  CollatedFn collated_fn = nullptr;  // instead of fn, for operators that compare strings

  CollatedFn Callable() const {
    if (collated_fn) return collated_fn;
    return [f = fn](const Args& a, const bson::Collator*) { return f(a); };
  }
};

const std::vector<OpDef>& Operators() {
  static const std::vector<OpDef> ops = [] {
    std::vector<OpDef> v;
    auto cmp = [](const char* name, std::function<bool(int)> test) {
      return OpDef{name, 2, 2, nullptr, [test](const Args& a, const bson::Collator* c) -> EvalResult {
                     Value x = a[0] ? *a[0] : Value(nullptr), y = a[1] ? *a[1] : Value(nullptr);
                     return Some(test(bson::CompareTree(x, y, c)));
                   }};
    };
    v.push_back(cmp("$eq", [](int c) { return c == 0; }));
    v.push_back(cmp("$ne", [](int c) { return c != 0; }));
    v.push_back(cmp("$gt", [](int c) { return c > 0; }));
    v.push_back(cmp("$gte", [](int c) { return c >= 0; }));
    v.push_back(cmp("$lt", [](int c) { return c < 0; }));
    v.push_back(cmp("$lte", [](int c) { return c <= 0; }));
    v.push_back({"$cmp", 2, 2, nullptr, [](const Args& a, const bson::Collator* coll) -> EvalResult {
                   int c = bson::CompareTree(a[0] ? *a[0] : Value(nullptr), a[1] ? *a[1] : Value(nullptr), coll);
                   return Some(c < 0 ? -1 : c > 0 ? 1 : 0);
                 }});
    v.push_back({"$rand", 0, 0, [](const Args&) -> EvalResult {
                   thread_local std::mt19937_64 rng{std::random_device{}()};
                   return Some(std::uniform_real_distribution<double>(0.0, 1.0)(rng));
                 }});
    v.push_back({"$not", 1, 1, [](const Args& a) -> EvalResult { return Some(!IsTrue(a[0])); }});
    // Arithmetic.
    v.push_back({"$add", 0, 1000, [](const Args& a) -> EvalResult {
                   Value sum = 0;
                   std::optional<int64_t> date;
                   for (const auto& x : a) {
                     if (IsNullish(x)) return kNull;
                     if (x->type() == BsonType::kDate) {
                       if (date) return Err(16612, "only one date allowed in an $add expression");
                       date = x->AsDate().millis;
                       continue;
                     }
                     if (!x->IsNumber()) {
                       return Err(16554, StrCat("$add only supports numeric or date types, not ",
                                                BsonTypeName(x->type())));
                     }
                     sum = bson::AddNumbers(sum, *x);
                   }
                   if (date) return Some(DateTime{*date + static_cast<int64_t>(std::llround(
                                                               static_cast<double>(bson::ToLongDouble(sum))))});
                   return Some(sum);
                 }});
    v.push_back({"$multiply", 0, 1000, [](const Args& a) -> EvalResult {
                   Value product = 1;
                   for (const auto& x : a) {
                     if (IsNullish(x)) return kNull;
                     if (!x->IsNumber()) {
                       return Err(16555, StrCat("$multiply only supports numeric types, not ",
                                                BsonTypeName(x->type())));
                     }
                     product = bson::MultiplyNumbers(product, *x);
                   }
                   return Some(product);
                 }});
    v.push_back({"$subtract", 2, 2, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0]) || IsNullish(a[1])) return kNull;
                   const Value &x = *a[0], &y = *a[1];
                   if (x.type() == BsonType::kDate && y.type() == BsonType::kDate) {
                     return Some(int64_t{x.AsDate().millis - y.AsDate().millis});
                   }
                   if (x.type() == BsonType::kDate && y.IsNumber()) {
                     return Some(DateTime{x.AsDate().millis - static_cast<int64_t>(bson::ToLongDouble(y))});
                   }
                   if (!x.IsNumber() || !y.IsNumber()) {
                     return Err(16556, StrCat("cant $subtract a ", BsonTypeName(y.type()), " from a ",
                                              BsonTypeName(x.type())));
                   }
                   return Some(bson::SubtractNumbers(x, y));
                 }});
    v.push_back({"$divide", 2, 2, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0]) || IsNullish(a[1])) return kNull;
                   if (!a[0]->IsNumber() || !a[1]->IsNumber()) {
                     return Err(16609, "$divide only supports numeric types");
                   }
                   long double y = bson::ToLongDouble(*a[1]);
                   if (y == 0) return Err(2, "can't $divide by zero");
                   return Some(bson::DivideNumbers(*a[0], *a[1]));
                 }});
    v.push_back({"$mod", 2, 2, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0]) || IsNullish(a[1])) return kNull;
                   if (!a[0]->IsNumber() || !a[1]->IsNumber()) return Err(16611, "$mod only supports numeric types");
                   bool ints = a[0]->type() != BsonType::kDouble && a[1]->type() != BsonType::kDouble &&
                               a[0]->type() != BsonType::kDecimal128 && a[1]->type() != BsonType::kDecimal128;
                   if (ints) {
                     int64_t y = a[1]->ToInt64();
                     if (y == 0) return Err(16610, "can't $mod by zero");
                     int64_t r = y == -1 ? 0 : a[0]->ToInt64() % y;
                     if (a[0]->type() == BsonType::kInt32 && a[1]->type() == BsonType::kInt32) {
                       return Some(static_cast<int32_t>(r));
                     }
                     return Some(r);
                   }
                   double y = a[1]->ToDouble();
                   if (y == 0) return Err(16610, "can't $mod by zero");
                   return Some(std::fmod(a[0]->ToDouble(), y));
                 }});
    v.push_back({"$pow", 2, 2, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0]) || IsNullish(a[1])) return kNull;
                   auto x = NumberArg(a[0], "$pow"), y = NumberArg(a[1], "$pow");
                   if (!x.ok()) return x.status();
                   if (!y.ok()) return y.status();
                   if (*x == 0 && *y < 0) return Err(28764, "$pow cannot take a base of 0 and a negative exponent");
                   double r = std::pow(*x, *y);
                   bool ints = a[0]->type() != BsonType::kDouble && a[1]->type() != BsonType::kDouble &&
                               a[0]->type() != BsonType::kDecimal128 && *y >= 0;
                   if (ints && std::fabs(r) < 9.2e18) {
                     if (a[0]->type() == BsonType::kInt32 && a[1]->type() == BsonType::kInt32 &&
                         r >= INT32_MIN && r <= INT32_MAX) {
                       return Some(static_cast<int32_t>(r));
                     }
                     return Some(static_cast<int64_t>(r));
                   }
                   return Some(r);
                 }});
    auto unary = [](const char* name, std::function<double(double)> f) {
      return OpDef{name, 1, 1, [name, f](const Args& a) -> EvalResult {
                     if (IsNullish(a[0])) return kNull;
                     auto x = NumberArg(a[0], name);
                     if (!x.ok()) return x.status();
                     return Some(NumberLike(*a[0], f(*x)));
                   }};
    };
    v.push_back(unary("$abs", [](double x) { return std::fabs(x); }));
    v.push_back(unary("$ceil", [](double x) { return std::ceil(x); }));
    v.push_back(unary("$floor", [](double x) { return std::floor(x); }));
    v.push_back({"$sqrt", 1, 1, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0])) return kNull;
                   auto x = NumberArg(a[0], "$sqrt");
                   if (!x.ok()) return x.status();
                   if (*x < 0) return Err(28714, "$sqrt's argument must be greater than or equal to 0");
                   return Some(std::sqrt(*x));
                 }});
    auto rounding = [](const char* name, bool trunc) {
      return OpDef{name, 1, 2, [name, trunc](const Args& a) -> EvalResult {
                     if (IsNullish(a[0])) return kNull;
                     auto x = NumberArg(a[0], name);
                     if (!x.ok()) return x.status();
                     int64_t places = a.size() > 1 ? IntArg(a[1]).value_or(0) : 0;
                     double scale = std::pow(10.0, static_cast<double>(places));
                     double y = *x * scale;
                     y = trunc ? std::trunc(y) : std::nearbyint(y);  // banker's rounding
                     return Some(NumberLike(*a[0], y / scale));
                   }};
    };
    v.push_back(rounding("$round", false));
    v.push_back(rounding("$trunc", true));
    // Strings.
    v.push_back({"$concat", 0, 1000, [](const Args& a) -> EvalResult {
                   std::string out;
                   for (const auto& x : a) {
                     if (IsNullish(x)) return kNull;
                     if (x->type() != BsonType::kString) {
                       return Err(16702, StrCat("$concat only supports strings, not ", BsonTypeName(x->type())));
                     }
                     out += x->AsString();
                   }
                   return Some(out);
                 }});
    auto casing = [](const char* name, bool upper) {
      return OpDef{name, 1, 1, [name, upper](const Args& a) -> EvalResult {
                     std::string s;
                     if (!IsNullish(a[0])) {
                       auto c = Convert(*a[0], "string");
                       if (!c.ok()) return c.status();
                       s = c->AsString();
                     }
                     for (char& c : s) c = upper ? std::toupper(static_cast<unsigned char>(c))
                                                 : std::tolower(static_cast<unsigned char>(c));
                     return Some(s);
                   }};
    };
    v.push_back(casing("$toUpper", true));
    v.push_back(casing("$toLower", false));
    v.push_back({"$strLenCP", 1, 1, [](const Args& a) -> EvalResult {
                   if (!a[0] || a[0]->type() != BsonType::kString) {
                     return Err(34471, StrCat("$strLenCP requires a string argument, found: ", TypeName(a[0])));
                   }
                   return Some(static_cast<int32_t>(CodePoints(a[0]->AsString()).size()));
                 }});
    v.push_back({"$strLenBytes", 1, 1, [](const Args& a) -> EvalResult {
                   if (!a[0] || a[0]->type() != BsonType::kString) {
                     return Err(34473, "$strLenBytes requires a string argument");
                   }
                   return Some(static_cast<int32_t>(a[0]->AsString().size()));
                 }});
    v.push_back({"$strcasecmp", 2, 2, [](const Args& a) -> EvalResult {
                   auto x = StringArg(a[0], "$strcasecmp"), y = StringArg(a[1], "$strcasecmp");
                   if (!x.ok()) return x.status();
                   if (!y.ok()) return y.status();
                   int c = strcasecmp(x->c_str(), y->c_str());
                   return Some(c < 0 ? -1 : c > 0 ? 1 : 0);
                 }});
    auto substr = [](const char* name, bool cp) {
      return OpDef{name, 3, 3, [name, cp](const Args& a) -> EvalResult {
                     auto s = StringArg(a[0], name);
                     if (!s.ok()) return s.status();
                     auto start = IntArg(a[1]), len = IntArg(a[2]);
                     if (!start || !len) return Err(16034, StrCat(name, ": starting index and length must be numbers"));
                     if (*start < 0) return Some(std::string());
                     if (!cp) {
                       if (static_cast<size_t>(*start) >= s->size()) return Some(std::string());
                       return Some(s->substr(static_cast<size_t>(*start),
                                             *len < 0 ? std::string::npos : static_cast<size_t>(*len)));
                     }
                     auto cps = CodePoints(*s);
                     std::string out;
                     for (int64_t i = *start; i < static_cast<int64_t>(cps.size()) && (*len < 0 || i < *start + *len); ++i) {
                       out += cps[static_cast<size_t>(i)];
                     }
                     return Some(out);
                   }};
    };
    v.push_back(substr("$substr", false));
    v.push_back(substr("$substrBytes", false));
    v.push_back(substr("$substrCP", true));
    v.push_back({"$indexOfCP", 2, 4, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0])) return kNull;
                   auto s = StringArg(a[0], "$indexOfCP"), sub = StringArg(a[1], "$indexOfCP");
                   if (!s.ok()) return s.status();
                   if (!sub.ok()) return sub.status();
                   auto cps = CodePoints(*s), subs = CodePoints(*sub);
                   int64_t start = a.size() > 2 ? IntArg(a[2]).value_or(0) : 0;
                   int64_t end = a.size() > 3 ? IntArg(a[3]).value_or(cps.size()) : cps.size();
                   end = std::min<int64_t>(end, cps.size());
                   for (int64_t i = start; i + static_cast<int64_t>(subs.size()) <= end; ++i) {
                     if (std::equal(subs.begin(), subs.end(), cps.begin() + i)) return Some(static_cast<int32_t>(i));
                   }
                   return Some(-1);
                 }});
    v.push_back({"$split", 2, 2, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0])) return kNull;
                   auto s = StringArg(a[0], "$split"), d = StringArg(a[1], "$split");
                   if (!s.ok()) return s.status();
                   if (!d.ok()) return d.status();
                   if (d->empty()) return Err(40087, "$split requires a non-empty separator");
                   Array out;
                   size_t start = 0;
                   while (true) {
                     size_t pos = s->find(*d, start);
                     out.push_back(s->substr(start, pos == std::string::npos ? std::string::npos : pos - start));
                     if (pos == std::string::npos) break;
                     start = pos + d->size();
                   }
                   return Some(out);
                 }});
    // Arrays.
    v.push_back({"$size", 1, 1, [](const Args& a) -> EvalResult {
                   auto arr = ArrayArg(a[0], "$size");
                   if (!arr.ok()) return Err(17124, StrCat("The argument to $size must be an array. Type of argument: ", TypeName(a[0])));
                   return Some(static_cast<int32_t>((*arr)->size()));
                 }});
    v.push_back({"$isArray", 1, 1, [](const Args& a) -> EvalResult {
                   return Some(a[0] && a[0]->type() == BsonType::kArray);
                 }});
    v.push_back({"$arrayElemAt", 2, 2, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0]) || IsNullish(a[1])) return kNull;
                   auto arr = ArrayArg(a[0], "$arrayElemAt");
                   if (!arr.ok()) return arr.status();
                   auto i = IntArg(a[1]);
                   if (!i) return Err(28690, "$arrayElemAt's second argument must be a numeric value");
                   int64_t n = static_cast<int64_t>((*arr)->size()), k = *i < 0 ? n + *i : *i;
                   if (k < 0 || k >= n) return std::optional<Value>();
                   return Some((**arr)[static_cast<size_t>(k)]);
                 }});
    v.push_back({"$first", 1, 1, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0])) return kNull;
                   auto arr = ArrayArg(a[0], "$first");
                   if (!arr.ok()) return arr.status();
                   if ((*arr)->empty()) return std::optional<Value>();
                   return Some((*arr)->front());
                 }});
    v.push_back({"$last", 1, 1, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0])) return kNull;
                   auto arr = ArrayArg(a[0], "$last");
                   if (!arr.ok()) return arr.status();
                   if ((*arr)->empty()) return std::optional<Value>();
                   return Some((*arr)->back());
                 }});
    v.push_back({"$concatArrays", 0, 1000, [](const Args& a) -> EvalResult {
                   Array out;
                   for (const auto& x : a) {
                     if (IsNullish(x)) return kNull;
                     auto arr = ArrayArg(x, "$concatArrays");
                     if (!arr.ok()) return arr.status();
                     out.insert(out.end(), (*arr)->begin(), (*arr)->end());
                   }
                   return Some(out);
                 }});
    v.push_back({"$in", 2, 2, nullptr, [](const Args& a, const bson::Collator* coll) -> EvalResult {
                   auto arr = ArrayArg(a[1], "$in");
                   if (!arr.ok()) return Err(40081, "$in requires an array as a second argument");
                   Value x = a[0] ? *a[0] : Value(nullptr);
                   for (const Value& e : **arr) {
                     if (bson::TreeEqual(e, x, coll)) return Some(true);
                   }
                   return Some(false);
                 }});
    v.push_back({"$indexOfArray", 2, 4, nullptr, [](const Args& a, const bson::Collator* coll) -> EvalResult {
                   if (IsNullish(a[0])) return kNull;
                   auto arr = ArrayArg(a[0], "$indexOfArray");
                   if (!arr.ok()) return arr.status();
                   int64_t n = static_cast<int64_t>((*arr)->size());
                   int64_t start = a.size() > 2 ? IntArg(a[2]).value_or(0) : 0;
                   int64_t end = a.size() > 3 ? std::min(n, IntArg(a[3]).value_or(n)) : n;
                   Value x = a[1] ? *a[1] : Value(nullptr);
                   for (int64_t i = start; i < end; ++i) {
                     if (bson::TreeEqual((**arr)[static_cast<size_t>(i)], x, coll)) return Some(static_cast<int32_t>(i));
                   }
                   return Some(-1);
                 }});
    v.push_back({"$reverseArray", 1, 1, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0])) return kNull;
                   auto arr = ArrayArg(a[0], "$reverseArray");
                   if (!arr.ok()) return arr.status();
                   Array out(**arr);
                   std::reverse(out.begin(), out.end());
                   return Some(out);
                 }});
    v.push_back({"$slice", 2, 3, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0])) return kNull;
                   auto arr = ArrayArg(a[0], "$slice");
                   if (!arr.ok()) return arr.status();
                   int64_t n = static_cast<int64_t>((*arr)->size());
                   int64_t from = 0, count;
                   if (a.size() == 2) {
                     auto c = IntArg(a[1]);
                     if (!c) return Err(28724, "Second argument to $slice must be a numeric value");
                     if (*c >= 0) {
                       count = *c;
                     } else {
                       from = std::max<int64_t>(0, n + *c);
                       count = n;
                     }
                   } else {
                     auto p = IntArg(a[1]), c = IntArg(a[2]);
                     if (!p || !c) return Err(28724, "$slice arguments must be numeric values");
                     if (*c <= 0) return Err(28729, "Third argument to $slice must be positive");
                     from = *p < 0 ? std::max<int64_t>(0, n + *p) : std::min(*p, n);
                     count = *c;
                   }
                   Array out;
                   for (int64_t i = from; i < n && i < from + count; ++i) out.push_back((**arr)[static_cast<size_t>(i)]);
                   return Some(out);
                 }});
    v.push_back({"$range", 2, 3, [](const Args& a) -> EvalResult {
                   auto s = IntArg(a[0]), e = IntArg(a[1]);
                   int64_t step = a.size() > 2 ? IntArg(a[2]).value_or(0) : 1;
                   if (!s || !e || step == 0) return Err(34449, "$range requires integral start, end and a non-zero step");
                   // Bounded like MongoDB's 64 MB limit, so no input can exhaust the worker.
                   long double n = (static_cast<long double>(*e) - *s) / step;
                   if (n > 4'000'000) return Err(5029500, "$range would use too much memory");
                   Array out;
                   for (int64_t i = *s; step > 0 ? i < *e : i > *e; i += step) out.push_back(static_cast<int32_t>(i));
                   return Some(out);
                 }});
    // Objects.
    v.push_back({"$mergeObjects", 0, 1000, [](const Args& a) -> EvalResult {
                   Document out;
                   for (const auto& x : a) {
                     if (IsNullish(x)) continue;
                     if (x->type() != BsonType::kDocument) {
                       return Err(40400, StrCat("$mergeObjects requires object inputs, but input is of type ", BsonTypeName(x->type())));
                     }
                     for (const auto& [k, fv] : x->AsDocument()) out.Set(k, fv);
                   }
                   return Some(out);
                 }});
    v.push_back({"$objectToArray", 1, 1, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0])) return kNull;
                   if (a[0]->type() != BsonType::kDocument) return Err(40390, "$objectToArray requires a document input");
                   Array out;
                   for (const auto& [k, fv] : a[0]->AsDocument()) out.push_back(Document{{"k", k}, {"v", fv}});
                   return SomeNested(std::move(out));
                 }});
    v.push_back({"$arrayToObject", 1, 1, [](const Args& a) -> EvalResult {
                   if (IsNullish(a[0])) return kNull;
                   auto arr = ArrayArg(a[0], "$arrayToObject");
                   if (!arr.ok()) return arr.status();
                   Document out;
                   for (const Value& e : **arr) {
                     if (e.type() == BsonType::kArray && e.AsArray().size() == 2 &&
                         e.AsArray()[0].type() == BsonType::kString) {
                       out.Set(e.AsArray()[0].AsString(), e.AsArray()[1]);
                     } else if (e.type() == BsonType::kDocument && e.AsDocument().size() == 2 &&
                                e.AsDocument().Has("k") && e.AsDocument().Has("v") &&
                                e.AsDocument().Get("k").type() == BsonType::kString) {
                       out.Set(e.AsDocument().Get("k").AsString(), e.AsDocument().Get("v"));
                     } else {
                       return Err(40398, "$arrayToObject requires [k, v] pairs or {k, v} documents");
                     }
                   }
                   return Some(out);
                 }});
    // Types.
    v.push_back({"$type", 1, 1, [](const Args& a) -> EvalResult { return Some(TypeName(a[0])); }});
    auto to = [](const char* name, const char* type) {
      return OpDef{name, 1, 1, [type](const Args& a) -> EvalResult {
                     if (IsNullish(a[0])) return kNull;
                     auto r = Convert(*a[0], type);
                     if (!r.ok()) return r.status();
                     return Some(*std::move(r));
                   }};
    };
    v.push_back(to("$toBool", "bool"));
    v.push_back(to("$toInt", "int"));
    v.push_back(to("$toLong", "long"));
    v.push_back(to("$toDouble", "double"));
    v.push_back(to("$toDecimal", "decimal"));
    v.push_back(to("$toString", "string"));
    v.push_back(to("$toDate", "date"));
    v.push_back(to("$toObjectId", "objectId"));
    // Dates.
    auto part = [](const char* name, std::function<int(const std::tm&, int)> f) {
      return OpDef{name, 1, 1, [name, f](const Args& a) -> EvalResult {
                     if (IsNullish(a[0])) return kNull;
                     const std::optional<Value>* arg = &a[0];
                     std::optional<Value> date;
                     if (a[0]->type() == BsonType::kDocument && a[0]->AsDocument().Has("date")) {
                       date = a[0]->AsDocument().Get("date");
                       arg = &date;
                     }
                     auto d = DateArg(*arg, name);
                     if (!d.ok()) return d.status();
                     int ms;
                     std::tm tm = Breakdown(*d, &ms);
                     return Some(f(tm, ms));
                   }};
    };
    v.push_back(part("$year", [](const std::tm& t, int) { return t.tm_year + 1900; }));
    v.push_back(part("$month", [](const std::tm& t, int) { return t.tm_mon + 1; }));
    v.push_back(part("$dayOfMonth", [](const std::tm& t, int) { return t.tm_mday; }));
    v.push_back(part("$dayOfWeek", [](const std::tm& t, int) { return t.tm_wday + 1; }));
    v.push_back(part("$dayOfYear", [](const std::tm& t, int) { return t.tm_yday + 1; }));
    v.push_back(part("$hour", [](const std::tm& t, int) { return t.tm_hour; }));
    v.push_back(part("$minute", [](const std::tm& t, int) { return t.tm_min; }));
    v.push_back(part("$second", [](const std::tm& t, int) { return t.tm_sec; }));
    v.push_back(part("$millisecond", [](const std::tm&, int ms) { return ms; }));
    v.push_back(part("$week", [](const std::tm& t, int) {
      char buf[4];
      std::strftime(buf, sizeof buf, "%U", &t);
      return std::atoi(buf);
    }));
    v.push_back(part("$isoWeek", [](const std::tm& t, int) {
      char buf[4];
      std::strftime(buf, sizeof buf, "%V", &t);
      return std::atoi(buf);
    }));
    v.push_back(part("$isoWeekYear", [](const std::tm& t, int) {
      char buf[8];
      std::strftime(buf, sizeof buf, "%G", &t);
      return std::atoi(buf);
    }));
    v.push_back(part("$isoDayOfWeek", [](const std::tm& t, int) { return IsoWeekday(t); }));
    return v;
  }();
  return ops;
}

absl::StatusOr<ExprPtr> ParseOperator(std::string_view op, const Value& arg) {
  if (op == "$literal") return ExprPtr(std::make_unique<Constant>(arg));
  if (op == "$and" || op == "$or") {
    auto args = ParseArgs(arg);
    if (!args.ok()) return args.status();
    bool is_and = op == "$and";
    auto shared = std::make_shared<std::vector<ExprPtr>>(*std::move(args));
    return ExprPtr(std::make_unique<SpecialExpr>([shared, is_and](const Variables& vars) -> EvalResult {
      for (const auto& e : *shared) {
        auto v = e->Evaluate(vars);
        if (!v.ok()) return v.status();
        if (IsTrue(*v) != is_and) return Some(!is_and);
      }
      return Some(is_and);
    }));
  }
  if (op == "$ifNull") {
    auto args = ParseArgs(arg);
    if (!args.ok()) return args.status();
    if (args->size() < 2) return Err(1257300, "$ifNull needs at least two arguments");
    auto shared = std::make_shared<std::vector<ExprPtr>>(*std::move(args));
    return ExprPtr(std::make_unique<SpecialExpr>([shared](const Variables& vars) -> EvalResult {
      for (size_t i = 0; i < shared->size(); ++i) {
        auto v = (*shared)[i]->Evaluate(vars);
        if (!v.ok()) return v.status();
        if (!IsNullish(*v) || i + 1 == shared->size()) return v;
      }
      return kNull;
    }));
  }
  if (op == "$cond") {
    std::shared_ptr<std::vector<ExprPtr>> parts;
    if (arg.type() == BsonType::kDocument) {
      auto named = ParseNamed(arg, op, {"if", "then", "else"}, {}, {});
      if (!named.ok()) return named.status();
      parts = std::make_shared<std::vector<ExprPtr>>();
      parts->push_back(std::move((*named)["if"]));
      parts->push_back(std::move((*named)["then"]));
      parts->push_back(std::move((*named)["else"]));
    } else {
      auto args = ParseArgs(arg);
      if (!args.ok()) return args.status();
      if (auto s = Arity(op, args->size(), 3, 3); !s.ok()) return s;
      parts = std::make_shared<std::vector<ExprPtr>>(*std::move(args));
    }
    return ExprPtr(std::make_unique<SpecialExpr>([parts](const Variables& vars) -> EvalResult {
      auto c = (*parts)[0]->Evaluate(vars);
      if (!c.ok()) return c.status();
      return (*parts)[IsTrue(*c) ? 1 : 2]->Evaluate(vars);
    }));
  }
  if (op == "$switch") {
    if (arg.type() != BsonType::kDocument || !arg.AsDocument().Has("branches") ||
        arg.AsDocument().Get("branches").type() != BsonType::kArray) {
      return Err(40060, "$switch requires an object with a 'branches' array");
    }
    auto branches = std::make_shared<std::vector<std::pair<ExprPtr, ExprPtr>>>();
    for (const Value& b : arg.AsDocument().Get("branches").AsArray()) {
      if (b.type() != BsonType::kDocument || !b.AsDocument().Has("case") || !b.AsDocument().Has("then")) {
        return Err(40064, "$switch's branches need 'case' and 'then'");
      }
      auto c = ParseExpression(b.AsDocument().Get("case"));
      auto t = ParseExpression(b.AsDocument().Get("then"));
      if (!c.ok()) return c.status();
      if (!t.ok()) return t.status();
      branches->emplace_back(*std::move(c), *std::move(t));
    }
    std::shared_ptr<Expression> fallback;
    if (const Value* d = arg.AsDocument().Find("default")) {
      auto e = ParseExpression(*d);
      if (!e.ok()) return e.status();
      fallback = *std::move(e);
    }
    return ExprPtr(std::make_unique<SpecialExpr>([branches, fallback](const Variables& vars) -> EvalResult {
      for (const auto& [c, t] : *branches) {
        auto v = c->Evaluate(vars);
        if (!v.ok()) return v.status();
        if (IsTrue(*v)) return t->Evaluate(vars);
      }
      if (!fallback) return Err(40066, "$switch could not find a matching branch for an input, and no default was specified.");
      return fallback->Evaluate(vars);
    }));
  }
  if (op == "$let") {
    if (arg.type() != BsonType::kDocument || !arg.AsDocument().Has("vars") || !arg.AsDocument().Has("in") ||
        arg.AsDocument().Get("vars").type() != BsonType::kDocument) {
      return Err(16710, "$let requires 'vars' (an object) and 'in'");
    }
    auto defs = std::make_shared<std::vector<std::pair<std::string, ExprPtr>>>();
    for (const auto& [name, e] : arg.AsDocument().Get("vars").AsDocument()) {
      auto x = ParseExpression(e);
      if (!x.ok()) return x.status();
      defs->emplace_back(name, *std::move(x));
    }
    auto in = ParseExpression(arg.AsDocument().Get("in"));
    if (!in.ok()) return in.status();
    std::shared_ptr<Expression> body = *std::move(in);
    return ExprPtr(std::make_unique<SpecialExpr>([defs, body](const Variables& vars) -> EvalResult {
      Variables inner = vars;
      for (const auto& [name, e] : *defs) {
        auto v = e->Evaluate(vars);
        if (!v.ok()) return v.status();
        inner.bound[name] = *v ? **v : Value(nullptr);
      }
      return body->Evaluate(inner);
    }));
  }
  if (op == "$map" || op == "$filter") {
    bool map = op == "$map";
    auto named = map ? ParseNamed(arg, op, {"input", "in"}, {"as"}, {"as"})
                     : ParseNamed(arg, op, {"input", "cond"}, {"as", "limit"}, {"as"});
    if (!named.ok()) return named.status();
    std::string as = VarName(*named, "as", "this");
    auto args = std::make_shared<std::map<std::string, ExprPtr>>(*std::move(named));
    return ExprPtr(std::make_unique<SpecialExpr>([args, as, map](const Variables& vars) -> EvalResult {
      auto input = Eval(*args, "input", vars);
      if (!input.ok()) return input.status();
      if (IsNullish(*input)) return kNull;
      auto arr = ArrayArg(*input, map ? "$map" : "$filter");
      if (!arr.ok()) return arr.status();
      std::optional<int64_t> limit;
      if (!map && args->count("limit")) {
        auto l = Eval(*args, "limit", vars);
        if (!l.ok()) return l.status();
        limit = IntArg(*l);
      }
      Array out;
      Variables inner = vars;
      for (const Value& e : **arr) {
        if (limit && static_cast<int64_t>(out.size()) >= *limit) break;
        inner.bound[as] = e;
        auto r = args->at(map ? "in" : "cond")->Evaluate(inner);
        if (!r.ok()) return r.status();
        if (map) {
          out.push_back(*r ? **r : Value(nullptr));
        } else if (IsTrue(*r)) {
          out.push_back(e);
        }
      }
      return Some(out);
    }));
  }
  if (op == "$reduce") {
    auto named = ParseNamed(arg, op, {"input", "initialValue", "in"}, {}, {});
    if (!named.ok()) return named.status();
    auto args = std::make_shared<std::map<std::string, ExprPtr>>(*std::move(named));
    return ExprPtr(std::make_unique<SpecialExpr>([args](const Variables& vars) -> EvalResult {
      auto input = Eval(*args, "input", vars);
      if (!input.ok()) return input.status();
      if (IsNullish(*input)) return kNull;
      auto arr = ArrayArg(*input, "$reduce");
      if (!arr.ok()) return arr.status();
      auto acc = Eval(*args, "initialValue", vars);
      if (!acc.ok()) return acc.status();
      std::optional<Value> value = *acc;
      Variables inner = vars;
      for (const Value& e : **arr) {
        inner.bound["this"] = e;
        inner.bound["value"] = value ? *value : Value(nullptr);
        auto r = args->at("in")->Evaluate(inner);
        if (!r.ok()) return r.status();
        value = *r;
      }
      return value;
    }));
  }
  if (op == "$zip") {
    auto named = ParseNamed(arg, op, {"inputs"}, {"useLongestLength", "defaults"}, {});
    if (!named.ok()) return named.status();
    auto args = std::make_shared<std::map<std::string, ExprPtr>>(*std::move(named));
    return ExprPtr(std::make_unique<SpecialExpr>([args](const Variables& vars) -> EvalResult {
      auto inputs = Eval(*args, "inputs", vars);
      if (!inputs.ok()) return inputs.status();
      auto arrays = ArrayArg(*inputs, "$zip");
      if (!arrays.ok()) return arrays.status();
      auto longest = Eval(*args, "useLongestLength", vars);
      auto defaults = Eval(*args, "defaults", vars);
      if (!longest.ok()) return longest.status();
      if (!defaults.ok()) return defaults.status();
      size_t n = IsTrue(*longest) ? 0 : SIZE_MAX;
      for (const Value& a : **arrays) {
        if (a.IsNull()) return kNull;
        if (a.type() != BsonType::kArray) return Err(34468, "$zip found a non-array input");
        n = IsTrue(*longest) ? std::max(n, a.AsArray().size()) : std::min(n, a.AsArray().size());
      }
      if ((*arrays)->empty()) n = 0;
      Array out;
      for (size_t i = 0; i < n; ++i) {
        Array row;
        for (size_t k = 0; k < (*arrays)->size(); ++k) {
          const Array& a = (**arrays)[k].AsArray();
          if (i < a.size()) {
            row.push_back(a[i]);
          } else if (*defaults && (*defaults)->type() == BsonType::kArray && k < (*defaults)->AsArray().size()) {
            row.push_back((*defaults)->AsArray()[k]);
          } else {
            row.push_back(nullptr);
          }
        }
        out.push_back(std::move(row));
      }
      return Some(out);
    }));
  }
  if (op == "$trim" || op == "$ltrim" || op == "$rtrim") {
    auto named = ParseNamed(arg, op, {"input"}, {"chars"}, {});
    if (!named.ok()) return named.status();
    bool left = op != "$rtrim", right = op != "$ltrim";
    auto args = std::make_shared<std::map<std::string, ExprPtr>>(*std::move(named));
    std::string name(op);
    return ExprPtr(std::make_unique<SpecialExpr>([args, left, right, name](const Variables& vars) -> EvalResult {
      auto input = Eval(*args, "input", vars);
      if (!input.ok()) return input.status();
      if (IsNullish(*input)) return kNull;
      auto s = StringArg(*input, name);
      if (!s.ok()) return s.status();
      std::string chars = " \t\n\r\v\f";
      chars.push_back('\0');
      if (args->count("chars")) {
        auto c = Eval(*args, "chars", vars);
        if (!c.ok()) return c.status();
        auto cs = StringArg(*c, name);
        if (!cs.ok()) return cs.status();
        chars = *cs;
      }
      size_t b = 0, e = s->size();
      if (left) while (b < e && chars.find((*s)[b]) != std::string::npos) ++b;
      if (right) while (e > b && chars.find((*s)[e - 1]) != std::string::npos) --e;
      return Some(s->substr(b, e - b));
    }));
  }
  if (op == "$replaceOne" || op == "$replaceAll") {
    auto named = ParseNamed(arg, op, {"input", "find", "replacement"}, {}, {});
    if (!named.ok()) return named.status();
    bool all = op == "$replaceAll";
    auto args = std::make_shared<std::map<std::string, ExprPtr>>(*std::move(named));
    return ExprPtr(std::make_unique<SpecialExpr>([args, all](const Variables& vars) -> EvalResult {
      std::string parts[3];
      const char* keys[3] = {"input", "find", "replacement"};
      for (int i = 0; i < 3; ++i) {
        auto v = Eval(*args, keys[i], vars);
        if (!v.ok()) return v.status();
        if (IsNullish(*v)) return kNull;
        if ((*v)->type() != BsonType::kString) return Err(51746, StrCat("$replace", all ? "All" : "One", " requires strings"));
        parts[i] = (*v)->AsString();
      }
      std::string& s = parts[0];
      if (parts[1].empty() && !all) return Some(parts[2] + s);
      size_t pos = 0;
      while ((pos = s.find(parts[1], pos)) != std::string::npos) {
        s.replace(pos, parts[1].size(), parts[2]);
        pos += parts[2].size();
        if (!all || parts[1].empty()) break;
      }
      return Some(s);
    }));
  }
  if (op == "$getField" || op == "$setField" || op == "$unsetField") {
    Value spec = arg;
    if (op == "$getField" && arg.type() != BsonType::kDocument) spec = Document{{"field", arg}};
    auto named = op == "$getField"   ? ParseNamed(spec, op, {"field"}, {"input"}, {})
                 : op == "$setField" ? ParseNamed(spec, op, {"field", "input", "value"}, {}, {})
                                     : ParseNamed(spec, op, {"field", "input"}, {}, {});
    if (!named.ok()) return named.status();
    auto args = std::make_shared<std::map<std::string, ExprPtr>>(*std::move(named));
    std::string name(op);
    return ExprPtr(std::make_unique<SpecialExpr>([args, name](const Variables& vars) -> EvalResult {
      auto field = Eval(*args, "field", vars);
      if (!field.ok()) return field.status();
      if (!*field || (*field)->type() != BsonType::kString) {
        return Err(3041704, StrCat(name, " requires 'field' to evaluate to a string"));
      }
      std::optional<Value> input;
      if (args->count("input")) {
        auto in = Eval(*args, "input", vars);
        if (!in.ok()) return in.status();
        input = *in;
      } else {
        input = RootValue(vars);
      }
      const std::string& key = (*field)->AsString();
      if (name == "$getField") {
        if (IsNullish(input)) return kNull;
        if (input->type() != BsonType::kDocument) return std::optional<Value>();
        const Value* v = input->AsDocument().Find(key);
        return v ? Some(*v) : std::optional<Value>();
      }
      if (IsNullish(input)) return kNull;
      if (input->type() != BsonType::kDocument) {
        return Err(4161105, StrCat(name, " requires 'input' to evaluate to type Object"));
      }
      Document out = input->AsDocument();
      if (name == "$unsetField") {
        out.Remove(key);
        return Some(out);
      }
      auto value = Eval(*args, "value", vars);
      if (!value.ok()) return value.status();
      if (*value) {
        out.Set(key, **value);
      } else {
        out.Remove(key);  // $$REMOVE
      }
      return SomeNested(std::move(out));
    }));
  }
  if (op == "$dateToString") {
    auto named = ParseNamed(arg, op, {"date"}, {"format", "timezone", "onNull"}, {});
    if (!named.ok()) return named.status();
    auto args = std::make_shared<std::map<std::string, ExprPtr>>(*std::move(named));
    return ExprPtr(std::make_unique<SpecialExpr>([args](const Variables& vars) -> EvalResult {
      auto date = Eval(*args, "date", vars);
      if (!date.ok()) return date.status();
      if (IsNullish(*date)) {
        if (args->count("onNull")) return Eval(*args, "onNull", vars);
        return kNull;
      }
      auto d = DateArg(*date, "$dateToString");
      if (!d.ok()) return d.status();
      std::string format = "%Y-%m-%dT%H:%M:%S.%LZ";
      if (args->count("format")) {
        auto f = Eval(*args, "format", vars);
        if (!f.ok()) return f.status();
        auto fs = StringArg(*f, "$dateToString");
        if (!fs.ok()) return fs.status();
        format = *fs;
      }
      return Some(DateToString(*d, format));
    }));
  }
  if (op == "$convert") {
    auto named = ParseNamed(arg, op, {"input", "to"}, {"onError", "onNull"}, {});
    if (!named.ok()) return named.status();
    auto args = std::make_shared<std::map<std::string, ExprPtr>>(*std::move(named));
    return ExprPtr(std::make_unique<SpecialExpr>([args](const Variables& vars) -> EvalResult {
      auto input = Eval(*args, "input", vars);
      auto to = Eval(*args, "to", vars);
      if (!input.ok()) return input.status();
      if (!to.ok()) return to.status();
      if (IsNullish(*input)) return args->count("onNull") ? Eval(*args, "onNull", vars) : kNull;
      if (!*to) return Err(34436, "$convert's 'to' is missing");
      auto r = Convert(**input, TypeAliasOf(**to));
      if (!r.ok()) {
        if (args->count("onError")) return Eval(*args, "onError", vars);
        return r.status();
      }
      return Some(*std::move(r));
    }));
  }
  for (const OpDef& def : Operators()) {
    if (op != def.name) continue;
    if (def.max_args == 0 && ((arg.type() == BsonType::kDocument && arg.AsDocument().empty()) ||
                              (arg.type() == BsonType::kArray && arg.AsArray().empty()))) {
      return ExprPtr(std::make_unique<OperatorExpr>(std::string(op), std::vector<ExprPtr>(), def.Callable()));
    }
    auto args = ParseArgs(arg);
    if (!args.ok()) return args.status();
    if (auto s = Arity(op, args->size(), def.min_args, def.max_args); !s.ok()) return s;
    return ExprPtr(std::make_unique<OperatorExpr>(std::string(op), *std::move(args), def.Callable()));
  }
  return Err(168, StrCat("Unrecognized expression '", op, "'"));
}

}  // namespace

bool IsTrue(const std::optional<Value>& v) {
  if (IsNullish(v)) return false;
  if (v->type() == BsonType::kBool) return v->AsBool();
  if (v->IsNumber()) return bson::ToLongDouble(*v) != 0;
  return true;
}

absl::StatusOr<std::unique_ptr<Expression>> ParseExpression(const Value& spec) {
  if (spec.type() == BsonType::kString) {
    const std::string& s = spec.AsString();
    if (s.size() > 1 && s[0] == '$') {
      std::string var = "CURRENT";
      std::string rest = s.substr(1);
      if (s[1] == '$') {
        size_t dot = s.find('.');
        var = s.substr(2, dot == std::string::npos ? std::string::npos : dot - 2);
        rest = dot == std::string::npos ? "" : s.substr(dot + 1);
        if (var.empty()) return Err(kFailedToParse, "empty variable name");
      }
      std::vector<std::string> parts;
      size_t start = 0;
      while (!rest.empty()) {
        size_t dot = rest.find('.', start);
        std::string part = rest.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (part.empty() || part[0] == '$') {
          return Err(16411, StrCat("FieldPath field names may not be empty strings or start with $: ", s));
        }
        parts.push_back(part);
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      return ExprPtr(std::make_unique<FieldPathExpr>(var, std::move(parts)));
    }
    if (s == "$") return Err(16872, "'$' by itself is not a valid FieldPath");
  }
  if (spec.type() == BsonType::kArray) {
    std::vector<ExprPtr> items;
    for (const Value& e : spec.AsArray()) {
      auto x = ParseExpression(e);
      if (!x.ok()) return x.status();
      items.push_back(*std::move(x));
    }
    return ExprPtr(std::make_unique<ArrayExpr>(std::move(items)));
  }
  if (spec.type() == BsonType::kDocument) {
    const Document& d = spec.AsDocument();
    if (!d.empty() && !d.begin()->first.empty() && d.begin()->first[0] == '$') {
      if (d.size() != 1) {
        return Err(15983, StrCat("An object representing an expression must have exactly one field: ",
                                 spec.ToJson()));
      }
      return ParseOperator(d.begin()->first, d.begin()->second);
    }
    std::vector<std::pair<std::string, ExprPtr>> fields;
    for (const auto& [k, v] : d) {
      if (!k.empty() && k[0] == '$') return Err(16404, StrCat("Unrecognized expression field '", k, "'"));
      auto x = ParseExpression(v);
      if (!x.ok()) return x.status();
      fields.emplace_back(k, *std::move(x));
    }
    return ExprPtr(std::make_unique<ObjectExpr>(std::move(fields)));
  }
  return ExprPtr(std::make_unique<Constant>(spec));
}

EvalResult EvaluateOn(const Expression& expr, const Document& doc, const VariableMap* let,
                      const bson::Collator* collator) {
  Variables vars;
  vars.root = &doc;
  vars.collator = collator;
  if (let != nullptr) vars.bound = *let;
  return expr.Evaluate(vars);
}

EvalResult EvaluateOnBson(const Expression& expr, bson::DocView doc, const VariableMap* let,
                          const bson::Collator* collator) {
  Variables vars;
  vars.root_bson = &doc;
  vars.collator = collator;
  if (let != nullptr) vars.bound = *let;
  return expr.Evaluate(vars);
}

absl::StatusOr<VariableMap> EvaluateLet(const Document& let) {
  VariableMap out;
  Document empty;
  for (const auto& [name, spec] : let) {
    if (name.empty() || !(name[0] >= 'a' && name[0] <= 'z')) {
      return Err(kFailedToParse, StrCat("'", name, "' starts with an invalid character for a user "
                                        "variable name"));
    }
    auto expr = ParseExpression(spec);
    if (!expr.ok()) return expr.status();
    auto v = EvaluateOn(**expr, empty);
    if (!v.ok()) return v.status();
    out[name] = *v ? **v : Value(nullptr);
  }
  return out;
}

}  // namespace micromongo::pipeline
