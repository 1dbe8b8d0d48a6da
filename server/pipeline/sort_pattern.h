#pragma once

// Sort patterns over Value trees ({a: 1, "b.c": -1}), as $sortArray, $top/$bottom and
// $setWindowFields sort values: MongoDB's sort keys (an array field sorts by its smallest
// element ascending and its largest descending, an empty array before null, a missing field
// as null) compared in MongoDB's order under the request's collation.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "document/compare.h"
#include "micromongo/document.h"

namespace micromongo::pipeline {

class SortPattern {
 public:
  // {path: 1 | -1, ...}. Errors: 15975 for other directions, 15976 for an empty pattern,
  // 15998/16410 for bad field names. ({path: {$meta: "textScore"}} is accepted and sorts by
  // the document's text score when one is given.)
  static absl::StatusOr<SortPattern> Parse(const Document& spec);
  // A pattern sorting whole values ascending (1) or descending (-1).
  static SortPattern WholeValue(bool ascending);

  using Key = std::vector<Value>;
  // The key of a value: fields of documents; other values have every field missing (unless
  // the pattern sorts whole values).
  Key KeyOf(const Value& v, const bson::Collator* collator = nullptr) const;
  // <0, 0, >0.
  int Compare(const Key& a, const Key& b, const bson::Collator* collator) const;

  size_t size() const { return fields_.size(); }
  const std::vector<std::string>& path(size_t i) const { return fields_[i].parts; }
  bool ascending(size_t i) const { return fields_[i].ascending; }
  // For {$meta: "<name>"} fields, the metadata name (empty otherwise).
  const std::string& meta(size_t i) const { return fields_[i].meta; }

 private:
  struct Field {
    std::vector<std::string> parts;  // empty: the whole value
    bool ascending = true;
    std::string meta;
  };
  std::vector<Field> fields_;
};

}  // namespace micromongo::pipeline
