// The single-value accumulators: $sum $avg $min $max $first $last $push $addToSet
// $mergeObjects $stdDevPop $stdDevSamp $median $percentile.

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "document/builder.h"
#include "document/key_string.h"
#include "document/status.h"
#include "document/value_ops.h"
#include "pipeline/accumulators/states.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline {

using internal::Compare;
using internal::Err;
using internal::IsNullish;
using internal::Some;
using internal::TypeName;

absl::Status AccumulatorState::ProcessView(const bson::ValueView& input) { return Process(bson::ToValue(input)); }

absl::Status AccumulatorState::Remove(const std::optional<Value>&) {
  return MongoError(kInternalError, "this accumulator cannot remove values");
}

namespace accumulators {

size_t ApproxBytes(const Value& v) {
  // The Value itself, plus what it holds on the heap (with the allocator's header).
  constexpr size_t kHeap = 16;
  switch (v.type()) {
    case BsonType::kString: {
      size_t n = v.AsString().size();
      return sizeof(Value) + (n > 15 ? n + 1 + kHeap : 0);
    }
    case BsonType::kDocument: {
      size_t n = sizeof(Value) + kHeap;
      for (const auto& [k, e] : v.AsDocument()) n += sizeof(std::string) + (k.size() > 15 ? k.size() + kHeap : 0) + ApproxBytes(e);
      return n;
    }
    case BsonType::kArray: {
      size_t n = sizeof(Value) + kHeap;
      for (const Value& e : v.AsArray()) n += ApproxBytes(e);
      return n;
    }
    case BsonType::kBinary: return sizeof(Value) + kHeap + v.AsBinary().data.size();
    default: return sizeof(Value);
  }
}

// ---- $sum / $avg ---------------------------------------------------------------------------

void Summation::Add(const Value& v) {
  switch (v.type()) {
    case BsonType::kDouble: return AddDouble(v.AsDouble());
    case BsonType::kInt32:
    case BsonType::kInt64: return AddInteger(v.type(), v.ToInt64());
    default:
      type_ = internal::WidestNumeric(type_, v.type());
      decimal_ = bson::AddNumbers(Value(decimal_), v).AsDecimal128();
  }
}

bool Summation::AddView(const bson::ValueView& v) {
  switch (v.type) {
    case BsonType::kDouble: AddDouble(v.AsDouble()); return true;
    case BsonType::kInt32: AddInteger(BsonType::kInt32, v.Int32()); return true;
    case BsonType::kInt64: AddInteger(BsonType::kInt64, v.Int64()); return true;
    case BsonType::kDecimal128: Add(bson::ToValue(v)); return true;
    default: return false;
  }
}

void Summation::AddDouble(double x) {
  if (type_ != BsonType::kDouble) type_ = internal::WidestNumeric(type_, BsonType::kDouble);
  if (type_ == BsonType::kDecimal128) {
    decimal_ = bson::AddNumbers(Value(decimal_), Value(x)).AsDecimal128();
    return;
  }
  // Kahan-Babuska summation for doubles.
  double t = double_sum_ + x;
  if (std::fabs(double_sum_) >= std::fabs(x)) {
    compensation_ += (double_sum_ - t) + x;
  } else {
    compensation_ += (x - t) + double_sum_;
  }
  double_sum_ = t;
}

void Summation::AddInteger(BsonType type, int64_t n) {
  if (type_ != type) type_ = internal::WidestNumeric(type_, type);
  if (type_ == BsonType::kDecimal128) {
    decimal_ = bson::AddNumbers(Value(decimal_), Value(n)).AsDecimal128();
    return;
  }
  int64_t r;
  if (!long_overflowed_ && !__builtin_add_overflow(long_sum_, n, &r)) {
    long_sum_ = r;
  } else {
    if (!long_overflowed_) {
      long_overflowed_ = true;
      double_sum_ += static_cast<double>(long_sum_);
      long_sum_ = 0;
    }
    double_sum_ += static_cast<double>(n);
  }
}

Value Summation::Total() const {
  double d = double_sum_ + compensation_ + static_cast<double>(long_sum_);
  switch (type_) {
    case BsonType::kDecimal128: {
      Value total(decimal_);
      if (long_sum_ != 0) total = bson::AddNumbers(total, Value(long_sum_));
      if (double_sum_ + compensation_ != 0) total = bson::AddNumbers(total, Value(double_sum_ + compensation_));
      return total;
    }
    case BsonType::kDouble: return d;
    case BsonType::kInt64:
      if (!long_overflowed_) return long_sum_;
      return d;
    case BsonType::kInt32:
      if (!long_overflowed_) return internal::IntOrLong(long_sum_);
      return d;
    default: return 0;
  }
}

bool Summation::empty_type() const { return type_ == BsonType::kInt32 && long_sum_ == 0; }

void Summation::Reset() { *this = Summation(); }

namespace {

class SumState : public AccumulatorState {
 public:
  absl::Status Process(const std::optional<Value>& v) override {
    if (v && v->IsNumber()) sum_.Add(*v);
    return absl::OkStatus();
  }
  absl::Status ProcessView(const bson::ValueView& v) override {
    sum_.AddView(v);
    return absl::OkStatus();
  }
  EvalResult Result() const override { return Some(sum_.Total()); }
  Value Partial() const override { return sum_.Total(); }
  absl::Status Merge(const Value& p) override { return Process(p); }
  size_t MemoryBytes() const override { return sizeof(*this); }
  bool FixedSize() const override { return true; }
  bool Removable() const override { return true; }
  absl::Status Remove(const std::optional<Value>& v) override {
    if (v && v->IsNumber()) sum_.Add(bson::SubtractNumbers(Value(0), *v));
    return absl::OkStatus();
  }
  void Reset() override { sum_.Reset(); }

 private:
  Summation sum_;
};

class AvgState : public AccumulatorState {
 public:
  absl::Status Process(const std::optional<Value>& v) override {
    if (v && v->IsNumber()) {
      sum_.Add(*v);
      ++count_;
    }
    return absl::OkStatus();
  }
  absl::Status ProcessView(const bson::ValueView& v) override {
    if (sum_.AddView(v)) ++count_;
    return absl::OkStatus();
  }
  EvalResult Result() const override {
    if (count_ == 0) return internal::Null();
    Value total = sum_.Total();
    if (total.type() == BsonType::kDecimal128) {
      return Some(bson::DivideNumbers(total, Value(count_)));
    }
    return Some(internal::ToDouble(total) / static_cast<double>(count_));
  }
  Value Partial() const override { return Document{{"sum", sum_.Total()}, {"count", count_}}; }
  absl::Status Merge(const Value& p) override {
    sum_.Add(p.AsDocument().Get("sum"));
    count_ += p.AsDocument().Get("count").ToInt64();
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return sizeof(*this); }
  bool FixedSize() const override { return true; }
  bool Removable() const override { return true; }
  absl::Status Remove(const std::optional<Value>& v) override {
    if (v && v->IsNumber()) {
      sum_.Add(bson::SubtractNumbers(Value(0), *v));
      --count_;
    }
    return absl::OkStatus();
  }
  void Reset() override {
    sum_.Reset();
    count_ = 0;
  }

 private:
  Summation sum_;
  int64_t count_ = 0;
};

// ---- $min / $max ---------------------------------------------------------------------------

class MinMaxState : public AccumulatorState {
 public:
  MinMaxState(bool max, const bson::Collator* collator) : max_(max), collator_(collator) {}
  absl::Status Process(const std::optional<Value>& v) override {
    if (IsNullish(v)) return absl::OkStatus();  // null and missing never win
    if (!best_) {
      best_ = *v;
      return absl::OkStatus();
    }
    int c = Compare(*v, *best_, collator_);
    if (max_ ? c > 0 : c < 0) best_ = *v;
    return absl::OkStatus();
  }
  absl::Status ProcessView(const bson::ValueView& v) override {
    if (v.type == BsonType::kNull || v.type == BsonType::kUndefined) return absl::OkStatus();
    if (best_) {
      if (std::optional<int> c = internal::CompareInPlace(v, *best_, collator_)) {
        if (max_ ? *c > 0 : *c < 0) best_ = bson::ToValue(v);
        return absl::OkStatus();
      }
    }
    return Process(bson::ToValue(v));
  }
  EvalResult Result() const override { return best_ ? Some(*best_) : internal::Null(); }
  Value Partial() const override { return best_ ? *best_ : Value(nullptr); }
  absl::Status Merge(const Value& p) override { return Process(p); }
  size_t MemoryBytes() const override { return sizeof(*this) + (best_ ? ApproxBytes(*best_) : 0); }
  void Reset() override { best_.reset(); }

 private:
  bool max_;
  const bson::Collator* collator_;
  std::optional<Value> best_;
};

// ---- $first / $last ------------------------------------------------------------------------

class FirstLastState : public AccumulatorState {
 public:
  explicit FirstLastState(bool first) : first_(first) {}
  absl::Status Process(const std::optional<Value>& v) override {
    if (first_ && set_) return absl::OkStatus();
    value_ = v ? *v : Value(nullptr);  // missing counts as null
    set_ = true;
    return absl::OkStatus();
  }
  EvalResult Result() const override { return Some(value_); }
  // {v} when set: an unset partial (an empty group run) must not count as a value.
  Value Partial() const override { return set_ ? Value(Document{{"v", value_}}) : Value(Document{}); }
  absl::Status Merge(const Value& p) override {
    if (const Value* v = p.AsDocument().Find("v")) return Process(*v);
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return sizeof(*this) + ApproxBytes(value_); }
  bool NeedsInput() const override { return !(first_ && set_); }
  void Reset() override {
    set_ = false;
    value_ = nullptr;
  }

 private:
  bool first_;
  bool set_ = false;
  Value value_;
};

// ---- $push / $addToSet ---------------------------------------------------------------------

class PushState : public AccumulatorState {
 public:
  absl::Status Process(const std::optional<Value>& v) override {
    if (!v) return absl::OkStatus();  // missing values are not pushed
    bytes_ += ApproxBytes(*v);
    values_.push_back(*v);
    return absl::OkStatus();
  }
  EvalResult Result() const override { return internal::SomeNested(Value(values_)); }
  Value Partial() const override { return values_; }
  absl::Status Merge(const Value& p) override {
    for (const Value& e : p.AsArray()) (void)Process(e);
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return sizeof(*this) + bytes_; }
  bool Removable() const override { return true; }
  absl::Status Remove(const std::optional<Value>& v) override {
    if (v && !values_.empty()) {
      bytes_ -= std::min(bytes_, ApproxBytes(values_.front()));
      values_.erase(values_.begin());
    }
    return absl::OkStatus();
  }
  void Reset() override {
    values_.clear();
    bytes_ = 0;
  }

 private:
  Array values_;
  size_t bytes_ = 0;
};

std::string KeyOf(const Value& v, const bson::Collator* collator) {
  bson::Builder b;
  b.AppendValue("", v);
  std::string bytes = std::move(b).Finish();
  std::string key;
  bson::AppendKeyString(bson::DocView(bytes).begin()->value, &key, collator);
  return key;
}

class AddToSetState : public AccumulatorState {
 public:
  explicit AddToSetState(const bson::Collator* collator) : collator_(collator) {}
  absl::Status Process(const std::optional<Value>& v) override {
    if (!v) return absl::OkStatus();
    std::string key = KeyOf(*v, collator_);
    auto it = counts_.find(key);
    if (it != counts_.end()) {
      ++it->second;
      return absl::OkStatus();
    }
    bytes_ += ApproxBytes(*v) + key.size() + 32;
    counts_.emplace(std::move(key), 1);
    values_.push_back(*v);
    return absl::OkStatus();
  }
  EvalResult Result() const override { return internal::SomeNested(Value(values_)); }
  Value Partial() const override { return values_; }
  absl::Status Merge(const Value& p) override {
    for (const Value& e : p.AsArray()) (void)Process(e);
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return sizeof(*this) + bytes_; }
  bool Removable() const override { return true; }
  absl::Status Remove(const std::optional<Value>& v) override {
    if (!v) return absl::OkStatus();
    std::string key = KeyOf(*v, collator_);
    auto it = counts_.find(key);
    if (it == counts_.end()) return absl::OkStatus();
    if (--it->second > 0) return absl::OkStatus();
    counts_.erase(it);
    for (auto e = values_.begin(); e != values_.end(); ++e) {
      if (KeyOf(*e, collator_) == key) {
        values_.erase(e);
        break;
      }
    }
    return absl::OkStatus();
  }
  void Reset() override {
    values_.clear();
    counts_.clear();
    bytes_ = 0;
  }

 private:
  const bson::Collator* collator_;
  Array values_;
  absl::flat_hash_map<std::string, int64_t> counts_;
  size_t bytes_ = 0;
};

// ---- $mergeObjects -------------------------------------------------------------------------

class MergeObjectsState : public AccumulatorState {
 public:
  absl::Status Process(const std::optional<Value>& v) override {
    if (IsNullish(v)) return absl::OkStatus();
    if (v->type() != BsonType::kDocument) {
      return Err(40400, StrCat("$mergeObjects requires object inputs, but input ", v->ToJson(),
                               " is of type ", TypeName(v)));
    }
    for (const auto& [k, f] : v->AsDocument()) merged_.Set(k, f);
    return absl::OkStatus();
  }
  EvalResult Result() const override { return Some(merged_); }
  Value Partial() const override { return merged_; }
  absl::Status Merge(const Value& p) override { return Process(p); }
  size_t MemoryBytes() const override { return sizeof(*this) + ApproxBytes(Value(merged_)); }
  void Reset() override { merged_ = Document(); }

 private:
  Document merged_;
};

// ---- $stdDevPop / $stdDevSamp --------------------------------------------------------------

class StdDevState : public AccumulatorState {
 public:
  explicit StdDevState(bool sample) : sample_(sample) {}
  absl::Status Process(const std::optional<Value>& v) override {
    if (!v || !v->IsNumber()) return absl::OkStatus();
    Add(internal::ToDouble(*v), 1);
    return absl::OkStatus();
  }
  EvalResult Result() const override {
    double n = static_cast<double>(count_);
    if (count_ == 0 || (sample_ && count_ < 2)) return internal::Null();
    return Some(std::sqrt(m2_ / (sample_ ? n - 1 : n)));
  }
  Value Partial() const override { return Document{{"n", count_}, {"mean", mean_}, {"m2", m2_}}; }
  absl::Status Merge(const Value& p) override {
    const Document& d = p.AsDocument();
    int64_t n = d.Get("n").ToInt64();
    if (n == 0) return absl::OkStatus();
    double mean = d.Get("mean").ToDouble(), m2 = d.Get("m2").ToDouble();
    // Chan et al.: combine two partial variances.
    double total = static_cast<double>(count_ + n);
    double delta = mean - mean_;
    m2_ += m2 + delta * delta * static_cast<double>(count_) * static_cast<double>(n) / total;
    mean_ += delta * static_cast<double>(n) / total;
    count_ += n;
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return sizeof(*this); }
  bool FixedSize() const override { return true; }
  bool Removable() const override { return true; }
  absl::Status Remove(const std::optional<Value>& v) override {
    if (!v || !v->IsNumber()) return absl::OkStatus();
    Add(internal::ToDouble(*v), -1);
    return absl::OkStatus();
  }
  void Reset() override {
    count_ = 0;
    mean_ = m2_ = 0;
  }

 private:
  // Welford's update (weight +1 adds, -1 removes).
  void Add(double x, int weight) {
    if (weight > 0) {
      ++count_;
      double delta = x - mean_;
      mean_ += delta / static_cast<double>(count_);
      m2_ += delta * (x - mean_);
    } else if (count_ > 0) {
      if (count_ == 1) {
        Reset();
        return;
      }
      double old_mean = (mean_ * static_cast<double>(count_) - x) / static_cast<double>(count_ - 1);
      m2_ -= (x - mean_) * (x - old_mean);
      mean_ = old_mean;
      --count_;
    }
  }
  bool sample_;
  int64_t count_ = 0;
  double mean_ = 0, m2_ = 0;
};

}  // namespace

// ---- $median / $percentile -----------------------------------------------------------------

PercentileState::PercentileState(std::vector<double> p, bool median) : p_(std::move(p)), median_(median) {}

absl::Status PercentileState::Process(const std::optional<Value>& v) {
  if (!v || !v->IsNumber()) return absl::OkStatus();
  double d = internal::ToDouble(*v);
  if (std::isnan(d)) return absl::OkStatus();
  values_.push_back(d);
  sorted_ = false;
  return absl::OkStatus();
}

EvalResult PercentileState::Result() const {
  if (values_.empty()) {
    if (median_) return internal::Null();
    return Some(Array(p_.size(), Value(nullptr)));
  }
  if (!sorted_) {
    std::sort(values_.begin(), values_.end());
    sorted_ = true;
  }
  // The discrete method: the value whose rank is ceil(p * n).
  auto at = [&](double p) {
    double rank = std::ceil(p * static_cast<double>(values_.size()));
    size_t i = rank <= 1 ? 0 : static_cast<size_t>(rank) - 1;
    return values_[std::min(i, values_.size() - 1)];
  };
  if (median_) return Some(at(0.5));
  Array out;
  for (double p : p_) out.push_back(at(p));
  return Some(std::move(out));
}

Value PercentileState::Partial() const {
  Array a;
  a.reserve(values_.size());
  for (double d : values_) a.push_back(d);
  return a;
}

absl::Status PercentileState::Merge(const Value& p) {
  for (const Value& e : p.AsArray()) (void)Process(e);
  return absl::OkStatus();
}

bool PercentileState::Removable() const { return true; }

absl::Status PercentileState::Remove(const std::optional<Value>& v) {
  if (!v || !v->IsNumber()) return absl::OkStatus();
  double d = internal::ToDouble(*v);
  auto it = std::find(values_.begin(), values_.end(), d);
  if (it != values_.end()) values_.erase(it);
  return absl::OkStatus();
}

std::unique_ptr<AccumulatorState> NewSum() { return std::make_unique<SumState>(); }
std::unique_ptr<AccumulatorState> NewAvg() { return std::make_unique<AvgState>(); }
std::unique_ptr<AccumulatorState> NewMinMax(bool max, const bson::Collator* c) {
  return std::make_unique<MinMaxState>(max, c);
}
std::unique_ptr<AccumulatorState> NewFirstLast(bool first) { return std::make_unique<FirstLastState>(first); }
std::unique_ptr<AccumulatorState> NewPush() { return std::make_unique<PushState>(); }
std::unique_ptr<AccumulatorState> NewAddToSet(const bson::Collator* c) { return std::make_unique<AddToSetState>(c); }
std::unique_ptr<AccumulatorState> NewMergeObjects() { return std::make_unique<MergeObjectsState>(); }
std::unique_ptr<AccumulatorState> NewStdDev(bool sample) { return std::make_unique<StdDevState>(sample); }

}  // namespace accumulators
}  // namespace micromongo::pipeline
