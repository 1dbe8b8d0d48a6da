#include "exec/index_scan.h"

#include <gtest/gtest.h>

#include "document/builder.h"
#include "document/key_string.h"

namespace micromongo::exec {
namespace {

std::string Key(int v) {
  bson::Builder b;
  b.AppendInt32("", v);
  std::string doc = std::move(b).Finish();
  std::string key;
  bson::AppendKeyString(bson::DocView(doc).begin()->value, &key);
  return key;
}

planner::Interval Range(int lo, bool lo_incl, int hi, bool hi_incl) {
  planner::Interval i;
  i.lo = Key(lo), i.hi = Key(hi);
  i.lo_inclusive = lo_incl, i.hi_inclusive = hi_incl;
  return i;
}

TEST(IndexScanTest, PointPrefixesCombineThenTheNextFieldsIntervals) {
  std::vector<planner::IntervalList> bounds = {
      {planner::PointInterval(Key(1), "1"), planner::PointInterval(Key(2), "2")},
      {Range(5, false, 9, true)},
      {planner::FullInterval()},
  };
  size_t checked_from = 0;
  KeyRanges r = MakeKeyRanges("P", bounds, {false, false, false}, &checked_from);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(checked_from, 2u);
  // (5: keys past every key of 5; 9]: up to every key of 9.
  EXPECT_EQ(r[0].first, PrefixSuccessor("P" + Key(1) + Key(5)));
  EXPECT_EQ(r[0].second, PrefixSuccessor("P" + Key(1) + Key(9)));
  EXPECT_EQ(r[1].first, PrefixSuccessor("P" + Key(2) + Key(5)));
}

TEST(IndexScanTest, DescendingFieldsInvertBytesAndSwapEnds) {
  std::vector<planner::IntervalList> bounds = {{Range(5, true, 9, false)}};
  size_t checked_from = 0;
  KeyRanges r = MakeKeyRanges("P", bounds, {true}, &checked_from);
  ASSERT_EQ(r.size(), 1u);
  std::string inv9 = Key(9), inv5 = Key(5);
  for (char& c : inv9) c = static_cast<char>(~c);
  for (char& c : inv5) c = static_cast<char>(~c);
  EXPECT_EQ(r[0].first, PrefixSuccessor("P" + inv9));  // 9 excluded
  EXPECT_EQ(r[0].second, PrefixSuccessor("P" + inv5));  // 5 included
}

TEST(IndexScanTest, AnEmptyListScansNothing) {
  size_t checked_from = 0;
  EXPECT_TRUE(MakeKeyRanges("P", {{}}, {false}, &checked_from).empty());
}

}  // namespace
}  // namespace micromongo::exec
