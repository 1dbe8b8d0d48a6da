// $densify (adds documents where a numeric or date sequence has gaps) and $fill (fills
// null and missing fields, defined by MongoDB in terms of $setWindowFields and $addFields).

#include <cmath>

#include "document/builder.h"
#include "document/key_string.h"
#include "document/value_ops.h"
#include "pipeline/expressions/date_time.h"
#include "pipeline/sorter.h"
#include "pipeline/stages/join_util.h"
#include "pipeline/stages/registry.h"

namespace micromongo::pipeline::stages {
namespace {

struct DensifyDef {
  std::vector<std::string> field;
  std::string field_dotted;
  std::vector<std::vector<std::string>> partition_fields;
  std::vector<std::string> partition_dotted;
  Value step;
  std::optional<internal::TimeUnit> unit;
  enum class Bounds { kFull, kPartition, kExplicit } bounds = Bounds::kFull;
  Value lo, hi;  // kExplicit
};

// The value at a path through documents only (nullopt: missing).
std::optional<Value> At(bson::DocView doc, const std::vector<std::string>& parts) {
  bson::ValueView v{BsonType::kDocument, doc.data(), doc.size()};
  for (const std::string& p : parts) {
    if (v.type != BsonType::kDocument) return std::nullopt;
    bson::ValueView child;
    if (!v.Doc().Find(p, &child)) return std::nullopt;
    v = child;
  }
  return bson::ToValue(v);
}

class DensifyStage final : public Stage {
 public:
  DensifyStage(StagePtr input, const DensifyDef* def, ExecContext* ctx)
      : input_(std::move(input)), def_(def), ctx_(ctx), sorter_(ctx, "$densify") {}

  absl::StatusOr<bool> Next(Row* out) override {
    if (!loaded_) {
      loaded_ = true;
      if (auto s = Load(); !s.ok()) return s;
    }
    while (true) {
      if (generated_pos_ < generated_.size()) {
        out->doc = std::move(generated_[generated_pos_++]);
        out->meta.reset();
        return true;
      }
      generated_.clear();
      generated_pos_ = 0;
      if (pending_) {
        *out = std::move(*pending_);
        pending_.reset();
        return true;
      }
      std::string key, value;
      auto more = sorter_.Next(&key, &value);
      if (!more.ok()) return more.status();
      if (!*more) {
        // The last partition's tail up to the end of the range.
        if (have_partition_) {
          if (auto s = FillUpTo(std::nullopt); !s.ok()) return s;
          have_partition_ = false;
          if (!generated_.empty()) continue;
        }
        return false;
      }
      Row row;
      if (auto s = UnpackRow(std::move(value), &row); !s.ok()) return s;
      std::string partition = PartitionKey(row.view());
      if (!have_partition_ || partition != partition_key_) {
        if (have_partition_) {
          if (auto s = FillUpTo(std::nullopt); !s.ok()) return s;
        }
        StartPartition(partition, row.view());
      }
      std::optional<Value> v = At(row.view(), def_->field);
      if (v && (v->IsNumber() || v->type() == BsonType::kDate)) {
        if (auto s = FillUpTo(*v); !s.ok()) return s;
      }
      pending_ = std::move(row);
    }
  }

 private:
  bool IsDate() const { return def_->unit.has_value(); }

  absl::Status CheckType(const Value& v) {
    if (IsDate() ? v.type() != BsonType::kDate : !v.IsNumber()) {
      return MongoError(5733201, StrCat("Densify field type must be ", IsDate() ? "a date" : "numeric",
                                        " when the range ", IsDate() ? "has" : "has no", " 'unit', found ",
                                        BsonTypeName(v.type())));
    }
    return absl::OkStatus();
  }

  absl::Status Load() {
    uint64_t seq = 0;
    absl::Status read = ForEachRow(input_.get(), [&](Row& row) -> absl::Status {
      std::optional<Value> v = At(row.view(), def_->field);
      bool nullish = !v || v->type() == BsonType::kNull || v->type() == BsonType::kUndefined;
      if (!nullish) {
        if (auto s = CheckType(*v); !s.ok()) return s;
        if (!min_ || CompareOptional(*v, *min_) < 0) min_ = *v;
        if (!max_ || CompareOptional(*v, *max_) > 0) max_ = *v;
      }
      std::string key = PartitionKey(row.view());
      key.append(ValueKey(nullish ? Value(nullptr) : *v, nullptr));
      bson::AppendBigEndian64(seq++, &key);
      return sorter_.Add(std::move(key), PackRow(std::move(row)));
    });
    if (!read.ok()) return read;
    input_.reset();
    return sorter_.Finish();
  }

  std::string PartitionKey(bson::DocView doc) const {
    std::string key;
    for (const auto& parts : def_->partition_fields) {
      std::optional<Value> v = At(doc, parts);
      key.append(ValueKey(v ? *v : Value(nullptr), ctx_->collator_ptr()));
    }
    bson::AppendBigEndian32(static_cast<uint32_t>(key.size()), &key);
    return key;
  }

  void StartPartition(const std::string& key, bson::DocView first) {
    have_partition_ = true;
    partition_key_ = key;
    partition_values_.clear();
    for (size_t i = 0; i < def_->partition_fields.size(); ++i) {
      partition_values_.push_back(At(first, def_->partition_fields[i]));
    }
    next_.reset();
    switch (def_->bounds) {
      case DensifyDef::Bounds::kFull:
        next_ = min_;
        break;
      case DensifyDef::Bounds::kExplicit:
        next_ = def_->lo;
        break;
      case DensifyDef::Bounds::kPartition:
        break;  // starts at the partition's first value
    }
  }

  absl::StatusOr<Value> Step(const Value& v) const {
    if (IsDate()) {
      auto d = internal::DateAdd(v.AsDate(), *def_->unit, def_->step.ToInt64(), internal::TimeZone::Utc());
      if (!d.ok()) return d.status();
      return Value(*d);
    }
    return bson::AddNumbers(v, def_->step);
  }

  // Generates the missing values before `v` (nullopt: to the end of the range), and moves
  // the sequence past `v`.
  absl::Status FillUpTo(const std::optional<Value>& v) {
    if (v && def_->bounds == DensifyDef::Bounds::kPartition && !next_) {
      next_ = *v;
    }
    std::optional<Value> end;  // exclusive for explicit bounds, inclusive otherwise
    bool inclusive = false;
    if (!v) {
      if (def_->bounds == DensifyDef::Bounds::kFull) {
        end = max_;
        inclusive = true;
      } else if (def_->bounds == DensifyDef::Bounds::kExplicit) {
        end = def_->hi;
      } else {
        return absl::OkStatus();  // a partition's range ends at its last document
      }
    }
    int64_t guard = 0;
    while (next_) {
      int c_end = 0;
      if (v) {
        int c = CompareOptional(*next_, *v);
        if (c >= 0) {
          if (c == 0) {
            auto s = Step(*next_);
            if (!s.ok()) return s.status();
            next_ = *s;
          }
          break;
        }
        // Values outside explicit bounds are not generated.
        if (def_->bounds == DensifyDef::Bounds::kExplicit && CompareOptional(*next_, def_->hi) >= 0) break;
      } else {
        if (!end) break;
        c_end = CompareOptional(*next_, *end);
        if (c_end > 0 || (c_end == 0 && !inclusive)) break;
      }
      Document doc;
      for (size_t i = 0; i < def_->partition_fields.size(); ++i) {
        if (partition_values_[i]) SetNested(&doc, def_->partition_fields[i], *partition_values_[i]);
      }
      SetNested(&doc, def_->field, *next_);
      generated_.push_back(bson::Encode(doc));
      if (++guard % 4096 == 0) {
        if (auto s = ctx_->deadline.Check(); !s.ok()) return s;
      }
      if (static_cast<int64_t>(generated_.size()) > kMaxGenerated) {
        return MongoError(5897900, StrCat("$densify would generate more than ", kMaxGenerated,
                                          " documents at once; use a larger step"));
      }
      auto s = Step(*next_);
      if (!s.ok()) return s.status();
      next_ = *s;
    }
    return absl::OkStatus();
  }

  static void SetNested(Document* doc, const std::vector<std::string>& parts, const Value& v) {
    Document* cur = doc;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      Value* child = cur->Find(parts[i]);
      if (child == nullptr || child->type() != BsonType::kDocument) {
        cur->Set(parts[i], Document());
        child = cur->Find(parts[i]);
      }
      cur = &child->AsDocument();
    }
    cur->Set(parts.back(), v);
  }

  // MongoDB's internalQueryMaxAllowedDensifyDocs-like bound on one gap's documents.
  static constexpr int64_t kMaxGenerated = 500000;

  StagePtr input_;
  const DensifyDef* def_;
  ExecContext* ctx_;
  Sorter sorter_;
  bool loaded_ = false;
  std::optional<Value> min_, max_;
  bool have_partition_ = false;
  std::string partition_key_;
  std::vector<std::optional<Value>> partition_values_;
  std::optional<Value> next_;
  std::vector<std::string> generated_;
  size_t generated_pos_ = 0;
  std::optional<Row> pending_;
};

using DensifySpec = DefSpec<DensifyStage, DensifyDef>;

absl::Status CheckPath(std::string_view stage, const std::string& path) {
  return ValidateOutputField(stage, path, 40352);
}

}  // namespace

absl::Status ParseDensify(const Value& arg, const ParseOptions&, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(kTypeMismatch, StrCat("the $densify stage specification must be an object, found ",
                                            BsonTypeName(arg.type())));
  }
  DensifyDef def;
  const Value* range = nullptr;
  bool have_field = false;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "field") {
      if (v.type() != BsonType::kString) {
        return MongoError(kTypeMismatch, StrCat("BSON field '$densify.field' is the wrong type '",
                                                BsonTypeName(v.type()), "', expected type 'string'"));
      }
      if (auto s = CheckPath("$densify", v.AsString()); !s.ok()) return s;
      def.field = SplitDotted(v.AsString());
      def.field_dotted = v.AsString();
      have_field = true;
    } else if (k == "partitionByFields") {
      if (v.type() != BsonType::kArray) {
        return MongoError(kTypeMismatch, StrCat("BSON field '$densify.partitionByFields' is the wrong type '",
                                                BsonTypeName(v.type()), "', expected type 'array'"));
      }
      for (const Value& f : v.AsArray()) {
        if (f.type() != BsonType::kString) {
          return MongoError(kTypeMismatch, "BSON field '$densify.partitionByFields' must hold strings");
        }
        if (auto s = CheckPath("$densify", f.AsString()); !s.ok()) return s;
        def.partition_fields.push_back(SplitDotted(f.AsString()));
        def.partition_dotted.push_back(f.AsString());
      }
    } else if (k == "range") {
      if (v.type() != BsonType::kDocument) {
        return MongoError(kTypeMismatch, StrCat("BSON field '$densify.range' is the wrong type '",
                                                BsonTypeName(v.type()), "', expected type 'object'"));
      }
      range = &v;
    } else {
      return MongoError(40415, StrCat("BSON field '$densify.", k, "' is an unknown field."));
    }
  }
  if (!have_field) return MongoError(40414, "BSON field '$densify.field' is missing but a required field");
  if (range == nullptr) return MongoError(40414, "BSON field '$densify.range' is missing but a required field");
  for (const std::string& p : def.partition_dotted) {
    if (p == def.field_dotted || p.starts_with(def.field_dotted + ".") || def.field_dotted.starts_with(p + ".")) {
      return MongoError(8993000, "$densify's 'field' cannot be one of, or a prefix of, the 'partitionByFields'");
    }
  }
  const Value* step = range->AsDocument().Find("step");
  const Value* bounds = range->AsDocument().Find("bounds");
  const Value* unit = range->AsDocument().Find("unit");
  for (const auto& [k, unused] : range->AsDocument()) {
    if (k != "step" && k != "bounds" && k != "unit") {
      return MongoError(40415, StrCat("BSON field '$densify.range.", k, "' is an unknown field."));
    }
  }
  if (step == nullptr) return MongoError(40414, "BSON field '$densify.range.step' is missing but a required field");
  if (bounds == nullptr) return MongoError(40414, "BSON field '$densify.range.bounds' is missing but a required field");
  if (!step->IsNumber() || !(step->ToDouble() > 0)) {
    return MongoError(5733401, "the step parameter in a range statement must be a strictly positive numeric value");
  }
  def.step = *step;
  if (unit != nullptr) {
    if (unit->type() != BsonType::kString || !(def.unit = internal::ParseTimeUnit(unit->AsString()))) {
      return MongoError(kBadValue, StrCat("unknown time unit value: ", unit->ToJson()));
    }
    if (step->ToDouble() != std::trunc(step->ToDouble())) {
      return MongoError(6586400, "The step parameter in a range statement must be a whole number when densifying a "
                                 "date range");
    }
  }
  if (bounds->type() == BsonType::kString) {
    if (bounds->AsString() == "full") {
      def.bounds = DensifyDef::Bounds::kFull;
    } else if (bounds->AsString() == "partition") {
      if (def.partition_fields.empty()) {
        return MongoError(5733408, "one may not specify the bounds as 'partition' without specifying a non-empty "
                                   "array of partitionByFields. You may have meant to specify 'full' bounds.");
      }
      def.bounds = DensifyDef::Bounds::kPartition;
    } else {
      return MongoError(5946802, StrCat("Bounds string must either be 'full' or 'partition', found ",
                                        bounds->AsString()));
    }
  } else if (bounds->type() == BsonType::kArray) {
    const Array& b = bounds->AsArray();
    if (b.size() != 2) return MongoError(5733403, "a bounding array in a range statement must have exactly two elements");
    bool dates = b[0].type() == BsonType::kDate && b[1].type() == BsonType::kDate;
    bool numbers = b[0].IsNumber() && b[1].IsNumber();
    if ((!dates && !numbers) || CompareOptional(b[0], b[1]) > 0) {
      return MongoError(5733402, "a bounding array must be an ascending array of either two dates or two numbers");
    }
    if (dates && !def.unit) return MongoError(5733410, "numeric step requires numeric bounds; dates need a 'unit'");
    if (numbers && def.unit) return MongoError(5876900, "Upper bound, lower bound, and step must all have the same type");
    def.bounds = DensifyDef::Bounds::kExplicit;
    def.lo = b[0];
    def.hi = b[1];
  } else {
    return MongoError(5946802, "Bounds must be 'full', 'partition', or an array of two values");
  }
  Emit(out, "$densify", arg, std::make_shared<DensifySpec>(std::move(def)));
  return absl::OkStatus();
}

absl::Status ParseFill(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(kTypeMismatch, StrCat("the $fill stage specification must be an object, found ",
                                            BsonTypeName(arg.type())));
  }
  const Value* partition_by = nullptr;
  const Value* partition_fields = nullptr;
  const Value* sort_by = nullptr;
  const Value* output = nullptr;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "partitionBy") {
      partition_by = &v;
    } else if (k == "partitionByFields") {
      partition_fields = &v;
    } else if (k == "sortBy") {
      sort_by = &v;
    } else if (k == "output") {
      output = &v;
    } else {
      return MongoError(40415, StrCat("BSON field '$fill.", k, "' is an unknown field."));
    }
  }
  if (output == nullptr) return MongoError(40414, "BSON field '$fill.output' is missing but a required field");
  if (output->type() != BsonType::kDocument) {
    return MongoError(kTypeMismatch, "BSON field '$fill.output' is the wrong type, expected type 'object'");
  }
  if (partition_by != nullptr && partition_fields != nullptr) {
    return MongoError(6050204, "Maximum one of 'partitionBy' and 'partitionByFields can be specified in '$fill'");
  }
  Document window_output, set;
  for (const auto& [field, spec] : output->AsDocument()) {
    if (spec.type() != BsonType::kDocument) {
      return MongoError(kTypeMismatch, StrCat("BSON field '$fill.output.", field, "' is the wrong type, expected 'object'"));
    }
    const Value* value = spec.AsDocument().Find("value");
    const Value* method = spec.AsDocument().Find("method");
    if ((value == nullptr) == (method == nullptr) || spec.AsDocument().size() != 1) {
      return MongoError(6050203, "Exactly one of 'value' and 'method' must be specified in $fill output field");
    }
    if (value != nullptr) {
      set.Append(field, Document{{"$ifNull", Array{Value("$" + field), *value}}});
      continue;
    }
    if (method->type() != BsonType::kString || (method->AsString() != "linear" && method->AsString() != "locf")) {
      return MongoError(6050202, "Method must be either locf or linear");
    }
    if (method->AsString() == "linear" && sort_by == nullptr) {
      return MongoError(605001, "$linearFill requires an explicit 'sortBy'");
    }
    window_output.Append(field, Document{{method->AsString() == "linear" ? "$linearFill" : "$locf", "$" + field}});
  }
  if (!window_output.empty()) {
    Document window{{"output", window_output}};
    if (sort_by != nullptr) window.Insert(window.begin(), {"sortBy", *sort_by});
    if (partition_by != nullptr) window.Insert(window.begin(), {"partitionBy", *partition_by});
    if (partition_fields != nullptr) {
      if (partition_fields->type() != BsonType::kArray) {
        return MongoError(kTypeMismatch, "BSON field '$fill.partitionByFields' must be an array of strings");
      }
      Document by;
      for (const Value& f : partition_fields->AsArray()) {
        if (f.type() != BsonType::kString) {
          return MongoError(kTypeMismatch, "BSON field '$fill.partitionByFields' must be an array of strings");
        }
        by.Append(f.AsString(), "$" + f.AsString());
      }
      window.Insert(window.begin(), {"partitionBy", by});
    }
    if (auto s = ParseInto(Document{{"$setWindowFields", window}}, options, out); !s.ok()) return s;
  } else if (sort_by != nullptr) {
    // Without methods MongoDB still orders the output by sortBy.
    if (auto s = ParseInto(Document{{"$sort", *sort_by}}, options, out); !s.ok()) return s;
  }
  if (!set.empty()) return ParseInto(Document{{"$addFields", set}}, options, out);
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
