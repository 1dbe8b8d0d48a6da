#include "wire/command.h"

#include <cmath>

#include "document/status.h"
#include "micromongo/bson_types.h"

namespace micromongo::wire {
namespace {

// Fields any command may carry. Drivers send the session, read preference, cluster time
// and concerns with every command; a standalone worker with one storage engine has
// nothing to do with them (see README: each write is durable as configured by --sync).
bool IsGenericField(std::string_view key) {
  static constexpr std::string_view kGeneric[] = {
      "$db", "lsid", "$readPreference", "$clusterTime", "writeConcern", "readConcern",
      "apiVersion", "apiStrict", "apiDeprecationErrors", "comment", "maxTimeMS", "txnNumber",
      "autocommit", "startTransaction", "$audit", "$client", "mayBypassWriteBlocking"};
  for (std::string_view g : kGeneric) {
    if (key == g) return true;
  }
  return false;
}

}  // namespace

Command::Command(bson::DocView body, const std::vector<DocumentSequence>* sequences)
    : body_(body), sequences_(sequences) {
  // One pass over the body: handlers ask for dozens of optional fields, and each lookup in
  // the BSON itself walks the elements again (find's parsing spent a fifth of a find by
  // _id there).
  for (const bson::ElementView& e : body_) fields_.emplace_back(e.key, e.value);
  if (!fields_.empty()) {
    name_ = fields_[0].first;
    value_ = fields_[0].second;
  }
}

absl::StatusOr<std::string> Command::Database() const {
  auto db = Get("$db");
  if (!db) return MongoError(40571, "OP_MSG requests require a $db argument");
  if (db->type != BsonType::kString) return WrongType("$db", *db, "string");
  return std::string(db->String());
}

absl::StatusOr<std::string> Command::Collection() const {
  if (value_.type != BsonType::kString) {
    return MongoError(kInvalidNamespace, StrCat("collection name has invalid type ",
                                                BsonTypeName(value_.type)));
  }
  return std::string(value_.String());
}

absl::Status Command::CheckFields(std::initializer_list<std::string_view> known) const {
  for (size_t i = 1; i < fields_.size(); ++i) {
    std::string_view key = fields_[i].first;
    if (IsGenericField(key)) continue;
    bool ok = false;
    for (std::string_view k : known) ok = ok || k == key;
    if (!ok) {
      return MongoError(kUnknownBsonField,
                        StrCat("BSON field '", name_, ".", key, "' is an unknown field."));
    }
  }
  if (sequences_ != nullptr) {
    for (const DocumentSequence& seq : *sequences_) {
      bool ok = false;
      for (std::string_view k : known) ok = ok || k == seq.identifier;
      if (!ok) {
        return MongoError(kUnknownBsonField, StrCat("BSON field '", name_, ".", seq.identifier,
                                                    "' is an unknown field."));
      }
      if (Has(seq.identifier)) {
        return MongoError(kBadValue, StrCat("Duplicate field '", seq.identifier,
                                            "': in the body and in a document sequence"));
      }
    }
  }
  return absl::OkStatus();
}

bool Command::Has(std::string_view key) const { return Get(key).has_value(); }

bool Command::HasFieldOrSequence(std::string_view key) const {
  if (Has(key)) return true;
  if (sequences_ == nullptr) return false;
  for (const DocumentSequence& seq : *sequences_) {
    if (seq.identifier == key) return true;
  }
  return false;
}

std::optional<bson::ValueView> Command::Get(std::string_view key) const {
  for (const auto& [name, value] : fields_) {
    if (name == key) return value;  // the first of duplicates, as DocView::Find
  }
  return std::nullopt;
}

absl::Status Command::WrongType(std::string_view key, const bson::ValueView& v,
                                std::string_view expected) const {
  return MongoError(kTypeMismatch, StrCat("BSON field '", name_, ".", key, "' is the wrong type '",
                                          BsonTypeName(v.type), "', expected type '", expected,
                                          "'"));
}

absl::StatusOr<std::optional<bson::DocView>> Command::Object(std::string_view key) const {
  auto v = Get(key);
  if (!v) return std::optional<bson::DocView>();
  if (v->type != BsonType::kDocument) return WrongType(key, *v, "object");
  return std::optional<bson::DocView>(v->Doc());
}

absl::StatusOr<std::vector<bson::DocView>> Command::Objects(std::string_view key) const {
  std::vector<bson::DocView> out;
  if (sequences_ != nullptr) {
    for (const DocumentSequence& seq : *sequences_) {
      if (seq.identifier == key) return seq.documents;
    }
  }
  auto v = Get(key);
  if (!v) return out;
  if (v->type != BsonType::kArray) return WrongType(key, *v, "array");
  for (const bson::ElementView& e : v->Doc()) {
    if (e.value.type != BsonType::kDocument) {
      return MongoError(kTypeMismatch, StrCat("BSON field '", name_, ".", key,
                                              "' is the wrong type '", BsonTypeName(e.value.type),
                                              "', expected type 'object'"));
    }
    out.push_back(e.value.Doc());
  }
  return out;
}

absl::StatusOr<int64_t> Command::Integer(std::string_view key, int64_t default_value) const {
  auto v = Get(key);
  if (!v) return default_value;
  switch (v->type) {
    case BsonType::kInt32: return v->Int32();
    case BsonType::kInt64: return v->Int64();
    case BsonType::kDouble: {
      double d = v->Double();
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18) {
        return static_cast<int64_t>(d);
      }
      return MongoError(kBadValue, StrCat("BSON field '", name_, ".", key,
                                          "' must be a whole number"));
    }
    default:
      return WrongType(key, *v, "long");
  }
}

absl::StatusOr<bool> Command::Bool(std::string_view key, bool default_value) const {
  auto v = Get(key);
  if (!v) return default_value;
  if (v->type == BsonType::kBool) return v->Bool();
  if (v->IsNumber()) return v->AsDouble() != 0;
  if (v->type == BsonType::kNull || v->type == BsonType::kUndefined) return default_value;
  return WrongType(key, *v, "bool");
}

absl::StatusOr<std::string> Command::String(std::string_view key, std::string default_value) const {
  auto v = Get(key);
  if (!v) return default_value;
  if (v->type != BsonType::kString) return WrongType(key, *v, "string");
  return std::string(v->String());
}

}  // namespace micromongo::wire
