#include "exec/plan_cache.h"

namespace micromongo::exec {

PlanCache& PlanCache::Global() {
  static PlanCache* cache = new PlanCache();
  return *cache;
}

std::optional<PlanCache::Entry> PlanCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void PlanCache::Put(const std::string& key, Entry entry) {
  std::lock_guard<std::mutex> l(mu_);
  // Keys of dropped indexes or collections are never asked for again: a full cache starts
  // over rather than tracking them.
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[key] = std::move(entry);
}

void PlanCache::Evict(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  entries_.erase(key);
}

std::vector<std::pair<std::string, PlanCache::Entry>> PlanCache::List(const std::string& prefix) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::pair<std::string, Entry>> out;
  for (const auto& [key, entry] : entries_) {
    if (key.compare(0, prefix.size(), prefix) == 0) out.emplace_back(key, entry);
  }
  return out;
}

}  // namespace micromongo::exec
