// The writing stages, always last: $out (replace a collection with the results) and $merge
// (fold the results into a collection). Both produce no documents.

#include "document/builder.h"
#include "pipeline/stages/registry.h"

namespace micromongo::pipeline::stages {
namespace {

constexpr size_t kBatchDocs = 1000;
constexpr size_t kBatchBytes = 16 << 20;

struct Target {
  std::string db;  // empty: the command's database
  std::string coll;
  std::string timeseries;  // $out's timeseries option (BSON); empty: none
};

absl::StatusOr<Target> ParseTarget(std::string_view stage, std::string_view field, const Value& v, int code) {
  Target t;
  if (v.type() == BsonType::kString) {
    t.coll = v.AsString();
  } else if (v.type() == BsonType::kDocument) {
    for (const auto& [k, e] : v.AsDocument()) {
      if (k != "db" && k != "coll") {
        return MongoError(40415, StrCat("BSON field '", stage, ".", field, ".", k, "' is an unknown field."));
      }
      if (e.type() != BsonType::kString) {
        return MongoError(kTypeMismatch, StrCat("BSON field '", stage, ".", field, ".", k, "' is the wrong type '",
                                                BsonTypeName(e.type()), "', expected type 'string'"));
      }
      (k == "db" ? t.db : t.coll) = e.AsString();
    }
    if (t.coll.empty()) {
      return MongoError(40414, StrCat("BSON field '", stage, ".", field, ".coll' is missing but a required field"));
    }
  } else {
    return MongoError(code, StrCat(stage, " '", field, "' must be a string or an object, but found ",
                                   BsonTypeName(v.type())));
  }
  if (t.coll.empty()) return MongoError(kInvalidNamespace, StrCat("Invalid ", stage, " target: empty collection name"));
  return t;
}

// Reads the input in batches and hands each to `write`.
template <typename Write>
absl::Status DrainInBatches(Stage* input, Write write) {
  std::vector<std::string> batch;
  size_t bytes = 0;
  Row row;
  while (true) {
    auto more = input->Next(&row);
    if (!more.ok()) return more.status();
    if (!*more) break;
    bytes += row.doc.size();
    batch.push_back(std::move(row.doc));
    if (batch.size() >= kBatchDocs || bytes >= kBatchBytes) {
      if (auto s = write(std::move(batch)); !s.ok()) return s;
      batch.clear();
      bytes = 0;
    }
  }
  if (!batch.empty()) return write(std::move(batch));
  return absl::OkStatus();
}

class OutStage final : public Stage {
 public:
  OutStage(StagePtr input, const Target* target, ExecContext* ctx)
      : input_(std::move(input)), target_(target), ctx_(ctx) {}
  absl::StatusOr<bool> Next(Row*) override {
    if (done_) return false;
    done_ = true;
    if (ctx_->data == nullptr) return MongoError(kInternalError, "$out needs collection access");
    auto writer = ctx_->data->OpenOut(target_->db.empty() ? ctx_->db : target_->db, target_->coll,
                                      ctx_->bypass_validation, target_->timeseries);
    if (!writer.ok()) return writer.status();
    OutWriter* w = writer->get();
    if (auto s = DrainInBatches(input_.get(), [w](std::vector<std::string> docs) { return w->Insert(std::move(docs)); });
        !s.ok()) {
      return s;
    }
    input_.reset();
    if (auto s = w->Commit(); !s.ok()) return s;
    return false;
  }

 private:
  StagePtr input_;
  const Target* target_;
  ExecContext* ctx_;
  bool done_ = false;
};

class OutSpec final : public StageSpec {
 public:
  explicit OutSpec(Target t) : target_(std::move(t)) {}
  bool IsWriter() const override { return true; }
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    return StagePtr(std::make_unique<OutStage>(std::move(input), &target_, ctx));
  }

 private:
  Target target_;
};

struct MergeDef {
  Target into;
  std::vector<std::string> on;
  MergeRequest::Matched when_matched = MergeRequest::Matched::kMerge;
  MergeRequest::NotMatched when_not_matched = MergeRequest::NotMatched::kInsert;
  std::shared_ptr<const Pipeline> update;  // whenMatched: [stages]
  // The pipeline's variables, evaluated on each incoming document ({new: "$$ROOT"} by
  // default).
  LetVariables let;
};

// The incoming document's top-level fields set into the existing one (whenMatched: merge).
std::string MergeTopLevel(bson::DocView existing, bson::DocView incoming) {
  Document out = bson::Decode(existing);
  for (const bson::ElementView& e : incoming) out.Set(e.key, bson::ToValue(e.value));
  return bson::Encode(out);
}

class MergeStage final : public Stage {
 public:
  MergeStage(StagePtr input, const MergeDef* def, ExecContext* ctx) : input_(std::move(input)), def_(def), ctx_(ctx) {}

  absl::StatusOr<bool> Next(Row*) override {
    if (done_) return false;
    done_ = true;
    if (ctx_->data == nullptr) return MongoError(kInternalError, "$merge needs collection access");
    MergeRequest request;
    request.db = def_->into.db.empty() ? ctx_->db : def_->into.db;
    request.collection = def_->into.coll;
    request.on = def_->on;
    request.when_matched = def_->when_matched;
    request.when_not_matched = def_->when_not_matched;
    request.bypass_validation = ctx_->bypass_validation;
    if (def_->when_matched == MergeRequest::Matched::kMerge) {
      request.combine = [](bson::DocView existing, bson::DocView incoming) -> absl::StatusOr<std::string> {
        return MergeTopLevel(existing, incoming);
      };
    } else if (def_->when_matched == MergeRequest::Matched::kPipeline) {
      request.combine = [this](bson::DocView existing, bson::DocView incoming) { return RunUpdate(existing, incoming); };
    }
    DataAccess* data = ctx_->data;
    if (auto s = DrainInBatches(input_.get(),
                                [&](std::vector<std::string> docs) { return data->Merge(request, std::move(docs)); });
        !s.ok()) {
      return s;
    }
    input_.reset();
    return false;
  }

 private:
  absl::StatusOr<std::string> RunUpdate(bson::DocView existing, bson::DocView incoming) {
    VariableMap let = ctx_->let != nullptr ? *ctx_->let : VariableMap();
    Row row;
    row.doc.assign(incoming.data(), incoming.size());
    bson::DocView view = row.view();
    Variables vars = ctx_->VariablesFor(row, &view);
    for (const auto& [name, expr] : def_->let) {
      auto v = expr->Evaluate(vars);
      if (!v.ok()) return v.status();
      let[name] = *v ? **std::move(v) : Value(nullptr);
    }
    ExecContext child = *ctx_;
    child.let = &let;
    std::vector<std::string> one;
    one.emplace_back(existing.data(), existing.size());
    auto top = def_->update->Open(RowsSource(std::move(one)), &child);
    if (!top.ok()) return top.status();
    auto docs = Drain(top->get());
    if (!docs.ok()) return docs.status();
    if (docs->size() != 1) return MongoError(kInternalError, "$merge's pipeline must produce one document");
    return std::move((*docs)[0]);
  }

  StagePtr input_;
  const MergeDef* def_;
  ExecContext* ctx_;
  bool done_ = false;
};

class MergeSpec final : public StageSpec {
 public:
  explicit MergeSpec(MergeDef def) : def_(std::move(def)) {}
  bool IsWriter() const override { return true; }
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    return StagePtr(std::make_unique<MergeStage>(std::move(input), &def_, ctx));
  }

 private:
  MergeDef def_;
};

}  // namespace

absl::Status ParseOut(const Value& arg, const ParseOptions&, Specs* out) {
  if (arg.type() != BsonType::kString && arg.type() != BsonType::kDocument) {
    return MongoError(16990, StrCat("$out only supports a string or object argument, but found ",
                                    BsonTypeName(arg.type())));
  }
  // MongoDB 7.0.3+: {db, coll, timeseries} writes a time series collection; the option is
  // checked where the target's kind is known (DataAccess::OpenOut).
  Value target_arg = arg;
  std::string timeseries;
  if (arg.type() == BsonType::kDocument) {
    if (const Value* ts = arg.AsDocument().Find("timeseries")) {
      if (ts->type() != BsonType::kDocument) {
        return MongoError(kTypeMismatch, StrCat("BSON field '$out.timeseries' is the wrong type '",
                                                BsonTypeName(ts->type()), "', expected type 'object'"));
      }
      timeseries = bson::Encode(ts->AsDocument());
      Document rest = arg.AsDocument();
      rest.Remove("timeseries");
      target_arg = Value(std::move(rest));
    }
  }
  auto target = ParseTarget("$out", "coll", target_arg, 16990);
  if (!target.ok()) return target.status();
  target->timeseries = std::move(timeseries);
  Emit(out, "$out", arg, std::make_shared<OutSpec>(*std::move(target)));
  return absl::OkStatus();
}

absl::Status ParseMerge(const Value& arg, const ParseOptions& options, Specs* out) {
  MergeDef def;
  if (arg.type() == BsonType::kString) {
    def.into.coll = arg.AsString();
    def.on = {"_id"};
    Emit(out, "$merge", arg, std::make_shared<MergeSpec>(std::move(def)));
    return absl::OkStatus();
  }
  if (arg.type() != BsonType::kDocument) {
    return MongoError(51182, StrCat("$merge only supports a string or object argument, but found ",
                                    BsonTypeName(arg.type())));
  }
  const Value* into = nullptr;
  const Value* let = nullptr;
  const Value* pipeline = nullptr;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "into") {
      into = &v;
    } else if (k == "on") {
      if (v.type() == BsonType::kString) {
        def.on = {v.AsString()};
      } else if (v.type() == BsonType::kArray) {
        if (v.AsArray().empty()) {
          return MongoError(51187, "If explicitly specifying $merge 'on', must include at least one field");
        }
        for (const Value& f : v.AsArray()) {
          if (f.type() != BsonType::kString) {
            return MongoError(51134, StrCat("$merge 'on' array elements must be strings, but found ",
                                            BsonTypeName(f.type())));
          }
          def.on.push_back(f.AsString());
        }
      } else {
        return MongoError(51186, StrCat("$merge 'on' field must be either a string or an array of strings, but found ",
                                        BsonTypeName(v.type())));
      }
      for (const std::string& f : def.on) {
        if (auto s = ValidateOutputField("$merge", f, 40352); !s.ok()) return s;
      }
    } else if (k == "whenMatched") {
      if (v.type() == BsonType::kArray) {
        pipeline = &v;
        def.when_matched = MergeRequest::Matched::kPipeline;
      } else if (v.type() == BsonType::kString) {
        const std::string& w = v.AsString();
        if (w == "merge") {
          def.when_matched = MergeRequest::Matched::kMerge;
        } else if (w == "replace") {
          def.when_matched = MergeRequest::Matched::kReplace;
        } else if (w == "keepExisting") {
          def.when_matched = MergeRequest::Matched::kKeepExisting;
        } else if (w == "fail") {
          def.when_matched = MergeRequest::Matched::kFail;
        } else {
          return MongoError(kBadValue, StrCat("Enumeration value '", w, "' for field 'whenMatched' is not a valid value."));
        }
      } else {
        return MongoError(51191, StrCat("$merge 'whenMatched' field must be either a string or an array, but found ",
                                        BsonTypeName(v.type())));
      }
    } else if (k == "whenNotMatched") {
      if (v.type() != BsonType::kString) {
        return MongoError(kTypeMismatch, StrCat("BSON field '$merge.whenNotMatched' is the wrong type '",
                                                BsonTypeName(v.type()), "', expected type 'string'"));
      }
      const std::string& w = v.AsString();
      if (w == "insert") {
        def.when_not_matched = MergeRequest::NotMatched::kInsert;
      } else if (w == "discard") {
        def.when_not_matched = MergeRequest::NotMatched::kDiscard;
      } else if (w == "fail") {
        def.when_not_matched = MergeRequest::NotMatched::kFail;
      } else {
        return MongoError(kBadValue, StrCat("Enumeration value '", w, "' for field 'whenNotMatched' is not a valid value."));
      }
    } else if (k == "let") {
      if (v.type() != BsonType::kDocument) {
        return MongoError(kTypeMismatch, StrCat("BSON field '$merge.let' is the wrong type '", BsonTypeName(v.type()),
                                                "', expected type 'object'"));
      }
      let = &v;
    } else {
      return MongoError(40415, StrCat("BSON field '$merge.", k, "' is an unknown field."));
    }
  }
  if (into == nullptr) return MongoError(40414, "BSON field '$merge.into' is missing but a required field");
  auto target = ParseTarget("$merge", "into", *into, 51178);
  if (!target.ok()) return target.status();
  def.into = *std::move(target);
  if (def.on.empty()) def.on = {"_id"};
  if (let != nullptr && def.when_matched != MergeRequest::Matched::kPipeline) {
    return MongoError(51199, "Cannot use 'let' variables with 'whenMatched' modes other than a pipeline");
  }
  if (pipeline != nullptr) {
    ParseOptions sub = options;
    sub.kind = PipelineKind::kMergeUpdate;
    sub.depth = options.depth + 1;
    ParseContext context = options.ExpressionContext();
    if (let != nullptr) {
      if (auto s = ParseLetVariables(let->AsDocument(), context, &def.let, &sub.scope); !s.ok()) return s;
    }
    bool has_new = std::find(sub.scope.begin(), sub.scope.end(), "new") != sub.scope.end();
    if (!has_new) {
      def.let.emplace_back("new", std::shared_ptr<const Expression>(*ParseExpression(Value("$$ROOT"), context)));
      sub.scope.push_back("new");
    }
    auto p = Pipeline::ParseArray(*pipeline, sub, "$merge's whenMatched pipeline");
    if (!p.ok()) return p.status();
    def.update = std::make_shared<const Pipeline>(*std::move(p));
  }
  Emit(out, "$merge", arg, std::make_shared<MergeSpec>(std::move(def)));
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
