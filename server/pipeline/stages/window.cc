// $setWindowFields: partitions its input, sorts each partition and adds fields computed by
// window functions over windows of neighbouring documents.
//
// The input is ordered by (partition, sortBy) through the external sorter (spilling with
// allowDiskUse); partitions are then evaluated one at a time, each held in memory within
// the stage's limit.

#include "document/builder.h"
#include "document/key_string.h"
#include "pipeline/sorter.h"
#include "pipeline/stages/join_util.h"
#include "pipeline/stages/registry.h"
#include "pipeline/stages/window.h"

namespace micromongo::pipeline::stages {
namespace {

using window::Bound;
using window::Bounds;
using window::FnKind;
using window::Output;

struct WindowDef {
  std::shared_ptr<const Expression> partition_by;  // null: one partition
  std::optional<SortKeyGenerator> sort;
  std::vector<std::string> sort_field;  // the single sortBy field, if there is exactly one
  std::vector<Output> outputs;
  // What the outputs read besides the rows: the sortBy values (range windows, $derivative,
  // $integral, $linearFill) and the sort keys ($rank, $denseRank).
  bool needs_sort_values = false;
  bool needs_sort_keys = false;
};

void AppendLengthPrefixed(std::string_view s, std::string* out) {
  bson::AppendBigEndian32(static_cast<uint32_t>(s.size()), out);
  out->append(s);
}

std::string_view TakeLengthPrefixed(std::string_view* in) {
  uint32_t n = (static_cast<uint8_t>((*in)[0]) << 24) | (static_cast<uint8_t>((*in)[1]) << 16) |
               (static_cast<uint8_t>((*in)[2]) << 8) | static_cast<uint8_t>((*in)[3]);
  std::string_view s = in->substr(4, n);
  in->remove_prefix(4 + n);
  return s;
}

class WindowStage final : public Stage {
 public:
  WindowStage(StagePtr input, const WindowDef* def, ExecContext* ctx)
      : input_(std::move(input)), def_(def), ctx_(ctx), sorter_(ctx, "$setWindowFields") {}

  absl::StatusOr<bool> Next(Row* out) override {
    if (!loaded_) {
      loaded_ = true;
      if (auto s = Load(); !s.ok()) return s;
    }
    while (true) {
      if (reader_) {
        auto more = reader_->Next(out);
        if (!more.ok()) return more;
        if (*more) {
          size_t i = next_++;
          for (size_t o = 0; o < def_->outputs.size(); ++o) {
            const std::optional<Value>& v = results_[o][i];
            out->doc = SetField(out->view(), def_->outputs[o].field, v ? *v : Value(nullptr));
          }
          return true;
        }
        reader_.reset();
      }
      auto more = NextPartition();
      if (!more.ok() || !*more) return more;
    }
  }

 private:
  absl::Status Load() {
    uint64_t seq = 0;
    absl::Status read = ForEachRow(input_.get(), [&](Row& row) -> absl::Status {
      std::string partition;
      if (def_->partition_by) {
        bson::DocView view = row.view();
        auto v = def_->partition_by->Evaluate(ctx_->VariablesFor(row, &view));
        if (!v.ok()) return v.status();
        if (*v && (*v)->type() == BsonType::kArray) {
          return MongoError(5722800, "Cannot 'partitionBy' an expression of type array");
        }
        partition = ValueKey(*v ? **v : Value(nullptr), ctx_->collator_ptr());
      }
      std::string sort_key;
      if (def_->sort) {
        if (auto s = def_->sort->AppendKey(row.view(), row.meta.get(), ctx_->collator_ptr(), &sort_key); !s.ok()) {
          return s;
        }
      }
      std::string key;
      AppendLengthPrefixed(partition, &key);
      key.append(sort_key);
      bson::AppendBigEndian64(seq++, &key);
      std::string value;
      AppendLengthPrefixed(partition, &value);
      AppendLengthPrefixed(sort_key, &value);
      value.append(PackRow(std::move(row)));
      return sorter_.Add(std::move(key), std::move(value));
    });
    if (!read.ok()) return read;
    input_.reset();
    return sorter_.Finish();
  }

  // Reads the next partition and computes its output fields; false at the end.
  absl::StatusOr<bool> NextPartition() {
    store_ = std::make_unique<RowStore>(ctx_, "$setWindowFields");
    partition_ = window::Partition();
    partition_.rows = store_.get();
    next_ = 0;
    std::string current;
    int64_t key_bytes = 0;
    while (true) {
      if (!pending_) {
        std::string key, value;
        auto more = sorter_.Next(&key, &value);
        if (!more.ok()) return more.status();
        if (!*more) break;
        pending_ = std::move(value);
      }
      std::string_view rest(*pending_);
      std::string partition(TakeLengthPrefixed(&rest));
      std::string sort_key(TakeLengthPrefixed(&rest));
      if (partition_.size > 0 && partition != current) break;
      current = partition;
      Row row;
      if (auto s = UnpackRow(std::string(rest), &row); !s.ok()) return s;
      pending_.reset();
      // The sort values and keys the outputs need stay in memory beside the rows (which may
      // spill).
      if (def_->needs_sort_values) {
        std::vector<Value> values;
        if (!def_->sort_field.empty()) ValuesAlongPath(row.view(), def_->sort_field, &values);
        partition_.sort_values.push_back(values.size() == 1 ? std::optional<Value>(values[0]) : std::nullopt);
        key_bytes += static_cast<int64_t>(sizeof(std::optional<Value>));
      }
      if (def_->needs_sort_keys) {
        key_bytes += static_cast<int64_t>(sort_key.capacity() + sizeof(std::string));
        partition_.sort_keys.push_back(std::move(sort_key));
      }
      if (key_bytes > ctx_->memory_limit) return MemoryLimitExceeded("$setWindowFields", ctx_->memory_limit);
      if (auto s = store_->Add(std::move(row)); !s.ok()) return s;
      ++partition_.size;
    }
    if (partition_.size == 0) return false;
    results_.assign(def_->outputs.size(), {});
    for (size_t o = 0; o < def_->outputs.size(); ++o) {
      if (auto s = window::Evaluate(def_->outputs[o], partition_, ctx_, &results_[o]); !s.ok()) return s;
    }
    auto reader = store_->Read();
    if (!reader.ok()) return reader.status();
    reader_ = *std::move(reader);
    if (auto s = ctx_->deadline.Check(); !s.ok()) return s;
    return true;
  }

  StagePtr input_;
  const WindowDef* def_;
  ExecContext* ctx_;
  Sorter sorter_;
  bool loaded_ = false;
  // The current partition: its rows (held in memory or spilled), the computed fields, and
  // where its output stands.
  std::unique_ptr<RowStore> store_;
  window::Partition partition_;
  std::vector<std::vector<std::optional<Value>>> results_;
  std::optional<RowStore::Reader> reader_;
  size_t next_ = 0;
  std::optional<std::string> pending_;  // the first row of the next partition
};

using WindowSpec = DefSpec<WindowStage, WindowDef>;

absl::Status Fail(std::string_view message) { return MongoError(kFailedToParse, message); }

absl::StatusOr<Bound> ParseBound(const Value& v, bool range) {
  Bound b;
  if (v.type() == BsonType::kString) {
    if (v.AsString() == "unbounded") return b;
    if (v.AsString() == "current") {
      b.kind = Bound::Kind::kCurrent;
      return b;
    }
    return Fail(StrCat("Window bounds must be 'unbounded', 'current', or a number, not '", v.AsString(), "'"));
  }
  if (!v.IsNumber()) return Fail(StrCat("Window bounds must be 'unbounded', 'current', or a number, not ", v.ToJson()));
  if (!range) {
    double d = v.ToDouble();
    if (d != std::trunc(d)) return Fail(StrCat("Numeric document-based bounds must be an integer: ", v.ToJson()));
  }
  b.kind = Bound::Kind::kOffset;
  b.offset = v;
  return b;
}

// The position of a bound on the number line, for checking lower <= upper.
double Position(const Bound& b, bool upper) {
  if (b.kind == Bound::Kind::kUnbounded) return upper ? INFINITY : -INFINITY;
  if (b.kind == Bound::Kind::kCurrent) return 0;
  return b.offset.ToDouble();
}

absl::StatusOr<Bounds> ParseWindow(const Value& v) {
  if (v.type() != BsonType::kDocument) return Fail("'window' field must be an object");
  Bounds b;
  const Value* documents = v.AsDocument().Find("documents");
  const Value* range = v.AsDocument().Find("range");
  const Value* unit = v.AsDocument().Find("unit");
  for (const auto& [k, unused] : v.AsDocument()) {
    if (k != "documents" && k != "range" && k != "unit") {
      return Fail(StrCat("'window' field that specifies ", k, " is not supported"));
    }
  }
  if ((documents != nullptr) == (range != nullptr)) {
    return Fail("'window' field can only contain 'documents' as the only argument or 'range' with an optional 'unit' "
                "field");
  }
  if (documents != nullptr && unit != nullptr) return Fail("'unit' is only valid with 'range' windows");
  const Value& bounds = documents != nullptr ? *documents : *range;
  if (bounds.type() != BsonType::kArray || bounds.AsArray().size() != 2) {
    return Fail("Window bounds must be a 2-element array");
  }
  b.range = range != nullptr;
  auto lo = ParseBound(bounds.AsArray()[0], b.range);
  if (!lo.ok()) return lo.status();
  auto hi = ParseBound(bounds.AsArray()[1], b.range);
  if (!hi.ok()) return hi.status();
  b.lo = *lo;
  b.hi = *hi;
  if (Position(b.lo, false) > Position(b.hi, true)) return Fail("Lower bound must not exceed upper bound");
  if (unit != nullptr) {
    if (unit->type() != BsonType::kString) return Fail("'unit' must be a string");
    b.unit = internal::ParseTimeUnit(unit->AsString());
    if (!b.unit) return Fail(StrCat("unknown time unit value: ", unit->AsString()));
    for (const Bound* x : {&b.lo, &b.hi}) {
      if (x->kind == Bound::Kind::kOffset && x->offset.ToDouble() != std::trunc(x->offset.ToDouble())) {
        return Fail("With 'unit', range-based bounds must be integers");
      }
    }
  }
  return b;
}

absl::StatusOr<int64_t> UnitMillis(const Value& unit, std::string_view fn) {
  if (unit.type() != BsonType::kString) return Fail(StrCat(fn, " 'unit' must be a string"));
  const std::string& u = unit.AsString();
  if (u == "week") return int64_t{7 * 24 * 3600 * 1000LL};
  if (u == "day") return int64_t{24 * 3600 * 1000LL};
  if (u == "hour") return int64_t{3600 * 1000LL};
  if (u == "minute") return int64_t{60 * 1000LL};
  if (u == "second") return int64_t{1000};
  if (u == "millisecond") return int64_t{1};
  return MongoError(5490704, StrCat(fn, " 'unit' must be one of week, day, hour, minute, second or millisecond, not '",
                                    u, "'"));
}

bool IsWindowAccumulator(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "$sum",   "$avg",   "$min",    "$max",     "$count",   "$first", "$last",    "$push",
      "$addToSet", "$stdDevPop", "$stdDevSamp", "$firstN", "$lastN", "$minN", "$maxN", "$top",
      "$bottom", "$topN", "$bottomN", "$median", "$percentile"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

absl::StatusOr<Output> ParseOutput(const std::string& field, const Value& spec, const WindowDef& def,
                                   const ParseContext& context) {
  if (spec.type() != BsonType::kDocument) {
    return Fail(StrCat("The field '", field, "' must be an object"));
  }
  Output out;
  out.field = SplitDotted(field);
  const std::string* fn = nullptr;
  const Value* arg = nullptr;
  const Value* window = nullptr;
  for (const auto& [k, v] : spec.AsDocument()) {
    if (k == "window") {
      if (window != nullptr) return Fail("saw multiple 'window' fields");
      window = &v;
    } else if (!k.empty() && k[0] == '$' && fn == nullptr) {
      fn = &k;
      arg = &v;
    } else if (fn != nullptr) {
      return Fail(StrCat(*fn, " got unexpected argument: ", k));
    } else {
      return Fail(StrCat("Expected a $-prefixed window function, ", k));
    }
  }
  if (fn == nullptr) return Fail("Expected a $-prefixed window function");
  const std::string& name = *fn;
  bool sorted = def.sort.has_value();
  bool one_sort_field = !def.sort_field.empty();
  if (window != nullptr) {
    auto b = ParseWindow(*window);
    if (!b.ok()) return b.status();
    out.bounds = *b;
    if (!out.bounds.whole() && !sorted) return Fail(StrCat(name, ": document-based bounds require a sortBy"));
    if (out.bounds.range && !one_sort_field) {
      return Fail(StrCat(name, ": a range-based window requires sortBy a single field"));
    }
  }
  auto no_window = [&]() -> absl::Status {
    if (window != nullptr) return Fail(StrCat(name, " does not accept a 'window' field"));
    return absl::OkStatus();
  };
  auto parse_expr = [&](const Value& v) -> absl::StatusOr<std::shared_ptr<const Expression>> {
    auto e = ParseExpression(v, context);
    if (!e.ok()) return e.status();
    return std::shared_ptr<const Expression>(*std::move(e));
  };
  if (IsWindowAccumulator(name)) {
    auto acc = AccumulatorSpec::Parse(name, *arg, context, /*window=*/true);
    if (!acc.ok()) return acc.status();
    out.accumulator = *std::move(acc);
    return out;
  }
  if (name == "$documentNumber" || name == "$rank" || name == "$denseRank") {
    if (auto s = no_window(); !s.ok()) return s;
    if (arg->type() != BsonType::kDocument || !arg->AsDocument().empty()) {
      return Fail(StrCat(name, " accepts an empty object as its argument"));
    }
    if (!sorted || (name != "$documentNumber" && def.sort->pattern().size() != 1)) {
      return MongoError(5371601, StrCat(name, " must be specified with a top level sortBy expression with exactly one "
                                        "element"));
    }
    out.kind = name == "$documentNumber" ? FnKind::kDocumentNumber : name == "$rank" ? FnKind::kRank : FnKind::kDenseRank;
    return out;
  }
  if (name == "$shift") {
    if (auto s = no_window(); !s.ok()) return s;
    if (!sorted) return Fail("$shift requires a sortBy");
    if (arg->type() != BsonType::kDocument) return Fail("Argument to $shift must be an object");
    const Value* output = nullptr;
    const Value* by = nullptr;
    const Value* def_value = nullptr;
    for (const auto& [k, v] : arg->AsDocument()) {
      if (k == "output") {
        output = &v;
      } else if (k == "by") {
        by = &v;
      } else if (k == "default") {
        def_value = &v;
      } else {
        return Fail(StrCat("Unknown argument in $shift: ", k));
      }
    }
    if (output == nullptr) return Fail("$shift requires an 'output' expression");
    if (by == nullptr) return Fail("$shift requires 'by' as an integer value");
    if (!by->IsNumber() || by->ToDouble() != std::trunc(by->ToDouble()) || std::fabs(by->ToDouble()) > 2147483647.0) {
      return Fail("'$shift:by' field must be an integer, but found " + by->ToJson());
    }
    out.kind = FnKind::kShift;
    out.by = static_cast<int64_t>(by->ToDouble());
    auto e = parse_expr(*output);
    if (!e.ok()) return e.status();
    out.input = *e;
    if (def_value != nullptr) {
      auto d = parse_expr(*def_value);
      if (!d.ok()) return d.status();
      if ((*d)->constant() == nullptr) return Fail("'$shift:default' expression must yield a constant value");
      out.default_value = *d;
    }
    return out;
  }
  if (name == "$locf" || name == "$linearFill") {
    if (auto s = no_window(); !s.ok()) return s;
    if (name == "$linearFill" && (!sorted || def.sort->pattern().size() != 1)) {
      return MongoError(605001, "$linearFill requires an explicit 'sortBy' with exactly one field");
    }
    auto e = parse_expr(*arg);
    if (!e.ok()) return e.status();
    out.kind = name == "$locf" ? FnKind::kLocf : FnKind::kLinearFill;
    out.input = *e;
    return out;
  }
  if (name == "$expMovingAvg") {
    if (auto s = no_window(); !s.ok()) return s;
    if (arg->type() != BsonType::kDocument || arg->AsDocument().size() != 2 || !arg->AsDocument().Has("input")) {
      return Fail("$expMovingAvg sub object must have exactly two fields: An 'input' field, and either an 'N' field or "
                  "an 'alpha' field");
    }
    if (!sorted) return Fail("$expMovingAvg requires an explicit 'sortBy'");
    auto e = parse_expr(arg->AsDocument().Get("input"));
    if (!e.ok()) return e.status();
    out.input = *e;
    out.kind = FnKind::kExpMovingAvg;
    if (const Value* nv = arg->AsDocument().Find("N")) {
      if (!nv->IsNumber()) return Fail("'N' field must be an integer, but found type " + std::string(BsonTypeName(nv->type())));
      if (nv->ToDouble() != std::floor(nv->ToDouble())) {
        return Fail("'N' field must be an integer, but found " + nv->ToJson() +
                    ". To use a non-integer, use the 'alpha' argument instead");
      }
      if (nv->ToDouble() <= 0) return Fail("'N' must be greater than zero. Got " + nv->ToJson());
      out.alpha = 2.0 / (nv->ToDouble() + 1);
      return out;
    }
    if (const Value* a = arg->AsDocument().Find("alpha")) {
      if (!a->IsNumber()) return Fail("'alpha' must be a number");
      if (!(a->ToDouble() > 0 && a->ToDouble() < 1)) {
        return Fail("'alpha' must be between 0 and 1 (exclusive), found " + a->ToJson());
      }
      out.alpha = a->ToDouble();
      return out;
    }
    return Fail("Got unrecognized field in $expMovingAvg: it needs an 'input' field, and either an 'N' field or an "
                "'alpha' field");
  }
  if (name == "$derivative" || name == "$integral") {
    if (arg->type() != BsonType::kDocument) return Fail(StrCat(name, " expects an object argument"));
    if (!one_sort_field) return Fail(StrCat(name, " requires a sortBy on exactly one field"));
    if (name == "$derivative" && window == nullptr) return Fail("$derivative requires explicit window bounds");
    for (const auto& [k, v] : arg->AsDocument()) {
      if (k == "input") {
        auto e = parse_expr(v);
        if (!e.ok()) return e.status();
        out.input = *e;
      } else if (k == "unit") {
        auto ms = UnitMillis(v, name);
        if (!ms.ok()) return ms.status();
        out.unit_ms = *ms;
      } else {
        return Fail(StrCat(name, " got unexpected argument: ", k));
      }
    }
    if (!out.input) return Fail(StrCat(name, " requires an 'input' expression"));
    out.kind = name == "$derivative" ? FnKind::kDerivative : FnKind::kIntegral;
    return out;
  }
  if (name == "$covariancePop" || name == "$covarianceSamp") {
    if (arg->type() != BsonType::kArray || arg->AsArray().size() != 2) {
      return Fail(StrCat(name, " requires an array of two expressions"));
    }
    auto x = parse_expr(arg->AsArray()[0]);
    if (!x.ok()) return x.status();
    auto y = parse_expr(arg->AsArray()[1]);
    if (!y.ok()) return y.status();
    out.input = *x;
    out.input2 = *y;
    out.kind = name == "$covariancePop" ? FnKind::kCovariancePop : FnKind::kCovarianceSamp;
    return out;
  }
  return Fail(StrCat("Unrecognized window function, ", name));
}

}  // namespace

absl::Status ParseSetWindowFields(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(kFailedToParse, StrCat("the $setWindowFields stage specification must be an object, found ",
                                             BsonTypeName(arg.type())));
  }
  ParseContext context = options.ExpressionContext();
  WindowDef def;
  const Value* output = nullptr;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "partitionBy") {
      auto e = ParseExpression(v, context);
      if (!e.ok()) return e.status();
      def.partition_by = std::shared_ptr<const Expression>(*std::move(e));
    } else if (k == "sortBy") {
      if (v.type() != BsonType::kDocument) {
        return MongoError(kTypeMismatch, StrCat("BSON field '$setWindowFields.sortBy' is the wrong type '",
                                                BsonTypeName(v.type()), "', expected type 'object'"));
      }
      auto pattern = SortPattern::Parse(v.AsDocument());
      if (!pattern.ok()) return pattern.status();
      if (pattern->size() == 1 && pattern->meta(0).empty()) def.sort_field = pattern->path(0);
      def.sort = SortKeyGenerator(*std::move(pattern));
    } else if (k == "output") {
      if (v.type() != BsonType::kDocument) {
        return MongoError(kTypeMismatch, StrCat("BSON field '$setWindowFields.output' is the wrong type '",
                                                BsonTypeName(v.type()), "', expected type 'object'"));
      }
      output = &v;
    } else {
      return MongoError(40415, StrCat("BSON field '$setWindowFields.", k, "' is an unknown field."));
    }
  }
  if (output == nullptr) {
    return MongoError(40414, "BSON field '$setWindowFields.output' is missing but a required field");
  }
  for (const auto& [field, spec] : output->AsDocument()) {
    if (auto s = ValidateOutputField("$setWindowFields", field, 40352); !s.ok()) return s;
    auto o = ParseOutput(field, spec, def, context);
    if (!o.ok()) return o.status();
    def.needs_sort_values = def.needs_sort_values || o->bounds.range || o->kind == FnKind::kDerivative ||
                            o->kind == FnKind::kIntegral || o->kind == FnKind::kLinearFill;
    def.needs_sort_keys = def.needs_sort_keys || o->kind == FnKind::kRank || o->kind == FnKind::kDenseRank;
    def.outputs.push_back(*std::move(o));
  }
  Emit(out, "$setWindowFields", arg, std::make_shared<WindowSpec>(std::move(def)));
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
