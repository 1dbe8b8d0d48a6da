// Accumulators used as expressions: $sum $avg $min $max $stdDevPop $stdDevSamp $mergeObjects
// over their arguments, or over the elements of a single array argument
// ({$sum: "$items.price"}); $median and $percentile over a number or an array of numbers.

#include "pipeline/accumulators/accumulator.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {
namespace {

struct FromAccumulatorState {
  std::string name;
  std::vector<ExprPtr> args;
};

EvalResult EvalFromAccumulator(const FromAccumulatorState& s, const Variables& vars) {
  std::unique_ptr<AccumulatorState> acc = MakeSimpleState(s.name, vars.collator);
  if (s.args.size() == 1) {
    MM_EVAL(v, s.args[0], vars);
    if (v && v->type() == BsonType::kArray) {
      for (const Value& e : v->AsArray()) {
        if (auto st = acc->Process(e); !st.ok()) return st;
      }
    } else if (auto st = acc->Process(v); !st.ok()) {
      return st;
    }
    return acc->Result();
  }
  for (const ExprPtr& a : s.args) {
    MM_EVAL(v, a, vars);
    if (auto st = acc->Process(v); !st.ok()) return st;
  }
  return acc->Result();
}

absl::StatusOr<ExprPtr> ParseFromAccumulator(std::string_view name, const Value& arg,
                                             const ParseContext& context) {
  FromAccumulatorState s;
  s.name = std::string(name);
  MM_ASSIGN(args, ParseArgs(arg, context));
  s.args = std::move(args);
  std::vector<const ExprPtr*> parts;
  for (const ExprPtr& e : s.args) parts.push_back(&e);
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<FromAccumulatorState>>(std::move(s), &EvalFromAccumulator),
                        context);
}

class QuantileExpr final : public Expression {
 public:
  explicit QuantileExpr(AccumulatorSpec spec) : spec_(std::move(spec)) {}
  EvalResult Evaluate(const Variables& vars) const override {
    auto input = spec_.Input(vars);
    if (!input.ok()) return input.status();
    auto state = spec_.NewState(std::nullopt, vars.collator, vars.let);
    if (!state.ok()) return state.status();
    const std::optional<Value>& v = *input;
    if (v && v->type() == BsonType::kArray) {
      for (const Value& e : v->AsArray()) {
        if (auto st = (*state)->Process(e); !st.ok()) return st;
      }
    } else if (auto st = (*state)->Process(v); !st.ok()) {
      return st;
    }
    return (*state)->Result();
  }

 private:
  AccumulatorSpec spec_;
};

absl::StatusOr<ExprPtr> ParseQuantile(std::string_view name, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(name == "$median" ? 7436100 : 7436200, StrCat("specification must be an object; found ",
                                                             arg.ToJson()));
  }
  MM_ASSIGN(spec, AccumulatorSpec::Parse(name, arg, context));
  return ExprPtr(std::make_unique<QuantileExpr>(std::move(spec)));
}

}  // namespace

void RegisterAccumulatorExpressions(OperatorTable* t) {
  for (const char* name : {"$sum", "$avg", "$min", "$max", "$stdDevPop", "$stdDevSamp", "$mergeObjects"}) {
    t->Add(name, &ParseFromAccumulator);
  }
  t->Add("$median", &ParseQuantile);
  t->Add("$percentile", &ParseQuantile);
}

}  // namespace micromongo::pipeline::internal
