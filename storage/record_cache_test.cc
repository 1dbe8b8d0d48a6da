// The record cache's rules (record_cache.h), with sequences given by hand: which reads an
// entry serves, when readers and writers may fill it, and its memory budget.

#include "storage/record_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace micromongo::storage {
namespace {

std::shared_ptr<RecordCacheBudget> Budget(size_t bytes = 1 << 20) {
  return std::make_shared<RecordCacheBudget>(bytes);
}

RecordCache::Write Puts(std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
  RecordCache::Write w;
  for (auto [k, v] : kv) w.changes.push_back({k, v, true});
  return w;
}

// A read that missed, twice: the doorkeeper admits a key at its second miss.
void Fill(RecordCache& cache, std::string_view key, std::string_view value, uint64_t sequence) {
  cache.Fill(key, value, sequence);
  cache.Fill(key, value, sequence);
}

std::string Read(RecordCache& cache, std::string_view key, uint64_t sequence) {
  std::string v;
  return cache.Lookup(key, sequence, &v) ? v : "<miss>";
}

TEST(RecordCacheTest, CachesOnlyItsPrefix) {
  RecordCache cache("r", Budget());
  EXPECT_TRUE(cache.Caches("r\x01\x02"));
  EXPECT_FALSE(cache.Caches("i\x01"));
  EXPECT_FALSE(cache.Caches(""));
  struct Case {
    std::string begin, end;
    bool overlaps;
  };
  for (const Case& c : std::vector<Case>{{"r", "s", true},
                                         {std::string("r\0\0\0\1", 5), std::string("r\0\0\0\2", 5), true},
                                         {"a", "r", false},
                                         {"a", "r\x01", true},
                                         {"s", "t", false},
                                         {"i", "x", true}}) {
    EXPECT_EQ(cache.Overlaps(c.begin, c.end), c.overlaps) << c.begin << " .. " << c.end;
  }
}

// LookupMany answers as a Lookup of each key would, over more keys than one of its groups
// and with hits, misses, repeated keys and entries too new for the read side by side.
TEST(RecordCacheTest, LookupManyAnswersAsALookupOfEachKey) {
  RecordCache cache("r", Budget());
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) keys.push_back("r" + std::to_string(i));
  std::vector<std::string> values_written;
  for (int i = 0; i < 40; ++i) values_written.push_back("v" + std::to_string(i));
  for (int i = 0; i < 40; ++i) {
    if (i % 3 != 0 && i % 5 != 0) Fill(cache, keys[i], values_written[i], 10);  // valid from 0
  }
  // Written (and cached by their writer) at 20: hidden from reads before it.
  RecordCache::Write w;
  for (int i = 5; i < 40; i += 5) w.changes.push_back({keys[i], values_written[i], true});
  cache.BeginWrite(&w);
  cache.EndWrite(&w, 20, true);
  keys.push_back("r1");   // again
  keys.push_back("rx");   // never cached
  std::vector<std::string_view> views(keys.begin(), keys.end());
  for (uint64_t sequence : {uint64_t{9}, uint64_t{10}, uint64_t{15}, uint64_t{20}}) {
    std::vector<std::string> values(views.size(), "<untouched>");
    std::unique_ptr<bool[]> hits(new bool[views.size()]);
    size_t found = cache.LookupMany(views, sequence, values.data(), hits.get());
    size_t expected_found = 0;
    for (size_t i = 0; i < views.size(); ++i) {
      std::string one = Read(cache, views[i], sequence);
      EXPECT_EQ(hits[i], one != "<miss>") << views[i] << " at " << sequence;
      EXPECT_EQ(values[i], hits[i] ? one : "<untouched>") << views[i] << " at " << sequence;
      expected_found += one != "<miss>";
    }
    EXPECT_EQ(found, expected_found) << "at " << sequence;
  }
  EXPECT_EQ(Read(cache, "r5", 19), "<miss>");
  EXPECT_EQ(Read(cache, "r5", 20), "v5") << "the case of an entry too new is exercised";
  std::vector<std::string> none;
  EXPECT_EQ(cache.LookupMany({}, 10, none.data(), nullptr), 0u);
}

TEST(RecordCacheTest, AFilledEntryServesReadsAtOrAfterTheLastWrite) {
  RecordCache cache("r", Budget());
  EXPECT_EQ(Read(cache, "ra", 5), "<miss>");
  cache.Fill("ra", "one", 5);  // a key's first miss is only remembered
  EXPECT_EQ(Read(cache, "ra", 5), "<miss>");
  Fill(cache, "ra", "one", 5);
  EXPECT_EQ(Read(cache, "ra", 5), "one");
  EXPECT_EQ(Read(cache, "ra", 9), "one");
  // No write happened yet: valid since the beginning.
  EXPECT_EQ(Read(cache, "ra", 1), "one");
  // A write to another key of the cache at 7 (whatever its stripe) never makes "ra" wrong;
  // one to "ra" itself replaces it for later reads and hides it from earlier ones.
  auto w = Puts({{"ra", "two"}});
  cache.BeginWrite(&w);
  EXPECT_EQ(Read(cache, "ra", 9), "<miss>");  // gone before the commit
  cache.EndWrite(&w, 10, true);
  EXPECT_EQ(Read(cache, "ra", 10), "two");
  EXPECT_EQ(Read(cache, "ra", 9), "<miss>");  // a snapshot before the write
}

TEST(RecordCacheTest, ReadersDoNotFillWhileAWriteIsInFlightOrAfterOneTheyMissed) {
  RecordCache cache("r", Budget());
  auto w = Puts({{"ra", "new"}});
  cache.BeginWrite(&w);
  Fill(cache, "ra", "old", 4);  // read before the commit: may be stale by the time it fills
  EXPECT_EQ(Read(cache, "ra", 100), "<miss>");
  cache.EndWrite(&w, 7, /*committed=*/false);  // failed: nothing filled either
  EXPECT_EQ(Read(cache, "ra", 100), "<miss>");
  Fill(cache, "ra", "old", 6);  // read at 6, before the write's 7: stale
  EXPECT_EQ(Read(cache, "ra", 100), "<miss>");
  Fill(cache, "ra", "current", 7);
  EXPECT_EQ(Read(cache, "ra", 7), "current");
  EXPECT_EQ(Read(cache, "ra", 6), "<miss>");
}

TEST(RecordCacheTest, OnlyAWriterAloneOnItsStripesFillsItsPuts) {
  RecordCache cache("r", Budget());
  // Alone: its puts are cached, its deletes are not.
  RecordCache::Write w = Puts({{"ra", "a1"}});
  w.changes.push_back({"rb", "", false});
  Fill(cache, "rb", "b0", 0);
  cache.BeginWrite(&w);
  cache.EndWrite(&w, 3, true);
  EXPECT_EQ(Read(cache, "ra", 3), "a1");
  EXPECT_EQ(Read(cache, "rb", 3), "<miss>");
  // Two writers of one key, overlapping, whichever finishes first: neither knows whose
  // commit came last, so neither fills.
  for (bool later_ends_first : {true, false}) {
    auto earlier = Puts({{"ra", "earlier"}}), later = Puts({{"ra", "later"}});
    cache.BeginWrite(&earlier);
    cache.BeginWrite(&later);
    RecordCache::Write* ends_first = later_ends_first ? &later : &earlier;
    RecordCache::Write* ends_last = later_ends_first ? &earlier : &later;
    cache.EndWrite(ends_first, 5, true);
    cache.EndWrite(ends_last, 6, true);
    EXPECT_EQ(Read(cache, "ra", 100), "<miss>") << later_ends_first;
  }
}

TEST(RecordCacheTest, AWriteOverEveryKeyEmptiesTheCache) {
  RecordCache cache("r", Budget());
  for (int i = 0; i < 100; ++i) Fill(cache, "r" + std::to_string(i), "v", 1);
  EXPECT_EQ(cache.entries(), 100u);
  RecordCache::Write w{.everything = true};
  cache.BeginWrite(&w);
  Fill(cache, "r1", "v", 1);
  EXPECT_EQ(cache.entries(), 0u);
  cache.EndWrite(&w, 2, true);
  EXPECT_EQ(cache.entries(), 0u);
  Fill(cache, "r1", "v", 1);  // read before the deletion
  EXPECT_EQ(Read(cache, "r1", 5), "<miss>");
}

TEST(RecordCacheTest, StaysWithinItsBudgetAndKeepsRecentlyUsedEntries) {
  auto budget = Budget(256 * 1024);
  RecordCache cache("r", budget);
  std::string value(200, 'x');
  for (int i = 0; i < 10000; ++i) {
    Fill(cache, "r" + std::to_string(i), value, 1);
    ASSERT_LE(budget->used(), budget->capacity());
  }
  EXPECT_GT(cache.entries(), 500u);
  EXPECT_LT(cache.entries(), 1000u);
  // The last one filled is there; the first ones went.
  EXPECT_EQ(Read(cache, "r9999", 1), value);
  EXPECT_EQ(Read(cache, "r0", 1), "<miss>");
  // An entry read again and again outlives the flood of entries filled after it.
  Fill(cache, "rkeep", value, 1);
  for (int i = 10000; i < 30000; ++i) {
    Fill(cache, "r" + std::to_string(i), value, 1);
    ASSERT_EQ(Read(cache, "rkeep", 1), value) << i;
  }
  // A second cache on the same budget takes only what the first left (it never evicts
  // another store's entries), and room once they go.
  RecordCache other("r", budget);
  Fill(cache, "r-last", value, 1);
  Fill(other, "rz", value, 1);
  EXPECT_LE(budget->used(), budget->capacity());
  RecordCache::Write clear{.everything = true};
  cache.BeginWrite(&clear);
  cache.EndWrite(&clear, 2, true);
  Fill(other, "rz", value, 1);
  EXPECT_EQ(Read(other, "rz", 1), value);
}

TEST(RecordCacheTest, ReleasesItsBytesWhenDestroyed) {
  auto budget = Budget();
  {
    RecordCache cache("r", budget);
    for (int i = 0; i < 100; ++i) Fill(cache, "r" + std::to_string(i), "value", 1);
    EXPECT_GT(budget->used(), 0u);
  }
  EXPECT_EQ(budget->used(), 0u);
}

}  // namespace
}  // namespace micromongo::storage
