#pragma once

// Capped collections' write rule: an insert that takes a capped collection past its size
// or document cap removes the oldest documents (in insertion order) in the same commit, as
// MongoDB's capped deletes do. Internal to the service layer.

#include <cstdint>

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

}  // namespace micromongo::service
