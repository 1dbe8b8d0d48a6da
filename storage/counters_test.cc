#include "storage/counters.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace micromongo::storage {
namespace {

using Rule = Counter::Rule;

std::vector<Counter> Decoded(std::string_view in) {
  std::vector<Counter> out;
  EXPECT_TRUE(DecodeCounters(in, &out));
  return out;
}

TEST(CountersTest, EncodingIsOneRuleByteAndEightLittleEndianBytesPerField) {
  std::string v = EncodeCounters({{Rule::kSum, 0x0102030405060708}, {Rule::kMax, -1}});
  EXPECT_EQ(v, std::string("+\x08\x07\x06\x05\x04\x03\x02\x01>\xff\xff\xff\xff\xff\xff\xff\xff", 18));
  EXPECT_EQ(Decoded(v), (std::vector<Counter>{{Rule::kSum, 0x0102030405060708}, {Rule::kMax, -1}}));
  EXPECT_EQ(Decoded(""), std::vector<Counter>{});
}

TEST(CountersTest, CombinesFieldByFieldWithEachFieldsRule) {
  constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();
  struct Case {
    std::string name;
    std::vector<Counter> a, b, combined;
  };
  std::vector<Case> cases = {
      {"sums", {{Rule::kSum, 5}, {Rule::kSum, -7}}, {{Rule::kSum, 3}, {Rule::kSum, 2}},
       {{Rule::kSum, 8}, {Rule::kSum, -5}}},
      {"maxima", {{Rule::kMax, 5}}, {{Rule::kMax, 9}}, {{Rule::kMax, 9}}},
      {"negative maxima", {{Rule::kMax, -5}}, {{Rule::kMax, -9}}, {{Rule::kMax, -5}}},
      {"mixed", {{Rule::kSum, 1}, {Rule::kMax, 4}}, {{Rule::kSum, 1}, {Rule::kMax, 2}},
       {{Rule::kSum, 2}, {Rule::kMax, 4}}},
      {"nothing and a value", {}, {{Rule::kSum, -3}, {Rule::kMax, 2}}, {{Rule::kSum, -3}, {Rule::kMax, 2}}},
      {"a shorter value keeps the longer one's last fields", {{Rule::kSum, 1}},
       {{Rule::kSum, 1}, {Rule::kMax, -2}}, {{Rule::kSum, 2}, {Rule::kMax, -2}}},
      {"sums wrap around", {{Rule::kSum, kMax64}}, {{Rule::kSum, 1}},
       {{Rule::kSum, std::numeric_limits<int64_t>::min()}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string ab, ba;
    ASSERT_TRUE(CombineCounters(EncodeCounters(c.a), EncodeCounters(c.b), &ab));
    ASSERT_TRUE(CombineCounters(EncodeCounters(c.b), EncodeCounters(c.a), &ba));
    EXPECT_EQ(Decoded(ab), c.combined);
    EXPECT_EQ(ab, ba);  // commutative
  }
}

TEST(CountersTest, CombiningIsAssociative) {
  // RocksDB combines operands before it knows the base value: (x . y) . z == x . (y . z).
  std::vector<std::string> values = {
      EncodeCounters({{Rule::kSum, 3}, {Rule::kSum, 100}, {Rule::kMax, 7}}),
      EncodeCounters({{Rule::kSum, -1}, {Rule::kSum, -40}}),
      EncodeCounters({{Rule::kSum, 2}, {Rule::kSum, 5}, {Rule::kMax, 9}}),
      EncodeCounters({}),
  };
  for (const std::string& x : values) {
    for (const std::string& y : values) {
      for (const std::string& z : values) {
        std::string xy, xy_z, yz, x_yz;
        ASSERT_TRUE(CombineCounters(x, y, &xy));
        ASSERT_TRUE(CombineCounters(xy, z, &xy_z));
        ASSERT_TRUE(CombineCounters(y, z, &yz));
        ASSERT_TRUE(CombineCounters(x, yz, &x_yz));
        EXPECT_EQ(xy_z, x_yz);
      }
    }
  }
}

TEST(CountersTest, RejectsWhatIsNotACountersValue) {
  std::string good = EncodeCounters({{Rule::kSum, 1}});
  std::string max = EncodeCounters({{Rule::kMax, 1}});
  std::vector<Counter> out;
  std::string combined;
  for (std::string_view bad : {std::string_view("+\x01", 2), std::string_view("x12345678", 9),
                               std::string_view("+12345678+", 10)}) {
    SCOPED_TRACE(testing::PrintToString(std::string(bad)));
    EXPECT_FALSE(DecodeCounters(bad, &out));
    EXPECT_FALSE(CombineCounters(bad, good, &combined));
    EXPECT_FALSE(CombineCounters(good, bad, &combined));
  }
  EXPECT_FALSE(CombineCounters(good, max, &combined));  // a field's rules differ
}

}  // namespace
}  // namespace micromongo::storage
