#include "query/sort.h"

#include "document/compare.h"
#include "document/status.h"

namespace micromongo::query {
namespace {

using bson::ValueView;

constexpr char kNullBytes[1] = {0};
const ValueView kNull{BsonType::kNull, kNullBytes, 0};

// Visits every value at `path` from `v` (component i on), unwinding arrays.
template <typename Fn>
void CollectValues(const ValueView& v, const FieldPath& path, size_t i, Fn& fn) {
  if (i == path.size()) {
    if (v.type == BsonType::kArray) {
      for (const bson::ElementView& e : v.Doc()) fn(e.value);
    } else {
      fn(v);
    }
    return;
  }
  if (v.type == BsonType::kDocument) {
    ValueView child;
    if (v.Doc().Find(path.part(i), &child)) CollectValues(child, path, i + 1, fn);
  } else if (v.type == BsonType::kArray) {
    std::optional<size_t> index = path.index(i);
    size_t pos = 0;
    for (const bson::ElementView& e : v.Doc()) {
      if (e.value.type == BsonType::kDocument) CollectValues(e.value, path, i, fn);
      if (index && pos == *index) CollectValues(e.value, path, i + 1, fn);
      ++pos;
    }
  }
}

}  // namespace

absl::StatusOr<SortSpec> SortSpec::Parse(bson::DocView spec) {
  SortSpec s;
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
      int c = bson::CompareValues(v, best);
      if (f.ascending ? c < 0 : c > 0) best = v;
    };
    CollectValues(root, f.path, 0, consider);
    key.push_back(found ? best : kNull);
  }
  return key;
}

int SortSpec::Compare(const std::vector<ValueView>& a, const std::vector<ValueView>& b) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    int c = bson::CompareValues(a[i], b[i]);
    if (c != 0) return fields_[i].ascending ? c : -c;
  }
  return 0;
}

}  // namespace micromongo::query
