#include "service/cursor_manager.h"

namespace micromongo::service {

int64_t CursorManager::Add(std::unique_ptr<Cursor> cursor, bool json, bool no_timeout) {
  std::lock_guard<std::mutex> l(mu_);
  int64_t id = next_id_++;
  cursors_[id] = Entry{std::move(cursor), std::chrono::steady_clock::now(), json, no_timeout};
  return id;
}

std::unique_ptr<Cursor> CursorManager::CheckOut(int64_t id, bool* json) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = cursors_.find(id);
  if (it == cursors_.end()) return nullptr;
  *json = it->second.json;
  return std::move(it->second.cursor);
}

void CursorManager::CheckIn(int64_t id, std::unique_ptr<Cursor> cursor) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = cursors_.find(id);
  if (it == cursors_.end()) return;  // killed while in use
  if (cursor == nullptr || cursor->exhausted()) {
    cursors_.erase(it);
    return;
  }
  it->second.cursor = std::move(cursor);
  it->second.last_used = std::chrono::steady_clock::now();
}

bool CursorManager::Kill(int64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  return cursors_.erase(id) > 0;
}

size_t CursorManager::Reap() {
  std::lock_guard<std::mutex> l(mu_);
  auto now = std::chrono::steady_clock::now();
  size_t n = 0;
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    if (it->second.cursor != nullptr && !it->second.no_timeout &&
        now - it->second.last_used > idle_timeout_) {
      it = cursors_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

size_t CursorManager::size() {
  std::lock_guard<std::mutex> l(mu_);
  return cursors_.size();
}

void CursorManager::Clear() {
  std::lock_guard<std::mutex> l(mu_);
  cursors_.clear();
}

}  // namespace micromongo::service
