#include "service/capped.h"

#include "document/status.h"

namespace micromongo::service {

absl::Status CheckFitsCap(const Namespace& ns, int64_t bytes) {
  if (bytes > ns.coll->capped_size()) return MongoError(kBadValue, "object to insert exceeds cappedMaxSize");
  return absl::OkStatus();
}

absl::Status MakeRoom(const Namespace& ns, storage::WriteUnit* unit, int64_t bytes) {
  storage::Collection* coll = ns.coll.get();
  int64_t count = coll->count() + 1, size = coll->data_bytes() + bytes;
  auto fits = [&] {
    return size <= coll->capped_size() && (coll->capped_max() == 0 || count <= coll->capped_max());
  };
  if (fits()) return absl::OkStatus();
  auto it = ns.db->ScanNatural(*coll);
  for (it->SeekToFirst(); it->Valid() && !fits(); it->Next()) {
    bson::DocView old(it->value());
    if (auto s = ns.WriteIndexEntries(unit, &old, nullptr); !s.ok()) return s;
    if (auto s = unit->DeleteRecord(coll, it->key(), it->value(), it->seq()); !s.ok()) return s;
    size -= static_cast<int64_t>(it->value().size());
    --count;
  }
  return it->status();
}

}  // namespace micromongo::service
