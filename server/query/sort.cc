#include "query/sort.h"

#include "document/compare.h"
#include "document/status.h"
#include "query/path_values.h"

namespace micromongo::query {
using bson::ValueView;

absl::StatusOr<SortSpec> SortSpec::Parse(bson::DocView spec,
                                         std::shared_ptr<const bson::Collator> collator) {
  SortSpec s;
  s.collator_ = std::move(collator);
  for (const bson::ElementView& e : spec) {
    if (e.key.empty()) return MongoError(kBadValue, "sort field name cannot be empty");
    if (!e.value.IsNumber() || (e.value.AsDouble() != 1 && e.value.AsDouble() != -1)) {
      return MongoError(15975, StrCat("$sort key ordering must be 1 (for ascending) or -1 "
                                      "(for descending), field '", e.key, "'"));
    }
    s.fields_.push_back({FieldPath(e.key), e.value.AsDouble() == 1});
  }
  return s;
}

std::vector<ValueView> SortSpec::ExtractKey(bson::DocView doc) const {
  std::vector<ValueView> key;
  key.reserve(fields_.size());
  ValueView root{BsonType::kDocument, doc.data(), doc.size()};
  for (const Field& f : fields_) {
    bool found = false;
    ValueView best;
    auto consider = [&](const ValueView& v) {
      if (!found) {
        best = v;
        found = true;
        return;
      }
      int c = bson::CompareValues(v, best, collator_.get());
      if (f.ascending ? c < 0 : c > 0) best = v;
    };
    ForEachValueAtPath(root, f.path, 0, consider);
    key.push_back(found ? best : bson::kNullValue);
  }
  return key;
}

int SortSpec::Compare(const std::vector<ValueView>& a, const std::vector<ValueView>& b) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    int c = bson::CompareValues(a[i], b[i], collator_.get());
    if (c != 0) return fields_[i].ascending ? c : -c;
  }
  return 0;
}

}  // namespace micromongo::query
