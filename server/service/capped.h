#pragma once

// Capped collections' write rule: an insert that takes a capped collection past its size
// or document cap removes the oldest documents (in insertion order) in the same commit, as
// MongoDB's capped deletes do. Internal to the service layer.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "service/open_namespace.h"

namespace micromongo::service {

// Before an insert of a `bytes`-byte document into capped `ns.coll`: 2 (BadValue) when it
// alone exceeds the size cap.
absl::Status CheckFitsCap(const Namespace& ns, int64_t bytes);

// After the insert of a `bytes`-byte document was put into `unit` (which holds nothing
// else uncommitted of the collection): deletes from `unit` the oldest committed documents,
// with their index entries, until the collection with the new document is within its caps.
// The change log shows the insert, then a delete per removed document. Caller holds the
// collection's write mutex and commits `unit`.
absl::Status MakeRoom(const Namespace& ns, storage::WriteUnit* unit, int64_t bytes);

// cloneCollectionAsCapped: creates capped collection `to` (options {capped: true, size})
// and inserts `from`'s documents in its natural order (as of the moment the copy starts;
// validators of `to` are bypassed). Errors: 26 when `from` does not exist, 166 when it is
// a view, 48 when `to` exists, create's for `size`.
absl::Status CloneAsCapped(storage::Engine* engine, const std::string& db, const std::string& from,
                           const std::string& to, int64_t size);

// convertToCapped: replaces `coll` by a capped copy of itself (through a temporary
// collection renamed over it); its secondary indexes are not kept, as in MongoDB.
absl::Status ConvertToCapped(storage::Engine* engine, const std::string& db, const std::string& coll, int64_t size);

}  // namespace micromongo::service
