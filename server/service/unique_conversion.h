#pragma once

// collMod's conversion of an index to unique (after prepareUnique): finding the documents
// that share a key, as MongoDB reports them.

#include "absl/status/status.h"
#include "storage/database.h"

namespace micromongo::service {

// OK when no two entries of the non-unique index `def` have the same key; otherwise 359
// (CannotConvertIndexToUnique) with MongoDB's errorResponse field `violations`: one
// {ids: [_id, ...]} per key that several documents share, in index order, at most 8 MiB
// of _ids in all.
absl::Status CheckConvertibleToUnique(storage::Database* db, const storage::Collection& coll,
                                      const storage::IndexDef& def);

}  // namespace micromongo::service
