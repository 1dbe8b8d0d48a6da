// Update pipelines: an array of $set/$addFields, $unset, $project, $replaceRoot and
// $replaceWith stages whose expressions see the document being updated.

#include "document/builder.h"
#include "document/status.h"
#include "pipeline/expression.h"
#include "query/projection.h"
#include "update/tree_path.h"
#include "update/update.h"

namespace micromongo::update {
namespace {

class SetStage : public PipelineStage {
 public:
  std::vector<std::pair<query::FieldPath, std::unique_ptr<pipeline::Expression>>> fields;
  absl::Status Apply(Document* doc, const ApplyContext& context) const override {
    // Every expression sees the stage's input document.
    std::vector<std::optional<Value>> values;
    for (const auto& [path, expr] : fields) {
      auto v = pipeline::EvaluateOn(*expr, *doc, context.let, context.collator);
      if (!v.ok()) return v.status();
      values.push_back(*std::move(v));
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      auto slot = Resolve(doc, fields[i].first, /*create=*/values[i].has_value());
      if (!slot.ok()) return slot.status();
      if (values[i]) {
        slot->Assign(*std::move(values[i]));
      } else {
        slot->Remove();  // $$REMOVE or a missing value
      }
    }
    return absl::OkStatus();
  }
};

class UnsetStage : public PipelineStage {
 public:
  std::vector<query::FieldPath> paths;
  absl::Status Apply(Document* doc, const ApplyContext& context) const override {
    for (const auto& p : paths) {
      auto slot = Resolve(doc, p, /*create=*/false);
      if (!slot.ok()) return slot.status();
      slot->Remove();
    }
    return absl::OkStatus();
  }
};

class ProjectStage : public PipelineStage {
 public:
  std::unique_ptr<query::Projection> projection;  // the 0/1 part
  std::unique_ptr<SetStage> computed;             // the expression part
  bool clear_all = false;                         // only computed fields remain
  absl::Status Apply(Document* doc, const ApplyContext& context) const override {
    Document input = *doc;
    if (clear_all) *doc = Document();
    if (projection != nullptr) {
      std::string bytes = bson::Encode(*doc);
      auto projected = projection->Apply(bson::DocView(bytes));
      if (!projected.ok()) return projected.status();
      *doc = bson::Decode(bson::DocView(*projected));
    }
    if (computed != nullptr) {
      for (const auto& [path, expr] : computed->fields) {
        auto v = pipeline::EvaluateOn(*expr, input, context.let, context.collator);
        if (!v.ok()) return v.status();
        if (!*v) continue;
        auto slot = Resolve(doc, path, true);
        if (!slot.ok()) return slot.status();
        slot->Assign(**v);
      }
    }
    return absl::OkStatus();
  }
};

class ReplaceRootStage : public PipelineStage {
 public:
  std::unique_ptr<pipeline::Expression> root;
  absl::Status Apply(Document* doc, const ApplyContext& context) const override {
    auto v = pipeline::EvaluateOn(*root, *doc, context.let, context.collator);
    if (!v.ok()) return v.status();
    if (!*v || (*v)->type() != BsonType::kDocument) {
      return MongoError(40228, StrCat("'newRoot' expression must evaluate to an object, but "
                                      "resulting value was: ",
                                      *v ? (*v)->ToJson() : "MISSING"));
    }
    *doc = (*v)->AsDocument();
    return absl::OkStatus();
  }
};

absl::StatusOr<std::unique_ptr<SetStage>> ParseSet(const Document& spec) {
  auto stage = std::make_unique<SetStage>();
  for (const auto& [k, v] : spec) {
    auto e = pipeline::ParseExpression(v);
    if (!e.ok()) return e.status();
    stage->fields.emplace_back(query::FieldPath(k), *std::move(e));
  }
  return stage;
}

bool IsFlag(const Value& v) {
  return v.type() == BsonType::kBool || v.IsNumber();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PipelineStage>> ParsePipelineStage(const Document& stage) {
  if (stage.size() != 1) {
    return MongoError(40323, "A pipeline stage specification object must contain exactly one field.");
  }
  const auto& [name, arg] = *stage.begin();
  if (name == "$set" || name == "$addFields") {
    if (arg.type() != BsonType::kDocument) return MongoError(40272, StrCat(name, " specification must be an object"));
    auto s = ParseSet(arg.AsDocument());
    if (!s.ok()) return s.status();
    return std::unique_ptr<PipelineStage>(*std::move(s));
  }
  if (name == "$unset") {
    auto stage_out = std::make_unique<UnsetStage>();
    if (arg.type() == BsonType::kString) {
      stage_out->paths.emplace_back(arg.AsString());
    } else if (arg.type() == BsonType::kArray && !arg.AsArray().empty()) {
      for (const Value& p : arg.AsArray()) {
        if (p.type() != BsonType::kString) return MongoError(31120, "$unset specification must be a string or an array of strings");
        stage_out->paths.emplace_back(p.AsString());
      }
    } else {
      return MongoError(31002, "$unset specification must be a string or an array containing at least one field");
    }
    return std::unique_ptr<PipelineStage>(std::move(stage_out));
  }
  if (name == "$project") {
    if (arg.type() != BsonType::kDocument) return MongoError(15969, "$project specification must be an object");
    Document flags, computed;
    for (const auto& [k, v] : arg.AsDocument()) {
      (IsFlag(v) ? flags : computed).Append(k, v);
    }
    auto stage_out = std::make_unique<ProjectStage>();
    bool exclusion = false;
    for (const auto& [k, v] : flags) {
      exclusion = exclusion || (k != "_id" && !pipeline::IsTrue(v));
    }
    if (exclusion && !computed.empty()) {
      return MongoError(31252, "Cannot use expressions in an exclusion projection");
    }
    if (!computed.empty()) {
      // Computed fields make an inclusion projection: keep _id (unless excluded) and the
      // included paths, then add the computed ones.
      bool id_included = !(flags.Has("_id") && !pipeline::IsTrue(flags.Get("_id")));
      Document inclusion;
      if (id_included) inclusion.Append("_id", 1);
      for (const auto& [k, v] : flags) {
        if (k != "_id" && pipeline::IsTrue(v)) inclusion.Append(k, 1);
      }
      if (!id_included && !inclusion.empty()) inclusion.Append("_id", 0);
      if (inclusion.empty()) {
        stage_out->clear_all = true;
      } else {
        std::string bytes = bson::Encode(inclusion);
        auto p = query::Projection::Parse(bson::DocView(bytes));
        if (!p.ok()) return p.status();
        stage_out->projection = *std::move(p);
      }
      auto s = ParseSet(computed);
      if (!s.ok()) return s.status();
      stage_out->computed = *std::move(s);
    } else {
      std::string bytes = bson::Encode(flags);
      auto p = query::Projection::Parse(bson::DocView(bytes));
      if (!p.ok()) return p.status();
      stage_out->projection = *std::move(p);
    }
    return std::unique_ptr<PipelineStage>(std::move(stage_out));
  }
  if (name == "$replaceRoot" || name == "$replaceWith") {
    const Value* root = &arg;
    if (name == "$replaceRoot") {
      if (arg.type() != BsonType::kDocument || !arg.AsDocument().Has("newRoot")) {
        return MongoError(40231, "no newRoot specified for the $replaceRoot stage");
      }
      root = arg.AsDocument().Find("newRoot");
    }
    auto e = pipeline::ParseExpression(*root);
    if (!e.ok()) return e.status();
    auto stage_out = std::make_unique<ReplaceRootStage>();
    stage_out->root = *std::move(e);
    return std::unique_ptr<PipelineStage>(std::move(stage_out));
  }
  return MongoError(72, StrCat("Invalid update pipeline stage ", name, ": only $addFields, $set, "
                               "$project, $unset, $replaceRoot and $replaceWith are allowed"));
}

}  // namespace micromongo::update
