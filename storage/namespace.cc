#include "storage/namespace.h"

#include "document/status.h"

namespace micromongo::storage {

absl::Status ValidateDatabaseName(std::string_view name) {
  if (name.empty()) return MongoError(kInvalidNamespace, "database name cannot be empty");
  if (name.size() >= 64) {
    return MongoError(kInvalidNamespace,
                      StrCat("database name is too long (", name.size(), " bytes, max 63)"));
  }
  for (char c : name) {
    if (std::string_view("/\\. \"$*<>:|?").find(c) != std::string_view::npos || c == '\0') {
      return MongoError(kInvalidNamespace,
                        StrCat("database name '", name, "' contains an invalid character"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCollectionName(std::string_view db, std::string_view name) {
  if (name.empty()) return MongoError(kInvalidNamespace, "collection name cannot be empty");
  if (name.find('\0') != std::string_view::npos) {
    return MongoError(kInvalidNamespace, "collection names cannot contain the null character");
  }
  if (name.find('$') != std::string_view::npos) {
    return MongoError(kInvalidNamespace,
                      StrCat("invalid collection name '", name, "': '$' is not allowed"));
  }
  if (name.starts_with("system.")) {
    return MongoError(kInvalidNamespace,
                      StrCat("invalid collection name '", name, "': system.* is reserved"));
  }
  if (db.size() + 1 + name.size() > 255) {
    return MongoError(kInvalidNamespace,
                      StrCat("fully qualified namespace ", db, ".", name.substr(0, 20),
                             "... is too long (max 255 bytes)"));
  }
  return absl::OkStatus();
}

}  // namespace micromongo::storage
