// Stages that produce documents instead of reading input: $documents, $collStats and
// $indexStats. Each must come first.

#include "document/builder.h"
#include "pipeline/stages/registry.h"

namespace micromongo::pipeline::stages {
namespace {

class DocumentsSpec final : public StageSpec {
 public:
  explicit DocumentsSpec(std::shared_ptr<const Expression> expr) : expr_(std::move(expr)) {}
  bool IsSource() const override { return true; }
  absl::StatusOr<StagePtr> Open(StagePtr, ExecContext* ctx) const override {
    Variables vars;
    vars.let = ctx->let;
    vars.collator = ctx->collator_ptr();
    Document empty;
    vars.root = &empty;
    auto v = expr_->Evaluate(vars);
    if (!v.ok()) return v.status();
    if (!*v || (*v)->type() != BsonType::kArray) {
      return MongoError(5858203, "an array is expected as the argument of $documents");
    }
    std::vector<std::string> docs;
    for (const Value& e : (*v)->AsArray()) {
      if (e.type() != BsonType::kDocument) {
        return MongoError(kTypeMismatch, StrCat("$documents elements must be objects, found ", BsonTypeName(e.type())));
      }
      docs.push_back(bson::Encode(e.AsDocument()));
    }
    return RowsSource(std::move(docs));
  }

 private:
  std::shared_ptr<const Expression> expr_;
};

class CollStatsSpec final : public StageSpec {
 public:
  explicit CollStatsSpec(Document spec) : spec_(std::move(spec)) {}
  bool IsSource() const override { return true; }
  absl::StatusOr<StagePtr> Open(StagePtr, ExecContext* ctx) const override {
    if (ctx->data == nullptr || ctx->collection.empty()) {
      return MongoError(kInvalidNamespace, "$collStats must be run against a collection");
    }
    auto stats = ctx->data->CollStats(ctx->db, ctx->collection, spec_);
    if (!stats.ok()) return stats.status();
    std::vector<std::string> docs;
    docs.push_back(bson::Encode(*stats));
    return RowsSource(std::move(docs));
  }

 private:
  Document spec_;
};

// $indexStats and $planCacheStats: documents about one collection from DataAccess.
class CollectionInfoSpec final : public StageSpec {
 public:
  explicit CollectionInfoSpec(bool plan_cache) : plan_cache_(plan_cache) {}
  bool IsSource() const override { return true; }
  absl::StatusOr<StagePtr> Open(StagePtr, ExecContext* ctx) const override {
    if (ctx->data == nullptr || ctx->collection.empty()) {
      return MongoError(kInvalidNamespace, StrCat(plan_cache_ ? "$planCacheStats" : "$indexStats",
                                                  " must be run against a collection"));
    }
    auto stats = plan_cache_ ? ctx->data->PlanCacheStats(ctx->db, ctx->collection)
                             : ctx->data->IndexStats(ctx->db, ctx->collection);
    if (!stats.ok()) return stats.status();
    std::vector<std::string> docs;
    for (const Document& d : *stats) docs.push_back(bson::Encode(d));
    return RowsSource(std::move(docs));
  }

 private:
  bool plan_cache_;
};

}  // namespace

absl::Status ParseDocuments(const Value& arg, const ParseOptions& options, Specs* out) {
  auto e = ParseExpression(arg, options.ExpressionContext());
  if (!e.ok()) return e.status();
  Emit(out, "$documents", arg, std::make_shared<DocumentsSpec>(std::shared_ptr<const Expression>(*std::move(e))));
  return absl::OkStatus();
}

absl::Status ParseCollStats(const Value& arg, const ParseOptions&, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(5447000, StrCat("$collStats must take a nested object but found: ", arg.ToJson()));
  }
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "count") {
      if (v.type() != BsonType::kDocument) {
        return MongoError(kTypeMismatch, StrCat("BSON field '$collStats.count' is the wrong type '",
                                                BsonTypeName(v.type()), "', expected type 'object'"));
      }
    } else if (k == "storageStats") {
      if (v.type() != BsonType::kDocument) {
        return MongoError(kTypeMismatch, StrCat("BSON field '$collStats.storageStats' is the wrong type '",
                                                BsonTypeName(v.type()), "', expected type 'object'"));
      }
      for (const auto& [opt, ov] : v.AsDocument()) {
        if (opt != "scale" && opt != "verbose" && opt != "waitForLock" && opt != "numericOnly") {
          return MongoError(40415, StrCat("BSON field '$collStats.storageStats.", opt, "' is an unknown field."));
        }
        if (opt == "scale" && (!ov.IsNumber() || ov.ToDouble() < 1)) {
          return MongoError(51024, "BSON field 'scale' value must be >= 1");
        }
      }
    } else if (k == "latencyStats" || k == "queryExecStats") {
      return MongoError(kNotImplemented, StrCat("$collStats '", k, "' is not tracked by this server"));
    } else {
      return MongoError(40415, StrCat("BSON field '$collStats.", k, "' is an unknown field."));
    }
  }
  Emit(out, "$collStats", arg, std::make_shared<CollStatsSpec>(arg.AsDocument()));
  return absl::OkStatus();
}

absl::Status ParseIndexStats(const Value& arg, const ParseOptions&, Specs* out) {
  if (arg.type() != BsonType::kDocument || !arg.AsDocument().empty()) {
    return MongoError(28803, "The $indexStats stage specification must be an empty object");
  }
  Emit(out, "$indexStats", arg, std::make_shared<CollectionInfoSpec>(false));
  return absl::OkStatus();
}

absl::Status ParsePlanCacheStats(const Value& arg, const ParseOptions&, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(kFailedToParse, "$planCacheStats value must be an object");
  }
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k != "allHosts") return MongoError(40415, StrCat("BSON field '$planCacheStats.", k, "' is an unknown field."));
  }
  Emit(out, "$planCacheStats", arg, std::make_shared<CollectionInfoSpec>(true));
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
