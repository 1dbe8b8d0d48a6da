#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "micromongo/document.h"

namespace micromongo {

struct InsertOneResult {
  Value inserted_id;
};

struct InsertManyResult {
  int64_t inserted_count = 0;
  // Index in the request -> _id.
  std::map<size_t, Value> inserted_ids;
};

struct UpdateResult {
  int64_t matched_count = 0;
  // Documents that really changed.
  int64_t modified_count = 0;
  // The _id of the document an upsert inserted.
  std::optional<Value> upserted_id;
};

struct DeleteResult {
  int64_t deleted_count = 0;
};

}  // namespace micromongo
