// $push (with $each, $position, $sort, $slice) and $addToSet (with $each, BSON equality).

#include <algorithm>
#include <memory>
#include <optional>

#include "document/builder.h"
#include "document/status.h"
#include "query/sort.h"
#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
namespace {

std::optional<int64_t> Integral(const bson::ValueView& v) {
  if (v.type == BsonType::kInt32) return v.Int32();
  if (v.type == BsonType::kInt64) return v.Int64();
  if (v.type == BsonType::kDouble || v.type == BsonType::kDecimal128) {
    double d = v.AsDouble();
    if (d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

class PushModifier : public Modifier {
 public:
  Array each;
  std::optional<int64_t> position, slice;
  std::optional<int> sort_direction;      // {$sort: 1 | -1} on the elements
  std::optional<query::SortSpec> sort_by;  // {$sort: {field: 1}} on document elements
  bool add_to_set = false;

  absl::Status Apply(Document* doc, const query::FieldPath& path,
                     const ApplyContext& context) const override {
    auto array = ArrayAt(doc, path, /*create=*/true, add_to_set ? "$addToSet" : "$push");
    if (!array.ok()) return array.status();
    Array& a = **array;
    if (add_to_set) {
      for (const Value& v : each) {
        bool present = std::any_of(a.begin(), a.end(),
                                   [&](const Value& e) { return TreeValuesEqual(e, v, context.collator); });
        if (!present) a.push_back(v);
      }
      return absl::OkStatus();
    }
    size_t at = a.size();
    if (position) {
      int64_t p = *position;
      if (p < 0) p = std::max<int64_t>(0, static_cast<int64_t>(a.size()) + p);
      at = std::min<size_t>(a.size(), static_cast<size_t>(p));
    }
    a.insert(a.begin() + at, each.begin(), each.end());
    if (sort_direction) {
      std::stable_sort(a.begin(), a.end(), [&](const Value& x, const Value& y) {
        int c = CompareTreeValues(x, y, context.collator);
        return *sort_direction > 0 ? c < 0 : c > 0;
      });
    } else if (sort_by) {
      std::vector<std::string> encoded;
      for (const Value& v : a) {
        bson::Builder b;
        if (v.type() == BsonType::kDocument) {
          for (const auto& [k, fv] : v.AsDocument()) b.AppendValue(k, fv);
        }
        encoded.push_back(std::move(b).Finish());
      }
      std::vector<size_t> order(a.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      // Under a collation, compare with it (borrowed for this call only).
      std::optional<query::SortSpec> collated;
      if (context.collator != nullptr) {
        collated = sort_by->WithCollator(
            std::shared_ptr<const bson::Collator>(std::shared_ptr<void>(), context.collator));
      }
      const query::SortSpec& spec = collated ? *collated : *sort_by;
      std::vector<std::string> keys;
      keys.reserve(encoded.size());
      for (const std::string& e : encoded) {
        auto k = spec.KeyOf(bson::DocView(e));
        if (!k.ok()) return k.status();
        keys.push_back(*std::move(k));
      }
      std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return keys[x] < keys[y]; });
      Array sorted;
      for (size_t i : order) sorted.push_back(std::move(a[i]));
      a = std::move(sorted);
    }
    if (slice) {
      int64_t s = *slice;
      if (s >= 0) {
        if (static_cast<size_t>(s) < a.size()) a.resize(static_cast<size_t>(s));
      } else if (static_cast<size_t>(-s) < a.size()) {
        a.erase(a.begin(), a.end() + s);
      }
    }
    return absl::OkStatus();
  }
};

absl::StatusOr<std::unique_ptr<Modifier>> MakePushOrAddToSet(std::string_view field, const bson::ValueView& v,
                                               bool add_to_set) {
  auto m = std::make_unique<PushModifier>();
  m->add_to_set = add_to_set;
  const char* op = add_to_set ? "$addToSet" : "$push";
  bson::ValueView each;
  if (v.type == BsonType::kDocument && v.Doc().Find("$each", &each)) {
    if (each.type != BsonType::kArray) {
      return MongoError(kBadValue, StrCat("The argument to $each in ", op, " must be an array but "
                                          "it was of type: ", BsonTypeName(each.type)));
    }
    for (const bson::ElementView& e : each.Doc()) m->each.push_back(bson::ToValue(e.value));
    for (const bson::ElementView& e : v.Doc()) {
      if (e.key == "$each") continue;
      if (add_to_set) {
        return MongoError(kBadValue, StrCat("Found unexpected fields after $each in $addToSet: ", e.key));
      }
      if (e.key == "$slice") {
        m->slice = Integral(e.value);
        if (!m->slice) return MongoError(kBadValue, "The value for $slice must be an integer value");
      } else if (e.key == "$position") {
        m->position = Integral(e.value);
        if (!m->position) return MongoError(kBadValue, "The value for $position must be an integer value");
      } else if (e.key == "$sort") {
        if (e.value.IsNumber() && (e.value.AsDouble() == 1 || e.value.AsDouble() == -1)) {
          m->sort_direction = e.value.AsDouble() > 0 ? 1 : -1;
        } else if (e.value.type == BsonType::kDocument && !e.value.Doc().empty()) {
          auto spec = query::SortSpec::Parse(e.value.Doc());
          if (!spec.ok()) return MongoError(kBadValue, StrCat("$sort: ", spec.status().message()));
          m->sort_by = *std::move(spec);
        } else {
          return MongoError(kBadValue, "The $sort is invalid: use 1/-1 to sort the whole element, "
                                       "or {field:1/-1} to sort embedded fields");
        }
      } else {
        return MongoError(kBadValue, StrCat("Unrecognized clause in $push: ", e.key));
      }
    }
  } else {
    m->each.push_back(bson::ToValue(v));
  }
  return std::unique_ptr<Modifier>(std::move(m));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Modifier>> MakePush(std::string_view f, const bson::ValueView& v) {
  return MakePushOrAddToSet(f, v, false);
}
absl::StatusOr<std::unique_ptr<Modifier>> MakeAddToSet(std::string_view f, const bson::ValueView& v) {
  return MakePushOrAddToSet(f, v, true);
}

}  // namespace micromongo::update
