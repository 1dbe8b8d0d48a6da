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

}  // namespace
}  // namespace micromongo::storage
