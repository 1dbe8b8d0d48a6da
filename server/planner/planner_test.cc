#include "planner/planner.h"

#include <gtest/gtest.h>

#include "collation/collation.h"
#include "document/json.h"
#include "planner/wildcard_expansion.h"

namespace micromongo::planner {
namespace {

struct IndexDesc {
  const char* keys;
  const char* options;
  uint64_t multikey;
};

// Plans `filter` (with `sort` and an inclusion projection of `projection` fields, _id
// excluded, when given) over indexes named by their key patterns and returns each
// candidate's summary.
std::vector<std::string> Plans(std::vector<IndexDesc> indexes, const char* filter, const char* sort = "{}",
                               std::optional<std::vector<std::string>> projection = std::nullopt,
                               const char* collation = nullptr, const char* distinct = nullptr,
                               bool expand_wildcards = false, std::vector<std::string>* residuals = nullptr,
                               bool count = false) {
  PlannerInput in;
  in.count = count;
  if (distinct != nullptr) in.distinct_field = distinct;
  std::shared_ptr<const bson::Collator> collator;
  if (collation != nullptr) collator = *collation::Parse(bson::DocView(*bson::JsonToBson(collation)));
  auto m = query::Matcher::Parse(*bson::JsonToBson(filter), nullptr, collator);
  EXPECT_TRUE(m.ok()) << filter;
  in.filter = m->get();
  std::string sort_bson = *bson::JsonToBson(sort);
  if (bson::DocView(sort_bson).begin() != bson::DocView(sort_bson).end()) in.sort = sort_bson;
  in.projection_fields = projection;
  in.projection_includes_id = false;
  uint32_t id = 1;
  for (const IndexDesc& d : indexes) {
    auto built = index::IndexSpec::Build(bson::DocView(*bson::JsonToBson(d.keys)),
                                         bson::DocView(*bson::JsonToBson(d.options)));
    EXPECT_TRUE(built.ok()) << d.keys << built.status();
    auto spec = index::IndexSpec::Parse(bson::DocView(*built));
    IndexEntry e;
    e.id = id++;
    e.spec = std::make_shared<const index::IndexSpec>(*std::move(spec));
    e.name = e.spec->name();
    e.multikey_fields = d.multikey;
    in.indexes.push_back(std::move(e));
  }
  if (expand_wildcards) {
    size_t stored = in.indexes.size();
    for (size_t i = 0; i < stored; ++i) {
      if (!in.indexes[i].spec->wildcard()) continue;
      for (IndexEntry& e : ExpandWildcard(in.indexes[i], in.filter->root(), in.sort)) in.indexes.push_back(std::move(e));
    }
  }
  std::vector<std::string> out;
  for (const QuerySolution& s : Plan(in)) {
    out.push_back(s.Summary() + (s.provides_sort && !in.sort.empty() ? " sorted" : "") + (s.covered ? " covered" : ""));
    if (residuals != nullptr) {
      const PlanNode& n = *s.root;
      residuals->push_back(!n.has_residual ? "whole filter"
                           : n.residual == nullptr ? "nothing"
                                                   : bson::BsonToJson(std::string(n.residual->filter().bytes())));
    }
  }
  return out;
}

struct Case {
  std::vector<IndexDesc> indexes;
  const char* filter;
  const char* sort;
  std::vector<std::string> expected;
};

// Bounds as MongoDB's explain shows them, from its manual's pages on multikey index bounds,
// compound indexes, sort and $or (docs.mongodb.com/manual/core/multikey-index-bounds).
const Case kCases[] = {
    // Equality prefix then range on a compound index.
    {{{R"({"a": 1, "b": 1})", "{}", 0}}, R"({"a": 5, "b": {"$gt": 3}})", "{}",
     {"FETCH(IXSCAN a_1_b_1 [5, 5] (3, inf.0])"}},
    // $in then equality: points on both fields.
    {{{R"({"a": 1, "b": 1})", "{}", 0}}, R"({"a": {"$in": [1, 2]}, "b": "x"})", "{}",
     {R"(FETCH(IXSCAN a_1_b_1 [1, 1]U[2, 2] ["x", "x"]))"}},
    // Two-sided range within the type bracket, on a non-multikey field: intersected.
    {{{R"({"a": 1})", "{}", 0}}, R"({"a": {"$gt": 1, "$lt": 9}})", "{}", {"FETCH(IXSCAN a_1 (1, 9))"}},
    // On a multikey field the two ranges are not intersected (one element may meet each).
    {{{R"({"a": 1})", "{}", 1}}, R"({"a": {"$gt": 1, "$lt": 9}})", "{}", {"FETCH(IXSCAN a_1 (1, inf.0])"}},
    // ... unless under $elemMatch.
    {{{R"({"a": 1})", "{}", 1}}, R"({"a": {"$elemMatch": {"$gt": 1, "$lt": 9}}})", "{}",
     {"FETCH(IXSCAN a_1 (1, 9))"}},
    // Fields under one multikey path are not compounded without $elemMatch.
    {{{R"({"r.score": 1, "r.by": 1})", "{}", 3}}, R"({"r.score": {"$lte": 5}, "r.by": "anon"})", "{}",
     {"FETCH(IXSCAN r.score_1_r.by_1 [-inf.0, 5] [MinKey, MaxKey])"}},
    {{{R"({"r.score": 1, "r.by": 1})", "{}", 3}}, R"({"r": {"$elemMatch": {"score": {"$lte": 5}, "by": "anon"}}})",
     "{}", {R"(FETCH(IXSCAN r.score_1_r.by_1 [-inf.0, 5] ["anon", "anon"]))"}},
    // Descending key: bounds in ascending values, scanned by the index's order.
    {{{R"({"a": -1})", "{}", 0}}, R"({"a": {"$gte": 2}})", "{}", {"FETCH(IXSCAN a_-1 [2, inf.0])"}},
    // null, $exists-free: the null point. Regex prefix and the regex itself.
    {{{R"({"a": 1})", "{}", 0}}, R"({"a": null})", "{}", {"FETCH(IXSCAN a_1 [null, null])"}},
    {{{R"({"a": 1})", "{}", 0}}, R"({"a": {"$regex": "^ab"}})", "{}",
     {R"(FETCH(IXSCAN a_1 ["ab", "ac")U[/^ab/, /^ab/]))"}},
    {{{R"({"a": 1})", "{}", 0}}, R"({"a": {"$type": "string"}})", "{}", {R"(FETCH(IXSCAN a_1 ["", {})))"}},
    // Equality to an array: the array and its first element.
    {{{R"({"a": 1})", "{}", 1}}, R"({"a": [2, 1]})", "{}", {"FETCH(IXSCAN a_1 [2, 2]U[[2, 1], [2, 1]])"}},
    // No predicate on the first field, no sort: a collection scan.
    {{{R"({"a": 1, "b": 1})", "{}", 0}}, R"({"b": 1})", "{}", {"COLLSCAN"}},
    // Sort from the index, forward and backward, after an equality prefix.
    {{{R"({"a": 1, "b": 1})", "{}", 0}}, R"({"a": 1})", R"({"b": -1})",
     {"FETCH(IXSCAN a_1_b_1 backward [1, 1] [MinKey, MaxKey]) sorted"}},
    {{{R"({"a": 1, "b": -1})", "{}", 0}}, R"({})", R"({"a": -1, "b": 1})",
     {"FETCH(IXSCAN a_1_b_-1 backward [MinKey, MaxKey] [MinKey, MaxKey]) sorted"}},
    // Mixed directions that match neither way: no index sort.
    {{{R"({"a": 1, "b": 1})", "{}", 0}}, R"({})", R"({"a": 1, "b": -1})", {"COLLSCAN"}},
    // An $in prefix before the sort field: merged.
    {{{R"({"a": 1, "b": 1})", "{}", 0}}, R"({"a": {"$in": [1, 2]}})", R"({"b": 1})",
     {"FETCH(SORT_MERGE(IXSCAN a_1_b_1 [1, 1] [MinKey, MaxKey], IXSCAN a_1_b_1 [2, 2] [MinKey, MaxKey])) sorted"}},
    // A multikey field cannot give a sort.
    {{{R"({"a": 1})", "{}", 1}}, R"({})", R"({"a": 1})", {"COLLSCAN"}},
    // $or: one scan per branch.
    {{{R"({"a": 1})", "{}", 0}, {R"({"b": 1})", "{}", 0}}, R"({"$or": [{"a": 1}, {"b": 2}]})", "{}",
     {"FETCH(OR(IXSCAN a_1 [1, 1], IXSCAN b_1 [2, 2]))"}},
    // A branch without an index: no OR plan.
    {{{R"({"a": 1})", "{}", 0}}, R"({"$or": [{"a": 1}, {"c": 2}]})", "{}", {"COLLSCAN"}},
    // Two candidate indexes.
    {{{R"({"a": 1})", "{}", 0}, {R"({"b": 1})", "{}", 0}}, R"({"a": 1, "b": 2})", "{}",
     {"FETCH(IXSCAN a_1 [1, 1])", "FETCH(IXSCAN b_1 [2, 2])"}},
    // Sparse: not for {a: null} (missing fields match it) nor for a bare sort.
    {{{R"({"a": 1})", R"({"sparse": true})", 0}}, R"({"a": null})", "{}", {"COLLSCAN"}},
    {{{R"({"a": 1})", R"({"sparse": true})", 0}}, R"({"a": 3})", "{}", {"FETCH(IXSCAN a_1 [3, 3])"}},
    // Partial: only when the filter implies the partial filter.
    {{{R"({"a": 1})", R"({"partialFilterExpression": {"a": {"$gt": 5}}})", 0}}, R"({"a": 3})", "{}", {"COLLSCAN"}},
    {{{R"({"a": 1})", R"({"partialFilterExpression": {"a": {"$gt": 5}}})", 0}}, R"({"a": {"$gte": 7}})", "{}",
     {"FETCH(IXSCAN a_1 [7, inf.0])"}},
    // Hidden indexes are not used.
    {{{R"({"a": 1})", R"({"hidden": true})", 0}}, R"({"a": 3})", "{}", {"COLLSCAN"}},
    // Hashed: equality only.
    {{{R"({"a": "hashed"})", "{}", 0}}, R"({"a": {"$gt": 3}})", "{}", {"COLLSCAN"}},
    // $ne: everything but the point.
    {{{R"({"a": 1})", "{}", 0}}, R"({"a": {"$ne": 3}})", "{}", {"FETCH(IXSCAN a_1 [MinKey, 3)U(3, MaxKey])"}},
};

TEST(PlannerTest, CandidatePlansFollowMongoDBsRules) {
  for (const Case& c : kCases) {
    EXPECT_EQ(Plans(c.indexes, c.filter, c.sort), c.expected) << c.filter << " sort " << c.sort;
  }
}

// The filter a FETCH (or covered scan) still applies: the top-level predicates its bounds
// do not answer exactly. Exact: equality, ranges and $in of plain scalars on a non-multikey
// ascending or descending key field (strings only under the index's collation).
TEST(PlannerTest, FetchAppliesOnlyWhatTheBoundsDoNotAnswer) {
  struct ResidualCase {
    IndexDesc index;
    const char* filter;
    const char* residual;
  };
  const ResidualCase cases[] = {
      {{R"({"g": 1, "k": 1})", "{}", 0}, R"({"g": 7, "k": {"$gte": 5, "$lt": 9}})", "nothing"},
      {{R"({"g": 1, "k": -1})", "{}", 0}, R"({"g": {"$in": [1, "x"]}, "k": {"$eq": 2}})", "nothing"},
      {{R"({"k": 1})", "{}", 0}, R"({"k": 3, "r": 5})", R"({"r": 5})"},
      {{R"({"k": 1})", "{}", 0}, R"({"k": 3, "$or": [{"r": 5}, {"s": 1}]})", R"({"$or": [{"r": 5}, {"s": 1}]})"},
      {{R"({"k": 1})", "{}", 0}, R"({"k": {"$gt": 3, "$ne": 5}})", "whole filter"},
      {{R"({"k": 1})", "{}", 0}, R"({"k": null})", "whole filter"},
      {{R"({"k": 1})", "{}", 0}, R"({"k": {"$numberDecimal": "2"}})", "whole filter"},
      {{R"({"k": 1})", "{}", 0}, R"({"k": {"$gt": {"$numberDouble": "NaN"}}})", "whole filter"},
      {{R"({"k": 1})", "{}", 0}, R"({"k": [1, 2]})", "whole filter"},
      {{R"({"k": 1})", "{}", 0}, R"({"k": {"x": 1}})", "whole filter"},
      {{R"({"k": 1})", "{}", 0}, R"({"k": {"$regex": "^a"}})", "whole filter"},
      {{R"({"k": 1})", "{}", 1}, R"({"k": 3})", "whole filter"},
      {{R"({"k": "hashed"})", "{}", 0}, R"({"k": 3})", "whole filter"},
      {{R"({"a.0": 1})", "{}", 0}, R"({"a.0": 3})", "whole filter"},
      {{R"({"a.b": 1})", "{}", 0}, R"({"a.b": 3, "c": 1})", R"({"c": 1})"},
      {{R"({"k": 1})", R"({"collation": {"locale": "fr"}})", 0}, R"({"k": "x"})", "whole filter"},
  };
  for (const ResidualCase& c : cases) {
    std::vector<std::string> residuals;
    auto plans = Plans({c.index}, c.filter, "{}", std::nullopt, nullptr, nullptr, false, &residuals);
    ASSERT_FALSE(residuals.empty()) << c.filter;
    EXPECT_EQ(residuals[0], c.residual) << c.index.keys << " " << c.filter << " " << plans[0];
  }
}

// count's plans (an empty projection): a covered scan whose bounds answer the whole filter
// over one interval per key field counts entries without building documents.
TEST(PlannerTest, CountsScanKeysWhenTheBoundsAnswerTheWholeFilter) {
  auto count = [](IndexDesc index, const char* filter) {
    return Plans({index}, filter, "{}", std::vector<std::string>(), nullptr, nullptr, false, nullptr, true)[0];
  };
  EXPECT_EQ(count({R"({"a": 1})", "{}", 0}, R"({"a": 5})"), "COUNT_SCAN a_1 [5, 5] covered");
  EXPECT_EQ(count({R"({"a": 1, "b": -1})", "{}", 0}, R"({"a": 5, "b": {"$gt": 1}})"),
            "COUNT_SCAN a_1_b_-1 [5, 5] (1, inf.0] covered");
  // Several intervals, a predicate left over, an array seen, null: a covered IXSCAN or FETCH.
  EXPECT_EQ(count({R"({"a": 1})", "{}", 0}, R"({"a": {"$in": [1, 2]}})"), "IXSCAN a_1 [1, 1]U[2, 2] covered");
  EXPECT_EQ(count({R"({"a": 1, "b": 1})", "{}", 0}, R"({"a": 5, "b": {"$gt": 1, "$ne": 3}})"),
            "IXSCAN a_1_b_1 [5, 5] (1, 3)U(3, inf.0] covered");
  EXPECT_EQ(count({R"({"a": 1})", "{}", 1}, R"({"a": 5})"), "FETCH(IXSCAN a_1 [5, 5])");
  EXPECT_EQ(count({R"({"a": 1})", "{}", 0}, R"({"a": null})"), "FETCH(IXSCAN a_1 [null, null])");
}

TEST(PlannerTest, CoveredPlansNeedEveryFieldInANonMultikeyIndexWithoutNull) {
  std::vector<IndexDesc> ab = {{R"({"a": 1, "b": 1})", "{}", 0}};
  EXPECT_EQ(Plans(ab, R"({"a": {"$gt": 1}})", "{}", std::vector<std::string>{"a", "b"}),
            std::vector<std::string>{"FETCH(IXSCAN a_1_b_1 (1, inf.0] [MinKey, MaxKey])"});
  // b's bounds hold null (a missing b): not covered. With b bounded too, covered.
  EXPECT_EQ(Plans(ab, R"({"a": {"$gt": 1}, "b": {"$lt": 5}})", "{}", std::vector<std::string>{"a", "b"}),
            std::vector<std::string>{"IXSCAN a_1_b_1 (1, inf.0] [-inf.0, 5) covered"});
  EXPECT_EQ(Plans(ab, R"({"a": 2})", "{}", std::vector<std::string>{"a"}),
            std::vector<std::string>{"IXSCAN a_1_b_1 [2, 2] [MinKey, MaxKey] covered"});
  // A projected field outside the index, or a multikey index: fetched.
  EXPECT_EQ(Plans(ab, R"({"a": 2})", "{}", std::vector<std::string>{"a", "c"}),
            std::vector<std::string>{"FETCH(IXSCAN a_1_b_1 [2, 2] [MinKey, MaxKey])"});
  EXPECT_EQ(Plans({{R"({"a": 1})", "{}", 1}}, R"({"a": 2})", "{}", std::vector<std::string>{"a"}),
            std::vector<std::string>{"FETCH(IXSCAN a_1 [2, 2])"});
}

TEST(PlannerTest, StringBoundsOnlyUnderTheIndexCollation) {
  const char* fr = R"({"locale": "fr", "strength": 2})";
  // Binary index, collated query: numbers still bounded, strings not.
  EXPECT_EQ(Plans({{R"({"a": 1})", "{}", 0}}, R"({"a": "x"})", "{}", std::nullopt, fr),
            std::vector<std::string>{"COLLSCAN"});
  EXPECT_EQ(Plans({{R"({"a": 1})", "{}", 0}}, R"({"a": 3})", "{}", std::nullopt, fr),
            std::vector<std::string>{"FETCH(IXSCAN a_1 [3, 3])"});
  std::string opts = std::string(R"({"collation": )") + fr + "}";
  EXPECT_EQ(Plans({{R"({"a": 1})", opts.c_str(), 0}}, R"({"a": "x"})", "{}", std::nullopt, fr).size(), 1u);
  EXPECT_NE(Plans({{R"({"a": 1})", opts.c_str(), 0}}, R"({"a": "x"})", "{}", std::nullopt, fr)[0], "COLLSCAN");
}

TEST(PlannerTest, DistinctScansNeedALeadingNonMultikeyFieldOfAFullIndexAndAFilterOnIt) {
  auto distinct = [](std::vector<IndexDesc> indexes, const char* filter, const char* key) {
    return Plans(std::move(indexes), filter, "{}", std::nullopt, nullptr, key);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(distinct({{R"({"a": 1, "b": 1})", "{}", 0}}, "{}", "a"),
            V{"DISTINCT_SCAN a_1_b_1 [MinKey, MaxKey] [MinKey, MaxKey] covered"});
  EXPECT_EQ(distinct({{R"({"a": -1})", "{}", 0}}, R"({"a": {"$gte": 2}})", "a"),
            V{"DISTINCT_SCAN a_-1 [2, inf.0] covered"});
  // Not the leading field, multikey, partial, or a filter on another field: no DISTINCT_SCAN.
  EXPECT_EQ(distinct({{R"({"b": 1, "a": 1})", "{}", 0}}, "{}", "a"), V{"COLLSCAN"});
  EXPECT_EQ(distinct({{R"({"a": 1})", "{}", 1}}, "{}", "a"), V{"COLLSCAN"});
  EXPECT_EQ(distinct({{R"({"a": 1})", R"({"partialFilterExpression": {"a": {"$gt": 0}}})", 0}}, "{}", "a"),
            V{"COLLSCAN"});
  EXPECT_EQ(distinct({{R"({"a": 1})", "{}", 0}}, R"({"c": 1})", "a"), V{"COLLSCAN"});
}

TEST(PlannerTest, WildcardIndexesServeEachPathWithCompatiblePredicates) {
  auto plans = [](const char* keys, const char* options, const char* filter, const char* sort = "{}",
                  uint64_t multikey = 0) {
    return Plans({{keys, options, multikey}}, filter, sort, std::nullopt, nullptr, nullptr, /*expand_wildcards=*/true);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(plans(R"({"$**": 1})", "{}", R"({"a.b": 5})"), V{R"(FETCH(IXSCAN $**_1 ["a.b", "a.b"] [5, 5]))"});
  // One candidate per path.
  EXPECT_EQ(plans(R"({"$**": 1})", "{}", R"({"a": {"$gt": 1}, "c": "x"})").size(), 2u);
  // Predicates a missing field matches, or on documents, arrays, null: not from the index.
  for (const char* f : {R"({"a": null})", R"({"a": {"$ne": 1}})", R"({"a": {"$in": [1, null]}})", R"({"a": {"b": 1}})",
                        R"({"a": [1]})", R"({"a": {"$exists": false}})", R"({"a.0": 1})", R"({"a": {"$gt": 1, "$ne": 3}})"}) {
    EXPECT_EQ(plans(R"({"$**": 1})", "{}", f), V{"COLLSCAN"}) << f;
  }
  // A path outside the index's projection; _id unless projected in.
  EXPECT_EQ(plans(R"({"a.$**": 1})", "{}", R"({"b": 1})"), V{"COLLSCAN"});
  EXPECT_EQ(plans(R"({"$**": 1})", R"({"wildcardProjection": {"b": 0}})", R"({"b.c": 1})"), V{"COLLSCAN"});
  // A sort only with a predicate on the path, and not once arrays were seen.
  EXPECT_EQ(plans(R"({"$**": 1})", "{}", "{}", R"({"a": 1})"), V{"COLLSCAN"});
  EXPECT_EQ(plans(R"({"$**": 1})", "{}", R"({"a": {"$gt": 1}})", R"({"a": 1})"),
            V{R"(FETCH(IXSCAN $**_1 ["a", "a"] (1, inf.0]) sorted)"});
  EXPECT_EQ(plans(R"({"$**": 1})", "{}", R"({"a": {"$gt": 1}})", R"({"a": 1})", 1),
            V{R"(FETCH(IXSCAN $**_1 ["a", "a"] (1, inf.0]))"});
}

}  // namespace
}  // namespace micromongo::planner
