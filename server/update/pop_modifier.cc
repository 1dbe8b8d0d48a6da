// $pop: removes the last (1) or first (-1) element of an array.

#include "document/builder.h"
#include "document/status.h"
#include "update/modifier.h"

namespace micromongo::update {
namespace {

class PopModifier : public Modifier {
 public:
  explicit PopModifier(bool first) : first_(first) {}
  absl::Status Apply(Document* doc, const query::FieldPath& path,
                     const ApplyContext&) const override {
    auto array = ArrayAt(doc, path, /*create=*/false, "$pop");
    if (!array.ok()) return array.status();
    if (*array == nullptr || (*array)->empty()) return absl::OkStatus();
    if (first_) {
      (*array)->erase((*array)->begin());
    } else {
      (*array)->pop_back();
    }
    return absl::OkStatus();
  }

 private:
  bool first_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Modifier>> MakePop(std::string_view, const bson::ValueView& v) {
  if (!v.IsNumber() || (v.AsDouble() != 1 && v.AsDouble() != -1)) {
    return MongoError(kFailedToParse, "$pop expects 1 or -1");
  }
  return std::make_unique<PopModifier>(v.AsDouble() < 0);
}

}  // namespace micromongo::update
