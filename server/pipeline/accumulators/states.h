#pragma once

// Internal to accumulators/: the state classes the parser instantiates, and helpers shared
// with the window functions.

#include <memory>
#include <vector>

#include "pipeline/accumulators/accumulator.h"

namespace micromongo::pipeline::accumulators {

// Approximate bytes a value holds in memory.
size_t ApproxBytes(const Value& v);

// MongoDB's $sum arithmetic: integers exactly (int64 overflowing into double), doubles with
// compensated (Kahan-Babuska) summation, decimals exactly; the result takes the widest type
// added (int32 when every input was an int32 and the total fits).
class Summation {
 public:
  void Add(const Value& number);
  // Adds the number `v` holds; false (nothing added) when it holds no number.
  bool AddView(const bson::ValueView& v);
  Value Total() const;
  bool empty_type() const;
  void Reset();

 private:
  void AddDouble(double x);
  void AddInteger(BsonType type, int64_t n);

  BsonType type_ = BsonType::kInt32;
  int64_t long_sum_ = 0;
  bool long_overflowed_ = false;
  double double_sum_ = 0;
  double compensation_ = 0;
  Decimal128 decimal_ = Decimal128::FromString("0");
};

class PercentileState : public AccumulatorState {
 public:
  PercentileState(std::vector<double> p, bool median);
  absl::Status Process(const std::optional<Value>& v) override;
  EvalResult Result() const override;
  Value Partial() const override;
  absl::Status Merge(const Value& p) override;
  size_t MemoryBytes() const override { return sizeof(*this) + values_.size() * sizeof(double); }
  bool Removable() const override;
  absl::Status Remove(const std::optional<Value>& v) override;
  void Reset() override { values_.clear(); }

 private:
  std::vector<double> p_;
  bool median_;
  mutable std::vector<double> values_;
  mutable bool sorted_ = true;
};

std::unique_ptr<AccumulatorState> NewSum();
std::unique_ptr<AccumulatorState> NewAvg();
std::unique_ptr<AccumulatorState> NewMinMax(bool max, const bson::Collator* collator);
std::unique_ptr<AccumulatorState> NewFirstLast(bool first);
std::unique_ptr<AccumulatorState> NewPush();
std::unique_ptr<AccumulatorState> NewAddToSet(const bson::Collator* collator);
std::unique_ptr<AccumulatorState> NewMergeObjects();
std::unique_ptr<AccumulatorState> NewStdDev(bool sample);

// The N-accumulators: n >= 1 validated by the caller.
enum class NKind { kFirstN, kLastN, kMinN, kMaxN, kTopN, kBottomN, kTop, kBottom };
std::unique_ptr<AccumulatorState> NewN(NKind kind, int64_t n, std::shared_ptr<SortPattern> sort,
                                       const bson::Collator* collator);

// 'n' of the N-accumulators: 5787902/5787903 not an integer, 5787908 not positive.
absl::StatusOr<int64_t> ValidateN(const std::optional<Value>& v);

}  // namespace micromongo::pipeline::accumulators
