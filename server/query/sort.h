#pragma once

// Sort specifications ({a: 1, "b.c": -1}) and the sort keys they extract: MongoDB's BSON
// order; an array sorts by its smallest element ascending and its largest descending; a
// missing field sorts as null.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "document/compare.h"
#include "query/field_path.h"

namespace micromongo::query {

class SortSpec {
 public:
  // Errors: 15975 for directions other than 1 / -1, 2 for bad field names. Strings order
  // by `collator` when given (the request's collation), by bytes otherwise.
  static absl::StatusOr<SortSpec> Parse(bson::DocView spec,
                                        std::shared_ptr<const bson::Collator> collator = nullptr);

  bool empty() const { return fields_.empty(); }
  // The same specification comparing strings under `collator`.
  SortSpec WithCollator(std::shared_ptr<const bson::Collator> collator) const {
    SortSpec s = *this;
    s.collator_ = std::move(collator);
    return s;
  }
  // Keys point into `doc`, which must outlive them.
  std::vector<bson::ValueView> ExtractKey(bson::DocView doc) const;
  // <0, 0, >0 for two extracted keys.
  int Compare(const std::vector<bson::ValueView>& a, const std::vector<bson::ValueView>& b) const;

 private:
  struct Field {
    FieldPath path;
    bool ascending;
  };
  std::vector<Field> fields_;
  std::shared_ptr<const bson::Collator> collator_;
};

}  // namespace micromongo::query
