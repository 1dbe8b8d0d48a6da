// MultiGet's two read paths (a clustered walk with one iterator, batched point reads)
// must agree on every mix of present, absent, repeated and scattered keys, and honour
// snapshots. Batches, written in key order, must leave what applying them in order leaves.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "storage/kv.h"

namespace micromongo::storage {
namespace {

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%08d", i);
  return buf;
}

class KvStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mm-kv-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    env_ = KvEnv::Create(KvOptions{});
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
    for (size_t i = 0; i < ids.size(); ++i) {
      std::string want;
      auto present = store_->Get(keys[i], &want, snapshot);
      ASSERT_TRUE(present.ok());
      ASSERT_EQ(found[i], *present) << "key " << ids[i];
      if (*present) {
        EXPECT_EQ(values[i], want) << "key " << ids[i];
      }
    }
  }

  std::string dir_;
  std::unique_ptr<KvEnv> env_;
  std::unique_ptr<KvStore> store_;
};

TEST_F(KvStoreTest, AgreesWithGetOnEveryKeyMix) {
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
  for (const auto& ids : cases) Check(ids);
}

TEST_F(KvStoreTest, ReadsAsOfTheSnapshot) {
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
TEST_F(KvStoreTest, BatchesLeaveWhatApplyingThemInOrderLeaves) {
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

}  // namespace
}  // namespace micromongo::storage
