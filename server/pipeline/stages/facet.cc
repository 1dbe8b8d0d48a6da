// $facet: several pipelines over the same input, their results gathered into one document;
// and $unionWith: the input followed by another collection's documents.

#include "document/builder.h"
#include "pipeline/row_store.h"
#include "pipeline/stages/registry.h"

namespace micromongo::pipeline::stages {
namespace {

// MongoDB's limit on the document $facet builds.
constexpr size_t kMaxFacetOutputBytes = 100 << 20;

class FacetStage final : public Stage {
 public:
  FacetStage(StagePtr input, const std::vector<std::pair<std::string, Pipeline>>* facets, ExecContext* ctx)
      : input_(std::move(input)), facets_(facets), ctx_(ctx) {}

  absl::StatusOr<bool> Next(Row* out) override {
    if (done_) return false;
    done_ = true;
    // The input is held once (spilling past the limit with allowDiskUse) and replayed to
    // every facet.
    RowStore rows(ctx_, "$facet");
    if (auto s = ForEachRow(input_.get(), [&](Row& r) { return rows.Add(std::move(r)); }); !s.ok()) return s;
    input_.reset();
    bson::Builder b;
    Row row;
    for (const auto& [name, pipeline] : *facets_) {
      auto source = ReplayRows(&rows);
      if (!source.ok()) return source.status();
      auto top = pipeline.Open(*std::move(source), ctx_);
      if (!top.ok()) return top.status();
      size_t t = b.StartArray(name);
      char scratch[24];
      size_t i = 0;
      while (true) {
        auto more = (*top)->Next(&row);
        if (!more.ok()) return more.status();
        if (!*more) break;
        b.AppendDocument(bson::ArrayKey(i++, scratch), row.view());
        if (b.size() > kMaxFacetOutputBytes) {
          return MongoError(4031700, StrCat("document constructed by $facet is ", b.size(),
                                            " bytes, which exceeds the limit of ", kMaxFacetOutputBytes, " bytes"));
        }
      }
      b.End(t);
    }
    out->doc = std::move(b).Finish();
    out->meta.reset();
    return true;
  }

 private:
  StagePtr input_;
  const std::vector<std::pair<std::string, Pipeline>>* facets_;
  ExecContext* ctx_;
  bool done_ = false;
};

class FacetSpec final : public StageSpec {
 public:
  explicit FacetSpec(std::vector<std::pair<std::string, Pipeline>> facets) : facets_(std::move(facets)) {}
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    return StagePtr(std::make_unique<FacetStage>(std::move(input), &facets_, ctx));
  }

 private:
  std::vector<std::pair<std::string, Pipeline>> facets_;
};

// Stages $facet cannot hold (besides the writers, refused by Pipeline::Parse).
constexpr std::string_view kNotInFacet[] = {"$collStats", "$facet", "$indexStats", "$planCacheStats", "$documents",
                                            "$changeStream", "$geoNear"};

class UnionWithStage final : public Stage {
 public:
  UnionWithStage(StagePtr input, const std::string* db, const std::string* coll, const Pipeline* pipeline,
                 ExecContext* ctx)
      : input_(std::move(input)), db_(db), coll_(coll), pipeline_(pipeline), ctx_(ctx) {}

  absl::StatusOr<bool> Next(Row* out) override {
    if (input_ != nullptr) {
      auto more = input_->Next(out);
      if (!more.ok() || *more) return more;
      input_.reset();
      std::string db = db_->empty() ? ctx_->db : *db_;
      auto other = coll_->empty() ? pipeline_->Open(nullptr, ctx_)
                                  : pipeline_->OpenOnCollection(db, *coll_, ctx_);
      if (!other.ok()) return other.status();
      other_ = *std::move(other);
    }
    return other_->Next(out);
  }

 private:
  StagePtr input_;
  const std::string* db_;
  const std::string* coll_;
  const Pipeline* pipeline_;
  ExecContext* ctx_;
  StagePtr other_;
};

class UnionWithSpec final : public StageSpec {
 public:
  UnionWithSpec(std::string db, std::string coll, Pipeline pipeline)
      : db_(std::move(db)), coll_(std::move(coll)), pipeline_(std::move(pipeline)) {}
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    return StagePtr(std::make_unique<UnionWithStage>(std::move(input), &db_, &coll_, &pipeline_, ctx));
  }

 private:
  std::string db_, coll_;
  Pipeline pipeline_;
};

}  // namespace

absl::Status ParseFacet(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument || arg.AsDocument().empty()) {
    return MongoError(40169, StrCat("the $facet specification must be a non-empty object, but found: ", arg.ToJson()));
  }
  ParseOptions sub = options;
  sub.kind = PipelineKind::kFacet;
  sub.depth = options.depth + 1;
  std::vector<std::pair<std::string, Pipeline>> facets;
  for (const auto& [name, stages] : arg.AsDocument()) {
    if (auto s = ValidateOutputField("$facet", name, 40352); !s.ok()) return s;
    if (name.find('.') != std::string::npos) {
      return MongoError(40352, StrCat("FieldPath field names may not contain '.': ", name));
    }
    if (stages.type() != BsonType::kArray) {
      return MongoError(40170, StrCat("arguments to $facet must be arrays, ", name, " is type ",
                                      BsonTypeName(stages.type())));
    }
    std::vector<Document> docs;
    for (const Value& s : stages.AsArray()) {
      if (s.type() != BsonType::kDocument || s.AsDocument().empty()) {
        return MongoError(40171, StrCat("elements of arrays in $facet spec must be non-empty objects, ", name,
                                        " field contained ", s.ToJson()));
      }
      const std::string& stage = s.AsDocument().begin()->first;
      for (std::string_view banned : kNotInFacet) {
        if (stage == banned) {
          return MongoError(40600, StrCat(stage, " is not allowed to be used within a $facet stage"));
        }
      }
      docs.push_back(s.AsDocument());
    }
    auto p = Pipeline::Parse(docs, sub);
    if (!p.ok()) return p.status();
    facets.emplace_back(name, *std::move(p));
  }
  Emit(out, "$facet", arg, std::make_shared<FacetSpec>(std::move(facets)));
  return absl::OkStatus();
}

absl::Status ParseUnionWith(const Value& arg, const ParseOptions& options, Specs* out) {
  std::string db, coll;
  const Value* stages = nullptr;
  if (arg.type() == BsonType::kString) {
    coll = arg.AsString();
  } else if (arg.type() == BsonType::kDocument) {
    for (const auto& [k, v] : arg.AsDocument()) {
      if (k == "coll") {
        if (v.type() == BsonType::kString) {
          coll = v.AsString();
        } else if (v.type() == BsonType::kDocument && v.AsDocument().Find("db") && v.AsDocument().Find("coll") &&
                   v.AsDocument().Get("db").type() == BsonType::kString &&
                   v.AsDocument().Get("coll").type() == BsonType::kString) {
          db = v.AsDocument().Get("db").AsString();
          coll = v.AsDocument().Get("coll").AsString();
        } else {
          return MongoError(kTypeMismatch, StrCat("BSON field '$unionWith.coll' is the wrong type '",
                                                  BsonTypeName(v.type()), "', expected type 'string'"));
        }
      } else if (k == "pipeline") {
        if (v.type() != BsonType::kArray) {
          return MongoError(kTypeMismatch, StrCat("BSON field '$unionWith.pipeline' is the wrong type '",
                                                  BsonTypeName(v.type()), "', expected type 'array'"));
        }
        stages = &v;
      } else {
        return MongoError(40415, StrCat("BSON field '$unionWith.", k, "' is an unknown field."));
      }
    }
  } else {
    return MongoError(kFailedToParse, StrCat("the $unionWith stage specification must be an object or string, but "
                                             "found ", BsonTypeName(arg.type())));
  }
  ParseOptions sub = options;
  sub.kind = PipelineKind::kUnionWith;
  sub.depth = options.depth + 1;
  absl::StatusOr<Pipeline> p = stages != nullptr ? Pipeline::ParseArray(*stages, sub, "$unionWith's pipeline")
                                                 : Pipeline::Parse({}, sub);
  if (!p.ok()) return p.status();
  if (coll.empty() && !p->StartsWithSource()) {
    return MongoError(40414, "BSON field '$unionWith.coll' is missing but a required field");
  }
  Emit(out, "$unionWith", arg, std::make_shared<UnionWithSpec>(db, coll, *std::move(p)));
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
