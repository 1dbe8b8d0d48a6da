#pragma once

// Navigation of a document tree along a field path for update operators.

#include <string>

#include "absl/status/statusor.h"
#include "micromongo/document.h"
#include "query/field_path.h"

namespace micromongo::update {

// Where a path's last component lives: a field of a document or an element of an array.
struct Slot {
  Document* doc = nullptr;  // exactly one of doc / array is set
  Array* array = nullptr;
  std::string key;          // for doc
  size_t index = 0;         // for array
  Value* value = nullptr;   // the current value, or nullptr if absent

  // Stores `v` at the slot (appending the field, or padding the array with nulls).
  void Assign(Value v);
  // Removes the field (document) or sets the element to null (array), as $unset does.
  void Remove();
};

// Resolves `path` in `root`. With `create`, missing intermediate documents are created
// (and arrays padded) as $set does; a path through a scalar fails with 28 (PathNotViable).
// Without `create`, a path that leads nowhere yields a Slot whose doc and array are null.
absl::StatusOr<Slot> Resolve(Document* root, const query::FieldPath& path, bool create);

}  // namespace micromongo::update
