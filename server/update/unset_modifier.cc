// $unset: removes a field (sets an array element to null); missing paths are no-ops.

#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
namespace {

class UnsetModifier : public Modifier {
 public:
  absl::Status Apply(Document* doc, const query::FieldPath& path,
                     const ApplyContext&) const override {
    auto slot = Resolve(doc, path, /*create=*/false);
    if (!slot.ok()) return slot.status();
    slot->Remove();
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Modifier>> MakeUnset(std::string_view, const bson::ValueView&) {
  return std::make_unique<UnsetModifier>();
}

}  // namespace micromongo::update
