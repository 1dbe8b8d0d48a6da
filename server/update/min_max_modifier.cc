// $min and $max: replace the field if the operand sorts before (after) it in BSON order.

#include "document/builder.h"
#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
namespace {

class MinMaxModifier : public Modifier {
 public:
  MinMaxModifier(Value v, bool max) : value_(std::move(v)), max_(max) {}
  absl::Status Apply(Document* doc, const query::FieldPath& path,
                     const ApplyContext& context) const override {
    auto slot = Resolve(doc, path, /*create=*/true);
    if (!slot.ok()) return slot.status();
    if (slot->value == nullptr) {
      slot->Assign(value_);
      return absl::OkStatus();
    }
    int c = CompareTreeValues(value_, *slot->value, context.collator);
    if (max_ ? c > 0 : c < 0) *slot->value = value_;
    return absl::OkStatus();
  }

 private:
  Value value_;
  bool max_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Modifier>> MakeMin(std::string_view, const bson::ValueView& v) {
  return std::make_unique<MinMaxModifier>(bson::ToValue(v), false);
}
absl::StatusOr<std::unique_ptr<Modifier>> MakeMax(std::string_view, const bson::ValueView& v) {
  return std::make_unique<MinMaxModifier>(bson::ToValue(v), true);
}

}  // namespace micromongo::update
