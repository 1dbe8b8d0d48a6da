#pragma once

// The stage parsers, one family per file in this folder, and helpers they share. Not part
// of the pipeline API.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "document/status.h"
#include "pipeline/pipeline.h"

namespace micromongo::query {
class Matcher;
}

namespace micromongo::pipeline::stages {

using Specs = std::vector<SpecPtr>;
using StageParser = absl::Status (*)(const Value& arg, const ParseOptions& options, Specs* out);

// The parser of stage `name`; null if there is none.
StageParser FindStageParser(std::string_view name);

// Each family's stages.
absl::Status ParseMatch(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseSort(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseSkip(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseLimit(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseCount(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseSample(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseProject(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseAddFields(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseSet(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseUnset(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseReplaceRoot(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseReplaceWith(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseRedact(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseGroup(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseSortByCount(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseBucket(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseBucketAuto(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseUnwind(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseLookup(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseGraphLookup(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseFacet(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseUnionWith(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseDocuments(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseCollStats(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseIndexStats(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParsePlanCacheStats(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseDensify(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseFill(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseSetWindowFields(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseOut(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseMerge(const Value& arg, const ParseOptions& options, Specs* out);
absl::Status ParseGeoNear(const Value& arg, const ParseOptions& options, Specs* out);

// Adds `spec`, remembering the stage it came from for explain.
template <typename T>
void Emit(Specs* out, std::string_view name, const Value& arg, std::shared_ptr<T> spec) {
  spec->set_origin(std::string(name), arg);
  out->push_back(std::move(spec));
}

// Parses a whole stage document as a user would write it ({$group: {...}}) into `out`:
// for shorthands that expand into other stages.
absl::Status ParseInto(const Document& stage, const ParseOptions& options, Specs* out);

// A field name a stage writes to ("as", "includeArrayIndex", ...): non-empty, no leading
// '$' (16410 style), no NUL.
absl::Status ValidateOutputField(std::string_view stage, std::string_view field, int code);

// Helper stage: applies `fn` to each input row (nullopt: drop the row).
template <typename Fn>
class MapStage final : public Stage {
 public:
  MapStage(StagePtr input, Fn fn) : input_(std::move(input)), fn_(std::move(fn)) {}
  absl::StatusOr<bool> Next(Row* out) override {
    while (true) {
      auto more = input_->Next(out);
      if (!more.ok() || !*more) return more;
      absl::StatusOr<bool> keep = fn_(out);
      if (!keep.ok()) return keep.status();
      if (*keep) return true;
    }
  }

 private:
  StagePtr input_;
  Fn fn_;
};

template <typename Fn>
StagePtr MakeMapStage(StagePtr input, Fn fn) {
  return std::make_unique<MapStage<Fn>>(std::move(input), std::move(fn));
}

// A stage spec that is its definition: Open() makes a `StageT(input, &def, ctx)`.
template <typename StageT, typename Def>
class DefSpec final : public StageSpec {
 public:
  explicit DefSpec(Def def) : def_(std::move(def)) {}
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    return StagePtr(std::make_unique<StageT>(std::move(input), &def_, ctx));
  }

 private:
  Def def_;
};

// A stage's `let` option ({name: expression}): names checked (15999/16866/16868), the
// expressions parsed in `context`, and the names added to `scope` for its sub-pipeline.
using LetVariables = std::vector<std::pair<std::string, std::shared_ptr<const Expression>>>;
absl::Status ParseLetVariables(const Document& let, const ParseContext& context, LetVariables* out,
                               std::vector<std::string>* scope);

// Calls fn(Row&) for each row of `input` until the end or an error (of either).
template <typename Fn>
absl::Status ForEachRow(Stage* input, Fn fn) {
  Row row;
  while (true) {
    auto more = input->Next(&row);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    if (absl::Status s = fn(row); !s.ok()) return s;
  }
}

// The rows of `input` that `filter` matches.
StagePtr MakeFilterStage(StagePtr input, std::shared_ptr<const query::Matcher> filter);

}  // namespace micromongo::pipeline::stages
