#pragma once

#include <cstdint>

namespace micromongo::storage {

// A secondary index's statistics as stored (FORMAT.md's k keys), or a change of them: its
// entries and the bytes of their keys and values. Kept by every commit that puts or
// deletes entries, so collStats reads an index's size instead of walking it.
struct IndexStats {
  int64_t entries = 0;
  int64_t bytes = 0;
  friend bool operator==(const IndexStats&, const IndexStats&) = default;
};

}  // namespace micromongo::storage
