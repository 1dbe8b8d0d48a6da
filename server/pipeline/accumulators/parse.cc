// Parsing accumulator specifications ({$sum: <expr>}, {$topN: {n, sortBy, output}}, ...)
// and making their states.

#include "document/builder.h"
#include "pipeline/accumulators/states.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline {
namespace {

using accumulators::NKind;
using internal::Err;

constexpr std::string_view kSimple[] = {"$sum",      "$avg",          "$min",       "$max",
                                        "$first",    "$last",         "$push",      "$addToSet",
                                        "$mergeObjects", "$stdDevPop", "$stdDevSamp"};
constexpr std::string_view kAll[] = {"$sum",     "$avg",      "$min",       "$max",        "$first",
                                     "$last",    "$push",     "$addToSet",  "$mergeObjects",
                                     "$stdDevPop", "$stdDevSamp", "$count", "$firstN",     "$lastN",
                                     "$minN",    "$maxN",     "$topN",      "$bottomN",    "$top",
                                     "$bottom",  "$median",   "$percentile", "$accumulator"};

// {k: <sort key from $$ROOT>, o: <output>}: the input $top/$bottom(N) keep.
class TopBottomInput final : public Expression {
 public:
  TopBottomInput(std::unique_ptr<Expression> output, std::shared_ptr<SortPattern> sort)
      : output_(std::move(output)), sort_(std::move(sort)) {}
  EvalResult Evaluate(const Variables& vars) const override {
    auto out = output_->Evaluate(vars);
    if (!out.ok()) return out.status();
    Value root = vars.root != nullptr        ? Value(*vars.root)
                 : vars.root_bson != nullptr ? Value(bson::Decode(*vars.root_bson))
                                             : Value(Document());
    SortPattern::Key key = sort_->KeyOf(root, vars.collator);
    Document d{{"k", Array(key.begin(), key.end())}};
    if (*out) d.Append("o", **out);
    return std::optional<Value>(Value(std::move(d)));
  }

 private:
  std::unique_ptr<Expression> output_;
  std::shared_ptr<SortPattern> sort_;
};

std::optional<NKind> NKindOf(std::string_view name) {
  if (name == "$firstN") return NKind::kFirstN;
  if (name == "$lastN") return NKind::kLastN;
  if (name == "$minN") return NKind::kMinN;
  if (name == "$maxN") return NKind::kMaxN;
  if (name == "$topN") return NKind::kTopN;
  if (name == "$bottomN") return NKind::kBottomN;
  if (name == "$top") return NKind::kTop;
  if (name == "$bottom") return NKind::kBottom;
  return std::nullopt;
}

}  // namespace

bool AccumulatorSpec::IsAccumulator(std::string_view name) {
  for (std::string_view n : kAll) {
    if (n == name) return true;
  }
  return false;
}

absl::StatusOr<AccumulatorSpec> AccumulatorSpec::Parse(std::string_view name, const Value& arg,
                                                      const ParseContext& context, bool window) {
  AccumulatorSpec spec;
  spec.name_ = std::string(name);
  for (std::string_view n : kSimple) {
    if (n != name) continue;
    if (arg.type() == BsonType::kArray && !window) {
      return Err(40237, StrCat("The ", name, " accumulator is a unary operator"));
    }
    auto e = ParseExpression(arg, context);
    if (!e.ok()) return e.status();
    spec.argument_ = *std::move(e);
    return spec;
  }
  if (name == "$count") {
    if (arg.type() != BsonType::kDocument || !arg.AsDocument().empty()) {
      return Err(kTypeMismatch, "$count takes no arguments, i.e. $count:{}");
    }
    spec.name_ = "$sum";
    spec.argument_ = internal::MakeConstant(Value(1));
    return spec;
  }
  if (name == "$accumulator") {
    return Err(kNotImplemented, "$accumulator needs a JavaScript engine, which micro-mongo does not embed");
  }
  if (name == "$median" || name == "$percentile") {
    bool median = name == "$median";
    if (arg.type() != BsonType::kDocument) {
      return Err(median ? 7436100 : 7429703, StrCat("specification must be an object; found ", arg.ToJson()));
    }
    const Value* input = nullptr;
    const Value* p = nullptr;
    const Value* method = nullptr;
    for (const auto& [k, v] : arg.AsDocument()) {
      if (k == "input") {
        input = &v;
      } else if (!median && k == "p") {
        p = &v;
      } else if (k == "method") {
        method = &v;
      } else {
        return Err(40415, StrCat("BSON field '", name, ".", k, "' is an unknown field."));
      }
    }
    for (auto [field, v] : {std::pair<const char*, const Value*>{"input", input}, {"p", p}, {"method", method}}) {
      if (median && std::string_view(field) == "p") continue;
      if (v == nullptr) return Err(40414, StrCat("BSON field '", name, ".", field, "' is missing but a required field"));
    }
    if (method->type() != BsonType::kString) {
      return Err(kTypeMismatch, StrCat("BSON field '", name, ".method' is the wrong type '",
                                       BsonTypeName(method->type()), "', expected type 'string'"));
    }
    if (method->AsString() != "approximate") {
      return Err(kBadValue, "Currently only 'approximate' can be used as percentile 'method'.");
    }
    auto e = ParseExpression(*input, context);
    if (!e.ok()) return e.status();
    spec.argument_ = *std::move(e);
    spec.median_ = median;
    spec.method_ = method->AsString();
    if (median) {
      spec.p_ = {0.5};
      return spec;
    }
    auto pe = ParseExpression(*p, context);
    if (!pe.ok()) return pe.status();
    const std::optional<Value>* pv = (*pe)->constant();
    if (pv == nullptr) {
      return Err(7750300, StrCat("The $percentile 'p' field must be an array of constant values, but found value: ",
                                 p->ToJson(), "."));
    }
    constexpr std::string_view kMsg = "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: ";
    if (!*pv || (*pv)->type() != BsonType::kArray || (*pv)->AsArray().empty()) {
      return Err(7750301, StrCat(kMsg, *pv ? (*pv)->ToJson() : "missing"));
    }
    for (const Value& e : (*pv)->AsArray()) {
      if (!e.IsNumber()) return Err(7750302, StrCat(kMsg, e.ToJson()));
      double d = e.ToDouble();
      if (d < 0 || d > 1) return Err(7750303, StrCat(kMsg, internal::FormatDouble(d)));
      spec.p_.push_back(d);
    }
    return spec;
  }
  auto kind = NKindOf(name);
  if (!kind) return Err(15952, StrCat("unknown group operator '", name, "'"));
  if (*kind == NKind::kFirstN || *kind == NKind::kLastN || *kind == NKind::kMinN || *kind == NKind::kMaxN) {
    bool min_max = *kind == NKind::kMinN || *kind == NKind::kMaxN;
    if (arg.type() != BsonType::kDocument) {
      return Err(min_max ? 5787900 : 5787801, StrCat("specification must be an object; found ", arg.ToJson()));
    }
    const Value* n = nullptr;
    const Value* input = nullptr;
    for (const auto& [k, v] : arg.AsDocument()) {
      if (k == "n") {
        n = &v;
      } else if (k == "input") {
        input = &v;
      } else {
        return Err(5787901, StrCat("Unknown argument for 'n' operator: ", k));
      }
    }
    if (n == nullptr) return Err(5787906, "Missing value for 'n'");
    if (input == nullptr) return Err(5787907, "Missing value for 'input'");
    auto ne = ParseExpression(*n, context);
    if (!ne.ok()) return ne.status();
    auto ie = ParseExpression(*input, context);
    if (!ie.ok()) return ie.status();
    spec.n_ = *std::move(ne);
    spec.argument_ = *std::move(ie);
    return spec;
  }
  // $top, $bottom, $topN, $bottomN.
  bool single = *kind == NKind::kTop || *kind == NKind::kBottom;
  if (arg.type() != BsonType::kDocument) {
    return Err(5788001, StrCat("specification must be an object; found ", arg.ToJson()));
  }
  const Value* n = nullptr;
  const Value* output = nullptr;
  const Value* sort_by = nullptr;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (!single && k == "n") {
      n = &v;
    } else if (k == "output") {
      output = &v;
    } else if (k == "sortBy") {
      sort_by = &v;
    } else {
      return Err(5788002, StrCat("Unknown argument to ", name, " '", k, "'"));
    }
  }
  if (!single && n == nullptr) return Err(5788003, "Missing value for 'n'");
  if (output == nullptr) return Err(5788004, "Missing value for 'output'");
  if (sort_by == nullptr) return Err(5788005, "Missing value for 'sortBy'");
  if (sort_by->type() != BsonType::kDocument) {
    return Err(kTypeMismatch, StrCat(name, " requires 'sortBy' to be an object"));
  }
  auto pattern = SortPattern::Parse(sort_by->AsDocument());
  if (!pattern.ok()) return pattern.status();
  spec.sort_ = std::make_shared<SortPattern>(*std::move(pattern));
  auto oe = ParseExpression(*output, context);
  if (!oe.ok()) return oe.status();
  spec.argument_ = std::make_shared<TopBottomInput>(*std::move(oe), spec.sort_);
  if (!single) {
    auto ne = ParseExpression(*n, context);
    if (!ne.ok()) return ne.status();
    spec.n_ = *std::move(ne);
  }
  return spec;
}

absl::StatusOr<std::unique_ptr<AccumulatorState>> AccumulatorSpec::NewState(
    const std::optional<Value>& group_key, const bson::Collator* collator, const VariableMap* let) const {
  if (median_ || !p_.empty()) {
    return std::unique_ptr<AccumulatorState>(std::make_unique<accumulators::PercentileState>(p_, median_));
  }
  auto kind = NKindOf(name_);
  if (!kind) return MakeSimpleState(name_, collator);
  int64_t n = 1;
  if (n_) {
    // 'n' may depend on the group key only: it sees {_id: <key>} as $$ROOT.
    Document root{{"_id", group_key ? *group_key : Value(nullptr)}};
    auto v = EvaluateOn(*n_, root, let, collator);
    if (!v.ok()) return v.status();
    auto valid = accumulators::ValidateN(*v);
    if (!valid.ok()) return valid.status();
    n = *valid;
  }
  return accumulators::NewN(*kind, n, sort_, collator);
}

std::unique_ptr<AccumulatorState> MakeSimpleState(std::string_view name, const bson::Collator* collator) {
  using namespace accumulators;
  if (name == "$sum") return NewSum();
  if (name == "$avg") return NewAvg();
  if (name == "$min") return NewMinMax(false, collator);
  if (name == "$max") return NewMinMax(true, collator);
  if (name == "$first") return NewFirstLast(true);
  if (name == "$last") return NewFirstLast(false);
  if (name == "$push") return NewPush();
  if (name == "$addToSet") return NewAddToSet(collator);
  if (name == "$mergeObjects") return NewMergeObjects();
  if (name == "$stdDevPop") return NewStdDev(false);
  if (name == "$stdDevSamp") return NewStdDev(true);
  return nullptr;
}

}  // namespace micromongo::pipeline
