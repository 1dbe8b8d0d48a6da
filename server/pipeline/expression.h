#pragma once

// Aggregation expressions ("$field.path", {$add: [...]}, {$cond: ...}, ...), parsed once
// into a tree and evaluated against documents. Used by $expr in filters and by update
// pipelines now, by the aggregation pipeline's stages later.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "document/compare.h"
#include "micromongo/document.h"

namespace micromongo::pipeline {

using VariableMap = std::map<std::string, Value, std::less<>>;

// Variables in scope: ROOT/CURRENT, a command's `let` constants, and those bound by $let,
// $map, $filter and $reduce.
struct Variables {
  // $$ROOT: a tree, or (for matching stored documents without decoding them) BSON, of
  // which field paths decode only the top-level field they start with.
  const Document* root = nullptr;
  const bson::DocView* root_bson = nullptr;
  VariableMap bound;
  // The request's collation for string comparisons (null: binary).
  const bson::Collator* collator = nullptr;
};

// nullopt is "missing", which differs from null (object fields that evaluate to missing
// are left out; $type says "missing").
using EvalResult = absl::StatusOr<std::optional<Value>>;

class Expression {
 public:
  virtual ~Expression() = default;
  virtual EvalResult Evaluate(const Variables& vars) const = 0;
};

// Errors: 168 (InvalidPipelineOperator) for unknown operators, 16020-style arity errors,
// and MongoDB's codes for malformed arguments.
absl::StatusOr<std::unique_ptr<Expression>> ParseExpression(const Value& spec);

// Evaluates `expr` with `doc` as $$ROOT and $$CURRENT, and `let` in scope; strings
// compare under `collator` if given.
EvalResult EvaluateOn(const Expression& expr, const Document& doc, const VariableMap* let = nullptr,
                      const bson::Collator* collator = nullptr);

// The same with $$ROOT given as BSON ($expr in filters): only the fields the expression
// reads are decoded.
EvalResult EvaluateOnBson(const Expression& expr, bson::DocView doc, const VariableMap* let = nullptr,
                          const bson::Collator* collator = nullptr);

// A command's `let` option: each field an expression evaluated once, without a document,
// into a constant. Names must start with a lowercase letter (code 9 otherwise).
absl::StatusOr<VariableMap> EvaluateLet(const Document& let);

// MongoDB's truthiness: false, null, missing, 0 (any numeric type) are false.
bool IsTrue(const std::optional<Value>& v);

}  // namespace micromongo::pipeline
