#include "storage/record_cache.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <new>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"

namespace micromongo::storage {

// Key and value bytes follow the header in one allocation.
struct RecordCache::Entry {
  Entry* prev = nullptr;  // the stripe's list: newest after the sentinel
  Entry* next = nullptr;
  uint64_t valid_from = 0;
  size_t hash = 0;  // the key's hash (Hashed), kept for the set's rehashing
  uint32_t key_size = 0;
  uint32_t value_size : 31 = 0;
  // Read since it was last passed over for eviction (CLOCK's bit: a hit sets it instead
  // of moving the entry in the list, which touched two more cache lines per hit).
  uint32_t referenced : 1 = 0;

  char* bytes() { return reinterpret_cast<char*>(this + 1); }
  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const { return std::string_view(bytes(), key_size); }
  std::string_view value() const { return std::string_view(bytes() + key_size, value_size); }
};

namespace {

// What an entry costs beyond its bytes: the header, the allocator's own, the set's slot.
constexpr size_t kEntryOverhead = 72;

}  // namespace

// A key with its hash, computed once per operation (the stripe and the set both use it).
struct RecordCache::Hashed {
  explicit Hashed(std::string_view k) : key(k), hash(absl::Hash<std::string_view>{}(k)) {}
  Hashed(std::string_view k, size_t h) : key(k), hash(h) {}
  std::string_view key;
  size_t hash;
};

// A lookup by hash alone, which reads no entry: LookupMany's first pass.
struct RecordCache::HashOnly {
  size_t hash;
};

struct RecordCache::Stripe {
  // The set's element: an entry with its key's hash beside it, so that a probe compares
  // hashes without reading the entry (a cache miss), and only a matching one reads it.
  struct Slot {
    size_t hash;
    Entry* e;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(const Slot& s) const { return s.hash; }
    size_t operator()(const Hashed& k) const { return k.hash; }
    size_t operator()(const Entry* e) const { return e->hash; }
    size_t operator()(HashOnly h) const { return h.hash; }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(const Slot& a, const Slot& b) const { return a.hash == b.hash && a.e->key() == b.e->key(); }
    bool operator()(const Hashed& k, const Slot& s) const { return s.hash == k.hash && s.e->key() == k.key; }
    bool operator()(const Slot& s, const Hashed& k) const { return (*this)(k, s); }
    // An entry is in its stripe's set once: by identity.
    bool operator()(const Entry* e, const Slot& s) const { return s.e == e; }
    bool operator()(const Slot& s, const Entry* e) const { return s.e == e; }
    bool operator()(HashOnly h, const Slot& s) const { return s.hash == h.hash; }
    bool operator()(const Slot& s, HashOnly h) const { return s.hash == h.hash; }
  };

  Stripe() { lru.prev = lru.next = &lru; }

  // Fingerprints of keys that missed lately, one per slot: a read's value is cached the
  // second time its key misses, so that reads over data too large to cache (each record
  // read once) do not churn the entries that are read again.
  static constexpr size_t kDoorkeeper = 256;
  uint32_t missed[kDoorkeeper] = {};

  std::mutex mu;
  uint32_t writers = 0;        // writes between BeginWrite and EndWrite
  uint64_t generation = 0;     // BeginWrites so far
  uint64_t last_write = 0;     // the latest sequence a finished write may have written at
  size_t bytes = 0;
  Entry lru;                   // sentinel
  absl::flat_hash_set<Slot, Hash, Eq> entries;
};

size_t RecordCacheBudget::used() const { return used_.load(std::memory_order_relaxed); }

RecordCache::RecordCache(std::string prefix, std::shared_ptr<RecordCacheBudget> budget)
    : prefix_(std::move(prefix)), budget_(std::move(budget)), stripes_(new Stripe[kStripes]) {}

RecordCache::~RecordCache() {
  for (uint32_t i = 0; i < kStripes; ++i) EraseAll(stripes_[i]);
}

bool RecordCache::Overlaps(std::string_view begin, std::string_view end) const {
  // [begin, end) meets the keys starting with prefix_ unless it ends at or before the
  // prefix or starts after every key with it.
  if (end <= prefix_) return false;
  if (begin.substr(0, prefix_.size()) > prefix_) return false;
  return true;
}

uint32_t RecordCache::StripeOf(const Hashed& key) {
  // The hash's top bits: the stripe's set places and tells entries apart by its low bits,
  // which must not be the same for every key of a stripe.
  return static_cast<uint32_t>(static_cast<uint64_t>(key.hash) >> 58) % kStripes;
}

bool RecordCache::Lookup(std::string_view k, uint64_t sequence, std::string* value) {
  const Hashed key(k);
  Stripe& s = stripes_[StripeOf(key)];
  std::lock_guard<std::mutex> l(s.mu);
  return Serve(s, key, sequence, value);
}

bool RecordCache::Serve(Stripe& s, const Hashed& key, uint64_t sequence, std::string* value) {
  auto it = s.entries.find(key);
  if (it == s.entries.end() || it->e->valid_from > sequence) return false;
  Entry* e = it->e;
  value->assign(e->value());
  e->referenced = 1;
  return true;
}

size_t RecordCache::LookupMany(std::span<const std::string_view> keys, uint64_t sequence, std::string* values,
                               bool* hits) {
  // A lookup's time is nearly all cache misses over data larger than the CPU's caches
  // (the set's slot, then the entry), and a mutex's locked instruction waits for every
  // load before it, so lookups one after another pay one miss after another. In groups,
  // where the misses overlap: a first pass prefetches each key's slot, a second finds the
  // entry by hash alone and prefetches it, a third reads them, by then in cache.
  // ($geoWithin over 100k points, 1,000 records a query: Lookup was a third of the
  // worker's time, nearly all of it on its first read of the entry.)
  constexpr size_t kGroup = 16;
  size_t found = 0;
  for (size_t base = 0; base < keys.size(); base += kGroup) {
    const size_t n = std::min(kGroup, keys.size() - base);
    size_t hashes[kGroup];
    uint32_t stripe[kGroup];
    for (size_t i = 0; i < n; ++i) {
      const Hashed key(keys[base + i]);
      hashes[i] = key.hash;
      stripe[i] = StripeOf(key);
      Stripe& s = stripes_[stripe[i]];
      std::lock_guard<std::mutex> l(s.mu);
      s.entries.prefetch(HashOnly{hashes[i]});
    }
    for (size_t i = 0; i < n; ++i) {
      Stripe& s = stripes_[stripe[i]];
      std::lock_guard<std::mutex> l(s.mu);
      auto it = s.entries.find(HashOnly{hashes[i]});
      if (it == s.entries.end()) continue;
      // The header, the key and a value of up to ~140 bytes (a small document); a
      // prefetch never faults, so an entry freed before the next pass costs nothing.
      for (int line = 0; line < 3; ++line) __builtin_prefetch(reinterpret_cast<const char*>(it->e) + 64 * line);
    }
    for (size_t i = 0; i < n; ++i) {
      Stripe& s = stripes_[stripe[i]];
      std::lock_guard<std::mutex> l(s.mu);
      hits[base + i] = Serve(s, Hashed(keys[base + i], hashes[i]), sequence, &values[base + i]);
      found += hits[base + i];
    }
  }
  return found;
}

void RecordCache::Fill(std::string_view k, std::string_view value, uint64_t sequence) {
  const Hashed key(k);
  Stripe& s = stripes_[StripeOf(key)];
  std::lock_guard<std::mutex> l(s.mu);
  // A writer in flight, or one that finished after the read's sequence, may have made
  // `value` stale.
  if (s.writers != 0 || s.last_write > sequence) return;
  if (s.entries.contains(key)) return;
  const size_t h = key.hash;
  uint32_t& slot = s.missed[(h >> 32) % Stripe::kDoorkeeper];
  const uint32_t fingerprint = static_cast<uint32_t>(h) | 1;
  if (slot != fingerprint) {
    slot = fingerprint;
    return;
  }
  slot = 0;
  Insert(s, key, value, s.last_write);
}

void RecordCache::BeginWrite(Write* w) {
  w->stripes.clear();
  w->by_stripe.clear();
  w->hashes.clear();
  if (w->everything) {
    for (uint32_t i = 0; i < kStripes; ++i) w->stripes.push_back(i);
  } else {
    // Changes by stripe, to visit each stripe once.
    w->hashes.reserve(w->changes.size());
    w->by_stripe.reserve(w->changes.size());
    for (uint32_t i = 0; i < w->changes.size(); ++i) {
      const Hashed key(w->changes[i].key);
      w->hashes.push_back(key.hash);
      w->by_stripe.emplace_back(StripeOf(key), i);
    }
    std::sort(w->by_stripe.begin(), w->by_stripe.end());
    for (const auto& [stripe, change] : w->by_stripe) {
      if (w->stripes.empty() || w->stripes.back() != stripe) w->stripes.push_back(stripe);
    }
  }
  w->generations.assign(w->stripes.size(), 0);
  w->alone.assign(w->stripes.size(), false);
  size_t at = 0;
  for (size_t k = 0; k < w->stripes.size(); ++k) {
    Stripe& s = stripes_[w->stripes[k]];
    std::lock_guard<std::mutex> l(s.mu);
    w->alone[k] = s.writers == 0;
    ++s.writers;
    w->generations[k] = ++s.generation;
    if (w->everything) {
      EraseAll(s);
      continue;
    }
    for (; at < w->by_stripe.size() && w->by_stripe[at].first == w->stripes[k]; ++at) {
      const uint32_t i = w->by_stripe[at].second;
      Erase(s, Hashed(w->changes[i].key, w->hashes[i]));
    }
  }
}

void RecordCache::EndWrite(Write* w, uint64_t sequence, bool committed) {
  size_t at = 0;
  for (size_t k = 0; k < w->stripes.size(); ++k) {
    Stripe& s = stripes_[w->stripes[k]];
    std::lock_guard<std::mutex> l(s.mu);
    // A failed write may still have reached the store (an error after the log record):
    // its sequence counts as written either way.
    s.last_write = std::max(s.last_write, sequence);
    // Alone from before the commit to now: no other write of these keys can be newer.
    bool fill = committed && w->alone[k] && s.generation == w->generations[k];
    --s.writers;
    if (w->everything) {
      EraseAll(s);
      continue;
    }
    // The keys are still absent, nothing to remove again: BeginWrite removed them, and
    // since then this write was in flight on the stripe, so no read filled an entry
    // (Fill) and no other writer filled its puts (it was not alone, or its generation
    // moved on).
    for (; at < w->by_stripe.size() && w->by_stripe[at].first == w->stripes[k]; ++at) {
      const uint32_t i = w->by_stripe[at].second;
      if (fill && w->changes[i].put) {
        Insert(s, Hashed(w->changes[i].key, w->hashes[i]), w->changes[i].value, s.last_write);
      }
    }
  }
}

size_t RecordCache::entries() const {
  size_t n = 0;
  for (uint32_t i = 0; i < kStripes; ++i) {
    std::lock_guard<std::mutex> l(stripes_[i].mu);
    n += stripes_[i].entries.size();
  }
  return n;
}

void RecordCache::Insert(Stripe& s, const Hashed& hashed, std::string_view value, uint64_t valid_from) {
  const std::string_view key = hashed.key;
  const size_t charge = kEntryOverhead + key.size() + value.size();
  const size_t stripe_capacity = budget_->capacity() / kStripes;
  if (charge > stripe_capacity) return;
  // Oldest first, but one read since it was last passed over gets a second round (CLOCK),
  // while this stripe is over its share or every store's entries together are over the
  // budget.
  while (s.lru.prev != &s.lru &&
         (s.bytes + charge > stripe_capacity ||
          budget_->used_.load(std::memory_order_relaxed) + charge > budget_->capacity())) {
    Entry* victim = s.lru.prev;
    if (victim->referenced) {
      victim->referenced = 0;
      Detach(victim);
      PushFront(s, victim);
      continue;
    }
    s.entries.erase(victim);
    Drop(s, victim);
  }
  // Other stores hold the budget: this one waits for their entries to go.
  if (budget_->used_.load(std::memory_order_relaxed) + charge > budget_->capacity()) return;
  void* raw = ::operator new(sizeof(Entry) + key.size() + value.size());
  Entry* e = new (raw) Entry;
  e->valid_from = valid_from;
  e->hash = hashed.hash;
  e->key_size = static_cast<uint32_t>(key.size());
  e->value_size = static_cast<uint32_t>(value.size()) & 0x7fffffffu;
  std::copy(key.begin(), key.end(), e->bytes());
  std::copy(value.begin(), value.end(), e->bytes() + key.size());
  if (auto [it, inserted] = s.entries.insert(Stripe::Slot{e->hash, e}); !inserted) {
    // Callers insert absent keys only; should one be present, the new value wins.
    Entry* old = it->e;
    s.entries.erase(it);
    Drop(s, old);
    s.entries.insert(Stripe::Slot{e->hash, e});
  }
  PushFront(s, e);
  s.bytes += charge;
  budget_->used_.fetch_add(charge, std::memory_order_relaxed);
}

void RecordCache::Erase(Stripe& s, const Hashed& key) {
  auto it = s.entries.find(key);
  if (it == s.entries.end()) return;
  Entry* e = it->e;
  s.entries.erase(it);
  Drop(s, e);
}

void RecordCache::EraseAll(Stripe& s) {
  while (s.lru.next != &s.lru) {
    Entry* e = s.lru.next;
    s.entries.erase(e);
    Drop(s, e);
  }
}

void RecordCache::Detach(Entry* e) {
  e->prev->next = e->next;
  e->next->prev = e->prev;
  e->prev = e->next = nullptr;
}

void RecordCache::PushFront(Stripe& s, Entry* e) {
  e->next = s.lru.next;
  e->prev = &s.lru;
  s.lru.next->prev = e;
  s.lru.next = e;
}

// `e`, already out of the stripe's set: out of its list, its bytes released.
void RecordCache::Drop(Stripe& s, Entry* e) {
  Detach(e);
  const size_t charge = kEntryOverhead + e->key_size + e->value_size;
  s.bytes -= charge;
  budget_->used_.fetch_sub(charge, std::memory_order_relaxed);
  e->~Entry();
  ::operator delete(e);
}

}  // namespace micromongo::storage
