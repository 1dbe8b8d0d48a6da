// Variables and everything else: $literal (and $const), $let, $meta, $rand,
// $toHashedIndexKey, $tsSecond, $tsIncrement; $function and $accumulator, which need a
// JavaScript engine, answer 238 (NotImplemented).

#include <random>

#include "document/builder.h"
#include "document/hash.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {
namespace {

absl::StatusOr<ExprPtr> ParseLiteral(std::string_view, const Value& arg, const ParseContext&) {
  return MakeConstant(arg);
}

// ---- $let ----------------------------------------------------------------------------------

struct LetState {
  std::vector<std::pair<std::string, ExprPtr>> vars;
  ExprPtr in;
};

EvalResult EvalLet(const LetState& s, const Variables& vars) {
  // Values first (each sees only the outer scope), then the bindings for 'in'.
  std::vector<Value> values;
  values.reserve(s.vars.size());
  for (const auto& [name, e] : s.vars) {
    MM_EVAL(v, e, vars);
    values.push_back(v ? *std::move(v) : Value(nullptr));
  }
  std::vector<Binding> frames(s.vars.size());
  const Binding* next = vars.bound;
  for (size_t i = 0; i < s.vars.size(); ++i) {
    frames[i] = Binding{s.vars[i].first, &values[i], next};
    next = &frames[i];
  }
  Variables inner = vars;
  inner.bound = next;
  return s.in->Evaluate(inner);
}

absl::StatusOr<ExprPtr> ParseLet(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) return Err(16874, "$let only supports an object as its argument");
  const Value* vars = nullptr;
  const Value* in = nullptr;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "vars") {
      vars = &v;
    } else if (k == "in") {
      in = &v;
    } else {
      return Err(16875, StrCat("Unrecognized parameter to $let: ", k));
    }
  }
  if (vars == nullptr) return Err(16876, "Missing 'vars' parameter to $let");
  if (in == nullptr) return Err(16877, "Missing 'in' parameter to $let");
  if (vars->type() != BsonType::kDocument) {
    return Err(10065, StrCat("invalid parameter: expected an object (vars)"));
  }
  LetState s;
  ParseContext inner = context;
  for (const auto& [name, e] : vars->AsDocument()) {
    if (auto st = ValidateVariableName(name); !st.ok()) return st;
    MM_ASSIGN(x, Parse(e, context));
    s.vars.emplace_back(name, std::move(x));
    inner.scope.push_back(name);
  }
  MM_ASSIGN(body, Parse(*in, inner));
  s.in = std::move(body);
  if (s.vars.empty()) return std::move(s.in);
  std::vector<const ExprPtr*> parts{&s.in};
  for (const auto& v : s.vars) parts.push_back(&v.second);
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<LetState>>(std::move(s), &EvalLet), context);
}

// ---- $meta ---------------------------------------------------------------------------------

enum class Meta { kTextScore, kRandVal, kSearchScore, kSearchHighlights, kGeoNearDistance, kGeoNearPoint,
                  kRecordId, kIndexKey, kSortKey, kSearchScoreDetails, kVectorSearchScore, kScore };

EvalResult EvalMeta(const Meta& m, const Variables& vars) {
  const DocumentMeta* meta = vars.meta;
  if (meta == nullptr) return Missing();
  auto opt = [](const std::optional<double>& d) { return d ? Some(*d) : Missing(); };
  switch (m) {
    case Meta::kTextScore: return opt(meta->text_score);
    case Meta::kRandVal: return opt(meta->rand_val);
    case Meta::kSearchScore:
    case Meta::kScore: return opt(meta->search_score);
    case Meta::kGeoNearDistance: return opt(meta->geo_near_distance);
    case Meta::kGeoNearPoint: return meta->geo_near_point ? Some(*meta->geo_near_point) : Missing();
    case Meta::kSortKey: return meta->sort_key ? Some(*meta->sort_key) : Missing();
    case Meta::kIndexKey: return meta->index_key ? Some(*meta->index_key) : Missing();
    case Meta::kRecordId: return meta->record_id ? Some(*meta->record_id) : Missing();
    default: return Missing();
  }
}

absl::StatusOr<ExprPtr> ParseMeta(std::string_view, const Value& arg, const ParseContext&) {
  if (arg.type() != BsonType::kString) return Err(17307, "$meta only supports string arguments");
  static const std::pair<std::string_view, Meta> kNames[] = {
      {"textScore", Meta::kTextScore},
      {"randVal", Meta::kRandVal},
      {"searchScore", Meta::kSearchScore},
      {"searchHighlights", Meta::kSearchHighlights},
      {"geoNearDistance", Meta::kGeoNearDistance},
      {"geoNearPoint", Meta::kGeoNearPoint},
      {"recordId", Meta::kRecordId},
      {"indexKey", Meta::kIndexKey},
      {"sortKey", Meta::kSortKey},
      {"searchScoreDetails", Meta::kSearchScoreDetails},
      {"vectorSearchScore", Meta::kVectorSearchScore},
      {"score", Meta::kScore}};
  for (const auto& [name, m] : kNames) {
    if (name == arg.AsString()) return ExprPtr(std::make_unique<CustomExpr<Meta>>(m, &EvalMeta));
  }
  return Err(17308, StrCat("Unsupported argument to $meta: ", arg.AsString()));
}

// ---- $rand ---------------------------------------------------------------------------------

EvalResult EvalRand(const int&, const Variables&) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return Some(std::uniform_real_distribution<double>(0.0, 1.0)(rng));
}

absl::StatusOr<ExprPtr> ParseRand(std::string_view, const Value& arg, const ParseContext& context) {
  if (context.in_validator) return Err(3040500, "$rand not allowed inside collection validators");
  if (arg.type() != BsonType::kDocument || !arg.AsDocument().empty()) {
    return Err(3040501, "$rand does not currently accept arguments");
  }
  return ExprPtr(std::make_unique<CustomExpr<int>>(0, &EvalRand));
}

// ---- $toHashedIndexKey, $tsSecond, $tsIncrement ---------------------------------------------

EvalResult HashedIndexKeyFn(Args& a, const Variables&) {
  bson::Builder b;
  b.AppendValue("", a[0] ? *a[0] : Value(nullptr));
  std::string bytes = std::move(b).Finish();
  return Some(bson::HashValue(bson::DocView(bytes).begin()->value));
}

template <bool kSeconds>
EvalResult TimestampPartFn(Args& a, const Variables&) {
  if (IsNullish(a[0])) return Null();
  if (a[0]->type() != BsonType::kTimestamp) {
    return Err(kSeconds ? 5687301 : 5687302,
               StrCat(" Argument to ", kSeconds ? "$tsSecond" : "$tsIncrement", " must be a timestamp, but is ",
                      TypeName(a[0])));
  }
  Timestamp t = a[0]->AsTimestamp();
  return Some(static_cast<int64_t>(kSeconds ? t.t : t.i));
}

// The whole argument is one expression (an array literal is one value to hash).
absl::StatusOr<ExprPtr> ParseHashedIndexKey(std::string_view, const Value& arg, const ParseContext& context) {
  MM_ASSIGN(e, Parse(arg, context));
  std::vector<ExprPtr> args;
  args.push_back(std::move(e));
  return MakeNary(std::move(args), &HashedIndexKeyFn, context);
}

absl::StatusOr<ExprPtr> ParseJavaScript(std::string_view name, const Value&, const ParseContext&) {
  return Err(kNotImplemented, StrCat(name, " needs a JavaScript engine, which micro-mongo does not embed"));
}

}  // namespace

void RegisterMisc(OperatorTable* t) {
  t->Add("$literal", &ParseLiteral);
  t->Add("$const", &ParseLiteral);
  t->Add("$let", &ParseLet);
  t->Add("$meta", &ParseMeta);
  t->Add("$rand", &ParseRand);
  t->Add("$toHashedIndexKey", &ParseHashedIndexKey);
  t->AddNary("$tsSecond", 1, 1, &TimestampPartFn<true>);
  t->AddNary("$tsIncrement", 1, 1, &TimestampPartFn<false>);
  t->Add("$function", &ParseJavaScript);
  t->Add("$accumulator", &ParseJavaScript);
}

}  // namespace micromongo::pipeline::internal
