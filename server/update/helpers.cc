// Array access shared by update operators.

#include <cmath>
#include <limits>

#include "document/builder.h"
#include "document/compare.h"
#include "document/value_ops.h"
#include "document/status.h"
#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
absl::StatusOr<Array*> ArrayAt(Document* doc, const query::FieldPath& path, bool create,
                               std::string_view op) {
  auto slot = Resolve(doc, path, create);
  if (!slot.ok()) return slot.status();
  if (slot->value == nullptr) {
    if (!create || (slot->doc == nullptr && slot->array == nullptr)) return nullptr;
    slot->Assign(Array{});
  }
  if (auto* a = std::get_if<Array>(&slot->value->variant())) return a;
  return MongoError(kBadValue, StrCat("The field '", path.dotted(), "' must be an array but is of type ",
                                      BsonTypeName(slot->value->type()), " in ", op));
}

}  // namespace micromongo::update
