#pragma once

// Change records laid back to back, as a change-log entry stores them and a WriteUnit
// collects them: BSON documents, each framed by its own length.

#include <cstdint>
#include <string_view>

namespace micromongo::storage {

// Calls fn(index, record) for each record until it returns false. False if the records are
// malformed (a length that does not frame them); records before the fault were visited.
template <typename Fn>
bool ForEachChangeRecord(std::string_view records, Fn fn) {
  uint64_t i = 0;
  while (!records.empty()) {
    if (records.size() < 5) return false;
    uint32_t n = static_cast<uint8_t>(records[0]) | static_cast<uint8_t>(records[1]) << 8 |
                 static_cast<uint8_t>(records[2]) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(records[3])) << 24;
    if (n < 5 || n > records.size()) return false;
    if (!fn(i++, records.substr(0, n))) return true;
    records.remove_prefix(n);
  }
  return true;
}

}  // namespace micromongo::storage
