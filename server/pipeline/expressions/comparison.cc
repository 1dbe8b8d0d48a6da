// Comparison ($cmp $eq $ne $gt $gte $lt $lte), boolean ($and $or $not) and conditional
// ($cond $ifNull $switch) operators. Comparisons use MongoDB's order over all types (missing
// below null) and the request's collation for strings; $and, $or and the conditionals
// evaluate only the arguments they need.

#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {
namespace {

template <bool (*Test)(int)>
EvalResult CompareFn(Args& a, const Variables& vars) {
  return Some(Test(CompareOptional(a[0], a[1], vars.collator)));
}

bool Eq(int c) { return c == 0; }
bool Ne(int c) { return c != 0; }
bool Gt(int c) { return c > 0; }
bool Gte(int c) { return c >= 0; }
bool Lt(int c) { return c < 0; }
bool Lte(int c) { return c <= 0; }

EvalResult CmpFn(Args& a, const Variables& vars) {
  int c = CompareOptional(a[0], a[1], vars.collator);
  return Some(c < 0 ? -1 : (c > 0 ? 1 : 0));
}

EvalResult NotFn(Args& a, const Variables&) { return Some(!IsTrue(a[0])); }

// $and / $or: stop at the first argument that decides.
template <bool kAnd>
class LogicExpr final : public Expression {
 public:
  explicit LogicExpr(std::vector<ExprPtr> args) : args_(std::move(args)) {}
  EvalResult Evaluate(const Variables& vars) const override {
    for (const ExprPtr& e : args_) {
      MM_EVAL(v, e, vars);
      if (IsTrue(v) != kAnd) return Some(!kAnd);
    }
    return Some(kAnd);
  }

 private:
  std::vector<ExprPtr> args_;
};

template <bool kAnd>
absl::StatusOr<ExprPtr> ParseLogic(std::string_view, const Value& arg, const ParseContext& context) {
  auto args = ParseArgs(arg, context);
  if (!args.ok()) return args.status();
  bool all_constant = true;
  for (const ExprPtr& e : *args) all_constant = all_constant && IsConstant(e);
  ExprPtr node = std::make_unique<LogicExpr<kAnd>>(*std::move(args));
  if (!all_constant) return node;
  return MakeConstant(*EvaluateConstant(*node, context));
}

// ---- $cond ---------------------------------------------------------------------------------

struct CondState {
  ExprPtr if_, then_, else_;
};

EvalResult EvalCond(const CondState& s, const Variables& vars) {
  MM_EVAL(c, s.if_, vars);
  return (IsTrue(c) ? s.then_ : s.else_)->Evaluate(vars);
}

absl::StatusOr<ExprPtr> ParseCond(std::string_view op, const Value& arg, const ParseContext& context) {
  CondState s;
  if (arg.type() == BsonType::kDocument) {
    for (const auto& [k, v] : arg.AsDocument()) {
      auto e = Parse(v, context);
      if (!e.ok()) return e.status();
      if (k == "if") {
        s.if_ = *std::move(e);
      } else if (k == "then") {
        s.then_ = *std::move(e);
      } else if (k == "else") {
        s.else_ = *std::move(e);
      } else {
        return Err(17083, StrCat("Unrecognized parameter to $cond: ", k));
      }
    }
    if (!s.if_) return Err(17080, "Missing 'if' parameter to $cond");
    if (!s.then_) return Err(17081, "Missing 'then' parameter to $cond");
    if (!s.else_) return Err(17082, "Missing 'else' parameter to $cond");
  } else {
    auto args = ParseArgs(arg, context);
    if (!args.ok()) return args.status();
    if (args->size() != 3) {
      return Err(16020, StrCat("Expression $cond takes exactly 3 arguments. ", args->size(),
                               " were passed in."));
    }
    s.if_ = std::move((*args)[0]);
    s.then_ = std::move((*args)[1]);
    s.else_ = std::move((*args)[2]);
  }
  // A constant condition picks its branch now.
  if (const std::optional<Value>* c = s.if_->constant()) {
    return IsTrue(*c) ? std::move(s.then_) : std::move(s.else_);
  }
  return ExprPtr(std::make_unique<CustomExpr<CondState>>(std::move(s), &EvalCond));
}

// ---- $ifNull -------------------------------------------------------------------------------

EvalResult EvalIfNull(const std::vector<ExprPtr>& args, const Variables& vars) {
  for (size_t i = 0; i < args.size(); ++i) {
    MM_EVAL(v, args[i], vars);
    if (!IsNullish(v) || i + 1 == args.size()) return v;
  }
  return Missing();
}

absl::StatusOr<ExprPtr> ParseIfNull(std::string_view, const Value& arg, const ParseContext& context) {
  auto args = ParseArgs(arg, context);
  if (!args.ok()) return args.status();
  if (args->size() < 2) {
    return Err(1257300, StrCat("$ifNull needs at least two arguments, had: ", args->size()));
  }
  bool all_constant = true;
  for (const ExprPtr& e : *args) all_constant = all_constant && IsConstant(e);
  ExprPtr node = std::make_unique<CustomExpr<std::vector<ExprPtr>>>(*std::move(args), &EvalIfNull);
  if (!all_constant) return node;
  return MakeConstant(*EvaluateConstant(*node, context));
}

// ---- $switch -------------------------------------------------------------------------------

struct SwitchState {
  std::vector<std::pair<ExprPtr, ExprPtr>> branches;
  ExprPtr fallback;
};

EvalResult EvalSwitch(const SwitchState& s, const Variables& vars) {
  for (const auto& [c, then] : s.branches) {
    MM_EVAL(v, c, vars);
    if (IsTrue(v)) return then->Evaluate(vars);
  }
  if (!s.fallback) {
    return Err(40066, "$switch could not find a matching branch for an input, and no default was "
                      "specified.");
  }
  return s.fallback->Evaluate(vars);
}

absl::StatusOr<ExprPtr> ParseSwitch(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(40060, StrCat("$switch requires an object as an argument, found: ", TypeName(arg)));
  }
  SwitchState s;
  bool have_branches = false;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "branches") {
      if (v.type() != BsonType::kArray) {
        return Err(40061, StrCat("$switch expected an array for 'branches', found: ", TypeName(v)));
      }
      have_branches = true;
      for (const Value& b : v.AsArray()) {
        if (b.type() != BsonType::kDocument) {
          return Err(40062, StrCat("$switch expected each branch to be an object, found: ", TypeName(b)));
        }
        ExprPtr c, then;
        for (const auto& [bk, bv] : b.AsDocument()) {
          auto e = Parse(bv, context);
          if (!e.ok()) return e.status();
          if (bk == "case") {
            c = *std::move(e);
          } else if (bk == "then") {
            then = *std::move(e);
          } else {
            return Err(40063, StrCat("$switch found an unknown argument to a branch: ", bk));
          }
        }
        if (!c) return Err(40064, "$switch requires each branch have a 'case' expression");
        if (!then) return Err(40065, "$switch requires each branch have a 'then' expression.");
        s.branches.emplace_back(std::move(c), std::move(then));
      }
    } else if (k == "default") {
      auto e = Parse(v, context);
      if (!e.ok()) return e.status();
      s.fallback = *std::move(e);
    } else {
      return Err(40067, StrCat("$switch found an unknown argument: ", k));
    }
  }
  if (!have_branches || s.branches.empty()) return Err(40068, "$switch requires at least one branch.");
  // Constant cases decide now: false ones are dropped, the first true one becomes the default.
  std::vector<std::pair<ExprPtr, ExprPtr>> kept;
  for (auto& [c, then] : s.branches) {
    if (const std::optional<Value>* v = c->constant()) {
      if (!IsTrue(*v)) continue;
      s.fallback = std::move(then);
      break;
    }
    kept.emplace_back(std::move(c), std::move(then));
  }
  s.branches = std::move(kept);
  if (s.branches.empty()) {
    if (!s.fallback) {
      return Err(40069, "One cannot execute a switch statement where all the cases evaluate to "
                        "false without a default.");
    }
    return std::move(s.fallback);
  }
  return ExprPtr(std::make_unique<CustomExpr<SwitchState>>(std::move(s), &EvalSwitch));
}

}  // namespace

void RegisterComparison(OperatorTable* t) {
  t->AddNary("$eq", 2, 2, &CompareFn<&Eq>);
  t->AddNary("$ne", 2, 2, &CompareFn<&Ne>);
  t->AddNary("$gt", 2, 2, &CompareFn<&Gt>);
  t->AddNary("$gte", 2, 2, &CompareFn<&Gte>);
  t->AddNary("$lt", 2, 2, &CompareFn<&Lt>);
  t->AddNary("$lte", 2, 2, &CompareFn<&Lte>);
  t->AddNary("$cmp", 2, 2, &CmpFn);
  t->AddNary("$not", 1, 1, &NotFn);
  t->Add("$and", &ParseLogic<true>);
  t->Add("$or", &ParseLogic<false>);
  t->Add("$cond", &ParseCond);
  t->Add("$ifNull", &ParseIfNull);
  t->Add("$switch", &ParseSwitch);
}

}  // namespace micromongo::pipeline::internal
