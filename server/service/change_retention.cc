#include "service/change_retention.h"

#include <cstdio>
#include <ctime>

namespace micromongo::service {

void EnforceChangeRetention(storage::Engine* engine, const ChangeRetention& retention) {
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  int64_t oldest_kept = now - static_cast<int64_t>(retention.max_age.count());
  uint64_t min_time = oldest_kept > 0 ? static_cast<uint64_t>(oldest_kept) << 32 : 0;
  for (const auto& db : engine->OpenDatabases()) {
    auto trimmed = db->EnforceChangeRetention(retention.max_bytes, min_time);
    if (!trimmed.ok()) {
      std::fprintf(stderr, "micromongo-server: change log retention of %s failed: %s\n", db->name().c_str(),
                   std::string(trimmed.status().message()).c_str());
    }
  }
}

}  // namespace micromongo::service
