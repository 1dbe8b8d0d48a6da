// $bucketAuto: sorts its input by `groupBy` and cuts it into `buckets` buckets of about equal
// size (equal values stay together), optionally with boundaries on a series of preferred
// numbers (granularity).

#include <algorithm>
#include <cmath>

#include "document/builder.h"
#include "document/key_string.h"
#include "document/value_ops.h"
#include "pipeline/accumulators/accumulator.h"
#include "pipeline/sorter.h"
#include "pipeline/stages/join_util.h"
#include "pipeline/stages/registry.h"

namespace micromongo::pipeline::stages {
namespace {

// Rounds non-negative numbers to a series of preferred numbers (MongoDB's granularity
// rounders: Renard, E and 1-2-5 series, and powers of two).
class Rounder {
 public:
  static std::optional<Rounder> Named(std::string_view name) {
    static const std::pair<std::string_view, std::vector<double>> kSeries[] = {
        {"R5", {10, 16, 25, 40, 63}},
        {"R10", {100, 125, 160, 200, 250, 315, 400, 500, 630, 800}},
        {"R20", {100, 112, 125, 140, 160, 180, 200, 224, 250, 280, 315, 355, 400, 450, 500, 560, 630, 710, 800, 900}},
        {"R40", {100, 106, 112, 118, 125, 132, 140, 150, 160, 170, 180, 190, 200, 212, 224, 236, 250, 265, 280, 300,
                 315, 355, 375, 400, 425, 450, 475, 500, 530, 560, 600, 630, 670, 710, 750, 800, 850, 900, 950}},
        {"R80", {103, 109, 115, 122, 128, 136, 145, 155, 165, 175, 185, 195, 206, 218, 230, 243, 258, 272, 290, 307,
                 325, 345, 365, 387, 412, 437, 462, 487, 515, 545, 575, 615, 650, 690, 730, 775, 825, 875, 925, 975}},
        {"1-2-5", {10, 20, 50}},
        {"E6", {10, 15, 22, 33, 47, 68}},
        {"E12", {10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82}},
        {"E24", {10, 11, 12, 13, 15, 16, 18, 20, 22, 24, 27, 30, 33, 36, 39, 43, 47, 51, 56, 62, 68, 75, 82, 91}},
        {"E48", {100, 105, 110, 115, 121, 127, 133, 140, 147, 154, 162, 169, 178, 187, 196, 205,
                 215, 226, 237, 249, 261, 274, 287, 301, 316, 332, 348, 365, 383, 402, 422, 442,
                 464, 487, 511, 536, 562, 590, 619, 649, 681, 715, 750, 787, 825, 866, 909, 953}},
        {"E96", {100, 102, 105, 107, 110, 113, 115, 118, 121, 124, 127, 130, 133, 137, 140, 143, 147, 150, 154, 158,
                 162, 165, 169, 174, 178, 182, 187, 191, 196, 200, 205, 210, 215, 221, 226, 232, 237, 243, 249, 255,
                 261, 267, 274, 280, 287, 294, 301, 309, 316, 324, 332, 340, 348, 357, 365, 374, 383, 392, 402, 412,
                 422, 432, 442, 453, 464, 475, 487, 499, 511, 523, 536, 549, 562, 576, 590, 604, 619, 634, 649, 665,
                 681, 698, 715, 732, 750, 768, 787, 806, 825, 845, 866, 887, 909, 931, 953, 976}},
        {"E192", {100, 101, 102, 104, 105, 106, 107, 109, 110, 111, 113, 114, 115, 117, 118, 120, 121, 123, 124, 126,
                  127, 129, 130, 132, 133, 135, 137, 138, 140, 142, 143, 145, 147, 149, 150, 152, 154, 156, 158, 160,
                  162, 164, 165, 167, 169, 172, 174, 176, 178, 180, 182, 184, 187, 189, 191, 193, 196, 198, 200, 203,
                  205, 208, 210, 213, 215, 218, 221, 223, 226, 229, 232, 234, 237, 240, 243, 246, 249, 252, 255, 258,
                  261, 264, 267, 271, 274, 277, 280, 284, 287, 291, 294, 298, 301, 305, 309, 312, 316, 320, 324, 328,
                  332, 336, 340, 344, 348, 352, 357, 361, 365, 370, 374, 379, 383, 388, 392, 397, 402, 407, 412, 417,
                  422, 427, 432, 437, 442, 448, 453, 459, 464, 470, 475, 481, 487, 493, 499, 505, 511, 517, 523, 530,
                  536, 542, 549, 556, 562, 569, 576, 583, 590, 597, 604, 612, 619, 626, 634, 642, 649, 657, 665, 673,
                  681, 690, 698, 706, 715, 723, 732, 741, 750, 759, 768, 777, 787, 796, 806, 816, 825, 835, 845, 856,
                  866, 876, 887, 898, 909, 920, 931, 942, 953, 965, 976, 988}},
    };
    Rounder r;
    r.name_ = std::string(name);
    if (name == "POWERSOF2") return r;
    for (const auto& [n, series] : kSeries) {
      if (n == name) {
        r.series_ = series;
        return r;
      }
    }
    return std::nullopt;
  }

  const std::string& name() const { return name_; }

  absl::StatusOr<Value> RoundUp(const Value& v) const { return Round(v, true); }
  absl::StatusOr<Value> RoundDown(const Value& v) const { return Round(v, false); }

 private:
  absl::StatusOr<Value> Round(const Value& v, bool up) const {
    if (!v.IsNumber()) {
      return MongoError(40262, StrCat("A granularity rounder can only round numeric values, but found type: ",
                                      BsonTypeName(v.type())));
    }
    double x = v.ToDouble();
    if (std::isnan(x)) return MongoError(40263, "A granularity rounder cannot round NaN");
    if (x < 0) return MongoError(40268, "A granularity rounder can only round non-negative numbers");
    if (x == 0) return v;
    if (series_.empty()) return PowerOfTwo(v, x, up);
    double r = up ? SeriesUp(x) : SeriesDown(x);
    if (v.type() == BsonType::kDecimal128) return bson::DecimalFromLongDouble(r);
    return Value(r);
  }

  // The next power of two above (up) or below (down) x: an integer for integral powers.
  static Value PowerOfTwo(const Value& v, double x, bool up) {
    int exp;
    if (v.type() == BsonType::kInt32 || v.type() == BsonType::kInt64) {
      int64_t n = v.type() == BsonType::kInt32 ? v.AsInt32() : v.AsInt64();
      int log2 = 63 - __builtin_clzll(static_cast<uint64_t>(n));
      bool power = (n & (n - 1)) == 0;
      exp = up ? log2 + 1 : (power ? log2 - 1 : log2);
    } else {
      exp = up ? static_cast<int>(std::floor(std::log2(x)) + 1) : static_cast<int>(std::ceil(std::log2(x)) - 1);
    }
    if (v.type() == BsonType::kDecimal128) return bson::DecimalFromLongDouble(std::ldexp(1.0L, exp));
    if (exp < 0) return Value(std::ldexp(1.0, exp));
    if (exp < 31) return Value(static_cast<int32_t>(1) << exp);
    if (exp < 63) return Value(static_cast<int64_t>(1) << exp);
    return Value(std::ldexp(1.0, exp));
  }

  double SeriesUp(double number) const {
    double multiplier = 1.0;
    while (number >= series_.back() * multiplier) multiplier *= 10.0;
    while (number < series_.front() * multiplier) {
      double previous_min = series_.front() * multiplier;
      multiplier /= 10.0;
      if (number >= series_.back() * multiplier) return previous_min;
    }
    auto it = std::upper_bound(series_.begin(), series_.end(), number,
                               [multiplier](double n, double s) { return n < s * multiplier; });
    return *it * multiplier;
  }

  double SeriesDown(double number) const {
    double multiplier = 1.0;
    while (number <= series_.front() * multiplier) multiplier /= 10.0;
    while (number > series_.back() * multiplier) {
      double previous_max = series_.back() * multiplier;
      multiplier *= 10.0;
      if (number <= series_.front() * multiplier) return previous_max;
    }
    auto it = std::lower_bound(series_.begin(), series_.end(), number,
                               [multiplier](double s, double n) { return s * multiplier < n; });
    return *(it - 1) * multiplier;
  }

  std::string name_;
  std::vector<double> series_;  // empty: powers of two
};

struct BucketAutoDef {
  std::shared_ptr<const Expression> group_by;
  int32_t buckets = 0;
  std::vector<AccumulatorOutput> outputs;
  std::optional<Rounder> rounder;
};

class BucketAutoStage final : public Stage {
 public:
  BucketAutoStage(StagePtr input, const BucketAutoDef* def, ExecContext* ctx)
      : input_(std::move(input)), def_(def), ctx_(ctx), sorter_(ctx, "$bucketAuto") {}

  absl::StatusOr<bool> Next(Row* out) override {
    if (!loaded_) {
      loaded_ = true;
      if (auto s = Load(); !s.ok()) return s;
      if (auto s = Populate(); !s.ok()) return s;
    }
    if (next_ >= buckets_.size()) return false;
    Bucket& b = buckets_[next_++];
    bson::Builder doc;
    doc.AppendValue("_id", Document{{"min", b.min}, {"max", b.max}});
    for (size_t i = 0; i < def_->outputs.size(); ++i) {
      auto v = b.states[i]->Result();
      if (!v.ok()) return v.status();
      doc.AppendValue(def_->outputs[i].field, *v ? **v : Value(nullptr));
    }
    out->doc = std::move(doc).Finish();
    out->meta.reset();
    return true;
  }

 private:
  struct Entry {
    Value value;  // the groupBy value (missing: null)
    std::string doc;
  };
  struct Bucket {
    Value min, max;
    std::vector<std::unique_ptr<AccumulatorState>> states;
  };

  absl::Status Load() {
    uint64_t seq = 0;
    absl::Status read = ForEachRow(input_.get(), [&](Row& row) -> absl::Status {
      bson::DocView view = row.view();
      auto v = def_->group_by->Evaluate(ctx_->VariablesFor(row, &view));
      if (!v.ok()) return v.status();
      Value value = *v ? **std::move(v) : Value(nullptr);
      std::string key = ValueKey(value, ctx_->collator_ptr());
      bson::AppendBigEndian64(seq++, &key);
      // The value's BSON then the document's.
      std::string packed = bson::Encode(Document{{"", value}});
      packed.append(row.doc);
      ++count_;
      return sorter_.Add(std::move(key), std::move(packed));
    });
    if (!read.ok()) return read;
    input_.reset();
    return sorter_.Finish();
  }

  absl::StatusOr<bool> NextEntry(Entry* e) {
    std::string key, packed;
    auto more = sorter_.Next(&key, &packed);
    if (!more.ok() || !*more) return more;
    size_t n = static_cast<size_t>(bson::ReadInt32(packed.data()));
    e->value = bson::Decode(bson::DocView(packed.data())).begin()->second;
    e->doc = packed.substr(n);
    return true;
  }

  absl::Status Add(const Entry& e, Bucket* b) {
    b->max = e.value;
    Row row;
    row.doc = e.doc;
    bson::DocView view = row.view();
    Variables vars = ctx_->VariablesFor(row, &view);
    for (size_t i = 0; i < def_->outputs.size(); ++i) {
      auto input = def_->outputs[i].accumulator.Input(vars);
      if (!input.ok()) return input.status();
      if (auto s = b->states[i]->Process(*input); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  int Cmp(const Value& a, const Value& b) const { return CompareOptional(a, b, ctx_->collator_ptr()); }

  // MongoDB's populateBuckets.
  absl::Status Populate() {
    if (def_->buckets == 0) return absl::OkStatus();
    int64_t approx = static_cast<int64_t>(std::round(static_cast<double>(count_) / def_->buckets));
    if (approx < 1) approx = 1;
    std::optional<Entry> first_of_next;
    for (int i = 0; i < def_->buckets; ++i) {
      bool last = i == def_->buckets - 1;
      Entry current;
      if (first_of_next) {
        current = *std::move(first_of_next);
        first_of_next.reset();
      } else {
        auto more = NextEntry(&current);
        if (!more.ok()) return more.status();
        if (!*more) break;
      }
      Bucket bucket;
      bucket.min = current.value;
      for (const AccumulatorOutput& o : def_->outputs) {
        auto state = o.accumulator.NewState(std::nullopt, ctx_->collator_ptr(), ctx_->let);
        if (!state.ok()) return state.status();
        bucket.states.push_back(*std::move(state));
      }
      if (auto s = Add(current, &bucket); !s.ok()) return s;
      Entry e;
      if (last) {
        while (true) {
          auto more = NextEntry(&e);
          if (!more.ok()) return more.status();
          if (!*more) break;
          if (auto s = Add(e, &bucket); !s.ok()) return s;
        }
      } else {
        for (int64_t j = 0; j < approx - 1; ++j) {
          auto more = NextEntry(&e);
          if (!more.ok()) return more.status();
          if (!*more) break;
          if (auto s = Add(e, &bucket); !s.ok()) return s;
        }
        std::optional<Entry> next;
        auto fetch = [&]() -> absl::Status {
          Entry n;
          auto more = NextEntry(&n);
          if (!more.ok()) return more.status();
          if (*more) {
            next = std::move(n);
          } else {
            next.reset();
          }
          return absl::OkStatus();
        };
        if (auto s = fetch(); !s.ok()) return s;
        if (def_->rounder) {
          auto boundary = def_->rounder->RoundUp(bucket.max);
          if (!boundary.ok()) return boundary.status();
          while (next && Cmp(*boundary, next->value) > 0) {
            if (auto s = Add(*next, &bucket); !s.ok()) return s;
            if (auto s = fetch(); !s.ok()) return s;
          }
          if (next) bucket.max = *boundary;
        } else {
          while (next && Cmp(bucket.max, next->value) == 0) {
            if (auto s = Add(*next, &bucket); !s.ok()) return s;
            if (auto s = fetch(); !s.ok()) return s;
          }
        }
        first_of_next = std::move(next);
      }
      if (auto s = AddBucket(std::move(bucket)); !s.ok()) return s;
    }
    if (!buckets_.empty() && def_->rounder) {
      auto lo = def_->rounder->RoundDown(buckets_.front().min);
      if (!lo.ok()) return lo.status();
      buckets_.front().min = *lo;
      auto hi = def_->rounder->RoundUp(buckets_.back().max);
      if (!hi.ok()) return hi.status();
      buckets_.back().max = *hi;
    }
    return absl::OkStatus();
  }

  absl::Status AddBucket(Bucket bucket) {
    if (!buckets_.empty()) {
      Bucket& previous = buckets_.back();
      if (def_->rounder) {
        if (previous.max.IsNumber() && previous.max.ToDouble() == 0.0) {
          auto down = def_->rounder->RoundDown(bucket.min);
          if (!down.ok()) return down.status();
          previous.max = *down;
        }
        bucket.min = previous.max;
      } else {
        previous.max = bucket.min;
      }
    }
    buckets_.push_back(std::move(bucket));
    return absl::OkStatus();
  }

  StagePtr input_;
  const BucketAutoDef* def_;
  ExecContext* ctx_;
  Sorter sorter_;
  bool loaded_ = false;
  int64_t count_ = 0;
  std::vector<Bucket> buckets_;
  size_t next_ = 0;
};

using BucketAutoSpec = DefSpec<BucketAutoStage, BucketAutoDef>;

}  // namespace

absl::Status ParseBucketAuto(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(40240, StrCat("The argument to $bucketAuto must be an object, but found type: ",
                                    BsonTypeName(arg.type())));
  }
  ParseContext context = options.ExpressionContext();
  BucketAutoDef def;
  bool have_buckets = false;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "groupBy") {
      bool path = v.type() == BsonType::kString && v.AsString().starts_with("$");
      bool object = v.type() == BsonType::kDocument && !v.AsDocument().empty() &&
                    v.AsDocument().begin()->first.starts_with("$");
      if (!path && !object) {
        return MongoError(40239, StrCat("The $bucketAuto 'groupBy' field must be defined as a $-prefixed path or an "
                                        "expression object, but found: ", v.ToJson()));
      }
      auto e = ParseExpression(v, context);
      if (!e.ok()) return e.status();
      def.group_by = std::shared_ptr<const Expression>(*std::move(e));
    } else if (k == "buckets") {
      if (!v.IsNumber()) {
        return MongoError(40241, StrCat("The $bucketAuto 'buckets' field must be a numeric value, but found type: ",
                                        BsonTypeName(v.type())));
      }
      double d = v.ToDouble();
      if (d != std::trunc(d) || d < INT32_MIN || d > INT32_MAX) {
        return MongoError(40242, StrCat("The $bucketAuto 'buckets' field must be representable as a 32-bit integer, "
                                        "but found ", v.ToJson()));
      }
      def.buckets = static_cast<int32_t>(d);
      have_buckets = true;
    } else if (k == "output") {
      if (v.type() != BsonType::kDocument) {
        return MongoError(40244, StrCat("The $bucketAuto 'output' field must be an object, but found type: ",
                                        BsonTypeName(v.type())));
      }
      for (const auto& [field, acc] : v.AsDocument()) {
        if (field.find('.') != std::string::npos) {
          return MongoError(40235, StrCat("The field name '", field, "' cannot contain '.'"));
        }
        if (!field.empty() && field[0] == '$') {
          return MongoError(40236, StrCat("The field name '", field, "' cannot be an operator name"));
        }
        if (acc.type() != BsonType::kDocument) {
          return MongoError(40234, StrCat("The field '", field, "' must be an accumulator object"));
        }
        if (acc.AsDocument().size() != 1) {
          return MongoError(40238, StrCat("The field '", field, "' must specify one accumulator"));
        }
        auto spec = AccumulatorSpec::Parse(acc.AsDocument().begin()->first, acc.AsDocument().begin()->second, context);
        if (!spec.ok()) return spec.status();
        def.outputs.push_back(AccumulatorOutput{field, *std::move(spec)});
      }
    } else if (k == "granularity") {
      if (v.type() != BsonType::kString) {
        return MongoError(40261, StrCat("The $bucketAuto 'granularity' field must be a string, but found type: ",
                                        BsonTypeName(v.type())));
      }
      def.rounder = Rounder::Named(v.AsString());
      if (!def.rounder) return MongoError(40257, StrCat("Rounding granularity not recognized: ", v.AsString()));
    } else {
      return MongoError(40245, StrCat("Unrecognized option to $bucketAuto: ", k));
    }
  }
  if (!def.group_by || !have_buckets) {
    return MongoError(40246, "$bucketAuto requires 'groupBy' and 'buckets' to be specified");
  }
  if (def.buckets <= 0) {
    return MongoError(40243, StrCat("The $bucketAuto 'buckets' field must be greater than 0, but found: ", def.buckets));
  }
  if (def.outputs.empty()) {
    auto spec = AccumulatorSpec::Parse("$sum", Value(1), context);
    if (!spec.ok()) return spec.status();
    def.outputs.push_back(AccumulatorOutput{"count", *std::move(spec)});
  }
  Emit(out, "$bucketAuto", arg, std::make_shared<BucketAutoSpec>(std::move(def)));
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
