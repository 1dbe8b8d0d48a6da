// The window functions of $setWindowFields, evaluated over one sorted partition: the
// accumulators over document or range windows, and $documentNumber $rank $denseRank
// $shift $locf $linearFill $expMovingAvg $derivative $integral $covariancePop
// $covarianceSamp.

#include <algorithm>
#include <cmath>

#include "document/status.h"
#include "pipeline/stages/window.h"

namespace micromongo::pipeline::stages::window {
namespace {

using Values = std::vector<std::optional<Value>>;

bool Nullish(const std::optional<Value>& v) {
  return !v || v->type() == BsonType::kNull || v->type() == BsonType::kUndefined;
}

absl::StatusOr<Values> EvalAll(const Expression& e, const Partition& p, ExecContext* ctx) {
  Values out;
  out.reserve(p.size);
  absl::Status s = p.ForEach([&](size_t, const Row& row) -> absl::Status {
    bson::DocView view = row.view();
    auto v = e.Evaluate(ctx->VariablesFor(row, &view));
    if (!v.ok()) return v.status();
    out.push_back(*std::move(v));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

// The sortBy values as numbers (dates as milliseconds), for range windows and the
// functions that measure along the sort axis.
absl::StatusOr<std::vector<double>> Axis(const Partition& p, std::string_view what, bool* dates) {
  std::vector<double> xs;
  xs.reserve(p.size);
  *dates = false;
  for (const std::optional<Value>& v : p.sort_values) {
    if (v && v->IsNumber()) {
      xs.push_back(v->ToDouble());
    } else if (v && v->type() == BsonType::kDate) {
      *dates = true;
      xs.push_back(static_cast<double>(v->AsDate().millis));
    } else {
      return MongoError(5429414, StrCat("Invalid range: Expected the sortBy field to be a number or a date for ",
                                        what, ", but it was ", v ? std::string(BsonTypeName(v->type())) : "missing"));
    }
  }
  return xs;
}

// [begin, end) of each row's window.
absl::StatusOr<std::vector<std::pair<size_t, size_t>>> Windows(const Bounds& b, const Partition& p) {
  const size_t n = p.size;
  std::vector<std::pair<size_t, size_t>> w(n);
  if (!b.range) {
    for (size_t i = 0; i < n; ++i) {
      int64_t lo = b.lo.kind == Bound::Kind::kUnbounded ? 0
                   : b.lo.kind == Bound::Kind::kCurrent ? static_cast<int64_t>(i)
                                                        : static_cast<int64_t>(i) + b.lo.offset.ToInt64();
      int64_t hi = b.hi.kind == Bound::Kind::kUnbounded ? static_cast<int64_t>(n) - 1
                   : b.hi.kind == Bound::Kind::kCurrent ? static_cast<int64_t>(i)
                                                        : static_cast<int64_t>(i) + b.hi.offset.ToInt64();
      int64_t begin = std::clamp<int64_t>(lo, 0, static_cast<int64_t>(n));
      int64_t end = std::clamp<int64_t>(hi + 1, 0, static_cast<int64_t>(n));
      w[i] = begin < end ? std::pair<size_t, size_t>(begin, end) : std::pair<size_t, size_t>(i, i);
    }
    return w;
  }
  bool dates;
  auto xs = Axis(p, "a range-based window", &dates);
  if (!xs.ok()) return xs.status();
  if (dates && !b.unit) {
    return MongoError(5429513, "A range-based window over dates requires a 'unit'");
  }
  if (!dates && b.unit) {
    return MongoError(5429414, "A range-based window with a 'unit' requires the sortBy field to be a date");
  }
  auto edge = [&](const Bound& bound, size_t i, bool upper) -> absl::StatusOr<double> {
    if (bound.kind == Bound::Kind::kUnbounded) return upper ? INFINITY : -INFINITY;
    if (bound.kind == Bound::Kind::kCurrent) return (*xs)[i];
    if (!dates) return (*xs)[i] + bound.offset.ToDouble();
    auto d = internal::DateAdd(DateTime{static_cast<int64_t>((*xs)[i])}, *b.unit, bound.offset.ToInt64(),
                               internal::TimeZone::Utc());
    if (!d.ok()) return d.status();
    return static_cast<double>(d->millis);
  };
  bool ascending = n < 2 || (*xs)[0] <= (*xs)[n - 1];
  for (size_t i = 0; i < n; ++i) {
    auto lo = edge(b.lo, i, false);
    if (!lo.ok()) return lo.status();
    auto hi = edge(b.hi, i, true);
    if (!hi.ok()) return hi.status();
    size_t begin, end;
    if (ascending) {
      begin = std::lower_bound(xs->begin(), xs->end(), *lo) - xs->begin();
      end = std::upper_bound(xs->begin(), xs->end(), *hi) - xs->begin();
    } else {
      begin = std::lower_bound(xs->begin(), xs->end(), *hi, std::greater<double>()) - xs->begin();
      end = std::upper_bound(xs->begin(), xs->end(), *lo, std::greater<double>()) - xs->begin();
    }
    w[i] = begin < end ? std::pair<size_t, size_t>(begin, end) : std::pair<size_t, size_t>(i, i);
  }
  return w;
}

absl::Status Accumulate(const Output& out, const Partition& p, ExecContext* ctx, Values* values) {
  const size_t n = p.size;
  // The accumulator's input per row, evaluated once.
  Values inputs;
  inputs.reserve(n);
  absl::Status read = p.ForEach([&](size_t, const Row& row) -> absl::Status {
    bson::DocView view = row.view();
    auto v = out.accumulator->Input(ctx->VariablesFor(row, &view));
    if (!v.ok()) return v.status();
    inputs.push_back(*std::move(v));
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  auto fresh = [&]() { return out.accumulator->NewState(std::nullopt, ctx->collator_ptr(), ctx->let); };
  auto result = [&](AccumulatorState* s) -> absl::StatusOr<std::optional<Value>> {
    auto r = s->Result();
    if (!r.ok()) return r.status();
    return *r ? *r : std::optional<Value>(Value(nullptr));
  };
  if (out.bounds.whole()) {
    auto state = fresh();
    if (!state.ok()) return state.status();
    for (const auto& v : inputs) {
      if (auto s = (*state)->Process(v); !s.ok()) return s;
    }
    auto r = result(state->get());
    if (!r.ok()) return r.status();
    values->assign(n, *r);
    return absl::OkStatus();
  }
  auto windows = Windows(out.bounds, p);
  if (!windows.ok()) return windows.status();
  auto state = fresh();
  if (!state.ok()) return state.status();
  AccumulatorState* s = state->get();
  bool prefix = out.bounds.lo.kind == Bound::Kind::kUnbounded;
  if (s->Removable() || prefix) {
    // Windows only move forward: add what enters, remove (oldest first) what leaves.
    size_t begin = 0, end = 0;
    for (size_t i = 0; i < n; ++i) {
      auto [b, e] = (*windows)[i];
      if (b == e) {
        values->push_back(std::nullopt);
        auto empty = fresh();
        if (!empty.ok()) return empty.status();
        auto r = result(empty->get());
        if (!r.ok()) return r.status();
        values->back() = *r;
        continue;
      }
      if (b >= end || b < begin) {
        s->Reset();
        begin = end = b;
      }
      for (; end < e; ++end) {
        if (auto st = s->Process(inputs[end]); !st.ok()) return st;
      }
      for (; begin < b; ++begin) {
        if (auto st = s->Remove(inputs[begin]); !st.ok()) return st;
      }
      auto r = result(s);
      if (!r.ok()) return r.status();
      values->push_back(*r);
    }
    return absl::OkStatus();
  }
  for (size_t i = 0; i < n; ++i) {
    s->Reset();
    for (size_t k = (*windows)[i].first; k < (*windows)[i].second; ++k) {
      if (auto st = s->Process(inputs[k]); !st.ok()) return st;
    }
    auto r = result(s);
    if (!r.ok()) return r.status();
    values->push_back(*r);
  }
  return absl::OkStatus();
}

// Positions and ranks are ints, longs past 2^31.
Value Number32(int64_t n) { return n <= INT32_MAX ? Value(static_cast<int32_t>(n)) : Value(n); }

std::optional<double> Number(const std::optional<Value>& v) {
  if (v && v->IsNumber()) return v->ToDouble();
  return std::nullopt;
}

}  // namespace

absl::Status Evaluate(const Output& out, const Partition& p, ExecContext* ctx, Values* values) {
  const size_t n = p.size;
  values->clear();
  values->reserve(n);
  switch (out.kind) {
    case FnKind::kAccumulator:
      return Accumulate(out, p, ctx, values);
    case FnKind::kDocumentNumber:
      for (size_t i = 0; i < n; ++i) values->push_back(Number32(static_cast<int64_t>(i + 1)));
      return absl::OkStatus();
    case FnKind::kRank:
    case FnKind::kDenseRank: {
      int64_t rank = 0, dense = 0;
      for (size_t i = 0; i < n; ++i) {
        if (i == 0 || p.sort_keys[i] != p.sort_keys[i - 1]) {
          rank = static_cast<int64_t>(i + 1);
          ++dense;
        }
        values->push_back(Number32(out.kind == FnKind::kRank ? rank : dense));
      }
      return absl::OkStatus();
    }
    case FnKind::kShift: {
      auto shifted = EvalAll(*out.input, p, ctx);
      if (!shifted.ok()) return shifted.status();
      std::optional<Value> def = Value(nullptr);
      if (out.default_value) {
        Variables vars;
        vars.let = ctx->let;
        auto d = out.default_value->Evaluate(vars);
        if (!d.ok()) return d.status();
        def = *d ? *d : std::optional<Value>(Value(nullptr));
      }
      for (size_t i = 0; i < n; ++i) {
        int64_t t = static_cast<int64_t>(i) + out.by;
        if (t < 0 || t >= static_cast<int64_t>(n)) {
          values->push_back(def);
        } else {
          const auto& v = (*shifted)[static_cast<size_t>(t)];
          values->push_back(v ? v : std::optional<Value>(Value(nullptr)));
        }
      }
      return absl::OkStatus();
    }
    case FnKind::kLocf: {
      auto in = EvalAll(*out.input, p, ctx);
      if (!in.ok()) return in.status();
      std::optional<Value> last;
      for (auto& v : *in) {
        if (!Nullish(v)) last = v;
        values->push_back(last ? last : std::optional<Value>(Value(nullptr)));
      }
      return absl::OkStatus();
    }
    case FnKind::kLinearFill: {
      auto in = EvalAll(*out.input, p, ctx);
      if (!in.ok()) return in.status();
      bool dates;
      auto xs = Axis(p, "$linearFill", &dates);
      if (!xs.ok()) return xs.status();
      for (size_t i = 0; i < n; ++i) {
        const auto& v = (*in)[i];
        if (!Nullish(v)) {
          if (!v->IsNumber()) {
            return MongoError(kTypeMismatch, StrCat("$linearFill only supports numeric types, not ",
                                                    BsonTypeName(v->type())));
          }
          values->push_back(v);
          continue;
        }
        std::optional<size_t> prev, next;
        for (size_t k = i; k-- > 0;) {
          if (!Nullish((*in)[k])) {
            prev = k;
            break;
          }
        }
        for (size_t k = i + 1; k < n; ++k) {
          if (!Nullish((*in)[k])) {
            next = k;
            break;
          }
        }
        if (!prev || !next || !(*in)[*next]->IsNumber()) {
          values->push_back(Value(nullptr));
          continue;
        }
        double x0 = (*xs)[*prev], x1 = (*xs)[*next], x = (*xs)[i];
        double y0 = (*in)[*prev]->ToDouble(), y1 = (*in)[*next]->ToDouble();
        values->push_back(Value(x1 == x0 ? y0 : y0 + (x - x0) * (y1 - y0) / (x1 - x0)));
      }
      return absl::OkStatus();
    }
    case FnKind::kExpMovingAvg: {
      auto in = EvalAll(*out.input, p, ctx);
      if (!in.ok()) return in.status();
      std::optional<double> avg;
      for (const auto& v : *in) {
        if (auto x = Number(v)) avg = avg ? *x * out.alpha + *avg * (1 - out.alpha) : *x;
        values->push_back(avg ? std::optional<Value>(Value(*avg)) : std::optional<Value>(Value(nullptr)));
      }
      return absl::OkStatus();
    }
    case FnKind::kDerivative:
    case FnKind::kIntegral: {
      auto in = EvalAll(*out.input, p, ctx);
      if (!in.ok()) return in.status();
      bool dates;
      std::string_view name = out.kind == FnKind::kDerivative ? "$derivative" : "$integral";
      auto xs = Axis(p, name, &dates);
      if (!xs.ok()) return xs.status();
      if (dates && !out.unit_ms) {
        return MongoError(5624901, StrCat(name, " with sortBy on a Date requires a 'unit'"));
      }
      if (!dates && out.unit_ms) {
        return MongoError(5624900, StrCat(name, " with a 'unit' requires the sortBy field to be a Date"));
      }
      double scale = out.unit_ms ? static_cast<double>(*out.unit_ms) : 1.0;
      auto windows = Windows(out.bounds, p);
      if (!windows.ok()) return windows.status();
      for (size_t i = 0; i < n; ++i) {
        auto [b, e] = (*windows)[i];
        if (out.kind == FnKind::kDerivative) {
          if (e - b < 2) {
            values->push_back(Value(nullptr));
            continue;
          }
          auto y0 = Number((*in)[b]), y1 = Number((*in)[e - 1]);
          double dx = ((*xs)[e - 1] - (*xs)[b]) / scale;
          if (!y0 || !y1 || dx == 0) {
            values->push_back(Value(nullptr));
            continue;
          }
          values->push_back(Value((*y1 - *y0) / dx));
          continue;
        }
        double area = 0;
        bool any = false;
        for (size_t k = b; k + 1 < e; ++k) {
          auto y0 = Number((*in)[k]), y1 = Number((*in)[k + 1]);
          if (!y0 || !y1) continue;
          area += ((*xs)[k + 1] - (*xs)[k]) / scale * (*y0 + *y1) / 2;
          any = true;
        }
        values->push_back(any || e - b == 1 ? Value(area) : Value(nullptr));
      }
      return absl::OkStatus();
    }
    case FnKind::kCovariancePop:
    case FnKind::kCovarianceSamp: {
      auto xs = EvalAll(*out.input, p, ctx);
      if (!xs.ok()) return xs.status();
      auto ys = EvalAll(*out.input2, p, ctx);
      if (!ys.ok()) return ys.status();
      auto windows = Windows(out.bounds, p);
      if (!windows.ok()) return windows.status();
      for (size_t i = 0; i < n; ++i) {
        double sx = 0, sy = 0, sxy = 0;
        int64_t count = 0;
        for (size_t k = (*windows)[i].first; k < (*windows)[i].second; ++k) {
          auto x = Number((*xs)[k]), y = Number((*ys)[k]);
          if (!x || !y) continue;
          sx += *x;
          sy += *y;
          sxy += *x * *y;
          ++count;
        }
        int64_t denom = out.kind == FnKind::kCovariancePop ? count : count - 1;
        if (count == 0 || denom <= 0) {
          values->push_back(Value(nullptr));
          continue;
        }
        values->push_back(Value((sxy - sx * sy / static_cast<double>(count)) / static_cast<double>(denom)));
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages::window
