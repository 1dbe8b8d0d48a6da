// $set: writes a value, creating the path as needed.

#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
namespace {

class SetModifier : public Modifier {
 public:
  explicit SetModifier(Value v) : value_(std::move(v)) {}
  absl::Status Apply(Document* doc, const query::FieldPath& path) const override {
    auto slot = Resolve(doc, path, /*create=*/true);
    if (!slot.ok()) return slot.status();
    slot->Assign(value_);
    return absl::OkStatus();
  }

 private:
  Value value_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Modifier>> MakeSet(std::string_view, Value operand) {
  return std::make_unique<SetModifier>(std::move(operand));
}

}  // namespace micromongo::update
