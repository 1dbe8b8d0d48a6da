// $inc: adds to a number; a missing field is set to the increment.

#include <limits>

#include "document/status.h"
#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
namespace {

class IncModifier : public Modifier {
 public:
  explicit IncModifier(Value v) : delta_(std::move(v)) {}
  absl::Status Apply(Document* doc, const query::FieldPath& path) const override {
    auto slot = Resolve(doc, path, /*create=*/true);
    if (!slot.ok()) return slot.status();
    if (slot->value == nullptr) {
      slot->Assign(delta_);
      return absl::OkStatus();
    }
    if (!slot->value->IsNumber()) {
      return MongoError(kTypeMismatch,
                        StrCat("Cannot apply $inc to a value of non-numeric type. The field '",
                               path.dotted(), "' has non-numeric type ",
                               BsonTypeName(slot->value->type())));
    }
    *slot->value = AddNumbers(*slot->value, delta_);
    return absl::OkStatus();
  }

 private:
  Value delta_;
};

}  // namespace

Value AddNumbers(const Value& a, const Value& b) {
  BsonType ta = a.type(), tb = b.type();
  if (ta == BsonType::kDecimal128 || tb == BsonType::kDecimal128) {
    // Decimal arithmetic through long double: exact for the integers and short
    // fractions real data holds; full decimal128 arithmetic is future work.
    auto to_ld = [](const Value& v) -> long double {
      if (auto d = v.GetIf<Decimal128>()) return std::stold(d->ToString());
      return v.ToDouble();
    };
    char text[64];
    std::snprintf(text, sizeof(text), "%.17Lg", to_ld(a) + to_ld(b));
    return Decimal128::FromString(text);
  }
  if (ta == BsonType::kDouble || tb == BsonType::kDouble) return a.ToDouble() + b.ToDouble();
  int64_t x = a.ToInt64(), y = b.ToInt64(), sum;
  if (__builtin_add_overflow(x, y, &sum)) {
    return static_cast<double>(x) + static_cast<double>(y);
  }
  if (ta == BsonType::kInt32 && tb == BsonType::kInt32 &&
      sum >= std::numeric_limits<int32_t>::min() && sum <= std::numeric_limits<int32_t>::max()) {
    return static_cast<int32_t>(sum);
  }
  return sum;
}

absl::StatusOr<std::unique_ptr<Modifier>> MakeInc(std::string_view field, Value operand) {
  if (!operand.IsNumber()) {
    return MongoError(kTypeMismatch, StrCat("Cannot increment with non-numeric argument: {",
                                            field, ": ", operand.ToJson(), "}"));
  }
  return std::make_unique<IncModifier>(std::move(operand));
}

}  // namespace micromongo::update
