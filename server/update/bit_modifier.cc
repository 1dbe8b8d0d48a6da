// $bit: and / or / xor on int32 and int64 fields.

#include "document/builder.h"
#include "document/status.h"
#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
namespace {

class BitModifier : public Modifier {
 public:
  std::vector<std::pair<char, Value>> ops;  // 'a'nd, 'o'r, 'x'or

  absl::Status Apply(Document* doc, const query::FieldPath& path,
                     const ApplyContext&) const override {
    auto slot = Resolve(doc, path, /*create=*/true);
    if (!slot.ok()) return slot.status();
    Value current = slot->value != nullptr ? *slot->value : Value(0);
    if (current.type() != BsonType::kInt32 && current.type() != BsonType::kInt64) {
      return MongoError(kBadValue, StrCat("Cannot apply $bit to a value of non-integral type. The "
                                          "field '", path.dotted(), "' has type ",
                                          BsonTypeName(current.type())));
    }
    bool wide = current.type() == BsonType::kInt64;
    int64_t x = current.ToInt64();
    for (const auto& [op, v] : ops) {
      wide = wide || v.type() == BsonType::kInt64;
      int64_t y = v.ToInt64();
      x = op == 'a' ? (x & y) : op == 'o' ? (x | y) : (x ^ y);
    }
    slot->Assign(wide ? Value(x) : Value(static_cast<int32_t>(x)));
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Modifier>> MakeBit(std::string_view field, const bson::ValueView& v) {
  if (v.type != BsonType::kDocument || v.Doc().empty()) {
    return MongoError(kBadValue, StrCat("The $bit modifier is not compatible with a ",
                                        BsonTypeName(v.type), ". You must pass in an embedded "
                                        "document: {$bit: {field: {and/or/xor: #}}"));
  }
  auto m = std::make_unique<BitModifier>();
  for (const bson::ElementView& e : v.Doc()) {
    if (e.key != "and" && e.key != "or" && e.key != "xor") {
      return MongoError(kBadValue, StrCat("The $bit modifier only supports 'and', 'or', and 'xor', "
                                          "not '", e.key, "'"));
    }
    if (e.value.type != BsonType::kInt32 && e.value.type != BsonType::kInt64) {
      return MongoError(kBadValue, StrCat("The $bit modifier field must be an Integer(32/64 bit); "
                                          "a '", BsonTypeName(e.value.type), "' is not supported "
                                          "here: ", field));
    }
    m->ops.emplace_back(e.key[0], bson::ToValue(e.value));
  }
  return std::unique_ptr<Modifier>(std::move(m));
}

}  // namespace micromongo::update
