#include "pipeline/stages.h"

#include <algorithm>

#include "document/builder.h"
#include "document/status.h"
#include "query/matcher.h"
#include "query/projection.h"
#include "query/sort.h"
#include "update/update.h"

namespace micromongo::pipeline {
namespace {

class MatchStage : public Stage {
 public:
  MatchStage(std::unique_ptr<Stage> in, std::unique_ptr<query::Matcher> m)
      : in_(std::move(in)), matcher_(std::move(m)) {}
  absl::StatusOr<bool> Next(Document* out) override {
    while (true) {
      auto more = in_->Next(out);
      if (!more.ok() || !*more) return more;
      std::string bytes = bson::Encode(*out);
      if (matcher_->Matches(bson::DocView(bytes))) return true;
    }
  }

 private:
  std::unique_ptr<Stage> in_;
  std::unique_ptr<query::Matcher> matcher_;
};

// Blocking: reads all input, then yields it ordered (stable).
class SortStage : public Stage {
 public:
  SortStage(std::unique_ptr<Stage> in, query::SortSpec spec) : in_(std::move(in)), spec_(std::move(spec)) {}
  absl::StatusOr<bool> Next(Document* out) override {
    if (!sorted_) {
      Document d;
      while (true) {
        auto more = in_->Next(&d);
        if (!more.ok()) return more.status();
        if (!*more) break;
        docs_.push_back(bson::Encode(d));
      }
      std::vector<std::pair<std::vector<bson::ValueView>, size_t>> keys;
      for (size_t i = 0; i < docs_.size(); ++i) keys.emplace_back(spec_.ExtractKey(bson::DocView(docs_[i])), i);
      std::stable_sort(keys.begin(), keys.end(),
                       [&](const auto& a, const auto& b) { return spec_.Compare(a.first, b.first) < 0; });
      for (auto& [k, i] : keys) order_.push_back(i);
      sorted_ = true;
    }
    if (pos_ >= order_.size()) return false;
    *out = bson::Decode(bson::DocView(docs_[order_[pos_++]]));
    return true;
  }

 private:
  std::unique_ptr<Stage> in_;
  query::SortSpec spec_;
  bool sorted_ = false;
  std::vector<std::string> docs_;
  std::vector<size_t> order_;
  size_t pos_ = 0;
};

class SkipLimitStage : public Stage {
 public:
  SkipLimitStage(std::unique_ptr<Stage> in, int64_t skip, int64_t limit)
      : in_(std::move(in)), skip_(skip), limit_(limit) {}
  absl::StatusOr<bool> Next(Document* out) override {
    for (; skip_ > 0; --skip_) {
      auto more = in_->Next(out);
      if (!more.ok() || !*more) return more;
    }
    if (limit_ >= 0 && returned_ >= limit_) return false;
    auto more = in_->Next(out);
    if (more.ok() && *more) ++returned_;
    return more;
  }

 private:
  std::unique_ptr<Stage> in_;
  int64_t skip_, limit_;  // limit < 0: none
  int64_t returned_ = 0;
};

class ProjectStage : public Stage {
 public:
  ProjectStage(std::unique_ptr<Stage> in, std::unique_ptr<query::Projection> p,
               const VariableMap* let)
      : in_(std::move(in)), projection_(std::move(p)), let_(let) {}
  absl::StatusOr<bool> Next(Document* out) override {
    auto more = in_->Next(out);
    if (!more.ok() || !*more) return more;
    std::string bytes = bson::Encode(*out);
    auto projected = projection_->Apply(bson::DocView(bytes), nullptr, let_);
    if (!projected.ok()) return projected.status();
    *out = bson::Decode(bson::DocView(*projected));
    return true;
  }

 private:
  std::unique_ptr<Stage> in_;
  std::unique_ptr<query::Projection> projection_;
  const VariableMap* let_;
};

// $addFields/$set, $unset, $replaceRoot/$replaceWith: the update-pipeline stages.
class TransformStage : public Stage {
 public:
  TransformStage(std::unique_ptr<Stage> in, std::unique_ptr<update::PipelineStage> t,
                 const VariableMap* let, std::shared_ptr<const bson::Collator> collator)
      : in_(std::move(in)), transform_(std::move(t)), let_(let), collator_(std::move(collator)) {}
  absl::StatusOr<bool> Next(Document* out) override {
    auto more = in_->Next(out);
    if (!more.ok() || !*more) return more;
    if (auto s = transform_->Apply(out, {.let = let_, .collator = collator_.get()}); !s.ok()) {
      return s;
    }
    return true;
  }

 private:
  std::unique_ptr<Stage> in_;
  std::unique_ptr<update::PipelineStage> transform_;
  const VariableMap* let_;
  std::shared_ptr<const bson::Collator> collator_;
};

class CountStage : public Stage {
 public:
  CountStage(std::unique_ptr<Stage> in, std::string field) : in_(std::move(in)), field_(std::move(field)) {}
  absl::StatusOr<bool> Next(Document* out) override {
    if (done_) return false;
    done_ = true;
    int64_t n = 0;
    Document d;
    while (true) {
      auto more = in_->Next(&d);
      if (!more.ok()) return more.status();
      if (!*more) break;
      ++n;
    }
    if (n == 0) return false;  // MongoDB's $count emits nothing for no input
    *out = Document{{field_, n <= INT32_MAX ? Value(static_cast<int32_t>(n)) : Value(n)}};
    return true;
  }

 private:
  std::unique_ptr<Stage> in_;
  std::string field_;
  bool done_ = false;
};

absl::StatusOr<OutputSpec> ParseOutput(const std::string& name, const Value& arg) {
  OutputSpec out;
  out.kind = name == "$out" ? OutputSpec::Kind::kOut : OutputSpec::Kind::kMerge;
  const Value* target = &arg;
  if (name == "$merge" && arg.type() == BsonType::kDocument) {
    const Document& d = arg.AsDocument();
    target = d.Find("into");
    if (target == nullptr) return MongoError(40414, "$merge requires 'into'");
    for (const auto& [k, v] : d) {
      if (k == "into") continue;
      if (k == "on") {
        if (!(v.type() == BsonType::kString && v.AsString() == "_id")) {
          return MongoError(kNotImplemented, "$merge 'on' fields other than _id need indexes");
        }
      } else if (k == "whenMatched") {
        if (v.type() != BsonType::kString) return MongoError(kNotImplemented, "$merge pipelines are not supported yet");
        const std::string& w = v.AsString();
        if (w == "merge") out.when_matched = OutputSpec::Matched::kMerge;
        else if (w == "replace") out.when_matched = OutputSpec::Matched::kReplace;
        else if (w == "keepExisting") out.when_matched = OutputSpec::Matched::kKeepExisting;
        else if (w == "fail") out.when_matched = OutputSpec::Matched::kFail;
        else return MongoError(kBadValue, StrCat("Enumeration value '", w, "' for field 'whenMatched' is not a valid value."));
      } else if (k == "whenNotMatched") {
        const std::string& w = v.type() == BsonType::kString ? v.AsString() : "";
        if (w == "insert") out.when_not_matched = OutputSpec::NotMatched::kInsert;
        else if (w == "discard") out.when_not_matched = OutputSpec::NotMatched::kDiscard;
        else if (w == "fail") out.when_not_matched = OutputSpec::NotMatched::kFail;
        else return MongoError(kBadValue, StrCat("Enumeration value '", w, "' for field 'whenNotMatched' is not a valid value."));
      } else if (k == "let") {
        return MongoError(kNotImplemented, "$merge let is not supported yet");
      } else {
        return MongoError(40415, StrCat("BSON field '$merge.", k, "' is an unknown field."));
      }
    }
  }
  if (target->type() == BsonType::kString) {
    out.collection = target->AsString();
  } else if (target->type() == BsonType::kDocument) {
    const Document& t = target->AsDocument();
    if (const Value* db = t.Find("db"); db && db->type() == BsonType::kString) out.db = db->AsString();
    const Value* coll = t.Find("coll");
    if (coll == nullptr || coll->type() != BsonType::kString) {
      return MongoError(kFailedToParse, StrCat(name, " needs a collection name"));
    }
    out.collection = coll->AsString();
  } else {
    return MongoError(kFailedToParse, StrCat(name, " needs a collection name or {db, coll}"));
  }
  return out;
}

class DocumentsStage : public Stage {
 public:
  explicit DocumentsStage(std::vector<Document> docs) : docs_(std::move(docs)) {}
  absl::StatusOr<bool> Next(Document* out) override {
    if (pos_ >= docs_.size()) return false;
    *out = std::move(docs_[pos_++]);
    return true;
  }

 private:
  std::vector<Document> docs_;
  size_t pos_ = 0;
};

int64_t NonNegativeInt(const Value& v) {
  if (!v.IsNumber()) return -1;
  double d = v.ToDouble();
  return d == static_cast<double>(static_cast<int64_t>(d)) && d >= 0 ? static_cast<int64_t>(d) : -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Stage>> DocumentsSource(const Value& spec, const VariableMap* let) {
  auto expr = ParseExpression(spec);
  if (!expr.ok()) return expr.status();
  Document empty;
  auto v = EvaluateOn(**expr, empty, let);
  if (!v.ok()) return v.status();
  if (!*v || (*v)->type() != BsonType::kArray) {
    return MongoError(5858203, "an array is expected as the argument of $documents");
  }
  std::vector<Document> docs;
  for (const Value& e : (*v)->AsArray()) {
    if (e.type() != BsonType::kDocument) {
      return MongoError(kTypeMismatch, StrCat("$documents elements must be objects, found ",
                                              BsonTypeName(e.type())));
    }
    docs.push_back(e.AsDocument());
  }
  return std::unique_ptr<Stage>(std::make_unique<DocumentsStage>(std::move(docs)));
}

absl::StatusOr<std::unique_ptr<Stage>> BuildPipeline(std::unique_ptr<Stage> source,
                                                     const std::vector<Document>& stages,
                                                     const VariableMap* let,
                                                     std::optional<OutputSpec>* output,
                                                     std::shared_ptr<const bson::Collator> collator) {
  // MongoDB's internalPipelineLengthLimit: bounds the work (and the nesting stages can add
  // to a document) a single request can ask for.
  constexpr size_t kMaxStages = 1000;
  if (stages.size() > kMaxStages) {
    return MongoError(7749501, StrCat("Pipeline length must be no longer than ", kMaxStages,
                                      " stages."));
  }
  std::unique_ptr<Stage> cur = std::move(source);
  for (size_t i = 0; i < stages.size(); ++i) {
    const Document& stage = stages[i];
    if (stage.size() != 1) {
      return MongoError(40323, "A pipeline stage specification object must contain exactly one field.");
    }
    const auto& [name, arg] = *stage.begin();
    if (name == "$match") {
      if (arg.type() != BsonType::kDocument) return MongoError(15959, "the match filter must be an expression in an object");
      auto m = let != nullptr
                   ? query::Matcher::Parse(bson::Encode(arg.AsDocument()), *let, collator)
                   : query::Matcher::Parse(bson::Encode(arg.AsDocument()), nullptr, collator);
      if (!m.ok()) return m.status();
      cur = std::make_unique<MatchStage>(std::move(cur), *std::move(m));
    } else if (name == "$sort") {
      if (arg.type() != BsonType::kDocument || arg.AsDocument().empty()) {
        return MongoError(15976, "$sort stage must have at least one sort key");
      }
      std::string bytes = bson::Encode(arg.AsDocument());
      auto spec = query::SortSpec::Parse(bson::DocView(bytes), collator);
      if (!spec.ok()) return spec.status();
      cur = std::make_unique<SortStage>(std::move(cur), *std::move(spec));
    } else if (name == "$skip" || name == "$limit") {
      int64_t n = NonNegativeInt(arg);
      if (n < 0 || (name == "$limit" && n == 0)) {
        return MongoError(name == "$skip" ? 15956 : 15958,
                          StrCat("invalid argument to ", name, " stage: ", arg.ToJson()));
      }
      cur = std::make_unique<SkipLimitStage>(std::move(cur), name == "$skip" ? n : 0,
                                             name == "$limit" ? n : -1);
    } else if (name == "$project") {
      if (arg.type() != BsonType::kDocument) return MongoError(15969, "$project specification must be an object");
      std::string bytes = bson::Encode(arg.AsDocument());
      auto p = query::Projection::Parse(bson::DocView(bytes));
      if (!p.ok()) return p.status();
      cur = std::make_unique<ProjectStage>(std::move(cur), *std::move(p), let);
    } else if (name == "$addFields" || name == "$set" || name == "$unset" || name == "$replaceRoot" ||
               name == "$replaceWith") {
      auto t = update::ParsePipelineStage(stage);
      if (!t.ok()) return t.status();
      cur = std::make_unique<TransformStage>(std::move(cur), *std::move(t), let, collator);
    } else if (name == "$documents") {
      return MongoError(40602, "$documents is only valid as the first stage of a database-level "
                               "aggregation");
    } else if (name == "$count") {
      if (arg.type() != BsonType::kString || arg.AsString().empty() || arg.AsString()[0] == '$' ||
          arg.AsString().find('.') != std::string::npos) {
        return MongoError(40156, "the count field must be a non-empty string without '$' or '.'");
      }
      cur = std::make_unique<CountStage>(std::move(cur), arg.AsString());
    } else if (name == "$out" || name == "$merge") {
      if (i + 1 != stages.size()) {
        return MongoError(40601, StrCat(name, " can only be the final stage in the pipeline"));
      }
      auto spec = ParseOutput(name, arg);
      if (!spec.ok()) return spec.status();
      *output = *std::move(spec);
    } else {
      return MongoError(kNotImplemented, StrCat("aggregation stage ", name, " is not supported yet"));
    }
  }
  return cur;
}

}  // namespace micromongo::pipeline
