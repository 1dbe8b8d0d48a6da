#include "pipeline/sort_pattern.h"

#include "document/status.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline {
namespace {

// Every value `parts` reaches in `v`: arrays along the path are traversed, and an array at
// the end contributes its elements (an empty one: undefined, which sorts before null).
void CollectValues(const Value& v, const std::vector<std::string>& parts, size_t i, std::vector<const Value*>* out,
             bool* empty_array) {
  if (i == parts.size()) {
    if (const Array* a = v.GetIf<Array>()) {
      if (a->empty()) *empty_array = true;
      for (const Value& e : *a) out->push_back(&e);
    } else {
      out->push_back(&v);
    }
    return;
  }
  if (const Document* d = v.GetIf<Document>()) {
    if (const Value* child = d->Find(parts[i])) CollectValues(*child, parts, i + 1, out, empty_array);
    return;
  }
  if (const Array* a = v.GetIf<Array>()) {
    for (const Value& e : *a) {
      if (e.type() == BsonType::kDocument || e.type() == BsonType::kArray) {
        CollectValues(e, parts, i, out, empty_array);
      }
    }
  }
}

}  // namespace

absl::StatusOr<SortPattern> SortPattern::Parse(const Document& spec) {
  if (spec.empty()) return MongoError(15976, "$sort stage must have at least one sort key");
  SortPattern p;
  for (const auto& [k, v] : spec) {
    Field f;
    if (k.empty()) return MongoError(15998, "FieldPath cannot be constructed with empty string");
    size_t start = 0;
    while (true) {
      size_t dot = k.find('.', start);
      std::string part = k.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (part.empty()) return MongoError(15998, "FieldPath field names may not be empty strings.");
      if (part[0] == '$') {
        return MongoError(16410, "FieldPath field names may not start with '$'. Consider using "
                                 "$getField or $setField.");
      }
      f.parts.push_back(std::move(part));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (v.type() == BsonType::kDocument) {
      // {$meta: "textScore"}: descending by score; without metadata every key is equal.
      const Value* meta = v.AsDocument().Find("$meta");
      if (meta == nullptr || v.AsDocument().size() != 1) {
        return MongoError(17312, StrCat("Invalid $sort key: ", v.ToJson()));
      }
      if (meta->type() != BsonType::kString ||
          (meta->AsString() != "textScore" && meta->AsString() != "randVal" &&
           meta->AsString() != "searchScore" && meta->AsString() != "geoNearDistance")) {
        return MongoError(31138, StrCat("Illegal $meta sort: ", v.ToJson()));
      }
      f.ascending = meta->AsString() == "geoNearDistance";
      f.meta = meta->AsString();
      f.parts.clear();
      p.fields_.push_back(std::move(f));
      continue;
    }
    if (!v.IsNumber()) {
      return MongoError(15974, "Illegal key in $sort specification: " + v.ToJson());
    }
    double d = v.ToDouble();
    if (d != 1 && d != -1) {
      return MongoError(15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
    }
    f.ascending = d == 1;
    p.fields_.push_back(std::move(f));
  }
  return p;
}

SortPattern SortPattern::WholeValue(bool ascending) {
  SortPattern p;
  p.fields_.push_back(Field{{}, ascending});
  return p;
}

SortPattern::Key SortPattern::KeyOf(const Value& v, const bson::Collator* collator) const {
  Key key;
  key.reserve(fields_.size());
  for (const Field& f : fields_) {
    if (f.parts.empty()) {
      key.push_back(v);
      continue;
    }
    std::vector<const Value*> values;
    bool empty_array = false;
    CollectValues(v, f.parts, 0, &values, &empty_array);
    if (values.empty()) {
      key.push_back(empty_array ? Value(Undefined{}) : Value(nullptr));
      continue;
    }
    const Value* best = values[0];
    for (const Value* x : values) {
      int c = internal::Compare(*x, *best, collator);
      if (f.ascending ? c < 0 : c > 0) best = x;
    }
    key.push_back(*best);
  }
  return key;
}

int SortPattern::Compare(const Key& a, const Key& b, const bson::Collator* collator) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    int c = internal::Compare(a[i], b[i], collator);
    if (c != 0) return fields_[i].ascending ? c : -c;
  }
  return 0;
}

}  // namespace micromongo::pipeline
