#pragma once

// Sort keys of BSON documents as byte strings whose memcmp order is the sort order: what
// $sort, find's sort, $bucketAuto and the external sorter compare.
//
// MongoDB's rules (the manual's "comparison/sort order" and its index key generation): a
// field that is missing sorts as null; an array sorts by its smallest element ascending and
// its largest descending; an empty array (also one met along the path) sorts as undefined,
// before null; array elements along a dotted path that are not documents contribute null.
// With several fields, the key is the smallest tuple in the sort's order; two fields that
// traverse different arrays are "parallel arrays" (error 2).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "document/compare.h"
#include "pipeline/expression.h"
#include "pipeline/sort_pattern.h"

namespace micromongo::pipeline {

class SortKeyGenerator {
 public:
  SortKeyGenerator() = default;
  explicit SortKeyGenerator(SortPattern pattern) : pattern_(std::move(pattern)) {}

  const SortPattern& pattern() const { return pattern_; }

  // Appends the key of `doc` (with its metadata, for {$meta: ...} fields) to *key; strings
  // compare under `collator` (null: binary).
  absl::Status AppendKey(bson::DocView doc, const DocumentMeta* meta, const bson::Collator* collator,
                         std::string* key) const;

 private:
  SortPattern pattern_;
};

}  // namespace micromongo::pipeline
