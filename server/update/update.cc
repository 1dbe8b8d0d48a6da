#include "update/update.h"

#include "document/builder.h"
#include "document/compare.h"
#include "document/status.h"

namespace micromongo::update {
namespace {

using Factory = absl::StatusOr<std::unique_ptr<Modifier>> (*)(std::string_view, Value);

Factory FindFactory(std::string_view op) {
  if (op == "$set") return MakeSet;
  if (op == "$unset") return MakeUnset;
  if (op == "$inc") return MakeInc;
  return nullptr;
}

bool IsKnownButUnsupported(std::string_view op) {
  static constexpr std::string_view kLater[] = {
      "$mul", "$min", "$max", "$rename", "$currentDate", "$setOnInsert", "$push",
      "$addToSet", "$pop", "$pull", "$pullAll", "$bit"};
  for (auto k : kLater) {
    if (op == k) return true;
  }
  return false;
}

// True if one path is a prefix of (or equal to) the other, component-wise.
bool Conflicts(const query::FieldPath& a, const query::FieldPath& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a.part(i) != b.part(i)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Update>> Update::Parse(bson::DocView update, bool replace) {
  auto u = std::make_unique<Update>();
  bool has_operators = false, has_fields = false;
  for (const bson::ElementView& e : update) {
    (!e.key.empty() && e.key[0] == '$' ? has_operators : has_fields) = true;
  }
  if (replace) {
    if (has_operators) {
      return MongoError(kBadValue, "replacement document must not contain update operators");
    }
    u->replacement_ = bson::Decode(update);
    return u;
  }
  if (!has_operators) {
    return MongoError(kFailedToParse, "Update document requires atomic operators");
  }
  for (const bson::ElementView& e : update) {
    if (e.key.empty() || e.key[0] != '$') {
      return MongoError(kFailedToParse,
                        StrCat("Unknown modifier: ", e.key,
                               ". Expected a valid update modifier or pipeline-style update"));
    }
    Factory factory = FindFactory(e.key);
    if (factory == nullptr) {
      if (IsKnownButUnsupported(e.key)) {
        return MongoError(kNotImplemented,
                          StrCat("update operator ", e.key, " is not supported by this server yet"));
      }
      return MongoError(kFailedToParse, StrCat("Unknown modifier: ", e.key));
    }
    if (e.value.type != BsonType::kDocument) {
      return MongoError(kFailedToParse,
                        StrCat("Modifiers operate on fields but we found type ",
                               BsonTypeName(e.value.type), " instead. For example: {$mod: "
                               "{<field>: ...}} not {", e.key, ": ...}"));
    }
    for (const bson::ElementView& f : e.value.Doc()) {
      query::FieldPath path(f.key);
      for (size_t i = 0; i < path.size(); ++i) {
        if (path.part(i).empty()) {
          return MongoError(kEmptyFieldName,
                            StrCat("The update path '", f.key, "' contains an empty field name, "
                                   "which is not allowed."));
        }
        if (path.part(i)[0] == '$') {
          return MongoError(kNotImplemented,
                            StrCat("positional update paths ('", f.key,
                                   "') are not supported by this server yet"));
        }
      }
      for (const Op& other : u->ops_) {
        if (Conflicts(other.path, path)) {
          return MongoError(kConflictingUpdateOperators,
                            StrCat("Updating the path '", f.key, "' would create a conflict at '",
                                   other.path.dotted(), "'"));
        }
      }
      auto modifier = factory(f.key, bson::ToValue(f.value));
      if (!modifier.ok()) return modifier.status();
      u->ops_.push_back({std::move(path), *std::move(modifier)});
    }
  }
  return u;
}

absl::Status Update::Apply(Document* doc) const {
  const Value* old_id = doc->Find("_id");
  std::optional<Value> id;
  if (old_id != nullptr) id = *old_id;
  if (replacement_) {
    const Value* new_id = replacement_->Find("_id");
    if (id && new_id != nullptr && !(*new_id == *id)) {
      return MongoError(kImmutableField,
                        StrCat("After applying the update, the (immutable) field '_id' was "
                               "found to have been altered to _id: ", new_id->ToJson()));
    }
    *doc = *replacement_;
    if (id && new_id == nullptr) doc->Insert(doc->begin(), {"_id", *id});
    doc->MoveToFront("_id");
    return absl::OkStatus();
  }
  for (const Op& op : ops_) {
    if (auto s = op.modifier->Apply(doc, op.path); !s.ok()) return s;
  }
  const Value* new_id = doc->Find("_id");
  if (id && (new_id == nullptr || !(*new_id == *id))) {
    return MongoError(kImmutableField,
                      "Performing an update on the path '_id' would modify the immutable field "
                      "'_id'");
  }
  return absl::OkStatus();
}

absl::Status ValidateStorable(bson::DocView doc) {
  if (doc.size() > kMaxBsonObjectSize) {
    return MongoError(kBSONObjectTooLarge,
                      StrCat("object to insert too large. size in bytes: ", doc.size(),
                             ", max size: ", kMaxBsonObjectSize));
  }
  for (const bson::ElementView& e : doc) {
    if (!e.key.empty() && e.key[0] == '$') {
      return MongoError(kBadValue,
                        StrCat("Document can't have $ prefixed field names: ", e.key));
    }
    if (e.key == "_id") {
      switch (e.value.type) {
        case BsonType::kArray:
          return MongoError(kBadValue, "The '_id' value cannot be of type array");
        case BsonType::kRegex:
          return MongoError(kBadValue, "The '_id' value cannot be of type regex");
        case BsonType::kUndefined:
          return MongoError(kBadValue, "The '_id' value cannot be of type undefined");
        default:
          break;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace micromongo::update
