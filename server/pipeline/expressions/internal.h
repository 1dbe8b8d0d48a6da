#pragma once

// Shared by the operator families in this folder (not part of the expression API): the
// node types every family builds on, argument parsing and checking helpers with MongoDB's
// error codes, and the operator table each family registers into.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "document/status.h"
#include "pipeline/expression.h"

namespace micromongo::pipeline::internal {

using ExprPtr = std::unique_ptr<Expression>;
using Args = absl::InlinedVector<std::optional<Value>, 4>;

inline absl::Status Err(int code, std::string_view message) { return MongoError(code, message); }
inline std::optional<Value> Some(Value v) { return std::optional<Value>(std::move(v)); }
inline EvalResult Null() { return std::optional<Value>(Value(nullptr)); }
inline EvalResult Missing() { return std::optional<Value>(); }

// null, undefined or missing.
inline bool IsNullish(const std::optional<Value>& v) {
  return !v || v->type() == BsonType::kNull || v->type() == BsonType::kUndefined;
}
inline bool IsNumeric(const std::optional<Value>& v) { return v && v->IsNumber(); }
// MongoDB's type name, "missing" for a missing value.
std::string TypeName(const std::optional<Value>& v);

// ---- Numbers ------------------------------------------------------------------------------

// The value as an int64 when it is a number with no fractional part that fits (MongoDB's
// integral64Bit); for int32 likewise (integral()).
std::optional<int64_t> Integral64(const std::optional<Value>& v);
std::optional<int32_t> Integral32(const std::optional<Value>& v);
double ToDouble(const Value& v);
// MongoDB's coerceToLong: doubles and decimals truncated toward zero (saturating).
int64_t CoerceToLong(const Value& v);
// int32 when it fits, else int64 (MongoDB's createIntOrLong).
Value IntOrLong(int64_t n);
// The widest numeric type of two: int < long < double < decimal.
BsonType WidestNumeric(BsonType a, BsonType b);
// Decimal128 of any number (doubles rounded to 15 digits unless `exact`).
Decimal128 ToDecimal(const Value& v);

// ---- Strings and dates --------------------------------------------------------------------

// MongoDB's coerceToString: nullish is "", numbers and dates formatted, strings as they are;
// other types fail with 16007.
absl::StatusOr<std::string> CoerceToString(const std::optional<Value>& v, std::string_view op);
// A double as MongoDB's string streams print it (printf %g).
std::string FormatDouble(double d);
// Dates, timestamps (seconds) and ObjectIds (creation time) as a date (coercibleToDate).
std::optional<DateTime> AsDate(const Value& v);
// The same, failing with 16006 ("can't convert from BSON type X to Date") otherwise.
absl::StatusOr<DateTime> CoerceToDate(const std::optional<Value>& v);
// UTF-8 helpers.
size_t CodePointLength(unsigned char lead);
bool IsContinuationByte(char c);

// ---- Values -------------------------------------------------------------------------------

// MongoDB's order with missing equal to undefined (below null); see CompareOptional.
int Compare(const Value& a, const Value& b, const bson::Collator* collator);
// Compare(a, b) with `a` read in place, for the pairs that need no Value: two integers or
// two strings. nullopt for every other pair (the caller then builds a Value).
std::optional<int> CompareInPlace(const bson::ValueView& a, const Value& b, const bson::Collator* collator);
bool Equal(const Value& a, const Value& b, const bson::Collator* collator);
// Values an expression puts into a new array or document must still fit in a BSON document
// (15 Overflow): repeated wrapping in $reduce would otherwise grow without bound.
absl::StatusOr<Value> Nested(Value v);
EvalResult SomeNested(Value v);

// ---- Nodes --------------------------------------------------------------------------------

class Constant final : public Expression {
 public:
  explicit Constant(std::optional<Value> v) : v_(std::move(v)) {}
  EvalResult Evaluate(const Variables&) const override { return v_; }
  const std::optional<Value>* constant() const override { return &v_; }

 private:
  std::optional<Value> v_;
};

inline ExprPtr MakeConstant(std::optional<Value> v) {
  return std::make_unique<Constant>(std::move(v));
}
inline bool IsConstant(const ExprPtr& e) { return e == nullptr || e->constant() != nullptr; }

// Evaluates every argument (in order, stopping at the first error), then calls the
// operator's function: the shape of most operators.
using NaryFn = EvalResult (*)(Args& args, const Variables& vars);

class NaryExpr final : public Expression {
 public:
  NaryExpr(std::vector<ExprPtr> args, NaryFn fn) : args_(std::move(args)), fn_(fn) {}
  EvalResult Evaluate(const Variables& vars) const override;

 private:
  std::vector<ExprPtr> args_;
  NaryFn fn_;
};

// Operators with their own node types: evaluation as a function of the parsed state.
template <typename State>
class CustomExpr final : public Expression {
 public:
  using Fn = EvalResult (*)(const State& state, const Variables& vars);
  CustomExpr(State state, Fn fn) : state_(std::move(state)), fn_(fn) {}
  EvalResult Evaluate(const Variables& vars) const override { return fn_(state_, vars); }

 private:
  State state_;
  Fn fn_;
};

// An expression evaluated once now when every part of it is constant (MongoDB's
// optimize()): its value, or its error, becomes the result of parsing. `pure` operators
// only; `parts` may hold nulls for absent optional arguments.
// (Compute AllConstant before moving the parts into the expression.)
bool AllConstant(const std::vector<const ExprPtr*>& parts);
absl::StatusOr<ExprPtr> FoldIfConstant(bool all_constant, ExprPtr expr, const ParseContext& context);
// Evaluates an expression none of whose parts vary (parse-time folding).
EvalResult EvaluateConstant(const Expression& expr, const ParseContext& context);

// An NaryExpr over parsed arguments, folded now when they are all constant and the
// operator is pure.
absl::StatusOr<ExprPtr> MakeNary(std::vector<ExprPtr> args, NaryFn fn, const ParseContext& context,
                                 bool pure = true);

// Evaluates `e` (null: missing).
inline EvalResult EvalOpt(const ExprPtr& e, const Variables& vars) {
  if (e == nullptr) return Missing();
  return e->Evaluate(vars);
}

// ---- Parsing ------------------------------------------------------------------------------

absl::StatusOr<ExprPtr> Parse(const Value& spec, const ParseContext& context);
// An operator's arguments: the elements of an array, or a single non-array value.
absl::StatusOr<std::vector<ExprPtr>> ParseArgs(const Value& spec, const ParseContext& context);
// The same context with `names` bound (for $let, $map, ...).
ParseContext WithScope(const ParseContext& context, std::initializer_list<std::string_view> names);

// The named arguments of an object-form operator ({input: ..., as: ...}), in any order.
// Unknown names fail with `unknown_code` ("<op> found an unknown argument: <name>").
class NamedArgs {
 public:
  // `spec` must be a document (checked by the caller, which knows the operator's code).
  static absl::StatusOr<NamedArgs> Collect(const Value& spec, std::string_view op,
                                           std::initializer_list<std::string_view> known,
                                           int unknown_code, std::string_view unknown_message = {});
  const Value* Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name) != nullptr; }
  // Parses the named argument (null when absent).
  absl::StatusOr<ExprPtr> ParseOptional(std::string_view name, const ParseContext& context) const;
  // Parses a required argument, failing with `missing_code` / `missing_message` if absent.
  absl::StatusOr<ExprPtr> ParseRequired(std::string_view name, const ParseContext& context,
                                        int missing_code, std::string_view missing_message) const;

 private:
  std::vector<std::pair<std::string_view, const Value*>> args_;
};

// ---- The operator table -------------------------------------------------------------------

using Parser = absl::StatusOr<ExprPtr> (*)(std::string_view name, const Value& arg,
                                           const ParseContext& context);

struct OperatorEntry {
  Parser parser = nullptr;  // operators with their own parsing
  // Or: argument list evaluated eagerly, `fn` applied; arity checked (max < 0: any).
  NaryFn fn = nullptr;
  int min_args = 0;
  int max_args = 0;
  bool pure = true;  // false for $rand and the like: never folded
};

class OperatorTable {
 public:
  void Add(std::string_view name, Parser parser) { ops_[Key(name)].parser = parser; }
  // An operator taking exactly `n` arguments (16020 otherwise), `min`..`max` (28667), or
  // any number (max < 0).
  void AddNary(std::string_view name, int min, int max, NaryFn fn, bool pure = true) {
    OperatorEntry& e = ops_[Key(name)];
    e.fn = fn;
    e.min_args = min;
    e.max_args = max;
    e.pure = pure;
  }
  const OperatorEntry* Find(std::string_view name) const {
    auto it = ops_.find(Key(name));
    return it == ops_.end() ? nullptr : &it->second;
  }

 private:
  // Debian's Abseil has its own string_view.
  static absl::string_view Key(std::string_view s) { return absl::string_view(s.data(), s.size()); }
  absl::flat_hash_map<std::string, OperatorEntry> ops_;
};

// Each family adds its operators.
void RegisterArithmetic(OperatorTable* table);
void RegisterTrigonometry(OperatorTable* table);
void RegisterComparison(OperatorTable* table);  // comparison, boolean, conditional
void RegisterString(OperatorTable* table);
void RegisterRegex(OperatorTable* table);
void RegisterArray(OperatorTable* table);
void RegisterSet(OperatorTable* table);
void RegisterObject(OperatorTable* table);
void RegisterType(OperatorTable* table);  // type inspection and conversion
void RegisterDate(OperatorTable* table);
void RegisterBitwise(OperatorTable* table);
void RegisterMisc(OperatorTable* table);
void RegisterAccumulatorExpressions(OperatorTable* table);

}  // namespace micromongo::pipeline::internal

// Evaluates `expr` into a new variable `var` (a std::optional<Value>), returning on error.
#define MM_EVAL(var, expr, vars)              \
  auto var##_or = (expr)->Evaluate(vars);     \
  if (!var##_or.ok()) return var##_or.status(); \
  std::optional<Value> var = *std::move(var##_or)

#define MM_EVAL_OPT(var, expr, vars)                             \
  auto var##_or = ::micromongo::pipeline::internal::EvalOpt(expr, vars); \
  if (!var##_or.ok()) return var##_or.status();                  \
  std::optional<Value> var = *std::move(var##_or)

// Declares `name` from a StatusOr expression, returning its error.
#define MM_ASSIGN(name, rexpr)                      \
  auto name##_or = (rexpr);                         \
  if (!name##_or.ok()) return name##_or.status();   \
  auto name = *std::move(name##_or)
