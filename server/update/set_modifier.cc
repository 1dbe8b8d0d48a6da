// $set and $setOnInsert: write a value, creating the path as needed.

#include "document/builder.h"
#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
namespace {

class SetModifier : public Modifier {
 public:
  SetModifier(Value v, bool only_on_insert) : value_(std::move(v)), only_on_insert_(only_on_insert) {}
  absl::Status Apply(Document* doc, const query::FieldPath& path,
                     const ApplyContext& context) const override {
    if (only_on_insert_ && !context.is_insert) return absl::OkStatus();
    auto slot = Resolve(doc, path, /*create=*/true);
    if (!slot.ok()) return slot.status();
    slot->Assign(value_);
    return absl::OkStatus();
  }

 private:
  Value value_;
  bool only_on_insert_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Modifier>> MakeSet(std::string_view, const bson::ValueView& v) {
  return std::make_unique<SetModifier>(bson::ToValue(v), false);
}

absl::StatusOr<std::unique_ptr<Modifier>> MakeSetOnInsert(std::string_view,
                                                          const bson::ValueView& v) {
  return std::make_unique<SetModifier>(bson::ToValue(v), true);
}

}  // namespace micromongo::update
