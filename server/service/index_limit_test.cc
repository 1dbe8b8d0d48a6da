// MongoDB's 64 indexes per collection (the _id index included): the 65th fails with 67
// CannotCreateIndex, and a batch that would cross the limit fails whole (MongoDB's
// jstests/core/ddl/index_create_too_many.js).
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "document/json.h"
#include "service/service_test_util.h"
#include "document/status.h"
#include "service/indexes.h"
#include "storage/engine.h"

namespace micromongo::service {
namespace {

using testing_util::Bson;

using bson::DocView;

TEST(IndexLimitTest, SixtyFourIndexesPerCollection) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mm-index-limit-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  {
    auto engine = storage::Engine::Open({.data_dir = dir});
    ASSERT_TRUE(engine.ok()) << engine.status();
    storage::Engine* e = engine->get();
    std::string none = Bson("{}");
    // 62 indexes, 63 with _id.
    for (int i = 0; i < 62; ++i) {
      std::string keys = Bson("{\"i" + std::to_string(i) + "\": 1}");
      ASSERT_TRUE(CreateIndex(e, "db", "c", DocView(keys), DocView(none)).ok()) << i;
    }
    std::string i62 = Bson(R"({"i62": 1})"), i63 = Bson(R"({"i63": 1})");
    std::string again = Bson(R"({"i0": 1})");
    // Two more would make 65: the batch fails before creating either.
    absl::Status s = CheckIndexLimit(e, "db", "c", {{DocView(i62), DocView(none)}, {DocView(i63), DocView(none)}});
    EXPECT_EQ(MongoCodeOf(s), 67) << s;
    EXPECT_NE(s.message().find("too many indexes for db.c"), std::string::npos) << s;
    // One new and one already there (a no-op) fit.
    EXPECT_TRUE(CheckIndexLimit(e, "db", "c", {{DocView(i62), DocView(none)}, {DocView(again), DocView(none)}}).ok());
    EXPECT_TRUE(CreateIndex(e, "db", "c", DocView(i62), DocView(none)).ok());
    auto listed = ListIndexes(e, "db", "c");
    ASSERT_TRUE(listed.ok());
    EXPECT_EQ(listed->size(), 64u);
    // The 65th alone.
    auto more = CreateIndex(e, "db", "c", DocView(i63), DocView(none));
    EXPECT_EQ(MongoCodeOf(more.status()), 67);
    // Re-creating an existing one is still fine at the limit.
    EXPECT_TRUE(CreateIndex(e, "db", "c", DocView(again), DocView(none)).ok());
    EXPECT_EQ(ListIndexes(e, "db", "c")->size(), 64u);
    // Another collection has its own 64.
    EXPECT_TRUE(CreateIndex(e, "db", "d", DocView(i63), DocView(none)).ok());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace micromongo::service
