#include "service/change_retention.h"

#include "util/log.h"

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
      Log(LogSeverity::kWarning, LogComponent::kStorage, "Change log retention failed",
          Attrs({{"db", db->name()}, {"error", std::string(trimmed.status().message())}}));
    }
  }
}

}  // namespace micromongo::service
