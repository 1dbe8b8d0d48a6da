// A full disk and a failing device, injected under RocksDB (storage::FaultInjection): every
// write fails with a clear error and acknowledges nothing, reads keep working, indexes and
// counts stay in agreement, and writes succeed again once the disk is usable.
#include <chrono>
#include <filesystem>
#include <thread>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "document/json.h"
#include "service/service_test_util.h"
#include "document/status.h"
#include "service/crud.h"
#include "service/indexes.h"
#include "service/validate.h"
#include "storage/engine.h"

namespace micromongo::service {
namespace {

using testing_util::Bson;
using testing_util::Filter;

using bson::DocView;
using Fault = storage::FaultInjection::Fault;

class DiskFaultTest : public ::testing::TestWithParam<Fault> {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mm-disk-fault-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    storage::EngineOptions options;
    options.data_dir = dir_;
    options.kv.faults = &faults_;
    auto engine = storage::Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    ASSERT_TRUE(CreateIndex(e(), "db", "c", DocView(Bson(R"({"a": 1})")), DocView(Bson(R"({"unique": true})"))).ok());
    std::vector<std::string> docs;
    for (int i = 0; i < 100; ++i) docs.push_back(Bson("{\"_id\": " + std::to_string(i) + ", \"a\": " + std::to_string(i) + "}"));
    auto r = Insert(e(), "db", "c", docs, true);
    ASSERT_TRUE(r.ok() && r->inserted_count == 100);
  }
  void TearDown() override {
    faults_.Set(Fault::kNone);
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  storage::Engine* e() { return engine_.get(); }
  int64_t CountAll() { return *Count(e(), "db", "c", *Filter("{}"), 0, 0); }
  int64_t CountByIndex(const std::string& filter) {
    return *Count(e(), "db", "c", *Filter(filter), 0, 0, {}, QueryHint{.index_name = "a_1"});
  }
  bool Valid() {
    auto r = ValidateCollection(e(), "db", "c", {.full = true});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && bson::BsonToJson(*r).find("\"valid\": true") != std::string::npos;
  }
  int ExpectedCode() { return GetParam() == Fault::kNoSpace ? kOutOfDiskSpace : kInternalError; }

  std::string dir_;
  storage::FaultInjection faults_;
  std::unique_ptr<storage::Engine> engine_;
};

TEST_P(DiskFaultTest, WritesFailWholeReadsWorkAndWritesResume) {
  faults_.Set(GetParam());
  // Each kind of write fails with the disk's error; nothing of it is applied.
  auto inserted = Insert(e(), "db", "c", {Bson(R"({"_id": 1000, "a": 1000})"), Bson(R"({"_id": 1001, "a": 1001})")}, true);
  absl::Status insert_status = inserted.ok() ? (inserted->write_errors.empty() ? absl::OkStatus() : inserted->write_errors[0].status)
                                             : inserted.status();
  EXPECT_EQ(MongoCodeOf(insert_status), ExpectedCode()) << insert_status;
  if (inserted.ok()) {
    EXPECT_EQ(inserted->inserted_count, 0);
  }
  EXPECT_NE(insert_status.message().find(GetParam() == Fault::kNoSpace ? "disk is full" : "I/O error"),
            std::string::npos) << insert_status;
  auto update = update::Update::Parse(DocView(Bson(R"({"$set": {"b": 1}})")), false);
  auto updated = Update(e(), "db", "c", *Filter("{}"), **update, /*multi=*/true, false);
  EXPECT_EQ(MongoCodeOf(updated.status()), ExpectedCode()) << updated.status();
  auto deleted = Delete(e(), "db", "c", *Filter(R"({"_id": {"$lt": 50}})"), /*multi=*/true);
  EXPECT_EQ(MongoCodeOf(deleted.status()), ExpectedCode()) << deleted.status();
  auto index = CreateIndex(e(), "db", "c", DocView(Bson(R"({"b": 1})")), DocView(Bson("{}")));
  EXPECT_FALSE(index.ok());

  // Reads keep working and see exactly what was there.
  EXPECT_EQ(CountAll(), 100);
  EXPECT_EQ(CountByIndex(R"({"a": {"$gte": 0}})"), 100);
  EXPECT_EQ(CountByIndex(R"({"b": 1})"), 0);
  EXPECT_EQ(*Count(e(), "db", "c", *Filter(R"({"b": 1})"), 0, 0), 0);
  EXPECT_EQ(ListIndexes(e(), "db", "c")->size(), 2u);

  // Space is back: the next write resumes the store (after its retry interval, 100 ms)
  // and goes through.
  faults_.Set(Fault::kNone);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto again = Insert(e(), "db", "c", {Bson(R"({"_id": 1000, "a": 1000})")}, true);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->inserted_count, 1);
  auto updated_again = Update(e(), "db", "c", *Filter(R"({"_id": 1})"), **update, false, false);
  ASSERT_TRUE(updated_again.ok()) << updated_again.status();
  EXPECT_EQ(updated_again->modified_count, 1);
  EXPECT_EQ(CountAll(), 101);
  EXPECT_EQ(CountByIndex(R"({"a": {"$gte": 0}})"), 101);
  EXPECT_EQ(*EstimatedCount(e(), "db", "c"), 101);
  EXPECT_TRUE(Valid());
}

TEST_P(DiskFaultTest, NothingAcknowledgedIsLostAcrossAFaultAndARestart) {
  faults_.Set(GetParam());
  // The failed insert's outcome is checked above; here only what survives matters.
  (void)Insert(e(), "db", "c", {Bson(R"({"_id": 2000, "a": 2000})")}, true);
  faults_.Set(Fault::kNone);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(Insert(e(), "db", "c", {Bson(R"({"_id": 2001, "a": 2001})")}, true).ok());
  engine_.reset();
  storage::EngineOptions options;
  options.data_dir = dir_;
  auto engine = storage::Engine::Open(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  engine_ = *std::move(engine);
  EXPECT_EQ(CountAll(), 101);
  EXPECT_EQ(*Count(e(), "db", "c", *Filter(R"({"_id": 2000})"), 0, 0), 0);
  EXPECT_EQ(*Count(e(), "db", "c", *Filter(R"({"_id": 2001})"), 0, 0), 1);
  EXPECT_TRUE(Valid());
}

INSTANTIATE_TEST_SUITE_P(Faults, DiskFaultTest, ::testing::Values(Fault::kNoSpace, Fault::kIoError),
                         [](const auto& info) { return info.param == Fault::kNoSpace ? "FullDisk" : "IoError"; });

}  // namespace
}  // namespace micromongo::service
