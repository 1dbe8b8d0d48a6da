#include "pipeline/pipeline.h"

#include <algorithm>

#include "document/builder.h"
#include "document/status.h"
#include "pipeline/stages/registry.h"
#include "query/matcher.h"

namespace micromongo::pipeline {
namespace {

// MongoDB's internalPipelineLengthLimit: bounds the work (and the nesting stages can add to
// a document) a single request can ask for.
constexpr size_t kMaxStages = 1000;
// MongoDB's internalMaxSubPipelineViewDepth-like bound on sub-pipeline nesting.
constexpr int kMaxSubPipelineDepth = 20;

// Stages MongoDB has that this server lacks (Atlas, sharding, session caches).
constexpr std::string_view kNotImplementedStages[] = {
    "$changeStreamSplitLargeEvent",
    "$search",        "$searchMeta",        "$vectorSearch",
    "$listSearchIndexes", "$currentOp",     "$listSessions",
    "$listLocalSessions", "$queryStats",
    "$shardedDataDistribution", "$listSampledQueries", "$rankFusion",
    "$listClusterCatalog"};

// Stages an update's pipeline may hold.
constexpr std::string_view kUpdateStages[] = {"$addFields", "$set",         "$project",
                                              "$unset",     "$replaceRoot", "$replaceWith"};

class VectorSource final : public Stage {
 public:
  explicit VectorSource(std::vector<std::string> docs) : docs_(std::move(docs)) {}
  absl::StatusOr<bool> Next(Row* out) override {
    if (pos_ >= docs_.size()) return false;
    out->doc = std::move(docs_[pos_++]);
    out->meta.reset();
    return true;
  }

 private:
  std::vector<std::string> docs_;
  size_t pos_ = 0;
};

// Keeps specs alive for the stages opened from them (stages point into their specs): for
// pipelines combined at open time, such as a view's stages followed by the caller's.
class KeepSpecs final : public Stage {
 public:
  KeepSpecs(std::vector<SpecPtr> specs, StagePtr inner) : specs_(std::move(specs)), inner_(std::move(inner)) {}
  absl::StatusOr<bool> Next(Row* out) override { return inner_->Next(out); }

 private:
  std::vector<SpecPtr> specs_;  // destroyed after inner_
  StagePtr inner_;
};

absl::StatusOr<StagePtr> OpenSpecs(const std::vector<SpecPtr>& specs, size_t from, StagePtr input,
                                   ExecContext* ctx) {
  for (size_t i = from; i < specs.size(); ++i) {
    auto next = specs[i]->Open(std::move(input), ctx);
    if (!next.ok()) return next.status();
    input = *std::move(next);
  }
  if (input == nullptr) return RowsSource({});
  return input;
}

// Replaces a $sort followed (through $skip stages) by a $limit with a top-k sort: the sort
// then holds only skip + limit documents.
void CoalesceSortLimit(std::vector<SpecPtr>* specs);

}  // namespace

namespace stages {
// Defined in sort.cc.
SpecPtr WithTopK(const StageSpec& sort, int64_t k);
std::optional<int64_t> LimitOf(const StageSpec& spec);
std::optional<Document> SortPatternOf(const StageSpec& spec);
std::optional<int64_t> SkipOf(const StageSpec& spec);
}  // namespace stages

namespace {

void CoalesceSortLimit(std::vector<SpecPtr>* specs) {
  for (size_t i = 0; i < specs->size(); ++i) {
    if ((*specs)[i]->name() != "$sort") continue;
    int64_t skipped = 0;
    for (size_t j = i + 1; j < specs->size(); ++j) {
      if (auto s = stages::SkipOf(*(*specs)[j])) {
        if (*s > INT64_MAX - skipped) break;
        skipped += *s;
        continue;
      }
      if (auto l = stages::LimitOf(*(*specs)[j])) {
        if (*l <= INT64_MAX - skipped) (*specs)[i] = stages::WithTopK(*(*specs)[i], skipped + *l);
      }
      break;
    }
  }
}

}  // namespace

absl::Status ParseStage(const Document& stage, const ParseOptions& options, std::vector<SpecPtr>* out) {
  if (stage.size() != 1) {
    return MongoError(40323, "A pipeline stage specification object must contain exactly one field.");
  }
  const auto& [name, arg] = *stage.begin();
  if (options.kind == PipelineKind::kUpdate || options.kind == PipelineKind::kMergeUpdate) {
    if (std::find(std::begin(kUpdateStages), std::end(kUpdateStages), name) == std::end(kUpdateStages)) {
      return MongoError(kInvalidOptions, StrCat(name, " is not allowed to be used within an update"));
    }
  }
  if (name == "$changeStream") {
    // DataOperations::Aggregate serves a $changeStream that comes first; anywhere else it
    // is MongoDB's 40602.
    return MongoError(40602, "$changeStream is only valid as the first stage in a pipeline");
  }
  if (std::find(std::begin(kNotImplementedStages), std::end(kNotImplementedStages), name) !=
      std::end(kNotImplementedStages)) {
    return MongoError(kNotImplemented, StrCat(name, " is not supported by this server yet"));
  }
  stages::StageParser parser = stages::FindStageParser(name);
  if (parser == nullptr) {
    return MongoError(40324, StrCat("Unrecognized pipeline stage name: '", name, "'"));
  }
  return parser(arg, options, out);
}

namespace {

// MongoDB's stages with TransactionRequirement::kNotAllowed among ours: the writers (they
// write outside the transaction's snapshot) and the statistics sources, whose numbers
// describe the committed collection, not the transaction's view of it.
bool AllowedInTransaction(const StageSpec& spec) {
  static constexpr std::string_view kStatistics[] = {"$collStats", "$indexStats", "$planCacheStats"};
  if (spec.IsWriter()) return false;
  return std::find(std::begin(kStatistics), std::end(kStatistics), spec.name()) == std::end(kStatistics);
}

}  // namespace

absl::StatusOr<Pipeline> Pipeline::Parse(const std::vector<Document>& stages, const ParseOptions& options) {
  if (stages.size() > kMaxStages) {
    return MongoError(7749501, StrCat("Pipeline length must be no longer than ", kMaxStages, " stages."));
  }
  if (options.depth > kMaxSubPipelineDepth) {
    return MongoError(kOverflow, StrCat("Maximum number of nested sub-pipelines exceeded. Limit is ",
                                        kMaxSubPipelineDepth));
  }
  Pipeline p;
  p.options_ = options;
  for (size_t i = 0; i < stages.size(); ++i) {
    size_t first = p.stages_.size();
    if (auto s = ParseStage(stages[i], options, &p.stages_); !s.ok()) return s;
    for (size_t k = first; k < p.stages_.size(); ++k) {
      const StageSpec& spec = *p.stages_[k];
      if (options.in_transaction && !AllowedInTransaction(spec)) {
        return MongoError(kOperationNotSupportedInTransaction,
                          StrCat("Stage not supported inside of a multi-document transaction: ", spec.name()));
      }
      if (spec.IsSource() && i != 0) {
        return MongoError(40602, StrCat(spec.name(), " is only valid as the first stage in a pipeline"));
      }
      if (spec.IsGeoNear() && (i != 0 || options.kind == PipelineKind::kFacet ||
                               options.kind == PipelineKind::kUpdate || options.kind == PipelineKind::kMergeUpdate)) {
        return MongoError(40603, "$geoNear is only valid as the first stage in a pipeline");
      }
      if (spec.HasText() && (k != 0 || options.kind == PipelineKind::kFacet || options.kind == PipelineKind::kUpdate ||
                             options.kind == PipelineKind::kMergeUpdate)) {
        return MongoError(17313, "$match with $text is only allowed as the first pipeline stage");
      }
      if (spec.IsWriter()) {
        switch (options.kind) {
          case PipelineKind::kLookup:
            return MongoError(51047, StrCat(spec.name(), " is not allowed within a $lookup's sub-pipeline"));
          case PipelineKind::kFacet:
            return MongoError(40600, StrCat(spec.name(), " is not allowed to be used within a $facet stage"));
          case PipelineKind::kUnionWith:
            return MongoError(31441, StrCat(spec.name(), " is not allowed within a $unionWith's sub-pipeline"));
          case PipelineKind::kView:
            return MongoError(kOptionNotSupportedOnView,
                              StrCat(spec.name(), " cannot be used in a view definition"));
          default:
            break;
        }
        if (i + 1 != stages.size()) {
          return MongoError(40601, StrCat(spec.name(), " can only be the final stage in the pipeline"));
        }
      }
    }
  }
  CoalesceSortLimit(&p.stages_);
  // Parsing alone needed the variables' names; the stages keep what they use.
  p.options_.let = nullptr;
  p.options_.scope.clear();
  return p;
}

absl::StatusOr<Pipeline> Pipeline::ParseArray(const Value& stages, const ParseOptions& options,
                                              std::string_view what) {
  if (stages.type() != BsonType::kArray) {
    return MongoError(kTypeMismatch, StrCat(what, " must be an array of stage objects"));
  }
  std::vector<Document> docs;
  for (const Value& s : stages.AsArray()) {
    if (s.type() != BsonType::kDocument) {
      return MongoError(kTypeMismatch, StrCat("Each element of ", what, " must be an object"));
    }
    docs.push_back(s.AsDocument());
  }
  return Parse(docs, options);
}

absl::StatusOr<StagePtr> Pipeline::Open(StagePtr source, ExecContext* ctx) const {
  if (StartsWithSource()) source.reset();
  return OpenSpecs(stages_, 0, std::move(source), ctx);
}

absl::StatusOr<StagePtr> Pipeline::OpenOnCollection(std::string_view db, std::string_view coll,
                                                    ExecContext* ctx, ReadPlan* plan,
                                                    std::shared_ptr<const query::Matcher> prefilter) const {
  if (StartsWithSource()) return OpenSpecs(stages_, 0, nullptr, ctx);
  if (ctx->data == nullptr) return MongoError(kInternalError, "no collection access in this context");
  auto view = ctx->data->ResolveView(db, coll);
  if (!view.ok()) return view.status();
  const std::vector<SpecPtr>* specs = &stages_;
  std::vector<SpecPtr> combined;
  size_t view_count = 0;
  ReadRequest request;
  request.db = std::string(db);
  request.collection = std::string(coll);
  request.hint = ctx->read_hint;
  request.use_plan_cache = !ctx->explain;
  if (*view && !stages_.empty() && stages_[0]->IsGeoNear()) {
    return MongoError(40603, "$geoNear is only valid as the first stage in a pipeline");
  }
  if (*view) {
    // A view reads its base collection through the view's pipeline first.
    ParseOptions view_options;
    view_options.kind = PipelineKind::kView;
    view_options.collator = options_.collator;
    auto parsed = Parse((*view)->pipeline, view_options);
    if (!parsed.ok()) return parsed.status();
    view_count = parsed->stages_.size();
    combined = parsed->stages_;
    combined.insert(combined.end(), stages_.begin(), stages_.end());
    CoalesceSortLimit(&combined);
    specs = &combined;
    request.collection = (*view)->collection;
  }
  size_t from = 0;
  if (prefilter != nullptr && *view) {
    // The view's stages come first; the prefilter applies to what they produce.
    size_t n = view_count;
    std::vector<SpecPtr> before(specs->begin(), specs->begin() + static_cast<long>(n));
    ReadRequest base = request;
    size_t skip = 0;
    if (!before.empty() && before[0]->IsMatch()) {
      auto filter = before[0]->ReadFilter(ctx);
      if (!filter.ok()) return filter.status();
      base.filter = *std::move(filter);
      skip = 1;
    }
    auto read = ctx->data->Read(base, plan);
    if (!read.ok()) return read.status();
    auto viewed = OpenSpecs(before, skip, *std::move(read), ctx);
    if (!viewed.ok()) return viewed.status();
    StagePtr filtered = stages::MakeFilterStage(*std::move(viewed), std::move(prefilter));
    auto top = OpenSpecs(*specs, n, std::move(filtered), ctx);
    if (!top.ok()) return top.status();
    return StagePtr(std::make_unique<KeepSpecs>(std::move(combined), *std::move(top)));
  }
  if (prefilter != nullptr) {
    request.filter = std::move(prefilter);
  } else if (!specs->empty() && (*specs)[0]->IsMatch()) {
    auto filter = (*specs)[0]->ReadFilterOn(ctx, db, coll);
    if (!filter.ok()) return filter.status();
    request.filter = *std::move(filter);
    from = (*specs)[0]->IsGeoNear() ? 0 : 1;  // $geoNear still adds its fields to what it reads
  }
  // A $sort next may be given by an index.
  std::optional<Document> sort = from < specs->size() ? stages::SortPatternOf(*(*specs)[from]) : std::nullopt;
  if (sort) request.sort = bson::Encode(*sort);
  ReadPlan local_plan;
  if (plan == nullptr) plan = &local_plan;
  auto source = ctx->data->Read(request, plan);
  if (!source.ok()) return source.status();
  if (sort && plan->provides_sort) ++from;
  auto top = OpenSpecs(*specs, from, *std::move(source), ctx);
  if (!top.ok() || combined.empty()) return top;
  return StagePtr(std::make_unique<KeepSpecs>(std::move(combined), *std::move(top)));
}

std::vector<Document> Pipeline::Explain() const {
  std::vector<Document> out;
  out.reserve(stages_.size());
  for (const SpecPtr& s : stages_) out.push_back(s->Explain());
  return out;
}

StagePtr RowsSource(std::vector<std::string> docs) {
  return std::make_unique<VectorSource>(std::move(docs));
}

absl::StatusOr<std::vector<std::string>> Drain(Stage* stage) {
  std::vector<std::string> out;
  Row row;
  while (true) {
    auto more = stage->Next(&row);
    if (!more.ok()) return more.status();
    if (!*more) return out;
    out.push_back(std::move(row.doc));
  }
}

absl::Status MemoryLimitExceeded(std::string_view stage, int64_t limit) {
  // MongoDB's own wording for its two most common cases.
  if (stage == "$group") {
    return MongoError(kQueryExceededMemoryLimitNoDiskUseAllowed,
                      "Exceeded memory limit for $group, but didn't allow external sort. Pass "
                      "allowDiskUse:true to opt in.");
  }
  if (stage == "$sort") {
    return MongoError(kQueryExceededMemoryLimitNoDiskUseAllowed,
                      StrCat("Sort exceeded memory limit of ", limit,
                             " bytes, but did not opt in to external sorting."));
  }
  return MongoError(kQueryExceededMemoryLimitNoDiskUseAllowed,
                    StrCat(stage, " exceeded its memory limit of ", limit,
                           " bytes, but did not opt in to spilling to disk (allowDiskUse)."));
}

namespace stages {

absl::Status ParseInto(const Document& stage, const ParseOptions& options, Specs* out) {
  return ParseStage(stage, options, out);
}

absl::Status ValidateOutputField(std::string_view stage, std::string_view field, int code) {
  if (field.empty()) return MongoError(code, StrCat(stage, " requires a non-empty field name"));
  if (field[0] == '$') {
    return MongoError(16410, StrCat("FieldPath field names may not start with '$'. Consider using "
                                    "$getField or $setField."));
  }
  if (field.find('\0') != std::string_view::npos) {
    return MongoError(16411, "FieldPath field names may not contain '\\0'.");
  }
  size_t start = 0;
  while (true) {
    size_t dot = field.find('.', start);
    std::string_view part = field.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty()) return MongoError(15998, "FieldPath field names may not be empty strings.");
    if (part[0] == '$') {
      return MongoError(16410, StrCat("FieldPath field names may not start with '$'. Consider using "
                                      "$getField or $setField."));
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return absl::OkStatus();
}

absl::Status ParseLetVariables(const Document& let, const ParseContext& context, LetVariables* out,
                               std::vector<std::string>* scope) {
  for (const auto& [name, e] : let) {
    if (auto s = ValidateVariableName(name); !s.ok()) return s;
    auto expr = ParseExpression(e, context);
    if (!expr.ok()) return expr.status();
    out->emplace_back(name, std::shared_ptr<const Expression>(*std::move(expr)));
    scope->push_back(name);
  }
  return absl::OkStatus();
}

StageParser FindStageParser(std::string_view name) {
  static const std::pair<std::string_view, StageParser> kParsers[] = {
      {"$match", ParseMatch},
      {"$sort", ParseSort},
      {"$skip", ParseSkip},
      {"$limit", ParseLimit},
      {"$count", ParseCount},
      {"$sample", ParseSample},
      {"$project", ParseProject},
      {"$addFields", ParseAddFields},
      {"$set", ParseSet},
      {"$unset", ParseUnset},
      {"$replaceRoot", ParseReplaceRoot},
      {"$replaceWith", ParseReplaceWith},
      {"$redact", ParseRedact},
      {"$group", ParseGroup},
      {"$sortByCount", ParseSortByCount},
      {"$bucket", ParseBucket},
      {"$bucketAuto", ParseBucketAuto},
      {"$unwind", ParseUnwind},
      {"$lookup", ParseLookup},
      {"$graphLookup", ParseGraphLookup},
      {"$facet", ParseFacet},
      {"$unionWith", ParseUnionWith},
      {"$documents", ParseDocuments},
      {"$collStats", ParseCollStats},
      {"$indexStats", ParseIndexStats},
      {"$planCacheStats", ParsePlanCacheStats},
      {"$densify", ParseDensify},
      {"$fill", ParseFill},
      {"$setWindowFields", ParseSetWindowFields},
      {"$out", ParseOut},
      {"$merge", ParseMerge},
      {"$geoNear", ParseGeoNear},
  };
  for (const auto& [n, p] : kParsers) {
    if (n == name) return p;
  }
  return nullptr;
}

}  // namespace stages
}  // namespace micromongo::pipeline
