#pragma once

// The aggregation pipeline: pull-based stages, each asking its input for the next
// document. The service supplies the source (a collection scan) and performs the
// writing stages ($out, $merge), which this module only parses.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "micromongo/document.h"
#include "pipeline/expression.h"

namespace micromongo::pipeline {

class Stage {
 public:
  virtual ~Stage() = default;
  // The next document into *out; false at the end.
  virtual absl::StatusOr<bool> Next(Document* out) = 0;
};

// Where a pipeline ending in $out or $merge writes its results.
struct OutputSpec {
  enum class Kind { kOut, kMerge } kind = Kind::kOut;
  std::string db;  // empty: the pipeline's own database
  std::string collection;
  // $merge only.
  enum class Matched { kMerge, kReplace, kKeepExisting, kFail } when_matched = Matched::kMerge;
  enum class NotMatched { kInsert, kDiscard, kFail } when_not_matched = NotMatched::kInsert;
};

// Stacks `stages` on `source`. Supported: $match, $sort, $skip, $limit, $project,
// $addFields/$set, $unset, $replaceRoot/$replaceWith, $count, and a final $out or $merge
// (described in *output). Other stages fail with 238 (NotImplemented) until the
// aggregation issue lands them; malformed ones with MongoDB's codes. `collator`: the
// aggregate's collation, for $match, $sort and expression comparisons (null: binary).
// The source of a database-level aggregation: {$documents: <expression>}, evaluated once
// (with `let` in scope) into an array of documents. Errors: 5858203 if it is not an
// array, 40228-style 14 (TypeMismatch) for elements that are not documents.
absl::StatusOr<std::unique_ptr<Stage>> DocumentsSource(const Value& spec, const VariableMap* let);

absl::StatusOr<std::unique_ptr<Stage>> BuildPipeline(
    std::unique_ptr<Stage> source, const std::vector<Document>& stages, const VariableMap* let,
    std::optional<OutputSpec>* output, std::shared_ptr<const bson::Collator> collator = nullptr);

}  // namespace micromongo::pipeline
