#pragma once

// Secondary index definitions and their keys: MongoDB's index document ({v, key, name,
// unique, sparse, partialFilterExpression}) parsed once, and the index keys of a document
// (one per array element for a multikey index), encoded so that byte order is the index's
// order (descending fields inverted).

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "query/field_path.h"
#include "query/matcher.h"

namespace micromongo::index {

struct IndexKey {
  std::string encoded;                  // the key string of the values, in index order
  std::vector<bson::ValueView> values;  // one per key field; point into the document
};

class IndexSpec {
 public:
  // Validates createIndex's keys and options and returns the index document to store.
  // Errors: 67 (CannotCreateIndex) for bad key patterns, 2 for bad options, 238 for index
  // types not supported (text, 2dsphere, 2d, hashed).
  static absl::StatusOr<std::string> Build(bson::DocView keys, bson::DocView options);
  // MongoDB's default name: "a_1_b_-1".
  static std::string DefaultName(bson::DocView keys);

  // Parses a stored index document.
  static absl::StatusOr<IndexSpec> Parse(bson::DocView spec);

  const std::string& name() const { return name_; }
  bool unique() const { return unique_; }
  bool partial() const { return partial_ != nullptr; }
  // The first key field and whether it is descending (what an equality lookup can use).
  const query::FieldPath& first_field() const { return fields_.front().path; }
  bool first_descending() const { return fields_.front().descending; }
  bson::DocView key_pattern() const { return bson::DocView(key_pattern_); }

  // The distinct keys of `doc` (none for a sparse index when every key field is missing,
  // or a partial index whose filter the document does not match). Missing fields are null.
  // Error: 171 (CannotIndexParallelArrays) when two key fields are both arrays.
  absl::Status Keys(bson::DocView doc, std::vector<IndexKey>* out) const;

  // {field: value, ...} of a key: the keyValue of a DuplicateKey error.
  std::string KeyValueDocument(const IndexKey& key) const;

 private:
  struct Field {
    query::FieldPath path;
    bool descending;
  };
  std::string name_;
  std::string key_pattern_;
  std::vector<Field> fields_;
  bool unique_ = false;
  bool sparse_ = false;
  std::shared_ptr<query::Matcher> partial_;
};

}  // namespace micromongo::index
