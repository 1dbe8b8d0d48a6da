#pragma once

#include <string>
#include <vector>

namespace micromongo::bench {

// Puts `docs` (BSON) into a fresh RocksDB at `dir` in WriteBatches of `batch` with the WAL
// on, as the worker writes, and returns documents per second: the ceiling for InsertMany.
double RawRocksDbDocsPerSecond(const std::string& dir, const std::vector<std::string>& docs,
                               size_t batch);

}  // namespace micromongo::bench
