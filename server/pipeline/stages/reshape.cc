// Stages that reshape each document: $project, $addFields/$set, $unset,
// $replaceRoot/$replaceWith and $redact.

#include "document/builder.h"
#include "pipeline/stages/registry.h"
#include "query/projection.h"

namespace micromongo::pipeline::stages {
namespace {

class ProjectionSpec final : public StageSpec {
 public:
  explicit ProjectionSpec(std::shared_ptr<const query::Projection> p) : projection_(std::move(p)) {}
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    return MakeMapStage(std::move(input), [p = projection_, ctx](Row* row) -> absl::StatusOr<bool> {
      query::Projection::ApplyContext apply{nullptr, ctx->let, ctx->collator_ptr(), row->meta.get()};
      auto out = p->Apply(row->view(), apply);
      if (!out.ok()) return out.status();
      row->doc = *std::move(out);
      return true;
    });
  }

 private:
  std::shared_ptr<const query::Projection> projection_;
};

template <typename T>
std::shared_ptr<const T> Share(std::unique_ptr<T> p) {
  return std::shared_ptr<const T>(std::move(p));
}

// ---- $replaceRoot / $replaceWith ------------------------------------------------------------

class ReplaceRootSpec final : public StageSpec {
 public:
  ReplaceRootSpec(std::shared_ptr<const Expression> root, std::string what)
      : root_(std::move(root)), what_(std::move(what)) {}
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    return MakeMapStage(std::move(input), [this, ctx](Row* row) -> absl::StatusOr<bool> {
      bson::DocView view = row->view();
      auto v = root_->Evaluate(ctx->VariablesFor(*row, &view));
      if (!v.ok()) return v.status();
      if (!*v || (*v)->type() != BsonType::kDocument) {
        std::string shown = *v ? (*v)->ToJson() : "MISSING";
        std::string type = *v ? std::string(BsonTypeName((*v)->type())) : "missing";
        return MongoError(40228, StrCat("'", what_, "' must evaluate to an object, but resulting value was: ",
                                        shown, ". Type of resulting value: '", type,
                                        "'. Input document: ", bson::Decode(view).ToJson()));
      }
      row->doc = bson::Encode((*v)->AsDocument());
      return true;
    });
  }

 private:
  std::shared_ptr<const Expression> root_;
  std::string what_;
};

// ---- $redact --------------------------------------------------------------------------------

class RedactSpec final : public StageSpec {
 public:
  explicit RedactSpec(std::shared_ptr<const Expression> expr) : expr_(std::move(expr)) {}

  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    return MakeMapStage(std::move(input), [this, ctx](Row* row) -> absl::StatusOr<bool> {
      bson::DocView view = row->view();
      Value root(bson::Decode(view));
      Variables vars = ctx->VariablesFor(*row, &view);
      auto kept = Redact(root, vars);
      if (!kept.ok()) return kept.status();
      if (!*kept) return false;
      row->doc = bson::Encode((*kept)->AsDocument());
      return true;
    });
  }

 private:
  enum class Decision { kKeep, kPrune, kDescend };

  absl::StatusOr<Decision> Decide(const Value& current, const Variables& outer) const {
    Binding b{"CURRENT", &current, outer.bound};
    Variables vars = outer;
    vars.bound = &b;
    auto v = expr_->Evaluate(vars);
    if (!v.ok()) return v.status();
    if (*v && (*v)->type() == BsonType::kString) {
      const std::string& s = (*v)->AsString();
      if (s == "keep") return Decision::kKeep;
      if (s == "prune") return Decision::kPrune;
      if (s == "descend") return Decision::kDescend;
    }
    return MongoError(17053, StrCat("$redact's expression should not return anything aside from the "
                                    "variables $$KEEP, $$DESCEND, and $$PRUNE, but returned ",
                                    *v ? (*v)->ToJson() : "MISSING"));
  }

  // The document as redaction leaves it; nullopt if pruned.
  absl::StatusOr<std::optional<Value>> Redact(const Value& doc, const Variables& vars) const {
    auto d = Decide(doc, vars);
    if (!d.ok()) return d.status();
    if (*d == Decision::kPrune) return std::optional<Value>();
    if (*d == Decision::kKeep) return std::optional<Value>(doc);
    Document out;
    for (const auto& [k, v] : doc.AsDocument()) {
      if (v.type() == BsonType::kDocument) {
        auto sub = Redact(v, vars);
        if (!sub.ok()) return sub.status();
        if (*sub) out.Append(k, **std::move(sub));
      } else if (v.type() == BsonType::kArray) {
        auto arr = RedactArray(v.AsArray(), vars);
        if (!arr.ok()) return arr.status();
        out.Append(k, Value(*std::move(arr)));
      } else {
        out.Append(k, v);
      }
    }
    return std::optional<Value>(Value(std::move(out)));
  }

  absl::StatusOr<Array> RedactArray(const Array& a, const Variables& vars) const {
    Array out;
    for (const Value& e : a) {
      if (e.type() == BsonType::kDocument) {
        auto sub = Redact(e, vars);
        if (!sub.ok()) return sub.status();
        if (*sub) out.push_back(**std::move(sub));
      } else if (e.type() == BsonType::kArray) {
        auto sub = RedactArray(e.AsArray(), vars);
        if (!sub.ok()) return sub.status();
        out.push_back(Value(*std::move(sub)));
      } else {
        out.push_back(e);
      }
    }
    return out;
  }

  std::shared_ptr<const Expression> expr_;
};

absl::Status ParseAddFieldsAs(std::string_view name, const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(40272, StrCat(name, " specification stage must be an object, got ",
                                    BsonTypeName(arg.type())));
  }
  auto p = query::Projection::ParseAddFields(arg.AsDocument(), options.ExpressionContext());
  if (!p.ok()) return p.status();
  Emit(out, name, arg, std::make_shared<ProjectionSpec>(Share(*std::move(p))));
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseProject(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(15969, "$project specification must be an object");
  }
  auto p = query::Projection::ParseProject(arg.AsDocument(), options.ExpressionContext());
  if (!p.ok()) return p.status();
  Emit(out, "$project", arg, std::make_shared<ProjectionSpec>(Share(*std::move(p))));
  return absl::OkStatus();
}

absl::Status ParseAddFields(const Value& arg, const ParseOptions& options, Specs* out) {
  return ParseAddFieldsAs("$addFields", arg, options, out);
}

absl::Status ParseSet(const Value& arg, const ParseOptions& options, Specs* out) {
  return ParseAddFieldsAs("$set", arg, options, out);
}

absl::Status ParseUnset(const Value& arg, const ParseOptions&, Specs* out) {
  std::vector<std::string> paths;
  if (arg.type() == BsonType::kString) {
    paths.push_back(arg.AsString());
  } else if (arg.type() == BsonType::kArray) {
    if (arg.AsArray().empty()) {
      return MongoError(31119, "$unset specification must be a string or an array with at least one field");
    }
    for (const Value& v : arg.AsArray()) {
      if (v.type() != BsonType::kString) {
        return MongoError(31120, "$unset specification must be a string or an array containing only string values");
      }
      paths.push_back(v.AsString());
    }
  } else {
    return MongoError(31002, "$unset specification must be a string or an array");
  }
  auto p = query::Projection::Exclusion(paths);
  if (!p.ok()) return p.status();
  Emit(out, "$unset", arg, std::make_shared<ProjectionSpec>(Share(*std::move(p))));
  return absl::OkStatus();
}

absl::Status ParseReplaceRoot(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(40229, StrCat("expected an object as specification for $replaceRoot stage, got ",
                                    BsonTypeName(arg.type())));
  }
  const Value* root = nullptr;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k != "newRoot") return MongoError(40230, StrCat("unrecognized option to $replaceRoot stage: ", k));
    root = &v;
  }
  if (root == nullptr) return MongoError(40231, "no newRoot specified for the $replaceRoot stage");
  auto e = ParseExpression(*root, options.ExpressionContext());
  if (!e.ok()) return e.status();
  Emit(out, "$replaceRoot", arg,
       std::make_shared<ReplaceRootSpec>(std::shared_ptr<const Expression>(*std::move(e)), "newRoot"));
  return absl::OkStatus();
}

absl::Status ParseReplaceWith(const Value& arg, const ParseOptions& options, Specs* out) {
  auto e = ParseExpression(arg, options.ExpressionContext());
  if (!e.ok()) return e.status();
  Emit(out, "$replaceWith", arg,
       std::make_shared<ReplaceRootSpec>(std::shared_ptr<const Expression>(*std::move(e)),
                                         "replacement document"));
  return absl::OkStatus();
}

absl::Status ParseRedact(const Value& arg, const ParseOptions& options, Specs* out) {
  auto e = ParseExpression(arg, options.ExpressionContext());
  if (!e.ok()) return e.status();
  Emit(out, "$redact", arg, std::make_shared<RedactSpec>(std::shared_ptr<const Expression>(*std::move(e))));
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
