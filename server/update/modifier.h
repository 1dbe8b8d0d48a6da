#pragma once

// One update operator applied to one path ({$inc: {a: 1}} yields an IncModifier for "a").
// Each operator lives in its own file; Update (update.h) parses and drives them.

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "document/compare.h"
#include "document/value_ops.h"
#include "micromongo/document.h"
#include "query/field_path.h"

namespace micromongo::update {

struct ApplyContext {
  // The update builds a document an upsert inserts ($setOnInsert applies only then).
  bool is_insert = false;
  // The command's let variables, for update pipelines.
  const std::map<std::string, Value, std::less<>>* let = nullptr;
  // The request's collation: string equality of $addToSet, $pull and $pullAll, ordering
  // of $min and $max, and comparisons in update pipelines (null: binary).
  const bson::Collator* collator = nullptr;
};

class Modifier {
 public:
  virtual ~Modifier() = default;
  // Applies the operator at `path` (already free of positional components) of `doc`.
  virtual absl::Status Apply(Document* doc, const query::FieldPath& path,
                             const ApplyContext& context) const = 0;
  // $rename also writes a second path, which must not conflict with other updates.
  virtual const query::FieldPath* destination() const { return nullptr; }
};

// Factories: validate the operand (errors carry MongoDB's codes) and build the modifier.
using ModifierFactory = absl::StatusOr<std::unique_ptr<Modifier>> (*)(std::string_view field,
                                                                      const bson::ValueView& operand);
absl::StatusOr<std::unique_ptr<Modifier>> MakeSet(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakeSetOnInsert(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakeUnset(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakeInc(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakeMul(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakeMin(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakeMax(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakeRename(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakeCurrentDate(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakePush(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakeAddToSet(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakePop(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakePull(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakePullAll(std::string_view, const bson::ValueView&);
absl::StatusOr<std::unique_ptr<Modifier>> MakeBit(std::string_view, const bson::ValueView&);

// Helpers shared by operators (arithmetic and ordering: document/value_ops.h).
using bson::AddNumbers;
using bson::MultiplyNumbers;
inline int CompareTreeValues(const Value& a, const Value& b,
                             const bson::Collator* collator = nullptr) {
  return bson::CompareTree(a, b, collator);
}
inline bool TreeValuesEqual(const Value& a, const Value& b,
                            const bson::Collator* collator = nullptr) {
  return bson::TreeEqual(a, b, collator);
}
// The array at `path`, created empty if missing. Error 2 if something else is there.
absl::StatusOr<Array*> ArrayAt(Document* doc, const query::FieldPath& path, bool create,
                               std::string_view op);

}  // namespace micromongo::update
