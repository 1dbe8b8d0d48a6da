#include "index/index_key.h"

#include <algorithm>
#include <set>

#include "document/builder.h"
#include "document/status.h"
#include "query/path_values.h"
#include "storage/key_codec.h"

namespace micromongo::index {
using bson::DocView;
using bson::ValueView;

std::string IndexSpec::DefaultName(DocView keys) {
  std::string name;
  for (const bson::ElementView& e : keys) {
    if (!name.empty()) name += "_";
    name += std::string(e.key) + "_";
    if (e.value.type == BsonType::kString) {
      name += std::string(e.value.String());
    } else {
      double d = e.value.AsDouble();
      name += d == static_cast<int64_t>(d) ? std::to_string(static_cast<int64_t>(d)) : std::to_string(d);
    }
  }
  return name;
}

absl::StatusOr<std::string> IndexSpec::Build(DocView keys, DocView options) {
  if (keys.empty()) return MongoError(kCannotCreateIndex, "Index keys cannot be empty.");
  for (const bson::ElementView& e : keys) {
    if (e.key.empty() || e.key.front() == '.' || e.key.back() == '.' ||
        e.key.find("..") != std::string_view::npos) {
      return MongoError(kCannotCreateIndex, StrCat("Index key contains an illegal field name: '", e.key, "'"));
    }
    if (e.value.type == BsonType::kString) {
      return MongoError(kNotImplemented, StrCat("index type '", e.value.String(), "' is not supported yet"));
    }
    if (!e.value.IsNumber() || e.value.AsDouble() == 0) {
      return MongoError(kCannotCreateIndex, StrCat("Values in the index key pattern must be non-zero "
                                                   "numbers; '", e.key, "' is not"));
    }
  }
  bson::Builder spec;
  spec.AppendInt32("v", 2);
  spec.AppendDocument("key", keys);
  std::string name = DefaultName(keys);
  bson::ValueView name_v;
  if (options.Find("name", &name_v)) {
    if (name_v.type != BsonType::kString || name_v.String().empty()) {
      return MongoError(kBadValue, "index name must be a non-empty string");
    }
    name = std::string(name_v.String());
  }
  if (name == "_id_") return MongoError(kBadValue, "the index name _id_ is reserved for the _id index");
  spec.AppendString("name", name);
  for (const bson::ElementView& e : options) {
    if (e.key == "name") continue;
    if (e.key == "unique" || e.key == "sparse") {
      if (e.value.type != BsonType::kBool) {
        return MongoError(kTypeMismatch, StrCat("The field '", e.key, "' must be a boolean"));
      }
      if (e.value.Bool()) spec.AppendBool(e.key, true);
    } else if (e.key == "partialFilterExpression") {
      if (e.value.type != BsonType::kDocument) {
        return MongoError(kTypeMismatch, "partialFilterExpression must be an object");
      }
      auto m = query::Matcher::Parse(std::string(e.value.Doc().bytes()));
      if (!m.ok()) return m.status();
      spec.AppendView(e.key, e.value);
    } else if (e.key == "v" || e.key == "background" || e.key == "hidden" || e.key == "comment") {
      // Accepted as MongoDB does; they change nothing here.
    } else {
      return MongoError(kBadValue, StrCat("The field '", e.key, "' is not valid for an index specification"));
    }
  }
  return std::move(spec).Finish();
}

absl::StatusOr<IndexSpec> IndexSpec::Parse(DocView spec) {
  IndexSpec s;
  ValueView key, name, flag, partial;
  if (!spec.Find("key", &key) || key.type != BsonType::kDocument || !spec.Find("name", &name)) {
    return MongoError(kInternalError, "malformed stored index definition");
  }
  s.name_ = std::string(name.String());
  s.key_pattern_ = std::string(key.Doc().bytes());
  for (const bson::ElementView& e : key.Doc()) {
    s.fields_.push_back({query::FieldPath(e.key), e.value.IsNumber() && e.value.AsDouble() < 0});
  }
  s.unique_ = spec.Find("unique", &flag) && flag.type == BsonType::kBool && flag.Bool();
  s.sparse_ = spec.Find("sparse", &flag) && flag.type == BsonType::kBool && flag.Bool();
  if (spec.Find("partialFilterExpression", &partial)) {
    auto m = query::Matcher::Parse(std::string(partial.Doc().bytes()));
    if (!m.ok()) return m.status();
    s.partial_ = *std::move(m);
  }
  return s;
}

absl::Status IndexSpec::Keys(DocView doc, std::vector<IndexKey>* out) const {
  out->clear();
  if (partial_ != nullptr && !partial_->Matches(doc)) return absl::OkStatus();
  // The values of each field (an array contributes its elements: multikey).
  std::vector<std::vector<ValueView>> per_field(fields_.size());
  bool any_present = false;
  int array_fields = 0;
  for (size_t i = 0; i < fields_.size(); ++i) {
    auto add = [&](const ValueView& v) { per_field[i].push_back(v); };
    query::ForEachValueAtPath(doc, fields_[i].path, add);
    if (per_field[i].empty()) {
      per_field[i].push_back(bson::kNullValue);
    } else {
      any_present = true;
    }
    if (per_field[i].size() > 1) ++array_fields;
  }
  if (sparse_ && !any_present) return absl::OkStatus();
  if (array_fields > 1) {
    return MongoError(kCannotIndexParallelArrays,
                      StrCat("cannot index parallel arrays in index ", name_));
  }
  // At most one field has several values: one key per value of it.
  size_t n = 1;
  for (const auto& values : per_field) n = std::max(n, values.size());
  std::set<std::string> seen;
  for (size_t k = 0; k < n; ++k) {
    IndexKey key;
    for (size_t i = 0; i < fields_.size(); ++i) {
      const ValueView& v = per_field[i].size() > 1 ? per_field[i][k] : per_field[i][0];
      size_t start = key.encoded.size();
      bson::AppendKeyString(v, &key.encoded);
      if (fields_[i].descending) {
        for (size_t b = start; b < key.encoded.size(); ++b) key.encoded[b] = static_cast<char>(~key.encoded[b]);
      }
      key.values.push_back(v);
    }
    if (seen.insert(key.encoded).second) out->push_back(std::move(key));
  }
  return absl::OkStatus();
}

std::string IndexSpec::KeyValueDocument(const IndexKey& key) const {
  bson::Builder b;
  size_t i = 0;
  for (const bson::ElementView& e : key_pattern()) b.AppendView(e.key, key.values[i++]);
  return std::move(b).Finish();
}

}  // namespace micromongo::index
