#pragma once

// micromongo-server --repair: what MongoDB's mongod --repair does, on RocksDB. Each
// database's store is rebuilt from its readable files (RocksDB's RepairDB: a damaged
// MANIFEST or CURRENT is rebuilt from the table files; records in unreadable files are
// lost), then opened, every index rebuilt from the records that remain, and every
// collection validated. Run on a stopped server's data directory.

#include "storage/engine.h"

namespace micromongo::service {

// 0 when every database was repaired and validates clean; otherwise 1. Progress and the
// outcome per database and collection go to the log.
int RepairDataDirectory(const storage::EngineOptions& options);

}  // namespace micromongo::service
