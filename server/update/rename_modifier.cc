// $rename: moves a field's value to a new path (at any depth, not through arrays).

#include "document/builder.h"
#include "document/status.h"
#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
namespace {

// True if walking `path` in `doc` meets an array before its end.
bool CrossesArray(Document* doc, const query::FieldPath& path) {
  const Document* cur = doc;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const Value* v = cur->Find(path.part(i));
    if (v == nullptr) return false;
    if (v->type() == BsonType::kArray) return true;
    if (v->type() != BsonType::kDocument) return false;
    cur = &v->AsDocument();
  }
  return false;
}

class RenameModifier : public Modifier {
 public:
  explicit RenameModifier(std::string to) : to_(to) {}
  absl::Status Apply(Document* doc, const query::FieldPath& path,
                     const ApplyContext&) const override {
    if (CrossesArray(doc, path) || CrossesArray(doc, to_)) {
      return MongoError(kBadValue, StrCat("The source or destination field for $rename cannot be "
                                          "an array element: ", path.dotted(), " -> ", to_.dotted()));
    }
    auto from = Resolve(doc, path, /*create=*/false);
    if (!from.ok()) return from.status();
    if (from->value == nullptr) return absl::OkStatus();
    Value moved = std::move(*from->value);
    from->Remove();
    auto dest = Resolve(doc, to_, /*create=*/true);
    if (!dest.ok()) return dest.status();
    if (dest->value != nullptr) dest->Remove();
    dest->Assign(std::move(moved));
    return absl::OkStatus();
  }
  const query::FieldPath* destination() const override { return &to_; }

 private:
  query::FieldPath to_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Modifier>> MakeRename(std::string_view field,
                                                     const bson::ValueView& v) {
  if (v.type != BsonType::kString) {
    return MongoError(kBadValue, StrCat("The 'to' field for $rename must be a string: ", field));
  }
  std::string_view to = v.String();
  if (to.empty() || to.front() == '.' || to.back() == '.' || to.find("..") != to.npos) {
    return MongoError(kEmptyFieldName, StrCat("The update path '", to, "' contains an empty field name"));
  }
  if (to == field) {
    return MongoError(kBadValue, StrCat("The source and target field for $rename must differ: ", field));
  }
  if (field == "_id" || to == "_id") {
    return MongoError(kImmutableField, "Performing an update on the path '_id' would modify the "
                                       "immutable field '_id'");
  }
  if (to.find('$') != to.npos) {
    return MongoError(kBadValue, StrCat("The destination field for $rename may not be dynamic: ", to));
  }
  return std::make_unique<RenameModifier>(std::string(to));
}

}  // namespace micromongo::update
