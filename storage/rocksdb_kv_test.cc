// MultiGet's two read paths (a clustered walk with one iterator, batched point reads)
// must agree on every mix of present, absent, repeated and scattered keys, and honour
// snapshots; with the record cache in front of them (record_cache.h) too, and under
// concurrent writers. Batches, written in key order, must leave what applying them in
// order leaves.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "document/status.h"
#include "storage/kv.h"

namespace micromongo::storage {
namespace {

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%08d", i);
  return buf;
}

// The parameter: whether the keys ("k...") go through a record cache.
class KvStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mm-kv-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    KvOptions options;
    if (GetParam()) options.record_cache_prefix = "k";
    env_ = KvEnv::Create(options);
    auto store = env_->Open(dir_ + "/db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    // Even keys only, half flushed to a table file and half in the memtable.
    auto batch = store_->NewBatch();
    for (int i = 0; i < 4000; i += 2) {
      batch->Put(Key(i), "v" + std::to_string(i));
      if (i == 2000) {
        ASSERT_TRUE(store_->Write(batch.get()).ok());
        ASSERT_TRUE(store_->Flush().ok());
        batch = store_->NewBatch();
      }
    }
    ASSERT_TRUE(store_->Write(batch.get()).ok());
  }
  void TearDown() override {
    store_.reset();
    env_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Checks MultiGet of `ids` against Get of each.
  void Check(const std::vector<int>& ids, const KvSnapshot* snapshot = nullptr) {
    std::vector<std::string> keys;
    for (int i : ids) keys.push_back(Key(i));
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::string> values;
    std::vector<bool> found;
    ASSERT_TRUE(store_->MultiGet(views, &values, &found, snapshot).ok());
    ASSERT_EQ(values.size(), ids.size());
    // KeysExist, with a seek first (a limit above every key: the end of the "k" range, or
    // just past the largest key) and without.
    std::vector<std::vector<bool>> exists;
    std::string largest = keys.empty() ? "k" : *std::max_element(keys.begin(), keys.end());
    for (std::string limit : {std::string(), std::string("l"), largest + '\0'}) {
      if (snapshot != nullptr) break;  // KeysExist reads the latest state
      exists.emplace_back();
      ASSERT_TRUE(store_->KeysExist(views, &exists.back(), limit).ok());
      ASSERT_EQ(exists.back().size(), ids.size());
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      std::string want;
      auto present = store_->Get(keys[i], &want, snapshot);
      ASSERT_TRUE(present.ok());
      ASSERT_EQ(found[i], *present) << "key " << ids[i];
      for (size_t l = 0; l < exists.size(); ++l) {
        EXPECT_EQ(exists[l][i], *present) << "key " << ids[i] << ", limit " << l;
      }
      if (*present) {
        EXPECT_EQ(values[i], want) << "key " << ids[i];
      }
      // An iterator never goes through the cache.
      auto it = store_->NewIterator(keys[i], keys[i] + '\0', snapshot);
      ASSERT_EQ(it->Valid(), *present) << "key " << ids[i];
      if (*present) {
        EXPECT_EQ(it->value(), want) << "key " << ids[i];
      }
    }
  }

  std::string dir_;
  std::unique_ptr<KvEnv> env_;
  std::unique_ptr<KvStore> store_;
};

TEST_P(KvStoreTest, AgreesWithGetOnEveryKeyMix) {
  std::vector<std::vector<int>> cases = {
      {},
      {4},
      {5},
      {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34},       // dense run
      {34, 32, 30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0},       // reversed
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19},   // half absent
      {7, 7, 8, 8, 8, 100, 100, 3999, 3998, 0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2},  // repeats
      {1999, 2000, 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010,  // spans the
       2011, 2012, 2013, 2014, 2015, 2016},                                      // flush
      {-5, 5000, 6000, 7000, 8000, 9000, 9001, 9002, 9003, 9004, 9005, 9006,    // all absent
       9007, 9008, 9009, 9010, 9011},
  };
  std::vector<int> scattered;
  for (int i = 0; i < 300; ++i) scattered.push_back((i * 7919) % 4100);
  cases.push_back(scattered);
  std::vector<int> dense_then_scattered;
  for (int i = 0; i < 40; ++i) dense_then_scattered.push_back(i);
  for (int i = 0; i < 200; ++i) dense_then_scattered.push_back((i * 104729) % 4000);
  cases.push_back(dense_then_scattered);
  // Runs with gaps between (two text terms' documents): pairs, then runs of three whose
  // keys are two and four apart, with absent keys in them.
  std::vector<int> runs;
  for (int i = 0; i < 1600; i += 200) runs.insert(runs.end(), {i, i + 2});
  for (int i = 1700; i < 3900; i += 300) runs.insert(runs.end(), {i, i + 3, i + 4, i + 8});
  cases.push_back(runs);
  for (const auto& ids : cases) Check(ids);
}

TEST_P(KvStoreTest, BatchesOfOrderedRunsKeepEachKeysLastOperation) {
  // Two kinds of keys ("a..." and "k...", as records and change records), each kind in
  // ascending order, interleaved, with a key's operations repeated (put, delete, put) at
  // once or apart: the batch is already in key order per kind.
  std::map<std::string, std::string> model;
  for (int i = 0; i < 4000; i += 2) model[Key(i)] = "v" + std::to_string(i);
  auto batch = store_->NewBatch();
  for (int i = 4000; i < 4300; ++i) {
    std::string a = "a" + Key(i), k = Key(i);
    batch->Put(k, "first");
    batch->Put(a, "a" + std::to_string(i));
    model[a] = "a" + std::to_string(i);
    switch (i % 3) {
      case 0:  // deleted at once
        batch->Delete(k);
        model.erase(k);
        break;
      case 1:  // deleted, then put again after the other kind's next key
        batch->Delete(k);
        batch->Put("a" + Key(i) + "x", "ax");
        model["a" + Key(i) + "x"] = "ax";
        batch->Put(k, "again");
        model[k] = "again";
        break;
      default:
        model[k] = "first";
    }
  }
  ASSERT_TRUE(store_->Write(batch.get()).ok());
  std::map<std::string, std::string> stored;
  auto it = store_->NewIterator("", "z", nullptr);
  for (it->SeekToFirst(); it->Valid(); it->Next()) stored[std::string(it->key())] = std::string(it->value());
  ASSERT_TRUE(it->status().ok());
  EXPECT_EQ(stored, model);
  std::vector<int> ids;
  for (int i = 3990; i < 4310; ++i) ids.push_back(i);
  Check(ids);
}

TEST_P(KvStoreTest, KeysExistSeesPastDeletedKeys) {
  // Deleted keys past the last present one (tombstones the seek steps over), a deleted
  // key before it, and keys put again after their deletion.
  auto batch = store_->NewBatch();
  for (int i = 3000; i < 4000; i += 2) batch->Delete(Key(i));
  batch->Delete(Key(100));
  batch->Put(Key(3500), "again");
  ASSERT_TRUE(store_->Write(batch.get()).ok());
  std::vector<int> after = {2996, 2998, 3000, 3002, 3498, 3500, 3502, 3998, 4000, 4002};
  Check(after);
  Check({3000, 3002, 3004, 3006, 3008, 3998});  // all deleted
  Check({3501, 3502, 3504, 3506, 3508, 3510});  // the first absent, then deleted
  Check({98, 100, 102, 104, 3500, 3500});
}

TEST_P(KvStoreTest, ReadsAsOfTheSnapshot) {
  auto snapshot = store_->GetSnapshot();
  auto batch = store_->NewBatch();
  for (int i = 0; i < 100; ++i) {
    if (i % 3 == 0) batch->Delete(Key(i));
    else batch->Put(Key(i), "new");
  }
  ASSERT_TRUE(store_->Write(batch.get()).ok());
  std::vector<int> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(i);
  Check(ids, snapshot.get());
  Check(ids);
  std::vector<std::string> keys;
  for (int i : ids) keys.push_back(Key(i));
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<std::string> values;
  std::vector<bool> found;
  ASSERT_TRUE(store_->MultiGet(views, &values, &found, snapshot.get()).ok());
  EXPECT_TRUE(found[2]);
  EXPECT_EQ(values[2], "v2");
  EXPECT_FALSE(found[1]);
  ASSERT_TRUE(store_->MultiGet(views, &values, &found).ok());
  EXPECT_FALSE(found[0]);
  EXPECT_TRUE(found[1]);
  EXPECT_EQ(values[1], "new");
}

// A batch is handed to RocksDB in key order; operations on one key keep their order, and
// a range deletion keeps the whole batch in order.
TEST_P(KvStoreTest, BatchesLeaveWhatApplyingThemInOrderLeaves) {
  std::mt19937 rng(11);
  std::map<std::string, std::string> model;
  for (int i = 0; i < 4000; i += 2) model[Key(i)] = "v" + std::to_string(i);
  for (int round = 0; round < 20; ++round) {
    auto batch = store_->NewBatch();
    for (int op = 0; op < 300; ++op) {
      std::string k = Key(static_cast<int>(rng() % 4100));
      if (rng() % 3 == 0) {
        batch->Delete(k);
        model.erase(k);
      } else {
        std::string v = "r" + std::to_string(round) + "o" + std::to_string(op);
        batch->Put(k, v);
        model[k] = v;
      }
    }
    if (round % 5 == 4) {
      // A put inside a range deleted after it is gone; one put after the deletion stays.
      int from = static_cast<int>(rng() % 3900);
      batch->Put(Key(from + 20), "before-range");
      batch->DeleteRange(Key(from), Key(from + 50));
      model.erase(model.lower_bound(Key(from)), model.lower_bound(Key(from + 50)));
      batch->Put(Key(from + 10), "after-range");
      model[Key(from + 10)] = "after-range";
    }
    ASSERT_TRUE(store_->Write(batch.get()).ok());
  }
  std::map<std::string, std::string> stored;
  auto it = store_->NewIterator(Key(0), Key(99999999), nullptr);
  for (it->SeekToFirst(); it->Valid(); it->Next()) stored[std::string(it->key())] = std::string(it->value());
  ASSERT_TRUE(it->status().ok());
  EXPECT_EQ(stored, model);
  // Point reads agree with the model too (through the cache, when there is one, which
  // range deletions and overwritten keys must have left exact).
  std::vector<int> ids;
  for (int i = 0; i < 4100; ++i) ids.push_back(i);
  for (int pass = 0; pass < 2; ++pass) {  // the second reads what the first filled
    Check(ids);
    for (int i = 0; i < 4100; ++i) {
      std::string value;
      auto found = store_->Get(Key(i), &value);
      ASSERT_TRUE(found.ok());
      ASSERT_EQ(*found, model.count(Key(i)) == 1) << i;
      if (*found) {
        ASSERT_EQ(value, model[Key(i)]) << i;
      }
    }
  }
}

// A value read and cached must not serve a snapshot taken before it was written, and a
// value cached for a later snapshot must not be served to an earlier one.
TEST_P(KvStoreTest, CachedValuesServeOnlySnapshotsThatSeeThem) {
  for (int round = 0; round < 3; ++round) {
    auto before = store_->GetSnapshot();
    auto batch = store_->NewBatch();
    batch->Put(Key(10), "round" + std::to_string(round));
    batch->Delete(Key(12));
    batch->Put(Key(13), "new13-" + std::to_string(round));
    ASSERT_TRUE(store_->Write(batch.get()).ok());
    auto after = store_->GetSnapshot();
    Check({10, 12, 13, 14});            // fills the cache at the latest sequence
    Check({10, 12, 13, 14}, before.get());
    Check({10, 12, 13, 14}, after.get());
    std::string value;
    ASSERT_TRUE(*store_->Get(Key(10), &value, after.get()));
    EXPECT_EQ(value, "round" + std::to_string(round));
    ASSERT_TRUE(*store_->Get(Key(10), &value, before.get()));
    EXPECT_EQ(value, round == 0 ? "v10" : "round" + std::to_string(round - 1));
    EXPECT_FALSE(*store_->Get(Key(12), &value));
    batch = store_->NewBatch();
    batch->Put(Key(12), "back");
    ASSERT_TRUE(store_->Write(batch.get()).ok());
    ASSERT_TRUE(*store_->Get(Key(12), &value));
    EXPECT_EQ(value, "back");
  }
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutRecordCache, KvStoreTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "cached" : "uncached"; });

// Writers update keys they own with increasing versions, and keys they share, while
// readers read through the cache: a writer reads its own write back at once; a reader's
// values never go back in version for an owned key; a read at a snapshot agrees with an
// iterator at the same snapshot (which bypasses the cache). Any stale entry fails one.
TEST(RecordCacheStoreTest, ConcurrentWritersAndReadersSeeExactValues) {
  char tmpl[] = "/tmp/mm-kv-test-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  {
    KvOptions options;
    options.record_cache_prefix = "k";
    options.record_cache_bytes = 256 << 10;  // small: evictions too
    auto env = KvEnv::Create(options);
    auto opened = env->Open(dir + "/db");
    ASSERT_TRUE(opened.ok()) << opened.status();
    KvStore* store = opened->get();
    constexpr int kKeys = 64, kShared = 4, kWriters = 3, kReaders = 3, kRounds = 3000;
    auto version_of = [](std::string_view v) { return std::stoll(std::string(v.substr(v.find(':') + 1))); };
    std::atomic<bool> failed{false};
    std::atomic<int> writers_left{kWriters};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        std::mt19937 rng(w);
        for (int round = 1; round <= kRounds && !failed; ++round) {
          // One to three of its keys per batch (key % kWriters == w); sometimes a delete.
          auto batch = store->NewBatch();
          std::vector<std::pair<int, std::string>> wrote;
          int n = 1 + static_cast<int>(rng() % 3);
          for (int j = 0; j < n; ++j) {
            int k = w + kWriters * static_cast<int>(rng() % (kKeys / kWriters));
            std::string v = "w" + std::to_string(w) + ":" + std::to_string(round);
            if (rng() % 10 == 0) {
              batch->Delete(Key(k));
              v.clear();
            } else {
              batch->Put(Key(k), v);
            }
            wrote.emplace_back(k, v);
          }
          if (rng() % 2 == 0) {
            batch->Put(Key(kKeys + static_cast<int>(rng() % kShared)), "s" + std::to_string(w) + ":" + std::to_string(round));
          }
          if (!store->Write(batch.get()).ok()) failed = true;
          std::map<int, std::string> last;
          for (auto& [k, v] : wrote) last[k] = v;
          for (auto& [k, v] : last) {
            std::string got;
            auto found = store->Get(Key(k), &got);
            if (!found.ok() || *found != !v.empty() || (*found && got != v)) {
              ADD_FAILURE() << "writer " << w << " key " << k << " wrote '" << v << "' read '" << got << "'";
              failed = true;
            }
          }
        }
        --writers_left;
      });
    }
    for (int r = 0; r < kReaders; ++r) {
      threads.emplace_back([&, r] {
        std::mt19937 rng(100 + r);
        std::map<int, long long> seen;
        while (writers_left > 0 && !failed) {
          std::vector<std::string> keys;
          for (int j = 0; j < 8; ++j) keys.push_back(Key(static_cast<int>(rng() % (kKeys + kShared))));
          std::vector<std::string_view> views(keys.begin(), keys.end());
          std::vector<std::string> values;
          std::vector<bool> found;
          std::shared_ptr<const KvSnapshot> snapshot;
          if (rng() % 2 == 0) snapshot = store->GetSnapshot();
          if (!store->MultiGet(views, &values, &found, snapshot.get()).ok()) failed = true;
          for (size_t j = 0; j < keys.size(); ++j) {
            int k = std::stoi(keys[j].substr(1));
            if (snapshot != nullptr) {
              auto it = store->NewIterator(keys[j], keys[j] + '\0', snapshot.get());
              if (it->Valid() != found[j] || (found[j] && it->value() != values[j])) {
                ADD_FAILURE() << "key " << k << " at a snapshot: cached read '" << values[j] << "', iterator '"
                              << (it->Valid() ? std::string(it->value()) : "absent") << "'";
                failed = true;
              }
            } else if (found[j] && k < kKeys) {
              long long v = version_of(values[j]);
              if (v < seen[k]) {
                ADD_FAILURE() << "key " << k << " went back from version " << seen[k] << " to " << v;
                failed = true;
              }
              seen[k] = v;
            }
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_FALSE(failed);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace micromongo::storage

namespace micromongo::storage {
namespace {

// Opening and closing a store without writing leaves no empty write-ahead logs behind
// (each open starts one, and RocksDB keeps it until a flush), and what was written before
// is still there after many such opens.
TEST(KvEnvTest, OpensWithoutWritesLeaveNoEmptyLogsBehind) {
  char tmpl[] = "/tmp/mm-kv-test-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto env = KvEnv::Create(KvOptions{});
  auto count_logs = [&] {
    int logs = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir + "/db")) {
      const std::string name = e.path().filename().string();
      if (name.size() > 4 && name.ends_with(".log")) ++logs;
    }
    return logs;
  };
  {
    auto store = env->Open(dir + "/db");
    ASSERT_TRUE(store.ok()) << store.status();
    auto batch = (*store)->NewBatch();
    batch->Put("kept", "1");
    ASSERT_TRUE((*store)->Write(batch.get()).ok());
  }
  for (int i = 0; i < 6; ++i) {
    auto store = env->Open(dir + "/db");
    ASSERT_TRUE(store.ok()) << store.status();
    std::string value;
    auto present = (*store)->Get("kept", &value);
    ASSERT_TRUE(present.ok() && *present) << "open " << i;
    EXPECT_EQ(value, "1");
  }
  EXPECT_LE(count_logs(), 2) << "empty logs piled up across opens";
  env.reset();
  std::filesystem::remove_all(dir);
}

// Write streams (KvOptions::write_stream): keys "s<stream:2><n:6>" are in stream
// "s<stream>"; a bare "s<stream>" is in none and may begin a range deletion.
size_t TestStream(std::string_view key) { return key.size() > 3 && key[0] == 's' ? 3 : 0; }

std::string StreamKey(int stream, int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "s%02d%06d", stream, n);
  return buf;
}

class WriteStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mm-kv-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    KvOptions options;
    options.write_stream = TestStream;
    env_ = KvEnv::Create(options);
    auto store = env_->Open(dir_ + "/db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    env_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::map<std::string, std::string> Stored() {
    std::map<std::string, std::string> stored;
    auto it = store_->NewIterator("s", "t", nullptr);
    for (it->SeekToFirst(); it->Valid(); it->Next()) stored[std::string(it->key())] = std::string(it->value());
    EXPECT_TRUE(it->status().ok());
    return stored;
  }

  std::string dir_;
  std::unique_ptr<KvEnv> env_;
  std::unique_ptr<KvStore> store_;
};

// Commits that append to several streams at once (a record, its index entries, the change
// log, a counter), with deletions, range deletions of whole streams and writes into a
// stream just range-deleted (the shape that RocksDB 7.8 lost keys on when a hint served
// both, facebook/rocksdb#5118), leave what applying them in order leaves.
TEST_F(WriteStreamTest, InterleavedStreamsLeaveWhatApplyingThemInOrderLeaves) {
  std::mt19937 rng(5);
  std::map<std::string, std::string> model;
  std::vector<int> next(6, 0);
  for (int round = 0; round < 400; ++round) {
    auto batch = store_->NewBatch();
    for (int stream = 0; stream < 6; ++stream) {
      int count = static_cast<int>(rng() % 4);
      for (int i = 0; i < count; ++i) {
        // Mostly appended, sometimes a little behind the stream's end.
        int n = rng() % 5 == 0 ? std::max(0, next[stream] - static_cast<int>(rng() % 10)) : next[stream]++;
        std::string k = StreamKey(stream, n), v = "r" + std::to_string(round);
        batch->Put(k, v);
        model[k] = v;
      }
    }
    if (rng() % 4 == 0) {
      std::string k = StreamKey(static_cast<int>(rng() % 6), static_cast<int>(rng() % 50));
      batch->Delete(k);
      model.erase(k);
    }
    if (round % 37 == 36) {
      int stream = static_cast<int>(rng() % 6);
      std::string lo = StreamKey(stream, 0).substr(0, 3), hi = StreamKey(stream + 1, 0).substr(0, 3);
      batch->DeleteRange(lo, hi);
      model.erase(model.lower_bound(lo), model.lower_bound(hi));
      std::string k = StreamKey(stream, next[stream]++);
      batch->Put(k, "after-range");
      model[k] = "after-range";
    }
    ASSERT_TRUE(store_->Write(batch.get()).ok()) << round;
    if (round % 150 == 149) {
      ASSERT_TRUE(store_->Flush().ok());
    }
    if (round % 50 == 0) {
      ASSERT_EQ(Stored(), model) << round;
    }
  }
  EXPECT_EQ(Stored(), model);
  for (const auto& [k, v] : model) {
    std::string value;
    auto found = store_->Get(k, &value);
    ASSERT_TRUE(found.ok() && *found) << k;
    EXPECT_EQ(value, v) << k;
  }
}

// A range deletion that begins inside a stream is refused and writes nothing of its batch.
TEST_F(WriteStreamTest, RangeDeletionBeginningInAStreamIsRefused) {
  auto batch = store_->NewBatch();
  batch->Put(StreamKey(1, 1), "a");
  batch->DeleteRange(StreamKey(1, 0), StreamKey(2, 0));
  absl::Status s = store_->Write(batch.get());
  EXPECT_EQ(MongoCodeOf(s), kInternalError) << s;
  EXPECT_TRUE(Stored().empty());
  auto ok = store_->NewBatch();
  ok->Put(StreamKey(1, 1), "a");
  ok->DeleteRange("s01", "s02");
  ok->Put(StreamKey(1, 2), "b");
  ASSERT_TRUE(store_->Write(ok.get()).ok());
  EXPECT_EQ(Stored(), (std::map<std::string, std::string>{{StreamKey(1, 2), "b"}}));
}

// File groups (KvOptions::file_group): keys "g<group letter><n>" are in group "g<letter>".
size_t TestGroup(std::string_view key) { return key.size() >= 2 && key[0] == 'g' ? 2 : std::min<size_t>(key.size(), 1); }

std::string GroupKey(char group, int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "g%c%07d", group, n);
  return buf;
}

// A store in a directory of its own, removed with it.
class TempStore {
 public:
  explicit TempStore(const KvOptions& options) {
    char tmpl[] = "/tmp/mm-kv-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    env_ = KvEnv::Create(options);
    auto opened = env_->Open(dir_ + "/db");
    status_ = opened.status();
    if (opened.ok()) store_ = *std::move(opened);
  }
  ~TempStore() {
    store_.reset();
    env_.reset();
    std::filesystem::remove_all(dir_);
  }
  const absl::Status& status() const { return status_; }
  KvStore* operator->() const { return store_.get(); }
  // Closes the store and opens it again, as a worker's restart does.
  void Reopen() {
    store_.reset();
    auto opened = env_->Open(dir_ + "/db");
    status_ = opened.status();
    if (opened.ok()) store_ = *std::move(opened);
  }

 private:
  std::string dir_;
  std::unique_ptr<KvEnv> env_;
  absl::Status status_;
  std::unique_ptr<KvStore> store_;
};

// The number of the store's table files in level 0.
int LevelZeroFiles(const TempStore& store) {
  int files = 0;
  for (const KvStore::TableFile& f : store->TableFiles()) files += f.level == 0;
  return files;
}

// With groups, compactions write no file that mixes two groups, and a group written later
// by ingestion (an index build) lands in the last level beside the others; without them
// the compacted file spans both groups and the ingested one goes to level 0, where every
// seek of the store merges it until the next compaction.
TEST(FileGroupTest, CompactionsKeepGroupsApartAndIngestedGroupsLandInTheLastLevel) {
  for (bool grouped : {true, false}) {
    SCOPED_TRACE(grouped ? "grouped" : "not grouped");
    KvOptions options;
    if (grouped) options.file_group = TestGroup;
    TempStore store(options);
    ASSERT_TRUE(store.status().ok()) << store.status();
    auto key = GroupKey;
    // Groups a and c, interleaved in every flush: four level-0 files start a compaction.
    for (int round = 0; round < 4; ++round) {
      auto batch = store->NewBatch();
      for (int n = round; n < 8000; n += 4) {
        batch->Put(key('a', n), std::string(64, 'a'));
        batch->Put(key('c', n), std::string(64, 'c'));
      }
      ASSERT_TRUE(store->Write(batch.get()).ok());
      ASSERT_TRUE(store->Flush().ok());
    }
    auto level0 = [&] { return LevelZeroFiles(store); };
    for (int wait = 0; wait < 3000 && level0() > 0; ++wait) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(level0(), 0) << "the compaction did not run";
    int mixed = 0;
    for (const KvStore::TableFile& f : store->TableFiles()) {
      mixed += f.smallest.substr(0, 2) != f.largest.substr(0, 2);
    }
    EXPECT_EQ(mixed, grouped ? 0 : 1);
    // Group b, between the two, ingested as a new index's entries are.
    auto ingest = store->NewBatch();
    for (int n = 0; n < 2000; ++n) ingest->Put(key('b', n), "b");
    ASSERT_TRUE(store->Ingest(ingest.get(), "gb").ok());
    int b_level = -1, last_level = 0;
    for (const KvStore::TableFile& f : store->TableFiles()) {
      last_level = std::max(last_level, f.level);
      if (f.smallest.starts_with("gb")) b_level = f.level;
    }
    EXPECT_EQ(b_level, grouped ? last_level : 0);
    for (std::string k : {key('a', 7), key('b', 1999), key('c', 7999)}) {
      std::string value;
      auto found = store->Get(k, &value);
      ASSERT_TRUE(found.ok() && *found) << k;
      EXPECT_EQ(value[0], k[1]);
    }
  }
}

// An iterator over one group passes over the tables that hold none of its keys (their
// groups are a table property): what it returns is still every key of the group, whether
// in the memtable, in a level-0 file spanning other groups, deleted there one by one, or
// deleted by a range deletion written beside other groups' keys.
TEST(FileGroupTest, IteratorsOverOneGroupSeeEveryKeyOfItWhereverItLies) {
  TempStore store({.file_group = TestGroup});
  ASSERT_TRUE(store.status().ok()) << store.status();
  auto key = GroupKey;
  std::map<std::string, std::string> want;  // group b's keys and values
  auto write = [&](const std::function<void(KvBatch*)>& fill, bool flush) {
    auto batch = store->NewBatch();
    fill(batch.get());
    ASSERT_TRUE(store->Write(batch.get()).ok());
    if (flush) {
      ASSERT_TRUE(store->Flush().ok());
    }
  };
  // A level-0 file of groups a and c only, whose key range spans group b.
  write([&](KvBatch* b) {
    for (int n = 0; n < 100; ++n) b->Put(key('a', n), "a"), b->Put(key('c', n), "c");
  }, true);
  // Group b in a file of its own; a range deletion that starts in group a and ends in
  // group b, in a file that holds no key of group b; deletions of some of the rest and
  // more of group b in the memtable. (Three flushes: a fourth level-0 file would start a
  // compaction, which drops what the range deleted.)
  write([&](KvBatch* b) {
    for (int n = 0; n < 300; ++n) b->Put(key('b', n), "1"), want[key('b', n)] = "1";
  }, true);
  write([&](KvBatch* b) {
    b->DeleteRange(key('a', 90), key('b', 200));
    for (int n = 0; n < 200; ++n) want.erase(key('b', n));
    b->Put(key('c', 500), "c");
  }, true);
  write([&](KvBatch* b) {
    for (int n = 200; n < 300; n += 7) b->Delete(key('b', n)), want.erase(key('b', n));
    for (int n = 150; n < 160; ++n) b->Put(key('b', n), "2"), want[key('b', n)] = "2";
  }, false);
  ASSERT_EQ(LevelZeroFiles(store), 3) << "the test needs its files in level 0";
  auto read_group_b = [&](bool seek_first) {
    std::map<std::string, std::string> got;
    auto it = store->NewIterator("gb", "gc", nullptr);
    if (seek_first) it->Seek(key('b', 0));
    for (; it->Valid(); it->Next()) got[std::string(it->key())] = std::string(it->value());
    EXPECT_TRUE(it->status().ok()) << it->status();
    return got;
  };
  EXPECT_EQ(read_group_b(false), want);
  EXPECT_EQ(read_group_b(true), want);
  // Backwards too, and a range inside the group.
  std::vector<std::string> backwards;
  auto it = store->NewIterator("gb", "gc", nullptr);
  for (it->SeekToLast(); it->Valid(); it->Prev()) backwards.emplace_back(it->key());
  std::vector<std::string> forwards;
  for (const auto& [k, v] : want) forwards.push_back(k);
  EXPECT_EQ(std::vector<std::string>(backwards.rbegin(), backwards.rend()), forwards);
  auto inner = store->NewIterator(key('b', 140), key('b', 170), nullptr);
  int n = 0;
  for (inner->Seek(key('b', 140)); inner->Valid(); inner->Next()) ++n;
  EXPECT_EQ(n, 10) << "of 140..169, only 150..159, written again after the range deletion";
  // A range over every group ("g" is no group's prefix, only the start of all of them).
  auto all = store->NewIterator("g", "h", nullptr);
  size_t in_all = 0;
  for (all->SeekToFirst(); all->Valid(); all->Next()) ++in_all;
  EXPECT_EQ(in_all, 90 + want.size() + 101) << "a0..a89, group b, c0..c99 and c500";
  // Groups a and c are whole.
  auto others = store->NewIterator("ga", "gb", nullptr);
  int a = 0;
  for (others->SeekToFirst(); others->Valid(); others->Next()) ++a;
  EXPECT_EQ(a, 90) << "a0..a89: a90..a99 went with the range";
}

// A group ingested in two overlapping files (an index whose entries do not come out of
// the record scan in key order) has the second in level 0; a compaction scheduled for
// the group's range moves it into the last level, merged with the first, and leaves the
// other groups' files as they were.
TEST(FileGroupTest, ScheduledCompactionMergesAGroupsLevelZeroFilesDown) {
  TempStore store({.file_group = TestGroup});
  ASSERT_TRUE(store.status().ok()) << store.status();
  auto key = GroupKey;
  auto put_and_flush = [&](char group) {
    auto batch = store->NewBatch();
    for (int n = 0; n < 1000; ++n) batch->Put(key(group, n), std::string(32, group));
    ASSERT_TRUE(store->Write(batch.get()).ok());
    ASSERT_TRUE(store->Flush().ok());
  };
  put_and_flush('a');
  // Even and odd keys of group b in two files: both span the group, so the second
  // overlaps the first and lands in level 0.
  for (int parity : {0, 1}) {
    auto ingest = store->NewBatch();
    for (int n = parity; n < 4000; n += 2) ingest->Put(key('b', n), std::string(1, static_cast<char>('0' + parity)));
    ASSERT_TRUE(store->Ingest(ingest.get(), "gb").ok());
  }
  put_and_flush('c');
  auto levels = [&](std::string_view group) {
    std::vector<int> found;
    for (const KvStore::TableFile& f : store->TableFiles()) {
      if (f.smallest.starts_with(group) && f.largest.starts_with(group)) found.push_back(f.level);
    }
    std::sort(found.begin(), found.end());
    return found;
  };
  std::vector<int> a_before = levels("ga"), c_before = levels("gc");
  std::vector<int> b_before = levels("gb");
  ASSERT_EQ(b_before.size(), 2u);
  ASSERT_EQ(b_before[0], 0) << "the test needs a level-0 file of group b";
  ASSERT_TRUE(store->ScheduleCompaction("gb", "gc").ok());
  for (int wait = 0; wait < 3000 && levels("gb").front() == 0; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<int> b_after = levels("gb");
  ASSERT_EQ(b_after.size(), 1u) << "the two files of group b were not merged";
  EXPECT_GT(b_after[0], 0);
  EXPECT_EQ(levels("ga"), a_before);
  EXPECT_EQ(levels("gc"), c_before);
  for (int n : {0, 1, 2001, 3998, 3999}) {
    std::string value;
    auto found = store->Get(key('b', n), &value);
    ASSERT_TRUE(found.ok() && *found) << n;
    EXPECT_EQ(value, std::string(1, static_cast<char>('0' + n % 2)));
  }
}

// A restart replays what the log holds since the last flush into the memtable without
// writing it to a level-0 file: a read-mostly store restarted now and then would keep up
// to three tiny files there, each merged by every seek. What was written survives the
// restarts.
TEST(RecoveryTest, RestartsLeaveNoSmallFilesInLevelZero) {
  TempStore store({});
  ASSERT_TRUE(store.status().ok()) << store.status();
  auto batch = store->NewBatch();
  for (int i = 0; i < 1000; ++i) batch->Put(Key(i), "v" + std::to_string(i));
  ASSERT_TRUE(store->Write(batch.get()).ok());
  ASSERT_TRUE(store->Flush().ok());
  auto level0 = [&] { return LevelZeroFiles(store); };
  const int before = level0();
  for (int restart = 0; restart < 3; ++restart) {
    auto mark = store->NewBatch();
    mark->Put("mark", std::to_string(restart));
    ASSERT_TRUE(store->Write(mark.get()).ok());
    store.Reopen();
    ASSERT_TRUE(store.status().ok()) << store.status();
  }
  EXPECT_EQ(level0(), before);
  std::string value;
  auto found = store->Get("mark", &value);
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ(value, "2");
  found = store->Get(Key(999), &value);
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ(value, "v999");
}

}  // namespace
}  // namespace micromongo::storage
