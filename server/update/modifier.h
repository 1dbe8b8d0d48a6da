#pragma once

// One update operator applied to one path ({$inc: {a: 1}} yields an IncModifier for "a").
// Each operator lives in its own file; Update (update.h) parses and drives them.

#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "micromongo/document.h"
#include "query/field_path.h"

namespace micromongo::update {

class Modifier {
 public:
  virtual ~Modifier() = default;
  // Applies the operator at `path` of `doc`.
  virtual absl::Status Apply(Document* doc, const query::FieldPath& path) const = 0;
};

// Factories: validate the operand (errors carry MongoDB's codes) and build the modifier.
absl::StatusOr<std::unique_ptr<Modifier>> MakeSet(std::string_view field, Value operand);
absl::StatusOr<std::unique_ptr<Modifier>> MakeUnset(std::string_view field, Value operand);
absl::StatusOr<std::unique_ptr<Modifier>> MakeInc(std::string_view field, Value operand);

// Numeric helpers shared by arithmetic operators.
// a + b with MongoDB's type promotion (int32 -> int64 on overflow, double if either is).
Value AddNumbers(const Value& a, const Value& b);

}  // namespace micromongo::update
