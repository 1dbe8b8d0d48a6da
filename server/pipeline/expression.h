#pragma once

// Aggregation expressions ("$field.path", {$add: [...]}, {$cond: ...}, ...), parsed once into
// a tree and evaluated against documents: by $expr in filters, computed projections, update
// pipelines and every stage of the aggregation pipeline.
//
// Values are micromongo::Value trees; "missing" (a field that is not there, $$REMOVE) is an
// empty std::optional and differs from null, as in MongoDB. The operators live in
// expressions/, one file per family, registered in expressions/core.cc.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "document/compare.h"
#include "micromongo/document.h"

namespace micromongo::pipeline {

// A command's `let` variables by name, plus the system variables NOW and CLUSTER_TIME
// (EvaluateLet sets them once per command, so that every document sees the same time).
using VariableMap = std::map<std::string, Value, std::less<>>;

// A variable bound by $let, $map, $filter, $reduce, $sortArray, ... while its body runs:
// frames chain from the innermost outwards, on the evaluating thread's stack.
struct Binding {
  std::string_view name;
  const Value* value;
  const Binding* next;
};

// Per-document metadata that {$meta: ...} reads (text score, geo distance, ...).
struct DocumentMeta {
  std::optional<double> text_score;
  std::optional<double> search_score;
  std::optional<double> geo_near_distance;
  std::optional<Value> geo_near_point;
  std::optional<double> rand_val;
  std::optional<Value> sort_key;
  std::optional<Value> index_key;
  std::optional<Value> record_id;
};

// What an expression reads while it is evaluated. Cheap to copy: every member is a pointer.
struct Variables {
  // $$ROOT: a tree, or BSON (stored documents and pipeline stages, of which field paths
  // decode only the values they reach).
  const Document* root = nullptr;
  const bson::DocView* root_bson = nullptr;
  const VariableMap* let = nullptr;
  const Binding* bound = nullptr;
  // The request's collation for string comparisons (null: binary).
  const bson::Collator* collator = nullptr;
  const DocumentMeta* meta = nullptr;
};

// nullopt is "missing", which differs from null (object fields that evaluate to missing
// are left out; $type says "missing").
using EvalResult = absl::StatusOr<std::optional<Value>>;

class Expression {
 public:
  virtual ~Expression() = default;
  virtual EvalResult Evaluate(const Variables& vars) const = 0;
  // The value, for expressions that are constants (literals and folded subtrees).
  virtual const std::optional<Value>* constant() const { return nullptr; }
};

// What parsing knows: the names of the command's `let` variables ($$name must be defined
// where it is used: 17276 otherwise), and where the expression is used.
struct ParseContext {
  const VariableMap* let = nullptr;
  // Variables bound by enclosing $let/$map/$filter/$reduce/... (innermost last).
  std::vector<std::string> scope;
  // The request's collation: constant subexpressions are folded while parsing, and
  // string comparisons among them must use it.
  const bson::Collator* collator = nullptr;
  // Collection validators may not use $rand and similar (3040500).
  bool in_validator = false;
};

// Parses an expression: a literal, "$field.path", "$$variable", an array or object of
// expressions, or {$operator: args}. Errors carry MongoDB's codes: 168
// (InvalidPipelineOperator) for unknown operators, 15983 for objects mixing operators,
// 16020-style arity errors, each operator's own codes, and any error of a constant
// subexpression (MongoDB folds constants while parsing: {$divide: [1, 0]} fails here).
absl::StatusOr<std::unique_ptr<Expression>> ParseExpression(const Value& spec,
                                                            const ParseContext& context = {});

// Evaluates `expr` with `doc` as $$ROOT and $$CURRENT, and `let` in scope; strings
// compare under `collator` if given.
EvalResult EvaluateOn(const Expression& expr, const Document& doc, const VariableMap* let = nullptr,
                      const bson::Collator* collator = nullptr);

// The same with $$ROOT given as BSON: only the fields the expression reads are decoded.
EvalResult EvaluateOnBson(const Expression& expr, bson::DocView doc, const VariableMap* let = nullptr,
                          const bson::Collator* collator = nullptr);

// A command's `let` option: each field an expression evaluated once, without a document,
// into a constant; and NOW / CLUSTER_TIME fixed for the command. Names must be valid user
// variable names (lowercase first letter: 15999/16868/16866 otherwise).
absl::StatusOr<VariableMap> EvaluateLet(const Document& let);

// If `expr` is a field path of the current document ("$a.b", "$$CURRENT.a", "$$ROOT.a"), its
// components: stages that evaluate such paths on every document read them from the BSON
// directly.
const std::vector<std::string>* CurrentFieldPath(const Expression& expr);

// MongoDB's truthiness: false, null, undefined, missing and 0 (any numeric type) are false.
bool IsTrue(const std::optional<Value>& v);

// MongoDB's order over values with "missing" below everything but MinKey (as undefined):
// <0, 0, >0.
int CompareOptional(const std::optional<Value>& a, const std::optional<Value>& b,
                    const bson::Collator* collator = nullptr);

// Whether `name` is an operator ParseExpression knows (for stage parsers that must tell
// expressions from field specifications).
bool IsExpressionOperator(std::string_view name);

// Checks user variable names (for `let` and `as`): 16866 empty, 15999 bad first character,
// 16868 bad character.
absl::Status ValidateVariableName(std::string_view name);

}  // namespace micromongo::pipeline
