#include "service/repair.h"

#include <string>

#include "document/bson_view.h"
#include "document/json.h"
#include "service/indexes.h"
#include "service/validate.h"
#include "util/log.h"

namespace micromongo::service {

int RepairDataDirectory(const storage::EngineOptions& options) {
  auto engine = storage::Engine::Open(options);
  if (!engine.ok()) {
    Log(LogSeverity::kError, LogComponent::kStorage, "Cannot open the data directory",
        Attrs({{"dataDir", options.data_dir}, {"error", std::string(engine.status().message())}}));
    return 1;
  }
  int failures = 0;
  for (const std::string& name : (*engine)->StoreDirectories()) {
    Log(LogSeverity::kInfo, LogComponent::kStorage, "Repairing database", Attrs({{"db", name}}));
    absl::Status s = (*engine)->RepairDatabase(name);
    auto db = s.ok() ? (*engine)->GetDatabase(name, /*create=*/false)
                     : absl::StatusOr<std::shared_ptr<storage::Database>>(s);
    if (db.ok() && *db != nullptr) s = RebuildAllIndexes(db->get());
    if (!db.ok() || !s.ok()) {
      Log(LogSeverity::kError, LogComponent::kStorage, "Repair failed",
          Attrs({{"db", name}, {"error", std::string((db.ok() ? s : db.status()).message())}}));
      ++failures;
      continue;
    }
    for (const std::string& coll : (*db)->CollectionNames()) {
      auto result = ValidateCollection(engine->get(), name, coll, {.full = true});
      if (!result.ok()) {
        if (MongoCodeOf(result.status()) == kCommandNotSupportedOnView) continue;
        Log(LogSeverity::kError, LogComponent::kStorage, "Validate failed after repair",
            Attrs({{"ns", name + "." + coll}, {"error", std::string(result.status().message())}}));
        ++failures;
        continue;
      }
      bson::DocView doc(*result);
      bson::ValueView valid, nrecords;
      bool ok = doc.Find("valid", &valid) && valid.type == BsonType::kBool && valid.Bool();
      int64_t records = doc.Find("nrecords", &nrecords) && nrecords.IsNumber()
                            ? static_cast<int64_t>(nrecords.AsDouble())
                            : -1;
      Log(ok ? LogSeverity::kInfo : LogSeverity::kError, LogComponent::kStorage,
          ok ? "Repaired collection" : "Collection still invalid after repair",
          Attrs({{"ns", name + "." + coll}, {"records", std::to_string(records)},
                 {"validate", bson::BsonToJson(*result)}}));
      if (!ok) ++failures;
    }
  }
  Log(failures == 0 ? LogSeverity::kInfo : LogSeverity::kError, LogComponent::kStorage,
      "Repair finished", Attrs({{"dataDir", options.data_dir}, {"failures", std::to_string(failures)}}));
  return failures == 0 ? 0 : 1;
}

}  // namespace micromongo::service
