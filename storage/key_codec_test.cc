#include "storage/key_codec.h"

#include <gtest/gtest.h>

#include "document/compare.h"
#include "document/json.h"

namespace micromongo::storage {
namespace {

TEST(KeyCodecTest, RecordKeysOfCollectionsDoNotOverlap) {
  auto bytes = bson::JsonToBson(R"({"v": {"$maxKey": 1}})");
  ASSERT_TRUE(bytes.ok());
  std::string key = RecordKey(7, bson::DocView(*bytes).begin()->value);
  EXPECT_GE(key, RecordPrefix(7));
  EXPECT_LT(key, RecordPrefix(8));
}

// Keys written one after another in key order share a stream; a key that begins a range
// deletion (storage/database.cc) must be in none (KvOptions::write_stream).
TEST(KeyCodecTest, WriteStreamsHoldRecordsIndexEntriesLogAndStatsButNoRangeStart) {
  auto bytes = bson::JsonToBson(R"({"v": {"$oid": "65a1b2c3d4e5f60718293a4b"}})");
  ASSERT_TRUE(bytes.ok());
  std::string record = RecordKey(7, bson::DocView(*bytes).begin()->value);
  EXPECT_EQ(WriteStreamPrefix(record), 5u);
  EXPECT_EQ(record.substr(0, 5), RecordPrefix(7));
  EXPECT_EQ(WriteStreamPrefix(IndexPrefix(7, 2) + "\x2b\x04"), 9u);
  EXPECT_EQ(WriteStreamPrefix(ChangeKey(12345)), 1u);
  EXPECT_EQ(WriteStreamPrefix(StatsKey(7)), 5u);
  EXPECT_EQ(WriteStreamPrefix(IndexStatsKey(7, 2)), 9u);
  EXPECT_EQ(IndexStatsKey(7, 2).substr(0, 5), StatsKey(7));
  for (const std::string& range_start :
       {RecordPrefix(7), IndexPrefix(7, 2), IndexPrefix(7, 0), MultikeyPrefix(7, 2), NaturalPrefix(7),
        NaturalOfPrefix(7), std::string(1, kStatsPrefix), StatsKey(7) + '\0', std::string(1, kLogPrefix)}) {
    EXPECT_EQ(WriteStreamPrefix(range_start), 0u) << range_start;
  }
  for (const std::string& other : {NaturalKey(7, 3), BuildMarkerKey(7, 2), PendingKey("c1"), std::string()}) {
    EXPECT_EQ(WriteStreamPrefix(other), 0u) << other;
  }
}

// Table files hold one collection's records, one index's entries, or keys of one kind.
TEST(KeyCodecTest, FileGroupsAreCollectionsIndexesAndKeyKinds) {
  auto bytes = bson::JsonToBson(R"({"v": 42})");
  ASSERT_TRUE(bytes.ok());
  std::string record = RecordKey(7, bson::DocView(*bytes).begin()->value);
  EXPECT_EQ(record.substr(0, FileGroupPrefix(record)), RecordPrefix(7));
  std::string entry = IndexPrefix(7, 2) + "\x2b\x04";
  EXPECT_EQ(entry.substr(0, FileGroupPrefix(entry)), IndexPrefix(7, 2));
  EXPECT_EQ(FileGroupPrefix(ChangeKey(12345)), 1u);
  EXPECT_EQ(FileGroupPrefix(StatsKey(7)), 1u);
  EXPECT_EQ(FileGroupPrefix(MultikeyPrefix(7, 2)), 1u);
  EXPECT_EQ(FileGroupPrefix(std::string(1, kRecordPrefix)), 1u);  // a bound, not a key
  EXPECT_EQ(FileGroupPrefix(""), 0u);
}

}  // namespace
}  // namespace micromongo::storage
