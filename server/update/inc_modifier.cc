// $inc and $mul: arithmetic on numbers. A missing field is set to the increment ($inc) or
// to zero of the multiplier's type ($mul).

#include "document/builder.h"
#include "document/status.h"
#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
namespace {

class ArithmeticModifier : public Modifier {
 public:
  ArithmeticModifier(Value operand, bool multiply) : operand_(std::move(operand)), multiply_(multiply) {}
  absl::Status Apply(Document* doc, const query::FieldPath& path,
                     const ApplyContext&) const override {
    auto slot = Resolve(doc, path, /*create=*/true);
    if (!slot.ok()) return slot.status();
    if (slot->value == nullptr) {
      slot->Assign(multiply_ ? MultiplyNumbers(Value(0), operand_) : operand_);
      return absl::OkStatus();
    }
    if (!slot->value->IsNumber()) {
      return MongoError(kTypeMismatch,
                        StrCat("Cannot apply ", multiply_ ? "$mul" : "$inc",
                               " to a value of non-numeric type. The field '", path.dotted(),
                               "' has non-numeric type ", BsonTypeName(slot->value->type())));
    }
    *slot->value = multiply_ ? MultiplyNumbers(*slot->value, operand_)
                             : AddNumbers(*slot->value, operand_);
    return absl::OkStatus();
  }

 private:
  Value operand_;
  bool multiply_;
};

absl::StatusOr<std::unique_ptr<Modifier>> MakeIncOrMul(std::string_view field, const bson::ValueView& v,
                                               bool multiply) {
  Value operand = bson::ToValue(v);
  if (!operand.IsNumber()) {
    return MongoError(kTypeMismatch,
                      StrCat("Cannot ", multiply ? "multiply" : "increment",
                             " with non-numeric argument: {", field, ": ", operand.ToJson(), "}"));
  }
  return std::make_unique<ArithmeticModifier>(std::move(operand), multiply);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Modifier>> MakeInc(std::string_view f, const bson::ValueView& v) {
  return MakeIncOrMul(f, v, false);
}
absl::StatusOr<std::unique_ptr<Modifier>> MakeMul(std::string_view f, const bson::ValueView& v) {
  return MakeIncOrMul(f, v, true);
}

}  // namespace micromongo::update
