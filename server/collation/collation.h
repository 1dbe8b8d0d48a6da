#pragma once

// MongoDB's `collation` option: locale-aware string comparison for query matching, sort,
// distinct and the aggregation evaluator. A collation document is parsed once per
// request into a bson::Collator that those components consult wherever they compare
// strings (the ICU implementation lives in icu_collation.cc, the only file that sees ICU).

#include <memory>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "document/compare.h"

namespace micromongo::collation {

// Parses {locale, strength, caseLevel, caseFirst, numericOrdering, alternate, maxVariable,
// normalization, backwards, version}. Returns nullptr for {locale: "simple"}: binary
// comparison, which callers treat as "no collator".
//
// Errors (as MongoDB's): 40414 when locale is missing, 40415 for unknown fields, 14
// (TypeMismatch) for wrongly typed fields, 2 (BadValue) for unknown locales and values out
// of range.
absl::StatusOr<std::shared_ptr<const bson::Collator>> Parse(bson::DocView spec);

// The collation document with every field given its value (defaults filled in), as
// MongoDB shows an index's or collection's collation: {locale, caseLevel, caseFirst,
// strength, numericOrdering, alternate, maxVariable, normalization, backwards, version}.
// Two collations are the same iff their normalized documents are. Empty for "simple".
// Errors as Parse's.
absl::StatusOr<std::string> Normalize(bson::DocView spec);

}  // namespace micromongo::collation
