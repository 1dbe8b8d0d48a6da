#pragma once

// Parsed aggregation pipelines: every stage checked once with MongoDB's error codes, then
// opened as many times as needed (once per aggregate; once per input document for a
// $lookup sub-pipeline) into running stages.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "micromongo/document.h"
#include "pipeline/context.h"
#include "pipeline/expression.h"
#include "pipeline/stage.h"

namespace micromongo::pipeline {

// Where a pipeline appears: the rules for which stages it may hold differ.
enum class PipelineKind { kAggregate, kLookup, kFacet, kUnionWith, kView, kUpdate, kMergeUpdate };

struct ParseOptions {
  // The command's let variables (their names are what parsing needs).
  const VariableMap* let = nullptr;
  // Further variables in scope: $lookup's let, $merge's $$new.
  std::vector<std::string> scope;
  std::shared_ptr<const bson::Collator> collator;
  PipelineKind kind = PipelineKind::kAggregate;
  // Nesting of sub-pipelines ($lookup, $facet, $unionWith): bounded like MongoDB's.
  int depth = 0;
  // Parsed for a statement of a multi-document transaction: the stages MongoDB does not
  // run in one ($out, $merge and the statistics sources) fail with 263, in sub-pipelines
  // too (they inherit it).
  bool in_transaction = false;

  ParseContext ExpressionContext() const {
    ParseContext c;
    c.let = let;
    c.scope = scope;
    c.collator = collator.get();
    return c;
  }
};

// One parsed stage: immutable, shared by every execution.
class StageSpec {
 public:
  virtual ~StageSpec() = default;
  // A running instance reading from `input` (null for source stages).
  virtual absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const = 0;

  // "$group", ...
  const std::string& name() const { return name_; }
  // The stage for explain: {$name: <argument>}.
  virtual Document Explain() const { return Document{{name_, argument_}}; }
  // Source stages ($documents, $collStats, $indexStats) produce rows and take no input.
  virtual bool IsSource() const { return false; }
  // $out and $merge.
  virtual bool IsWriter() const { return false; }
  // A $match: the filter a collection read can apply itself (parsed with ctx's variables).
  virtual bool IsMatch() const { return false; }
  // A $match whose filter has $text (only the first stage may: it reads through the index).
  virtual bool HasText() const { return false; }
  virtual absl::StatusOr<std::shared_ptr<const query::Matcher>> ReadFilter(ExecContext*) const {
    return nullptr;
  }
  // The same for a first stage reading collection `coll` of `db` ($geoNear asks which of
  // its geo indexes to search).
  virtual absl::StatusOr<std::shared_ptr<const query::Matcher>> ReadFilterOn(ExecContext* ctx, std::string_view db,
                                                                              std::string_view coll) const {
    return ReadFilter(ctx);
  }
  // $geoNear: only valid first, reading a collection.
  virtual bool IsGeoNear() const { return false; }

  void set_origin(std::string name, Value argument) {
    name_ = std::move(name);
    argument_ = std::move(argument);
  }

 protected:
  std::string name_;
  Value argument_;
};

using SpecPtr = std::shared_ptr<const StageSpec>;

class Pipeline {
 public:
  // Errors: 40323 (a stage is not one field), 40324 (unknown stage), 238 for stages this
  // server does not have ($geoNear, $changeStream, $search, ...), 40601/40602 (writers not
  // last, sources not first), 7749501 (more than 1000 stages), and each stage's own codes.
  static absl::StatusOr<Pipeline> Parse(const std::vector<Document>& stages,
                                        const ParseOptions& options);
  // The same from an array value of stage documents (sub-pipelines); `what` names it in
  // errors.
  static absl::StatusOr<Pipeline> ParseArray(const Value& stages, const ParseOptions& options,
                                             std::string_view what);

  // Runs over `source`'s rows.
  absl::StatusOr<StagePtr> Open(StagePtr source, ExecContext* ctx) const;
  // Runs over a collection or view of `db`: a leading $match becomes the read's filter (and
  // access path). `plan` (optional) says how the collection was read.
  // `prefilter` (optional): documents of the collection or view must match it before the
  // pipeline sees them ($lookup's localField/foreignField with a pipeline).
  absl::StatusOr<StagePtr> OpenOnCollection(std::string_view db, std::string_view coll,
                                            ExecContext* ctx, ReadPlan* plan = nullptr,
                                            std::shared_ptr<const query::Matcher> prefilter = nullptr) const;

  bool empty() const { return stages_.empty(); }
  size_t size() const { return stages_.size(); }
  const std::vector<SpecPtr>& stages() const { return stages_; }
  // Whether the first stage makes its own rows ($documents, ...).
  bool StartsWithSource() const { return !stages_.empty() && stages_[0]->IsSource(); }
  bool EndsWithWriter() const { return !stages_.empty() && stages_.back()->IsWriter(); }
  // The stages as explain lists them.
  std::vector<Document> Explain() const;

 private:
  // Stacks stages_[from..] on `input`.
  absl::StatusOr<StagePtr> OpenFrom(size_t from, StagePtr input, ExecContext* ctx) const;

  std::vector<SpecPtr> stages_;
  ParseOptions options_;
};

// Parses one stage document ({$name: arg}) into one or more specs (some stages are
// shorthands: $sortByCount is $group then $sort).
absl::Status ParseStage(const Document& stage, const ParseOptions& options, std::vector<SpecPtr>* out);

// Rows from documents already computed.
StagePtr RowsSource(std::vector<std::string> docs);

// Reads every row of `stage` (for blocking consumers); error or the documents.
absl::StatusOr<std::vector<std::string>> Drain(Stage* stage);

}  // namespace micromongo::pipeline
