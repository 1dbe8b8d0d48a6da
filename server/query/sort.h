#pragma once

// Sort specifications ({a: 1, "b.c": -1}) for find-like operations (findAndModify, $push's
// $sort): MongoDB's sort keys, the same as the aggregation's $sort (see
// pipeline/sort_key.h): a missing field sorts as null, an empty array before null, an
// array by its smallest element ascending and its largest descending.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "document/compare.h"
#include "pipeline/sort_key.h"

namespace micromongo::query {

class SortSpec {
 public:
  // Errors: 15974 / 15975 for values other than 1, -1 and {$meta: ...}, 15998/16410 for
  // bad field names. An empty specification sorts nothing. Strings order by `collator` when
  // given (the request's collation), by bytes otherwise.
  static absl::StatusOr<SortSpec> Parse(bson::DocView spec,
                                        std::shared_ptr<const bson::Collator> collator = nullptr);

  bool empty() const { return empty_; }
  // The same specification comparing strings under `collator`.
  SortSpec WithCollator(std::shared_ptr<const bson::Collator> collator) const {
    SortSpec s = *this;
    s.collator_ = std::move(collator);
    return s;
  }
  // The key of `doc`: byte order is sort order. Error 2 for parallel arrays.
  absl::StatusOr<std::string> KeyOf(bson::DocView doc) const;

 private:
  bool empty_ = true;
  pipeline::SortKeyGenerator keys_;
  std::shared_ptr<const bson::Collator> collator_;
};

}  // namespace micromongo::query
