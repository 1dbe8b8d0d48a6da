#pragma once

// Open cursors by id. A cursor is checked out for one GetMore at a time; cursors idle for
// longer than the timeout are reclaimed by Reap() (called periodically by the server).
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "service/cursor.h"

namespace micromongo::service {

class CursorManager {
 public:
  explicit CursorManager(std::chrono::milliseconds idle_timeout) : idle_timeout_(idle_timeout) {}

  // Stores the cursor; returns its id (never 0). `json`: its replies use Extended JSON.
  int64_t Add(std::unique_ptr<Cursor> cursor, bool json, bool no_timeout = false);
  // Takes the cursor out for exclusive use; null if unknown (or in use).
  std::unique_ptr<Cursor> CheckOut(int64_t id, bool* json);
  // Returns a cursor after use (drops it if exhausted).
  void CheckIn(int64_t id, std::unique_ptr<Cursor> cursor);
  bool Kill(int64_t id);
  // Removes cursors idle longer than the timeout; returns how many.
  size_t Reap();
  size_t size();
  void Clear();

 private:
  struct Entry {
    std::unique_ptr<Cursor> cursor;  // null while checked out
    std::chrono::steady_clock::time_point last_used;
    bool json = false;
    bool no_timeout = false;
  };
  std::chrono::milliseconds idle_timeout_;
  std::mutex mu_;
  std::map<int64_t, Entry> cursors_;
  int64_t next_id_ = 1;
};

}  // namespace micromongo::service
