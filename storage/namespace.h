#pragma once

// MongoDB's naming rules for databases and collections.

#include <string_view>

#include "absl/status/status.h"

namespace micromongo::storage {

// Non-empty, under 64 bytes, none of / \ . " $ * < > : | ? space or NUL (code 73).
absl::Status ValidateDatabaseName(std::string_view name);
// Non-empty, no '$' or NUL, not "system.*", and "<db>.<coll>" at most 255 bytes (code 73).
absl::Status ValidateCollectionName(std::string_view db, std::string_view name);

}  // namespace micromongo::storage
