// Concurrent operations on one collection through the service layer (no gRPC, so a
// ThreadSanitizer build sees every access): writers of every kind, readers, index builds
// and drops, and validate all at once; afterwards the collection validates clean and
// holds exactly what the writers say they left.

#include <atomic>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "document/builder.h"
#include "document/json.h"
#include "service/service_test_util.h"
#include "document/status.h"
#include "service/crud.h"
#include "service/indexes.h"
#include "service/validate.h"

namespace micromongo::service {
namespace {

using testing_util::Bson;
using testing_util::Filter;

using bson::DocView;

std::string Doc(int64_t id, int64_t v) {
  bson::Builder b;
  b.AppendInt64("_id", id);
  b.AppendInt64("u", id);
  b.AppendInt64("v", v);
  size_t a = b.StartArray("a");
  b.AppendInt64("0", v % 7);
  b.AppendInt64("1", v % 5);
  b.End(a);
  return std::move(b).Finish();
}

TEST(ConcurrencyTest, WritersReadersIndexBuildsAndValidateAtOnce) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mm-concurrency-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  {
    auto engine = storage::Engine::Open({.data_dir = dir});
    ASSERT_TRUE(engine.ok());
    storage::Engine* e = engine->get();
    ASSERT_TRUE(CreateIndex(e, "db", "c", DocView(Bson(R"({"u": 1})")), DocView(Bson(R"({"unique": true})"))).ok());
    ASSERT_TRUE(CreateIndex(e, "db", "c", DocView(Bson(R"({"v": 1, "a": 1})")), DocView(Bson("{}"))).ok());

    constexpr int kWriters = 4, kOps = 2000, kIds = 300;
    std::atomic<bool> done{false};
    std::vector<std::vector<bool>> present(kWriters, std::vector<bool>(kIds, false));
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        std::mt19937 rng(w);
        for (int i = 0; i < kOps; ++i) {
          int64_t slot = rng() % kIds, id = w * kIds + slot;
          auto by_id = Filter(R"({"_id": )" + std::to_string(id) + "}");
          if (!present[w][slot]) {
            auto r = Insert(e, "db", "c", {Doc(id, rng() % 100)}, true);
            if (!r.ok() || r->inserted_count != 1) ++failures;
            present[w][slot] = true;
          } else if (rng() % 3 == 0) {
            auto r = Delete(e, "db", "c", *by_id, false);
            if (!r.ok() || *r != 1) ++failures;
            present[w][slot] = false;
          } else {
            auto update = update::Update::Parse(DocView(Bson(R"({"$inc": {"v": 1}, "$push": {"a": 3}})")), false);
            auto r = Update(e, "db", "c", *by_id, **update, false, false);
            if (!r.ok() || r->modified_count != 1) ++failures;
          }
        }
      });
    }
    threads.emplace_back([&] {  // readers: counts through both indexes and a scan
      auto all = Filter("{}");
      auto ranged = Filter(R"({"v": {"$gte": 0}})");
      while (!done) {
        if (!Count(e, "db", "c", *all, 0, 0).ok() || !Count(e, "db", "c", *ranged, 0, 0).ok()) ++failures;
      }
    });
    threads.emplace_back([&] {  // index builds and drops under the writers
      while (!done) {
        if (!CreateIndex(e, "db", "c", DocView(Bson(R"({"a": 1})")), DocView(Bson("{}"))).ok()) ++failures;
        if (!DropIndex(e, "db", "c", "a_1", DocView(Bson("{}"))).ok()) ++failures;
      }
    });
    threads.emplace_back([&] {  // validate while all of it runs
      while (!done) {
        auto r = ValidateCollection(e, "db", "c", {});
        bson::ValueView valid;
        if (!r.ok() || !DocView(*r).Find("valid", &valid) || !valid.Bool()) {
          ADD_FAILURE() << (r.ok() ? bson::BsonToJson(*r) : r.status().ToString());
          ++failures;
        }
      }
    });
    for (int w = 0; w < kWriters; ++w) threads[w].join();
    done = true;
    for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
    EXPECT_EQ(failures.load(), 0);

    int64_t expected = 0;
    for (const auto& p : present) expected += std::count(p.begin(), p.end(), true);
    auto r = ValidateCollection(e, "db", "c", {.full = true});
    ASSERT_TRUE(r.ok());
    bson::ValueView v;
    ASSERT_TRUE(DocView(*r).Find("valid", &v) && v.Bool()) << bson::BsonToJson(*r);
    ASSERT_TRUE(DocView(*r).Find("nrecords", &v));
    EXPECT_EQ(v.Int64(), expected);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace micromongo::service
