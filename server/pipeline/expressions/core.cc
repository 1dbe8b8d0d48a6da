// The expression language's core: parsing (literals, field paths, variables, array and
// object literals, operator dispatch through the table the families fill), constant
// folding, $literal and $let, and the helpers internal.h declares.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "document/builder.h"
#include "document/compare.h"
#include "document/decimal.h"
#include "document/value_ops.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline {
namespace internal {

// ---- Values -------------------------------------------------------------------------------

std::string TypeName(const std::optional<Value>& v) {
  return v ? std::string(BsonTypeName(v->type())) : "missing";
}

std::optional<int64_t> Integral64(const std::optional<Value>& v) {
  if (!v) return std::nullopt;
  switch (v->type()) {
    case BsonType::kInt32: return v->AsInt32();
    case BsonType::kInt64: return v->AsInt64();
    case BsonType::kDouble: {
      double d = v->AsDouble();
      if (!std::isfinite(d) || d != std::trunc(d) || d < -0x1p63 || d >= 0x1p63) return std::nullopt;
      return static_cast<int64_t>(d);
    }
    case BsonType::kDecimal128: {
      long double d = bson::ToLongDouble(*v);
      if (!std::isfinite(d) || d != std::trunc(d) || d < -0x1p63L || d >= 0x1p63L) return std::nullopt;
      return static_cast<int64_t>(d);
    }
    default: return std::nullopt;
  }
}

std::optional<int32_t> Integral32(const std::optional<Value>& v) {
  auto n = Integral64(v);
  if (!n || *n < std::numeric_limits<int32_t>::min() || *n > std::numeric_limits<int32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<int32_t>(*n);
}

double ToDouble(const Value& v) { return static_cast<double>(bson::ToLongDouble(v)); }

int64_t CoerceToLong(const Value& v) {
  switch (v.type()) {
    case BsonType::kInt32: return v.AsInt32();
    case BsonType::kInt64: return v.AsInt64();
    case BsonType::kDouble:
    case BsonType::kDecimal128: {
      long double d = std::trunc(bson::ToLongDouble(v));
      if (std::isnan(d)) return 0;
      if (d <= -0x1p63L) return std::numeric_limits<int64_t>::min();
      if (d >= 0x1p63L) return std::numeric_limits<int64_t>::max();
      return static_cast<int64_t>(d);
    }
    default: return 0;
  }
}

Value IntOrLong(int64_t n) {
  if (n >= std::numeric_limits<int32_t>::min() && n <= std::numeric_limits<int32_t>::max()) {
    return static_cast<int32_t>(n);
  }
  return n;
}

BsonType WidestNumeric(BsonType a, BsonType b) {
  auto rank = [](BsonType t) {
    switch (t) {
      case BsonType::kInt32: return 1;
      case BsonType::kInt64: return 2;
      case BsonType::kDouble: return 3;
      case BsonType::kDecimal128: return 4;
      default: return 0;
    }
  };
  int r = std::min(rank(a), rank(b)) == 0 ? 0 : std::max(rank(a), rank(b));
  switch (r) {
    case 1: return BsonType::kInt32;
    case 2: return BsonType::kInt64;
    case 3: return BsonType::kDouble;
    case 4: return BsonType::kDecimal128;
    default: return BsonType::kUndefined;  // not both numeric
  }
}

Decimal128 ToDecimal(const Value& v) {
  if (auto d = v.GetIf<Decimal128>()) return *d;
  Value one = Decimal128::FromString("0");
  return bson::AddNumbers(one, v).AsDecimal128();
}

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", d);
  return buf;
}

std::optional<DateTime> AsDate(const Value& v) {
  switch (v.type()) {
    case BsonType::kDate: return v.AsDate();
    case BsonType::kTimestamp: return DateTime{int64_t{v.AsTimestamp().t} * 1000};
    case BsonType::kObjectId: return DateTime{int64_t{v.AsObjectId().timestamp()} * 1000};
    default: return std::nullopt;
  }
}

absl::StatusOr<DateTime> CoerceToDate(const std::optional<Value>& v) {
  if (v) {
    if (auto d = AsDate(*v)) return *d;
  }
  return Err(16006, StrCat("can't convert from BSON type ", TypeName(v), " to Date"));
}

std::string FormatIsoDate(DateTime d);  // date.cc

absl::StatusOr<std::string> CoerceToString(const std::optional<Value>& v, std::string_view op) {
  if (IsNullish(v)) return std::string();
  switch (v->type()) {
    case BsonType::kString: return v->AsString();
    case BsonType::kSymbol: return v->GetIf<Symbol>()->symbol;
    case BsonType::kJavaScript: return v->GetIf<JavaScript>()->code;
    case BsonType::kInt32: return std::to_string(v->AsInt32());
    case BsonType::kInt64: return std::to_string(v->AsInt64());
    case BsonType::kDouble: return FormatDouble(v->AsDouble());
    case BsonType::kDecimal128: return v->AsDecimal128().ToString();
    case BsonType::kDate: return FormatIsoDate(v->AsDate());
    case BsonType::kTimestamp: {
      Timestamp t = v->AsTimestamp();
      return StrCat("Timestamp(", t.t, ", ", t.i, ")");
    }
    default:
      return Err(16007, StrCat("can't convert from BSON type ", TypeName(v), " to String"));
  }
}

size_t CodePointLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

namespace {

// Exact comparison of two numbers that are not decimals.
int CompareNonDecimal(const Value& a, const Value& b) {
  auto is_int = [](const Value& v) { return v.type() == BsonType::kInt32 || v.type() == BsonType::kInt64; };
  if (is_int(a) && is_int(b)) {
    int64_t x = a.ToInt64(), y = b.ToInt64();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  long double x = bson::ToLongDouble(a), y = bson::ToLongDouble(b);
  // NaN sorts below every other number and equals itself.
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) ? (std::isnan(y) ? 0 : -1) : 1;
  return x < y ? -1 : (x > y ? 1 : 0);
}

int CompareStrings(std::string_view a, std::string_view b, const bson::Collator* collator) {
  int c = collator != nullptr ? collator->Compare(a, b) : a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool IsInteger(BsonType t) { return t == BsonType::kInt32 || t == BsonType::kInt64; }

}  // namespace

int Compare(const Value& a, const Value& b, const bson::Collator* collator) {
  // The common cases directly; everything else through the BSON comparison.
  if (a.IsNumber() && b.IsNumber() && a.type() != BsonType::kDecimal128 &&
      b.type() != BsonType::kDecimal128) {
    return CompareNonDecimal(a, b);
  }
  if (a.type() == BsonType::kString && b.type() == BsonType::kString) {
    return CompareStrings(a.AsString(), b.AsString(), collator);
  }
  int c = bson::CompareTree(a, b, collator);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::optional<int> CompareInPlace(const bson::ValueView& a, const Value& b, const bson::Collator* collator) {
  if (IsInteger(a.type) && IsInteger(b.type())) {
    int64_t x = a.type == BsonType::kInt32 ? a.Int32() : a.Int64(), y = b.ToInt64();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.type == BsonType::kString && b.type() == BsonType::kString) {
    return CompareStrings(a.String(), b.AsString(), collator);
  }
  return std::nullopt;
}

bool Equal(const Value& a, const Value& b, const bson::Collator* collator) {
  return bson::CanonicalTypeOrder(a.type()) == bson::CanonicalTypeOrder(b.type()) &&
         Compare(a, b, collator) == 0;
}

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
  return Some(*std::move(r));
}

// ---- Nodes --------------------------------------------------------------------------------

EvalResult NaryExpr::Evaluate(const Variables& vars) const {
  Args values;
  values.reserve(args_.size());
  for (const ExprPtr& a : args_) {
    auto v = a->Evaluate(vars);
    if (!v.ok()) return v.status();
    values.push_back(*std::move(v));
  }
  return fn_(values, vars);
}

EvalResult EvaluateConstant(const Expression& expr, const ParseContext& context) {
  Variables vars;
  vars.collator = context.collator;
  return expr.Evaluate(vars);
}

bool AllConstant(const std::vector<const ExprPtr*>& parts) {
  for (const ExprPtr* p : parts) {
    if (!IsConstant(*p)) return false;
  }
  return true;
}

absl::StatusOr<ExprPtr> FoldIfConstant(bool all_constant, ExprPtr expr, const ParseContext& context) {
  if (!all_constant) return expr;
  auto v = EvaluateConstant(*expr, context);
  if (!v.ok()) return v.status();
  return MakeConstant(*std::move(v));
}

absl::StatusOr<ExprPtr> MakeNary(std::vector<ExprPtr> args, NaryFn fn, const ParseContext& context,
                                 bool pure) {
  bool all_constant = pure;
  for (const ExprPtr& a : args) all_constant = all_constant && IsConstant(a);
  ExprPtr node = std::make_unique<NaryExpr>(std::move(args), fn);
  if (!all_constant) return node;
  auto v = EvaluateConstant(*node, context);
  if (!v.ok()) return v.status();
  return MakeConstant(*std::move(v));
}

// ---- Field paths and variables ------------------------------------------------------------

namespace {

// The system variables every expression may read.
constexpr std::string_view kSystemVariables[] = {"ROOT",  "CURRENT", "REMOVE",      "NOW",
                                                 "CLUSTER_TIME", "DESCEND", "PRUNE", "KEEP",
                                                 "SEARCH_META",  "USER_ROLES", "IS_MR",
                                                 "SEARCH_SCORE"};

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsVariableChar(char c) {
  return IsAsciiLetter(c) || (c >= '0' && c <= '9') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

// Names a variable may be read by: user names, and system names starting uppercase.
absl::Status ValidateReadName(std::string_view name) {
  if (name.empty()) return Err(16869, "empty variable names are not allowed");
  if (!(IsAsciiLetter(name[0]) || static_cast<unsigned char>(name[0]) >= 0x80)) {
    return Err(16870, StrCat("'", name, "' starts with an invalid character for a variable name"));
  }
  for (char c : name) {
    if (!IsVariableChar(c)) {
      return Err(16871, StrCat("'", name, "' contains an invalid character for a variable name: '",
                               std::string(1, c), "'"));
    }
  }
  return absl::OkStatus();
}

// Walks `parts[i..]` into a BSON value without decoding what it does not return. Arrays
// map the rest of the path over their document elements (nested arrays are skipped, and
// missing results left out), as MongoDB's ExpressionFieldPath does.
std::optional<Value> WalkView(const bson::ValueView& v, const std::vector<std::string>& parts,
                              size_t i) {
  if (i == parts.size()) return bson::ToValue(v);
  if (v.type == BsonType::kDocument) {
    bson::ValueView child;
    if (!v.Doc().Find(parts[i], &child)) return std::nullopt;
    return WalkView(child, parts, i + 1);
  }
  if (v.type == BsonType::kArray) {
    Array out;
    for (const bson::ElementView& e : v.Doc()) {
      if (e.value.type != BsonType::kDocument) continue;
      auto r = WalkView(e.value, parts, i);
      if (r) out.push_back(*std::move(r));
    }
    return Value(std::move(out));
  }
  return std::nullopt;
}

std::optional<Value> WalkTree(const Value& v, const std::vector<std::string>& parts, size_t i) {
  if (i == parts.size()) return v;
  if (const Document* d = v.GetIf<Document>()) {
    const Value* child = d->Find(parts[i]);
    if (child == nullptr) return std::nullopt;
    return WalkTree(*child, parts, i + 1);
  }
  if (const Array* a = v.GetIf<Array>()) {
    Array out;
    for (const Value& e : *a) {
      if (e.type() != BsonType::kDocument) continue;
      auto r = WalkTree(e, parts, i);
      if (r) out.push_back(*std::move(r));
    }
    return Value(std::move(out));
  }
  return std::nullopt;
}

class FieldPathExpr final : public Expression {
 public:
  // `var` is ROOT/CURRENT for "$a.b"; `parts` the path after the variable.
  FieldPathExpr(std::string var, std::vector<std::string> parts)
      : var_(std::move(var)), parts_(std::move(parts)) {}

  // "$a.b" and "$$ROOT.a.b" with a non-empty path ($$CURRENT may be rebound inside $map and
  // the like, so only where no binding is in scope; stages evaluate at the top level).
  bool reads_current_document() const { return (var_ == "ROOT" || var_ == "CURRENT") && !parts_.empty(); }
  const std::vector<std::string>& parts() const { return parts_; }

  EvalResult Evaluate(const Variables& vars) const override {
    // A rebound $$CURRENT (and every other variable) comes from the bindings.
    for (const Binding* b = vars.bound; b != nullptr; b = b->next) {
      if (b->name == var_) return parts_.empty() ? Some(*b->value) : WalkTree(*b->value, parts_, 0);
    }
    if (var_ == "ROOT" || var_ == "CURRENT") {
      if (vars.root != nullptr) {
        if (parts_.empty()) return Some(Value(*vars.root));
        const Value* child = vars.root->Find(parts_[0]);
        if (child == nullptr) return Missing();
        return WalkTree(*child, parts_, 1);
      }
      if (vars.root_bson != nullptr) {
        if (parts_.empty()) return Some(Value(bson::Decode(*vars.root_bson)));
        bson::ValueView child;
        if (!vars.root_bson->Find(parts_[0], &child)) return Missing();
        return WalkView(child, parts_, 1);
      }
      return Missing();
    }
    if (var_ == "REMOVE") return Missing();
    if (vars.let != nullptr) {
      auto it = vars.let->find(var_);
      if (it != vars.let->end()) return parts_.empty() ? Some(it->second) : WalkTree(it->second, parts_, 0);
    }
    if (var_ == "NOW") return Some(DateTime::Now());
    if (var_ == "CLUSTER_TIME") {
      DateTime now = DateTime::Now();
      return Some(Timestamp{static_cast<uint32_t>(now.millis / 1000), 1});
    }
    if (var_ == "DESCEND" || var_ == "PRUNE" || var_ == "KEEP") {
      return Some(Value(std::string(var_ == "DESCEND" ? "descend" : var_ == "PRUNE" ? "prune" : "keep")));
    }
    if (var_ == "SEARCH_META" || var_ == "USER_ROLES" || var_ == "IS_MR" || var_ == "SEARCH_SCORE") {
      return Missing();
    }
    return Err(17276, StrCat("Use of undefined variable: ", var_));
  }

 private:
  std::string var_;
  std::vector<std::string> parts_;
};

absl::StatusOr<std::vector<std::string>> SplitPath(std::string_view path, std::string_view raw) {
  std::vector<std::string> parts;
  if (path.empty()) return parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view part = path.substr(start, dot == std::string_view::npos ? std::string_view::npos
                                                                             : dot - start);
    if (part.empty()) {
      return Err(15998, StrCat("FieldPath field names may not be empty strings."));
    }
    if (part[0] == '$') {
      return Err(16410, StrCat("FieldPath field names may not start with '$'. Consider using "
                               "$getField or $setField."));
    }
    if (part.find('\0') != std::string_view::npos) {
      return Err(16411, "FieldPath field names may not contain '\\0'.");
    }
    parts.emplace_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  (void)raw;
  return parts;
}

absl::StatusOr<ExprPtr> ParseFieldPath(std::string_view raw, const ParseContext& context) {
  if (raw.size() < 2) return Err(16872, "'$' by itself is not a valid FieldPath");
  if (raw.find('\0') != std::string_view::npos) {
    return Err(16419, "field path must not contain embedded null characters");
  }
  std::string var = "CURRENT";
  std::string_view path = raw.substr(1);
  if (raw[1] == '$') {
    std::string_view rest = raw.substr(2);
    size_t dot = rest.find('.');
    var = std::string(rest.substr(0, dot));
    if (auto s = ValidateReadName(var); !s.ok()) return s;
    path = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    bool known = std::find(context.scope.begin(), context.scope.end(), var) != context.scope.end() ||
                 (context.let != nullptr && context.let->count(var) > 0) ||
                 std::find(std::begin(kSystemVariables), std::end(kSystemVariables), var) !=
                     std::end(kSystemVariables);
    if (!known) return Err(17276, StrCat("Use of undefined variable: ", var));
    if (var == "REMOVE" && path.empty()) return MakeConstant(std::nullopt);
  }
  auto parts = SplitPath(path, raw);
  if (!parts.ok()) return parts.status();
  return ExprPtr(std::make_unique<FieldPathExpr>(std::move(var), *std::move(parts)));
}

// ---- Literals ----------------------------------------------------------------------------

class ArrayExpr final : public Expression {
 public:
  explicit ArrayExpr(std::vector<ExprPtr> items) : items_(std::move(items)) {}
  EvalResult Evaluate(const Variables& vars) const override {
    Array out;
    out.reserve(items_.size());
    for (const ExprPtr& e : items_) {
      auto v = e->Evaluate(vars);
      if (!v.ok()) return v.status();
      out.push_back(*v ? **std::move(v) : Value(nullptr));  // missing becomes null in arrays
    }
    return SomeNested(Value(std::move(out)));
  }

 private:
  std::vector<ExprPtr> items_;
};

class ObjectExpr final : public Expression {
 public:
  explicit ObjectExpr(std::vector<std::pair<std::string, ExprPtr>> fields)
      : fields_(std::move(fields)) {}
  EvalResult Evaluate(const Variables& vars) const override {
    Document out;
    for (const auto& [k, e] : fields_) {
      auto v = e->Evaluate(vars);
      if (!v.ok()) return v.status();
      if (*v) out.Append(k, **std::move(v));  // missing fields are left out
    }
    return SomeNested(Value(std::move(out)));
  }

 private:
  std::vector<std::pair<std::string, ExprPtr>> fields_;
};

absl::Status ValidateFieldName(std::string_view name) {
  if (name.empty()) return Err(16412, "FieldPath cannot be constructed with empty string");
  if (name[0] == '$') {
    return Err(16410, StrCat("FieldPath field names may not start with '$'. Consider using "
                             "$getField or $setField."));
  }
  if (name.find('.') != std::string_view::npos) {
    return Err(16412, StrCat("FieldPath field names may not contain '.'. Consider using "
                             "$getField or $setField."));
  }
  if (name.find('\0') != std::string_view::npos) {
    return Err(16411, "FieldPath field names may not contain '\\0'.");
  }
  return absl::OkStatus();
}

const OperatorTable& Table() {
  static const OperatorTable* table = [] {
    auto* t = new OperatorTable();
    RegisterArithmetic(t);
    RegisterTrigonometry(t);
    RegisterComparison(t);
    RegisterString(t);
    RegisterRegex(t);
    RegisterArray(t);
    RegisterSet(t);
    RegisterObject(t);
    RegisterType(t);
    RegisterDate(t);
    RegisterBitwise(t);
    RegisterMisc(t);
    RegisterAccumulatorExpressions(t);
    return t;
  }();
  return *table;
}

absl::Status ArityError(std::string_view op, int min, int max, size_t got) {
  if (min == max) {
    return Err(16020, StrCat("Expression ", op, " takes exactly ", min, " arguments. ", got,
                             " were passed in."));
  }
  return Err(28667, StrCat("Expression ", op, " takes at least ", min, " arguments, and at most ",
                           max, ", but ", got, " were passed in."));
}

absl::StatusOr<ExprPtr> ParseOperator(std::string_view op, const Value& arg,
                                      const ParseContext& context) {
  const OperatorEntry* entry = Table().Find(op);
  if (entry == nullptr) return Err(kInvalidPipelineOperator, StrCat("Unrecognized expression '", op, "'"));
  if (entry->parser != nullptr) return entry->parser(op, arg, context);
  auto args = ParseArgs(arg, context);
  if (!args.ok()) return args.status();
  int n = static_cast<int>(args->size());
  if (entry->max_args >= 0 && (n < entry->min_args || n > entry->max_args)) {
    return ArityError(op, entry->min_args, entry->max_args, args->size());
  }
  if (entry->max_args < 0 && n < entry->min_args) {
    return ArityError(op, entry->min_args, entry->min_args, args->size());
  }
  return MakeNary(*std::move(args), entry->fn, context, entry->pure);
}

}  // namespace

// ---- Parsing -------------------------------------------------------------------------------

absl::StatusOr<ExprPtr> Parse(const Value& spec, const ParseContext& context) {
  if (const std::string* s = spec.GetIf<std::string>()) {
    if (!s->empty() && (*s)[0] == '$') return ParseFieldPath(*s, context);
    return MakeConstant(spec);
  }
  if (const Array* a = spec.GetIf<Array>()) {
    std::vector<ExprPtr> items;
    items.reserve(a->size());
    bool all_constant = true;
    for (const Value& e : *a) {
      auto x = Parse(e, context);
      if (!x.ok()) return x.status();
      all_constant = all_constant && IsConstant(*x);
      items.push_back(*std::move(x));
    }
    ExprPtr node = std::make_unique<ArrayExpr>(std::move(items));
    if (!all_constant) return node;
    auto v = EvaluateConstant(*node, context);
    if (!v.ok()) return v.status();
    return MakeConstant(*std::move(v));
  }
  if (const Document* d = spec.GetIf<Document>()) {
    if (!d->empty() && !d->begin()->first.empty() && d->begin()->first[0] == '$') {
      if (d->size() != 1) {
        return Err(15983, StrCat("An object representing an expression must have exactly one "
                                 "field: ", spec.ToJson()));
      }
      return ParseOperator(d->begin()->first, d->begin()->second, context);
    }
    std::vector<std::pair<std::string, ExprPtr>> fields;
    bool all_constant = true;
    for (const auto& [k, v] : *d) {
      if (auto s = ValidateFieldName(k); !s.ok()) return s;
      for (const auto& f : fields) {
        if (f.first == k) {
          return Err(16406, StrCat("duplicate field name specified in object literal: ", spec.ToJson()));
        }
      }
      auto x = Parse(v, context);
      if (!x.ok()) return x.status();
      all_constant = all_constant && IsConstant(*x);
      fields.emplace_back(k, *std::move(x));
    }
    ExprPtr node = std::make_unique<ObjectExpr>(std::move(fields));
    if (!all_constant) return node;
    auto v = EvaluateConstant(*node, context);
    if (!v.ok()) return v.status();
    return MakeConstant(*std::move(v));
  }
  return MakeConstant(spec);
}

absl::StatusOr<std::vector<ExprPtr>> ParseArgs(const Value& spec, const ParseContext& context) {
  std::vector<ExprPtr> out;
  if (const Array* a = spec.GetIf<Array>()) {
    out.reserve(a->size());
    for (const Value& e : *a) {
      auto x = Parse(e, context);
      if (!x.ok()) return x.status();
      out.push_back(*std::move(x));
    }
  } else {
    auto x = Parse(spec, context);
    if (!x.ok()) return x.status();
    out.push_back(*std::move(x));
  }
  return out;
}

ParseContext WithScope(const ParseContext& context, std::initializer_list<std::string_view> names) {
  ParseContext inner = context;
  for (std::string_view n : names) inner.scope.emplace_back(n);
  return inner;
}

absl::StatusOr<NamedArgs> NamedArgs::Collect(const Value& spec, std::string_view op,
                                             std::initializer_list<std::string_view> known,
                                             int unknown_code, std::string_view unknown_message) {
  NamedArgs out;
  for (const auto& [k, v] : spec.AsDocument()) {
    auto it = std::find(known.begin(), known.end(), std::string_view(k));
    if (it == known.end()) {
      return Err(unknown_code, unknown_message.empty()
                                   ? StrCat(op, " found an unknown argument: ", k)
                                   : StrCat(unknown_message, k));
    }
    out.args_.emplace_back(*it, &v);
  }
  return out;
}

const Value* NamedArgs::Get(std::string_view name) const {
  for (const auto& [k, v] : args_) {
    if (k == name) return v;
  }
  return nullptr;
}

absl::StatusOr<ExprPtr> NamedArgs::ParseOptional(std::string_view name,
                                                 const ParseContext& context) const {
  const Value* v = Get(name);
  if (v == nullptr) return ExprPtr();
  return Parse(*v, context);
}

absl::StatusOr<ExprPtr> NamedArgs::ParseRequired(std::string_view name, const ParseContext& context,
                                                 int missing_code,
                                                 std::string_view missing_message) const {
  const Value* v = Get(name);
  if (v == nullptr) return Err(missing_code, missing_message);
  return Parse(*v, context);
}

}  // namespace internal

const std::vector<std::string>* CurrentFieldPath(const Expression& expr) {
  const auto* path = dynamic_cast<const internal::FieldPathExpr*>(&expr);
  if (path == nullptr || !path->reads_current_document()) return nullptr;
  return &path->parts();
}

// ---- Public API ----------------------------------------------------------------------------

using internal::Err;

absl::StatusOr<std::unique_ptr<Expression>> ParseExpression(const Value& spec,
                                                            const ParseContext& context) {
  return internal::Parse(spec, context);
}

bool IsExpressionOperator(std::string_view name) { return internal::Table().Find(name) != nullptr; }

absl::Status ValidateVariableName(std::string_view name) {
  if (name.empty()) return Err(16866, "empty variable names are not allowed");
  unsigned char first = static_cast<unsigned char>(name[0]);
  if (!((first >= 'a' && first <= 'z') || first >= 0x80)) {
    return Err(15999, StrCat("'", name, "' starts with an invalid character for a user variable name"));
  }
  for (char c : name) {
    if (!internal::IsVariableChar(c)) {
      return Err(16868, StrCat("'", name, "' contains an invalid character for a variable name: '",
                               std::string(1, c), "'"));
    }
  }
  return absl::OkStatus();
}

EvalResult EvaluateOn(const Expression& expr, const Document& doc, const VariableMap* let,
                      const bson::Collator* collator) {
  Variables vars;
  vars.root = &doc;
  vars.let = let;
  vars.collator = collator;
  return expr.Evaluate(vars);
}

EvalResult EvaluateOnBson(const Expression& expr, bson::DocView doc, const VariableMap* let,
                          const bson::Collator* collator) {
  Variables vars;
  vars.root_bson = &doc;
  vars.let = let;
  vars.collator = collator;
  return expr.Evaluate(vars);
}

absl::StatusOr<VariableMap> EvaluateLet(const Document& let) {
  VariableMap out;
  DateTime now = DateTime::Now();
  out["NOW"] = now;
  out["CLUSTER_TIME"] = Timestamp{static_cast<uint32_t>(now.millis / 1000), 1};
  ParseContext context;
  context.let = &out;
  for (const auto& [name, spec] : let) {
    if (auto s = ValidateVariableName(name); !s.ok()) return s;
    auto expr = ParseExpression(spec, context);
    if (!expr.ok()) return expr.status();
    Document empty;
    auto v = EvaluateOn(**expr, empty, &out);
    if (!v.ok()) return v.status();
    out[name] = *v ? **v : Value(nullptr);
  }
  return out;
}

bool IsTrue(const std::optional<Value>& v) {
  if (internal::IsNullish(v)) return false;
  switch (v->type()) {
    case BsonType::kBool: return v->AsBool();
    case BsonType::kInt32: return v->AsInt32() != 0;
    case BsonType::kInt64: return v->AsInt64() != 0;
    case BsonType::kDouble: return v->AsDouble() != 0;
    case BsonType::kDecimal128: {
      // Exactly: a decimal too small for long double (1E-6176) is still not zero.
      bson::DecimalParts parts = bson::DecimalPartsOf(*v);
      return parts.kind != bson::DecimalParts::Kind::kFinite || parts.coefficient != 0;
    }
    default: return true;
  }
}

int CompareOptional(const std::optional<Value>& a, const std::optional<Value>& b,
                    const bson::Collator* collator) {
  // Missing compares as undefined: below null, equal to undefined.
  static const Value kUndefined = Undefined{};
  return internal::Compare(a ? *a : kUndefined, b ? *b : kUndefined, collator);
}

}  // namespace micromongo::pipeline
