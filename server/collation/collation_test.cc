#include "collation/collation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "document/json.h"
#include "document/status.h"
#include "query/matcher.h"
#include "query/sort.h"
#include "update/update.h"

namespace micromongo::collation {
namespace {

std::shared_ptr<const bson::Collator> Make(const char* json) {
  auto bytes = bson::JsonToBson(json);
  EXPECT_TRUE(bytes.ok()) << json;
  auto c = Parse(bson::DocView(*bytes));
  EXPECT_TRUE(c.ok()) << json << ": " << c.status();
  return c.ok() ? *c : nullptr;
}

int Sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

struct CompareCase {
  const char* collation;
  const char* a;
  const char* b;
  int expected;  // sign of Compare(a, b)
};

// Expected orders follow ICU's comparison levels as MongoDB's collation page describes
// them: primary = base letters, secondary = + diacritics, tertiary = + case.
const CompareCase kCompareCases[] = {
    {R"({"locale": "en_US", "strength": 1})", "a", "A", 0},
    {R"({"locale": "en_US", "strength": 1})", "a", "\xC3\xA1", 0},  // a vs a-acute
    {R"({"locale": "en_US", "strength": 1})", "a", "b", -1},
    {R"({"locale": "en_US", "strength": 2})", "ping", "PING", 0},
    {R"({"locale": "en_US", "strength": 2})", "a", "\xC3\xA1", -1},
    {R"({"locale": "en_US", "strength": 3})", "a", "A", -1},
    {R"({"locale": "en_US"})", "a", "A", -1},  // default strength 3
    {R"({"locale": "en_US", "strength": 3, "caseFirst": "upper"})", "A", "a", -1},
    {R"({"locale": "en_US", "strength": 1, "caseLevel": true})", "a", "A", -1},
    {R"({"locale": "en_US", "strength": 1, "caseLevel": true})", "a", "\xC3\xA1", 0},
    {R"({"locale": "en_US"})", "10", "9", -1},
    {R"({"locale": "en_US", "numericOrdering": true})", "10", "9", 1},
    {R"({"locale": "en_US", "numericOrdering": true})", "item2", "item10", -1},
    {R"({"locale": "en_US", "strength": 1})", "a b", "ab", -1},
    {R"({"locale": "en_US", "strength": 1, "alternate": "shifted"})", "a b", "ab", 0},
    {R"({"locale": "en_US", "strength": 1, "alternate": "shifted"})", "a-b", "ab", 0},
    // With maxVariable "space" punctuation is no longer ignorable (and sorts before letters).
    {R"({"locale": "en_US", "strength": 1, "alternate": "shifted", "maxVariable": "space"})",
     "a-b", "ab", -1},
    {R"({"locale": "en_US", "strength": 1, "alternate": "shifted", "maxVariable": "space"})",
     "a b", "ab", 0},
    // French accent ordering: backwards compares secondary differences from the end.
    {R"({"locale": "fr"})", "cot\xC3\xA9", "c\xC3\xB4te", -1},
    {R"({"locale": "fr", "backwards": true})", "cot\xC3\xA9", "c\xC3\xB4te", 1},
    {R"({"locale": "de"})", "\xC3\xA4", "b", -1},
    {R"({"locale": "sv"})", "\xC3\xA4", "z", 1},  // Swedish sorts a-umlaut after z
    {R"({"locale": "en_US", "strength": 2, "version": "57.1"})", "x", "X", 0},
};

TEST(CollationTest, ComparesLikeIcuLevels) {
  for (const CompareCase& c : kCompareCases) {
    auto collator = Make(c.collation);
    ASSERT_NE(collator, nullptr) << c.collation;
    EXPECT_EQ(Sign(collator->Compare(c.a, c.b)), c.expected)
        << c.collation << " " << c.a << " vs " << c.b;
  }
}

TEST(CollationTest, SimpleLocaleMeansBinary) {
  auto bytes = bson::JsonToBson(R"({"locale": "simple"})");
  auto c = Parse(bson::DocView(*bytes));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, nullptr);
}

struct ErrorCase {
  const char* collation;
  int code;
};

const ErrorCase kErrorCases[] = {
    {R"({})", 40414},
    {R"({"strength": 2})", 40414},
    {R"({"locale": "en_US", "strenght": 2})", 40415},
    {R"({"locale": 5})", kTypeMismatch},
    {R"({"locale": "en_US", "caseLevel": 1})", kTypeMismatch},
    {R"({"locale": "en_US", "strength": "2"})", kTypeMismatch},
    {R"({"locale": "en_US", "strength": 0})", kBadValue},
    {R"({"locale": "en_US", "strength": 6})", kBadValue},
    {R"({"locale": "en_US", "strength": 1.5})", kBadValue},
    {R"({"locale": "en_US", "caseFirst": "first"})", kBadValue},
    {R"({"locale": "en_US", "alternate": "ignore"})", kBadValue},
    {R"({"locale": "en_US", "maxVariable": "all"})", kBadValue},
    {R"({"locale": "xx_YY"})", kBadValue},
    {R"({"locale": "en_us"})", kBadValue},  // ICU ids are case-sensitive, as in MongoDB
    {R"({"locale": ""})", kBadValue},
};

TEST(CollationTest, RejectsMalformedSpecs) {
  for (const ErrorCase& c : kErrorCases) {
    auto bytes = bson::JsonToBson(c.collation);
    ASSERT_TRUE(bytes.ok());
    auto parsed = Parse(bson::DocView(*bytes));
    ASSERT_FALSE(parsed.ok()) << c.collation;
    EXPECT_EQ(MongoCodeOf(parsed.status()), c.code) << c.collation << ": " << parsed.status();
  }
}

struct MatchCase {
  const char* filter;
  const char* doc;
  bool matches;
};

// Under {locale: "en_US", strength: 2}: case-insensitive, accent-sensitive.
const MatchCase kMatchCases[] = {
    {R"({"x": "PING"})", R"({"x": "ping"})", true},
    {R"({"x": "PING"})", R"({"x": "p\u00edng"})", false},
    {R"({"x": {"$ne": "PING"}})", R"({"x": "ping"})", false},
    {R"({"x": {"$in": ["a", "PING"]}})", R"({"x": "Ping"})", true},
    {R"({"x": {"$nin": ["PING"]}})", R"({"x": "ping"})", false},
    {R"({"x": {"$gt": "B"}})", R"({"x": "c"})", true},
    {R"({"x": {"$lt": "B"}})", R"({"x": "b"})", false},
    {R"({"x": {"$lte": "B"}})", R"({"x": "b"})", true},
    {R"({"x": "PING"})", R"({"x": ["pong", "ping"]})", true},
    {R"({"x": {"y": "A"}})", R"({"x": {"y": "a"}})", true},
    {R"({"x": ["A", "B"]})", R"({"x": ["a", "b"]})", true},
    {R"({"x": {"$elemMatch": {"$eq": "B"}}})", R"({"x": ["a", "b"]})", true},
    {R"({"_id": "ABC"})", R"({"_id": "abc"})", true},
    {R"({"$expr": {"$eq": ["$x", "PING"]}})", R"({"x": "ping"})", true},
    {R"({"$expr": {"$in": ["$x", ["PING"]]}})", R"({"x": "ping"})", true},
    // Regular expressions and field names are not collated.
    {R"({"x": {"$regex": "^PING"}})", R"({"x": "ping"})", false},
    {R"({"X": "ping"})", R"({"x": "ping"})", false},
    // Other types are unaffected.
    {R"({"x": 1})", R"({"x": 1.0})", true},
};

TEST(CollationTest, FiltersCompareStringsUnderTheCollation) {
  auto collator = Make(R"({"locale": "en_US", "strength": 2})");
  for (const MatchCase& c : kMatchCases) {
    auto filter = bson::JsonToBson(c.filter);
    auto doc = bson::JsonToBson(c.doc);
    ASSERT_TRUE(filter.ok() && doc.ok()) << c.filter;
    auto m = query::Matcher::Parse(*filter, nullptr, collator);
    ASSERT_TRUE(m.ok()) << c.filter << ": " << m.status();
    EXPECT_EQ((*m)->Matches(bson::DocView(*doc)), c.matches) << c.filter << " on " << c.doc;
  }
}

TEST(CollationTest, StringIdUnderCollationIsNotAPointLookup) {
  auto collator = Make(R"({"locale": "en_US", "strength": 2})");
  auto filter = bson::JsonToBson(R"({"_id": "ABC"})");
  EXPECT_EQ((*query::Matcher::Parse(*filter, nullptr, collator))->id_equality(), nullptr);
  EXPECT_NE((*query::Matcher::Parse(*filter))->id_equality(), nullptr);
  auto numeric = bson::JsonToBson(R"({"_id": 5})");
  EXPECT_NE((*query::Matcher::Parse(*numeric, nullptr, collator))->id_equality(), nullptr);
}

TEST(CollationTest, SortOrdersByTheCollation) {
  std::vector<std::string> docs;
  for (const char* j : {R"({"s": "b"})", R"({"s": "B"})", R"({"s": "a"})", R"({"s": "C"})",
                        R"({"s": "item10"})", R"({"s": "item9"})"}) {
    docs.push_back(*bson::JsonToBson(j));
  }
  auto order = [&](const std::shared_ptr<const bson::Collator>& collator) {
    auto spec_bytes = bson::JsonToBson(R"({"s": 1})");
    auto spec = query::SortSpec::Parse(bson::DocView(*spec_bytes), collator);
    EXPECT_TRUE(spec.ok());
    std::vector<std::string> sorted = docs;
    std::stable_sort(sorted.begin(), sorted.end(), [&](const std::string& x, const std::string& y) {
      return *spec->KeyOf(bson::DocView(x)) < *spec->KeyOf(bson::DocView(y));
    });
    std::string out;
    for (const std::string& d : sorted) out += std::string(bson::DocView(d).begin()->value.String()) + " ";
    return out;
  };
  EXPECT_EQ(order(nullptr), "B C a b item10 item9 ");
  EXPECT_EQ(order(Make(R"({"locale": "en_US", "strength": 2})")), "a b B C item10 item9 ");
  EXPECT_EQ(order(Make(R"({"locale": "en_US", "numericOrdering": true})")),
            "a b B C item9 item10 ");
}

struct UpdateCase {
  const char* doc;
  const char* update;
  const char* expected;
};

// Under {locale: "en", strength: 2} the operators that compare values compare strings
// case-insensitively: $addToSet does not add "APPLE" next to "apple", $pull and $pullAll
// remove any spelling, $min/$max order by the collation.
TEST(CollationTest, UpdateOperatorsCompareUnderTheCollation) {
  const UpdateCase cases[] = {
      {R"({"a": ["apple"]})", R"({"$addToSet": {"a": "APPLE"}})", R"({"a": ["apple"]})"},
      {R"({"a": ["apple"]})", R"({"$addToSet": {"a": {"$each": ["Pear", "pear"]}}})", R"({"a": ["apple", "Pear"]})"},
      {R"({"a": ["apple", "Apple", "kiwi"]})", R"({"$pull": {"a": "APPLE"}})", R"({"a": ["kiwi"]})"},
      {R"({"a": ["apple", "Kiwi"]})", R"({"$pull": {"a": {"$in": ["KIWI"]}}})", R"({"a": ["apple"]})"},
      {R"({"a": ["b", "C", "d"]})", R"({"$pull": {"a": {"$gte": "c"}}})", R"({"a": ["b"]})"},
      {R"({"a": ["apple", "x"]})", R"({"$pullAll": {"a": ["APPLE"]}})", R"({"a": ["x"]})"},
      {R"({"s": "b"})", R"({"$min": {"s": "A"}})", R"({"s": "A"})"},
      {R"({"s": "b"})", R"({"$max": {"s": "C"}})", R"({"s": "C"})"},
      {R"({"a": ["b", "C"]})", R"({"$push": {"a": {"$each": ["a"], "$sort": 1}}})", R"({"a": ["a", "b", "C"]})"},
      {R"({"a": [{"n": "b"}, {"n": "C"}]})", R"({"$push": {"a": {"$each": [{"n": "A"}], "$sort": {"n": -1}}}})",
       R"({"a": [{"n": "C"}, {"n": "b"}, {"n": "A"}]})"},
  };
  auto collator = Make(R"({"locale": "en", "strength": 2})");
  for (const UpdateCase& c : cases) {
    auto update_bytes = bson::JsonToBson(c.update);
    auto u = update::Update::Parse(bson::DocView(*update_bytes), false);
    ASSERT_TRUE(u.ok()) << c.update << ": " << u.status();
    Document doc = Document::FromJson(c.doc);
    ASSERT_TRUE((*u)->Apply(&doc, {.collator = collator.get()}).ok()) << c.update;
    EXPECT_EQ(doc.ToJson(), Document::FromJson(c.expected).ToJson()) << c.doc << " " << c.update;
  }
}

}  // namespace
}  // namespace micromongo::collation
