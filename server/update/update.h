#pragma once

// A parsed update: either $-operators applied path by path, or a replacement document.
// Parsed once per request; Apply() is const and thread-safe.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "micromongo/document.h"
#include "query/field_path.h"
#include "query/matcher.h"
#include "update/modifier.h"

namespace micromongo::pipeline {
class Pipeline;
}

namespace micromongo::update {

class Update {
 public:
  // `replace`: the document must be a replacement (no $-keys); otherwise it must be
  // $-operators. Errors: 9 (FailedToParse) for unknown or malformed modifiers, 40
  // (ConflictingUpdateOperators), 14 (TypeMismatch) for bad operands, 2 for other misuse.
  // `array_filters`: the arrayFilters option, an array of filters naming the
  // identifiers of $[<identifier>] path components.
  // `collator`: the request's collation, which the array filters compare strings with.
  static absl::StatusOr<std::unique_ptr<Update>> Parse(
      bson::DocView update, bool replace, std::optional<bson::DocView> array_filters = {},
      std::shared_ptr<const bson::Collator> collator = nullptr);

  // An update pipeline ([{$set: ...}, {$unset: ...}, ...]): $addFields/$set, $project,
  // $unset and $replaceRoot/$replaceWith, run by the aggregation pipeline's own stages
  // (others fail with 72, InvalidOptions). `let` names the command's variables.
  static absl::StatusOr<std::unique_ptr<Update>> ParsePipeline(
      const std::vector<Document>& stages, const std::map<std::string, Value, std::less<>>* let = nullptr,
      std::shared_ptr<const bson::Collator> collator = nullptr);

  bool is_replacement() const { return replacement_.has_value(); }

  // How MongoDB logs this update's changes (for a change event's updateDescription): the
  // dotted paths its operators write as a whole, with `appends` for $push and $addToSet,
  // whose elements added at the end of a non-empty array are logged one by one ("a.3").
  // Operators on positional paths ($, $[], $[id]) are not listed. Empty for replacements
  // and pipelines, whose changes MongoDB diffs.
  struct LoggedPath {
    std::string path;
    bool appends = false;
  };
  std::vector<LoggedPath> LoggedPaths() const;

  // Applies the update to `doc`, keeping its _id (66, ImmutableField, if the update would
  // change it). `filter` is the query that selected the document (for the positional $).
  // On error `doc` may be partly modified: callers discard it.
  absl::Status Apply(Document* doc, const ApplyContext& context = {},
                     const query::Matcher* filter = nullptr) const;

  // The same on BSON: `*out` receives the updated document. Updates made only of $set,
  // $unset and $inc on top-level fields are applied by rewriting the BSON directly (no
  // tree is built); others go through Apply().
  absl::Status ApplyToBson(bson::DocView doc, const ApplyContext& context,
                           const query::Matcher* filter, std::string* out) const;

 private:
  struct Op {
    query::FieldPath path;
    std::unique_ptr<Modifier> modifier;
    bool positional = false;  // has $, $[] or $[id] components
    bool appends = false;     // $push or $addToSet
    // For the BSON fast path: $set / $unset / $inc of a top-level field other than _id.
    enum class Flat { kNone, kSet, kUnset, kInc } flat = Flat::kNone;
    Value operand;
  };
  bool all_flat_ = false;
  absl::Status ExpandPositional(const Document& doc, const query::FieldPath& path,
                                const query::Matcher* filter,
                                std::vector<query::FieldPath>* out) const;

  std::vector<Op> ops_;
  std::optional<Document> replacement_;
  std::shared_ptr<const pipeline::Pipeline> pipeline_;
  // $[<identifier>] -> the filter over {identifier: element}.
  std::map<std::string, std::unique_ptr<query::Matcher>, std::less<>> array_filters_;
};

// Checks a document about to be stored: _id not an array/regex/undefined and without
// $-prefixed fields (52), within 16 MiB (10334), nested at most kMaxStorageDepth levels
// (15 Overflow). Other $-prefixed and dotted field names
// are storable, as in MongoDB 5.0+.
absl::Status ValidateStorable(bson::DocView doc);

}  // namespace micromongo::update
