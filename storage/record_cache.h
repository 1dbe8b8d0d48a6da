#pragma once

// A cache of one store's records (key -> value bytes) in front of the store's point reads,
// kept exact under concurrent writes and snapshots. A record fetch through RocksDB searches
// the memtables' skiplists and a table's index and data blocks (1.3-2.5 us a key in
// profiles of FETCH over scattered records); a hit here is one hash lookup and a copy,
// which is what WiredTiger's in-memory pages give MongoDB.
//
// Consistency. Time is the store's commit sequence: a snapshot reads the writes committed
// at or before its sequence. An entry holds the key's latest committed value and the
// sequence from which it is valid (every write of the key is at or before it), and serves
// a read only at that sequence or later. Keys hash to stripes; a writer announces its keys
// before its commit (BeginWrite: the stripe's writers in flight count up, its entries for
// them go) and finishes after it (EndWrite: the stripe's last write sequence moves up).
// A reader fills an entry only while no writer is in flight on
// the stripe and its read's sequence is at or after the stripe's last write, so the value
// it read is the latest; any later write removes it before committing. A writer that had
// the stripe to itself from before its commit to after it fills the entries of its puts
// (records just written are read soon after, as WiredTiger's cache keeps them).
//
// Thread-safe. Knows nothing of RocksDB: sequences are numbers the caller supplies.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace micromongo::storage {

// Bytes shared by the caches of every store of one worker: a cache evicts its own least
// recently used entries while the total is over the capacity.
class RecordCacheBudget {
 public:
  explicit RecordCacheBudget(size_t capacity) : capacity_(capacity) {}
  size_t capacity() const { return capacity_; }
  size_t used() const;

 private:
  friend class RecordCache;
  const size_t capacity_;
  alignas(64) std::atomic<size_t> used_{0};
};

class RecordCache {
 public:
  // Caches the keys that start with `prefix` (a store's record keys).
  RecordCache(std::string prefix, std::shared_ptr<RecordCacheBudget> budget);
  ~RecordCache();
  RecordCache(const RecordCache&) = delete;
  RecordCache& operator=(const RecordCache&) = delete;

  const std::string& prefix() const { return prefix_; }
  bool Caches(std::string_view key) const { return key.substr(0, prefix_.size()) == prefix_; }
  // Whether a range [begin, end) may hold cached keys.
  bool Overlaps(std::string_view begin, std::string_view end) const;

  // The value of `key` for a read at `sequence`, if an entry serves it.
  bool Lookup(std::string_view key, uint64_t sequence, std::string* value);
  // Lookup of each of `keys`: `hits[i]` says whether an entry served keys[i], whose value
  // is then in `values[i]` (other values are left as they were). Returns the hits. For
  // many keys, cheaper than a Lookup each.
  size_t LookupMany(std::span<const std::string_view> keys, uint64_t sequence, std::string* values, bool* hits);
  // After `value` was read for `key` at `sequence` (the read's snapshot; for a read
  // without one, the latest sequence taken before the read). Cached from the second such
  // read of a key in a while (a doorkeeper: records read once never displace others).
  void Fill(std::string_view key, std::string_view value, uint64_t sequence);

  // One key a write changes: its final value in the write (`put`) or its deletion.
  struct Change {
    std::string_view key;
    std::string_view value;
    bool put = false;
  };
  // A write in flight, from BeginWrite to EndWrite.
  struct Write {
    std::vector<Change> changes;  // one per key, the cached keys only
    bool everything = false;      // a range deletion over cached keys: every stripe
    // Filled by BeginWrite.
    std::vector<size_t> hashes;     // of each change's key
    std::vector<uint32_t> stripes;  // touched, ascending
    std::vector<std::pair<uint32_t, uint32_t>> by_stripe;  // (stripe, change), ascending
    std::vector<uint64_t> generations;
    std::vector<bool> alone;
  };
  // Before the write commits. `write->changes` must name each key once.
  void BeginWrite(Write* write);
  // After it: `committed` with every change at or before `sequence` (the store's latest
  // sequence once the write returned), or failed (nothing written, or unknown).
  void EndWrite(Write* write, uint64_t sequence, bool committed);

  // Testing and statistics.
  size_t entries() const;

 private:
  struct Entry;
  struct Stripe;
  struct Hashed;
  struct HashOnly;
  static constexpr uint32_t kStripes = 64;

  static uint32_t StripeOf(const Hashed& key);
  // Lookup's answer, the stripe's lock held.
  static bool Serve(Stripe& s, const Hashed& key, uint64_t sequence, std::string* value);
  void Insert(Stripe& s, const Hashed& key, std::string_view value, uint64_t valid_from);
  void Erase(Stripe& s, const Hashed& key);
  void EraseAll(Stripe& s);
  static void Detach(Entry* e);
  static void PushFront(Stripe& s, Entry* e);
  void Drop(Stripe& s, Entry* e);

  const std::string prefix_;
  const std::shared_ptr<RecordCacheBudget> budget_;
  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace micromongo::storage
