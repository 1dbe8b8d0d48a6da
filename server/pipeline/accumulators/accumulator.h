#pragma once

// Accumulators: the state $group, $bucket, $bucketAuto and $setWindowFields keep per group or
// window, and that $sum/$avg/... compute over arrays when used as expressions. Every one of
// MongoDB's 23: $addToSet $avg $bottom $bottomN $count $first $firstN $last $lastN $max $maxN
// $median $mergeObjects $min $minN $percentile $push $stdDevPop $stdDevSamp $sum $top $topN
// ($accumulator needs JavaScript: 238).
//
// A state can hand out a partial result and merge partials of the same accumulator: $group
// spills sorted runs of partial groups to disk and merges them back.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "document/compare.h"
#include "micromongo/document.h"
#include "pipeline/expression.h"
#include "pipeline/sort_pattern.h"

namespace micromongo::pipeline {

class AccumulatorState {
 public:
  virtual ~AccumulatorState() = default;
  // Adds one input (nullopt: missing).
  virtual absl::Status Process(const std::optional<Value>& input) = 0;
  // Process() of the value `input` reads in place (a field of the input document): the
  // states that add numbers or compare values override it and build no Value for most
  // inputs.
  virtual absl::Status ProcessView(const bson::ValueView& input);
  // The final value (nullopt only where MongoDB leaves the field out).
  virtual EvalResult Result() const = 0;
  // A partial result Merge() accepts, for states of the same accumulator.
  virtual Value Partial() const = 0;
  virtual absl::Status Merge(const Value& partial) = 0;
  // Approximate bytes held, for the 100 MiB limit of blocking stages.
  virtual size_t MemoryBytes() const = 0;
  // Whether MemoryBytes() never changes ($sum, $avg, ...): callers need not ask again.
  virtual bool FixedSize() const { return false; }
  // Whether further input can change the result ($first after its first input does not).
  virtual bool NeedsInput() const { return true; }
  // Undoes the oldest Process() (sliding windows); only where Removable().
  virtual bool Removable() const { return false; }
  virtual absl::Status Remove(const std::optional<Value>& input);
  // Back to the empty state.
  virtual void Reset() = 0;
};

// A parsed accumulator ({$sum: "$price"}, {$topN: {n, sortBy, output}}): what to evaluate per
// input document and how to make states.
class AccumulatorSpec {
 public:
  // `name` is "$sum", ...; `arg` its argument. Errors: 15952 for unknown accumulators, 238 for
  // $accumulator, and each accumulator's own codes.
  // `window`: in $setWindowFields, where an array argument is an array expression rather
  // than an error (40237).
  static absl::StatusOr<AccumulatorSpec> Parse(std::string_view name, const Value& arg,
                                               const ParseContext& context, bool window = false);
  // Whether `name` is an accumulator (for stage parsers).
  static bool IsAccumulator(std::string_view name);

  const std::string& name() const { return name_; }
  // The per-document input expression.
  const Expression& argument() const { return *argument_; }
  // The per-document input value.
  EvalResult Input(const Variables& vars) const { return argument_->Evaluate(vars); }
  // A new state; `group_key` is what the N-accumulators evaluate 'n' against ({_id: key}).
  absl::StatusOr<std::unique_ptr<AccumulatorState>> NewState(const std::optional<Value>& group_key,
                                                             const bson::Collator* collator,
                                                             const VariableMap* let) const;

 private:
  std::string name_;
  std::shared_ptr<Expression> argument_;
  std::shared_ptr<Expression> n_;  // N-accumulators
  std::shared_ptr<SortPattern> sort_;  // $top/$bottom(N)
  // Percentile probabilities and method.
  std::vector<double> p_;
  bool median_ = false;
  std::string method_;
};

// One output field of $group or $bucketAuto: {field: {$acc: argument}}.
struct AccumulatorOutput {
  std::string field;
  AccumulatorSpec accumulator;
};

// A state for `name` with fixed parameters (expression forms of $sum, $max, $firstN, ...).
std::unique_ptr<AccumulatorState> MakeSimpleState(std::string_view name, const bson::Collator* collator);

}  // namespace micromongo::pipeline
