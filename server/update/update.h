#pragma once

// A parsed update: either $-operators applied path by path, or a replacement document.
// Parsed once per request; Apply() is const and thread-safe.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "micromongo/document.h"
#include "query/field_path.h"
#include "update/modifier.h"

namespace micromongo::update {

class Update {
 public:
  // `replace`: the document must be a replacement (no $-keys); otherwise it must be
  // $-operators. Errors: 9 (FailedToParse) for unknown or malformed modifiers, 40
  // (ConflictingUpdateOperators), 14 (TypeMismatch) for bad operands, 2 for other misuse.
  static absl::StatusOr<std::unique_ptr<Update>> Parse(bson::DocView update, bool replace);

  bool is_replacement() const { return replacement_.has_value(); }

  // Applies the update to `doc`, keeping its _id (66, ImmutableField, if the update would
  // change it). On error `doc` may be partly modified: callers discard it.
  absl::Status Apply(Document* doc) const;

 private:
  struct Op {
    query::FieldPath path;
    std::unique_ptr<Modifier> modifier;
  };
  std::vector<Op> ops_;
  std::optional<Document> replacement_;
};

// Checks a document about to be stored: _id not an array/regex/undefined, no top-level
// $-prefixed field names, within 16 MiB. Errors carry MongoDB's codes.
absl::Status ValidateStorable(bson::DocView doc);

}  // namespace micromongo::update
