// The N-accumulators: $firstN $lastN $minN $maxN $topN $bottomN $top $bottom. Inputs of
// $top/$bottom(N) are {k: <sort key>, o: <output>} documents (the parser builds them); ties
// keep the value seen first, as MongoDB does.

#include <algorithm>
#include <cmath>
#include <deque>

#include "document/value_ops.h"
#include "pipeline/accumulators/states.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::accumulators {
namespace {

using internal::Compare;
using internal::IsNullish;
using internal::Some;

class FirstLastNState : public AccumulatorState {
 public:
  FirstLastNState(bool first, int64_t n) : first_(first), n_(static_cast<size_t>(n)) {}
  absl::Status Process(const std::optional<Value>& v) override {
    if (first_ && values_.size() >= n_) return absl::OkStatus();
    values_.push_back(v ? *v : Value(nullptr));
    bytes_ += ApproxBytes(values_.back());
    if (values_.size() > n_) {
      bytes_ -= std::min(bytes_, ApproxBytes(values_.front()));
      values_.pop_front();
    }
    return absl::OkStatus();
  }
  EvalResult Result() const override { return Some(Array(values_.begin(), values_.end())); }
  Value Partial() const override { return Array(values_.begin(), values_.end()); }
  absl::Status Merge(const Value& p) override {
    for (const Value& e : p.AsArray()) (void)Process(e);
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return sizeof(*this) + bytes_; }
  bool NeedsInput() const override { return !(first_ && values_.size() >= n_); }
  void Reset() override {
    values_.clear();
    bytes_ = 0;
  }

 private:
  bool first_;
  size_t n_;
  std::deque<Value> values_;
  size_t bytes_ = 0;
};

class MinMaxNState : public AccumulatorState {
 public:
  MinMaxNState(bool max, int64_t n, const bson::Collator* collator)
      : max_(max), n_(static_cast<size_t>(n)), collator_(collator) {}
  absl::Status Process(const std::optional<Value>& v) override {
    if (IsNullish(v)) return absl::OkStatus();
    // Sorted best first; a tie goes after the values already kept.
    auto it = std::upper_bound(values_.begin(), values_.end(), *v, [&](const Value& a, const Value& b) {
      int c = Compare(a, b, collator_);
      return max_ ? c > 0 : c < 0;
    });
    if (values_.size() >= n_ && it == values_.end()) return absl::OkStatus();
    values_.insert(it, *v);
    bytes_ += ApproxBytes(*v);
    if (values_.size() > n_) {
      bytes_ -= std::min(bytes_, ApproxBytes(values_.back()));
      values_.pop_back();
    }
    return absl::OkStatus();
  }
  EvalResult Result() const override { return Some(values_); }
  Value Partial() const override { return values_; }
  absl::Status Merge(const Value& p) override {
    for (const Value& e : p.AsArray()) (void)Process(e);
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return sizeof(*this) + bytes_; }
  void Reset() override {
    values_.clear();
    bytes_ = 0;
  }

 private:
  bool max_;
  size_t n_;
  const bson::Collator* collator_;
  Array values_;
  size_t bytes_ = 0;
};

class TopBottomState : public AccumulatorState {
 public:
  TopBottomState(bool top, bool single, int64_t n, std::shared_ptr<SortPattern> sort,
                 const bson::Collator* collator)
      : top_(top), single_(single), n_(static_cast<size_t>(n)), sort_(std::move(sort)), collator_(collator) {}

  absl::Status Process(const std::optional<Value>& v) override {
    const Document& d = v->AsDocument();
    Entry e{d.Get("k").AsArray(), d.Find("o") ? d.Get("o") : Value(nullptr)};
    auto less = [&](const Entry& a, const Entry& b) { return sort_->Compare(a.key, b.key, collator_) < 0; };
    if (top_) {
      // Ascending; ties after the kept ones, so the first seen survives trimming the end.
      auto it = std::upper_bound(entries_.begin(), entries_.end(), e, less);
      if (entries_.size() >= n_ && it == entries_.end()) return absl::OkStatus();
      bytes_ += ApproxBytes(e.output) + 64;
      entries_.insert(it, std::move(e));
      if (entries_.size() > n_) entries_.pop_back();
    } else {
      // Ascending; ties before the kept ones, so the first seen survives trimming the front.
      auto it = std::lower_bound(entries_.begin(), entries_.end(), e, less);
      if (entries_.size() >= n_ && it == entries_.begin()) return absl::OkStatus();
      bytes_ += ApproxBytes(e.output) + 64;
      entries_.insert(it, std::move(e));
      if (entries_.size() > n_) entries_.erase(entries_.begin());
    }
    return absl::OkStatus();
  }
  EvalResult Result() const override {
    if (single_) return entries_.empty() ? internal::Null() : Some(entries_.front().output);
    Array out;
    for (const Entry& e : entries_) out.push_back(e.output);
    return Some(std::move(out));
  }
  Value Partial() const override {
    Array out;
    for (const Entry& e : entries_) out.push_back(Document{{"k", e.key}, {"o", e.output}});
    return out;
  }
  absl::Status Merge(const Value& p) override {
    for (const Value& e : p.AsArray()) (void)Process(e);
    return absl::OkStatus();
  }
  size_t MemoryBytes() const override { return sizeof(*this) + bytes_; }
  void Reset() override {
    entries_.clear();
    bytes_ = 0;
  }

 private:
  struct Entry {
    Array key;
    Value output;
  };
  bool top_, single_;
  size_t n_;
  std::shared_ptr<SortPattern> sort_;
  const bson::Collator* collator_;
  std::vector<Entry> entries_;
  size_t bytes_ = 0;
};

}  // namespace

absl::StatusOr<int64_t> ValidateN(const std::optional<Value>& v) {
  std::string text = v ? v->ToJson() : "missing";
  if (!v || !v->IsNumber()) {
    return MongoError(5787902, StrCat("Value for 'n' must be of integral type, but found ", text));
  }
  long double d = bson::ToLongDouble(*v);
  if (d != std::trunc(d)) {
    return MongoError(5787903, StrCat("Value for 'n' must be of integral type, but found ", text));
  }
  int64_t n = internal::CoerceToLong(*v);
  if (n <= 0) return MongoError(5787908, StrCat("'n' must be greater than 0, found ", n));
  return n;
}

std::unique_ptr<AccumulatorState> NewN(NKind kind, int64_t n, std::shared_ptr<SortPattern> sort,
                                       const bson::Collator* collator) {
  switch (kind) {
    case NKind::kFirstN: return std::make_unique<FirstLastNState>(true, n);
    case NKind::kLastN: return std::make_unique<FirstLastNState>(false, n);
    case NKind::kMinN: return std::make_unique<MinMaxNState>(false, n, collator);
    case NKind::kMaxN: return std::make_unique<MinMaxNState>(true, n, collator);
    case NKind::kTopN: return std::make_unique<TopBottomState>(true, false, n, std::move(sort), collator);
    case NKind::kBottomN: return std::make_unique<TopBottomState>(false, false, n, std::move(sort), collator);
    case NKind::kTop: return std::make_unique<TopBottomState>(true, true, 1, std::move(sort), collator);
    case NKind::kBottom: return std::make_unique<TopBottomState>(false, true, 1, std::move(sort), collator);
  }
  return nullptr;
}

}  // namespace micromongo::pipeline::accumulators
