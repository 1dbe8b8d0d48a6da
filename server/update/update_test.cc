#include "update/update.h"

#include <gtest/gtest.h>

#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"

namespace micromongo::update {
namespace {

std::string Bson(const char* json) { return *bson::JsonToBson(json); }

struct Case {
  const char* doc;
  const char* update;
  const char* expected;  // canonical JSON of the result, or nullptr for an error
  int code = 0;
};

const Case kCases[] = {
    {R"({"_id": 1, "a": 1})", R"({"$set": {"a": 2}})", R"({"_id": 1, "a": 2})"},
    {R"({"_id": 1})", R"({"$set": {"a.b.c": 1}})", R"({"_id": 1, "a": {"b": {"c": 1}}})"},
    {R"({"_id": 1, "a": [1, 2]})", R"({"$set": {"a.1": 5}})", R"({"_id": 1, "a": [1, 5]})"},
    {R"({"_id": 1, "a": [1]})", R"({"$set": {"a.3": 5}})", R"({"_id": 1, "a": [1, null, null, 5]})"},
    {R"({"_id": 1, "a": 1})", R"({"$set": {"a.b": 1}})", nullptr, kPathNotViable},
    {R"({"_id": 1, "a": 1, "b": 2})", R"({"$unset": {"a": ""}})", R"({"_id": 1, "b": 2})"},
    {R"({"_id": 1, "a": {"b": 1, "c": 2}})", R"({"$unset": {"a.b": 1}})",
     R"({"_id": 1, "a": {"c": 2}})"},
    {R"({"_id": 1, "a": [1, 2]})", R"({"$unset": {"a.0": 1}})", R"({"_id": 1, "a": [null, 2]})"},
    {R"({"_id": 1})", R"({"$unset": {"x.y": 1}})", R"({"_id": 1})"},
    {R"({"_id": 1, "a": 1})", R"({"$inc": {"a": 2}})", R"({"_id": 1, "a": 3})"},
    {R"({"_id": 1, "a": 1})", R"({"$inc": {"a": 0.5}})", R"({"_id": 1, "a": 1.5})"},
    {R"({"_id": 1, "a": 2147483647})", R"({"$inc": {"a": 1}})",
     R"({"_id": 1, "a": {"$numberLong": "2147483648"}})"},
    {R"({"_id": 1})", R"({"$inc": {"n": 5}})", R"({"_id": 1, "n": 5})"},
    {R"({"_id": 1, "a": "x"})", R"({"$inc": {"a": 1}})", nullptr, kTypeMismatch},
    {R"({"_id": 1})", R"({"$inc": {"a": "x"}})", nullptr, kTypeMismatch},
    {R"({"_id": 1})", R"({"$set": {"_id": 2}})", nullptr, kImmutableField},
    {R"({"_id": 1})", R"({"$set": {"_id": 1}})", R"({"_id": 1})"},
    {R"({"_id": 1})", R"({"$set": {"a": 1}, "$inc": {"a": 1}})", nullptr,
     kConflictingUpdateOperators},
    {R"({"_id": 1})", R"({"$set": {"a.b": 1, "a": 1}})", nullptr, kConflictingUpdateOperators},
    {R"({"_id": 1})", R"({"$foo": {"a": 1}})", nullptr, kFailedToParse},
    {R"({"_id": 1})", R"({"$set": 1})", nullptr, kFailedToParse},
    {R"({"_id": 1})", R"({"a": 1, "$set": {"b": 1}})", nullptr, kFailedToParse},
    {R"({"_id": 1})", R"({})", nullptr, kFailedToParse},
    // $mul
    {R"({"_id": 1, "a": 3})", R"({"$mul": {"a": 2}})", R"({"_id": 1, "a": 6})"},
    {R"({"_id": 1, "a": 3})", R"({"$mul": {"a": 0.5}})", R"({"_id": 1, "a": 1.5})"},
    {R"({"_id": 1})", R"({"$mul": {"a": {"$numberLong": "2"}}})",
     R"({"_id": 1, "a": {"$numberLong": "0"}})"},
    {R"({"_id": 1, "a": "x"})", R"({"$mul": {"a": 2}})", nullptr, kTypeMismatch},
    // $min / $max (BSON order across types)
    {R"({"_id": 1, "a": 5})", R"({"$min": {"a": 3}})", R"({"_id": 1, "a": 3})"},
    {R"({"_id": 1, "a": 5})", R"({"$min": {"a": 7}})", R"({"_id": 1, "a": 5})"},
    {R"({"_id": 1, "a": 5})", R"({"$max": {"a": "x"}})", R"({"_id": 1, "a": "x"})"},
    {R"({"_id": 1})", R"({"$max": {"a": 1}})", R"({"_id": 1, "a": 1})"},
    // $rename
    {R"({"_id": 1, "a": 1, "b": 2})", R"({"$rename": {"a": "c.d"}})",
     R"({"_id": 1, "b": 2, "c": {"d": 1}})"},
    {R"({"_id": 1, "a": {"x": 1}})", R"({"$rename": {"a.x": "b"}})", R"({"_id": 1, "a": {}, "b": 1})"},
    {R"({"_id": 1, "a": 1, "b": 2})", R"({"$rename": {"a": "b"}})", R"({"_id": 1, "b": 1})"},
    {R"({"_id": 1})", R"({"$rename": {"a": "b"}})", R"({"_id": 1})"},
    {R"({"_id": 1, "a": 1})", R"({"$rename": {"a": 5}})", nullptr, kBadValue},
    {R"({"_id": 1, "a": 1})", R"({"$rename": {"a": "b"}, "$set": {"b": 1}})", nullptr,
     kConflictingUpdateOperators},
    {R"({"_id": 1, "a": [{"b": 1}]})", R"({"$rename": {"a.0.b": "c"}})", nullptr, kBadValue},
    // $push and modifiers
    {R"({"_id": 1})", R"({"$push": {"a": 1}})", R"({"_id": 1, "a": [1]})"},
    {R"({"_id": 1, "a": [1]})", R"({"$push": {"a": [2]}})", R"({"_id": 1, "a": [1, [2]]})"},
    {R"({"_id": 1, "a": [1, 2]})", R"({"$push": {"a": {"$each": [3, 4], "$position": 1}}})",
     R"({"_id": 1, "a": [1, 3, 4, 2]})"},
    {R"({"_id": 1, "a": [5, 1]})", R"({"$push": {"a": {"$each": [3], "$sort": 1, "$slice": 2}}})",
     R"({"_id": 1, "a": [1, 3]})"},
    {R"({"_id": 1, "a": [5, 1]})", R"({"$push": {"a": {"$each": [3], "$sort": -1, "$slice": -2}}})",
     R"({"_id": 1, "a": [3, 1]})"},
    {R"({"_id": 1, "a": [{"s": 2}, {"s": 1}]})", R"({"$push": {"a": {"$each": [], "$sort": {"s": 1}}}})",
     R"({"_id": 1, "a": [{"s": 1}, {"s": 2}]})"},
    {R"({"_id": 1, "a": [1, 2]})", R"({"$push": {"a": {"$each": [3], "$position": -1}}})",
     R"({"_id": 1, "a": [1, 3, 2]})"},
    {R"({"_id": 1, "a": 1})", R"({"$push": {"a": 2}})", nullptr, kBadValue},
    {R"({"_id": 1})", R"({"$push": {"a": {"$each": 1}}})", nullptr, kBadValue},
    {R"({"_id": 1})", R"({"$push": {"a": {"$each": [1], "$bogus": 1}}})", nullptr, kBadValue},
    // $addToSet
    {R"({"_id": 1, "a": [1, 2]})", R"({"$addToSet": {"a": 2}})", R"({"_id": 1, "a": [1, 2]})"},
    {R"({"_id": 1, "a": [1, 2]})", R"({"$addToSet": {"a": 2.0}})", R"({"_id": 1, "a": [1, 2]})"},
    {R"({"_id": 1, "a": [1]})", R"({"$addToSet": {"a": {"$each": [1, 3, 3, 4]}}})",
     R"({"_id": 1, "a": [1, 3, 4]})"},
    {R"({"_id": 1, "a": [{"x": 1, "y": 2}]})", R"({"$addToSet": {"a": {"y": 2, "x": 1}}})",
     R"({"_id": 1, "a": [{"x": 1, "y": 2}, {"y": 2, "x": 1}]})"},
    // $pop
    {R"({"_id": 1, "a": [1, 2, 3]})", R"({"$pop": {"a": 1}})", R"({"_id": 1, "a": [1, 2]})"},
    {R"({"_id": 1, "a": [1, 2, 3]})", R"({"$pop": {"a": -1}})", R"({"_id": 1, "a": [2, 3]})"},
    {R"({"_id": 1})", R"({"$pop": {"a": 1}})", R"({"_id": 1})"},
    {R"({"_id": 1, "a": [1]})", R"({"$pop": {"a": 2}})", nullptr, kFailedToParse},
    // $pull / $pullAll
    {R"({"_id": 1, "a": [1, 2, 1, 3]})", R"({"$pull": {"a": 1}})", R"({"_id": 1, "a": [2, 3]})"},
    {R"({"_id": 1, "a": [1, 5, 8]})", R"({"$pull": {"a": {"$gte": 5}}})", R"({"_id": 1, "a": [1]})"},
    {R"({"_id": 1, "a": [{"x": 1, "y": 1}, {"x": 2}]})", R"({"$pull": {"a": {"x": 1}}})",
     R"({"_id": 1, "a": [{"x": 2}]})"},
    {R"({"_id": 1, "a": ["apple", "berry"]})",
     R"({"$pull": {"a": {"$regularExpression": {"pattern": "^a", "options": ""}}}})",
     R"({"_id": 1, "a": ["berry"]})"},
    {R"({"_id": 1, "a": [1, 2, 3, 2]})", R"({"$pullAll": {"a": [2, 3]}})", R"({"_id": 1, "a": [1]})"},
    {R"({"_id": 1, "a": [1]})", R"({"$pullAll": {"a": 1}})", nullptr, kBadValue},
    // $bit
    {R"({"_id": 1, "a": 13})", R"({"$bit": {"a": {"and": 10}}})", R"({"_id": 1, "a": 8})"},
    {R"({"_id": 1, "a": 13})", R"({"$bit": {"a": {"or": 2, "xor": 1}}})", R"({"_id": 1, "a": 14})"},
    {R"({"_id": 1, "a": 1.5})", R"({"$bit": {"a": {"or": 2}}})", nullptr, kBadValue},
    {R"({"_id": 1, "a": 1})", R"({"$bit": {"a": {"nand": 2}}})", nullptr, kBadValue},
    // positional all $[] at depth
    {R"({"_id": 1, "a": [{"b": 1}, {"b": 2}]})", R"({"$inc": {"a.$[].b": 10}})",
     R"({"_id": 1, "a": [{"b": 11}, {"b": 12}]})"},
    {R"({"_id": 1, "a": [[1, 2], [3]]})", R"({"$set": {"a.$[].$[]": 0}})",
     R"({"_id": 1, "a": [[0, 0], [0]]})"},
    {R"({"_id": 1})", R"({"$set": {"a.$[]": 0}})", nullptr, kBadValue},
    // Fields are updated in path order, numeric names numerically (MongoDB 5.0+), so new
    // fields are appended in that order whatever the update document's order.
    {R"({"_id": 1})", R"({"$set": {"dogs": 1, "cats": 2}})", R"({"_id": 1, "cats": 2, "dogs": 1})"},
    {R"({"_id": 1, "z": 0})", R"({"$set": {"b.y": 1, "a": 1, "b.x": 1}})",
     R"({"_id": 1, "z": 0, "a": 1, "b": {"x": 1, "y": 1}})"},
    {R"({"_id": 1, "a": {}})", R"({"$set": {"a.10": 1, "a.b": 3, "a.2": 2}})",
     R"({"_id": 1, "a": {"2": 2, "10": 1, "b": 3}})"},
    {R"({"_id": 1, "b": 0, "a": 0})", R"({"$set": {"c": 1, "a": 1, "b": 1}})",
     R"({"_id": 1, "b": 1, "a": 1, "c": 1})"},
    {R"({"_id": 1})", R"({"$inc": {"b": 1}, "$set": {"a": 1}})", R"({"_id": 1, "a": 1, "b": 1})"},
    {R"({"_id": 1, "x": 5})", R"({"$rename": {"x": "c"}, "$set": {"b": 1}})",
     R"({"_id": 1, "b": 1, "c": 5})"},
    {R"({"_id": 1, "a": [1]})", R"({"$set": {"a.3": 3, "a.2": 2}})",
     R"({"_id": 1, "a": [1, null, 2, 3]})"},
    // $currentDate keeps the type asked for
    {R"({"_id": 1})", R"({"$currentDate": {"d": {"$type": "year"}}})", nullptr, kBadValue},
};

TEST(UpdateTest, OperatorTable) {
  for (const Case& c : kCases) {
    // The BSON fast path and the tree path agree on every case.
    {
      auto u = Update::Parse(bson::DocView(Bson(c.update)), /*replace=*/false);
      if (u.ok()) {
        std::string in = Bson(c.doc), out;
        absl::Status s = (*u)->ApplyToBson(bson::DocView(in), {}, nullptr, &out);
        if (c.expected == nullptr) {
          if (s.ok()) {
            Document tree = bson::Decode(bson::DocView(in));
            EXPECT_FALSE((*u)->Apply(&tree).ok()) << c.update;
          }
        } else {
          ASSERT_TRUE(s.ok()) << c.update << ": " << s;
          EXPECT_EQ(bson::BsonToJson(out, true), bson::BsonToJson(Bson(c.expected), true)) << c.update;
        }
      }
    }
    auto u = Update::Parse(bson::DocView(Bson(c.update)), /*replace=*/false);
    absl::Status s = u.status();
    Document doc = bson::Decode(bson::DocView(Bson(c.doc)));
    if (u.ok()) s = (*u)->Apply(&doc);
    if (c.expected == nullptr) {
      EXPECT_EQ(MongoCodeOf(s), c.code) << c.update << ": " << s;
    } else {
      ASSERT_TRUE(s.ok()) << c.update << ": " << s;
      EXPECT_EQ(doc.ToCanonicalJson(), bson::BsonToJson(Bson(c.expected), true)) << c.update;
    }
  }
}

TEST(UpdateTest, ArrayFiltersAndThePositionalOperator) {
  std::string filters = Bson(R"({"0": {"x.v": {"$gte": 2}}, "1": {"y": {"$lt": 0}}})");
  auto u = Update::Parse(bson::DocView(Bson(R"({"$set": {"a.$[x].ok": true, "n.$[y]": 0}})")),
                         false, bson::DocView(filters));
  ASSERT_TRUE(u.ok()) << u.status();
  Document doc = bson::Decode(bson::DocView(
      Bson(R"({"_id": 1, "a": [{"v": 1}, {"v": 2}, {"v": 3}], "n": [-1, 5, -2]})")));
  ASSERT_TRUE((*u)->Apply(&doc).ok());
  EXPECT_EQ(doc.ToCanonicalJson(),
            bson::BsonToJson(Bson(R"({"_id": 1, "a": [{"v": 1}, {"v": 2, "ok": true},
                                      {"v": 3, "ok": true}], "n": [0, 5, 0]})"), true));
  // An identifier without a filter, and a filter never used, are errors.
  EXPECT_EQ(MongoCodeOf(Update::Parse(bson::DocView(Bson(R"({"$set": {"a.$[z]": 1}})")), false)
                            .status()),
            kBadValue);
  EXPECT_EQ(MongoCodeOf(Update::Parse(bson::DocView(Bson(R"({"$set": {"a": 1}})")), false,
                                      bson::DocView(filters))
                            .status()),
            kFailedToParse);
  // The positional $ with array filters that nothing uses (found by the update fuzzer,
  // which crashed on it): the unused filter's error, 9.
  EXPECT_EQ(MongoCodeOf(Update::Parse(bson::DocView(Bson(R"({"$set": {"a.$": 1}})")), false,
                                      bson::DocView(filters))
                            .status()),
            kFailedToParse);

  auto filter = query::Matcher::Parse(Bson(R"({"grades": {"$gte": 85}})"));
  auto pos = Update::Parse(bson::DocView(Bson(R"({"$set": {"grades.$": 100}})")), false);
  ASSERT_TRUE(pos.ok());
  doc = bson::Decode(bson::DocView(Bson(R"({"_id": 1, "grades": [80, 85, 90]})")));
  ASSERT_TRUE((*pos)->Apply(&doc, {}, filter->get()).ok());
  EXPECT_EQ(doc.ToCanonicalJson(),
            bson::BsonToJson(Bson(R"({"_id": 1, "grades": [80, 100, 90]})"), true));
  auto other = query::Matcher::Parse(Bson(R"({"_id": 1})"));
  EXPECT_EQ(MongoCodeOf((*pos)->Apply(&doc, {}, other->get())), kBadValue);
}

TEST(UpdateTest, SetOnInsertOnlyWhenInserting) {
  auto u = Update::Parse(bson::DocView(Bson(R"({"$setOnInsert": {"created": 1}, "$set": {"x": 1}})")),
                         false);
  ASSERT_TRUE(u.ok());
  Document doc = bson::Decode(bson::DocView(Bson(R"({"_id": 1})")));
  ASSERT_TRUE((*u)->Apply(&doc).ok());
  EXPECT_FALSE(doc.Has("created"));
  ASSERT_TRUE((*u)->Apply(&doc, {.is_insert = true}).ok());
  EXPECT_TRUE(doc.Has("created"));
}

TEST(UpdateTest, CurrentDate) {
  auto u = Update::Parse(
      bson::DocView(Bson(R"({"$currentDate": {"d": true, "t": {"$type": "timestamp"}}})")), false);
  ASSERT_TRUE(u.ok()) << u.status();
  Document doc;
  ASSERT_TRUE((*u)->Apply(&doc).ok());
  EXPECT_EQ(doc.Get("d").type(), BsonType::kDate);
  EXPECT_GT(doc.Get("d").AsDate().millis, 1700000000000);
  EXPECT_EQ(doc.Get("t").type(), BsonType::kTimestamp);
}

TEST(UpdateTest, Pipelines) {
  struct Case {
    std::vector<const char*> stages;
    const char* doc;
    const char* expected;
  } cases[] = {
      {{R"({"$set": {"total": {"$add": ["$a", "$b"]}, "a": 0}})"}, R"({"_id": 1, "a": 2, "b": 3})",
       R"({"_id": 1, "a": 0, "b": 3, "total": 5})"},
      {{R"({"$addFields": {"x.y": "$a"}})", R"({"$unset": ["a", "b"]})"}, R"({"_id": 1, "a": 2, "b": 3})",
       R"({"_id": 1, "x": {"y": 2}})"},
      {{R"({"$project": {"a": 1, "sum": {"$add": ["$a", "$b"]}}})"}, R"({"_id": 1, "a": 2, "b": 3})",
       R"({"_id": 1, "a": 2, "sum": 5})"},
      {{R"({"$project": {"b": 0}})"}, R"({"_id": 1, "a": 2, "b": 3})", R"({"_id": 1, "a": 2})"},
      {{R"({"$replaceWith": {"$mergeObjects": ["$sub", {"n": 1}]}})"}, R"({"_id": 1, "sub": {"k": 4}})",
       R"({"_id": 1, "k": 4, "n": 1})"},
      {{R"({"$replaceRoot": {"newRoot": "$sub"}})"}, R"({"_id": 1, "sub": {"k": 4}})", R"({"_id": 1, "k": 4})"},
      {{R"({"$set": {"a": "$$REMOVE"}})"}, R"({"_id": 1, "a": 2})", R"({"_id": 1})"},
  };
  for (const auto& c : cases) {
    std::vector<Document> stages;
    for (const char* s : c.stages) stages.push_back(Document::FromJson(s));
    auto u = Update::ParsePipeline(stages);
    ASSERT_TRUE(u.ok()) << c.stages[0] << ": " << u.status();
    Document doc = Document::FromJson(c.doc);
    ASSERT_TRUE((*u)->Apply(&doc).ok()) << c.stages[0];
    EXPECT_EQ(doc.ToCanonicalJson(), Document::FromJson(c.expected).ToCanonicalJson()) << c.stages[0];
  }
  EXPECT_EQ(MongoCodeOf(Update::ParsePipeline({Document::FromJson(R"({"$group": {}})")}).status()), 72);
  auto bad_root = Update::ParsePipeline({Document::FromJson(R"({"$replaceWith": "$missing"})")});
  Document doc = Document::FromJson(R"({"_id": 1})");
  EXPECT_EQ(MongoCodeOf((*bad_root)->Apply(&doc)), 40228);
  auto change_id = Update::ParsePipeline({Document::FromJson(R"({"$set": {"_id": 2}})")});
  EXPECT_EQ(MongoCodeOf((*change_id)->Apply(&doc)), kImmutableField);
}

TEST(UpdateTest, ReplacementKeepsIdAndRejectsChanges) {
  auto u = Update::Parse(bson::DocView(Bson(R"({"x": 1})")), /*replace=*/true);
  ASSERT_TRUE(u.ok());
  Document doc = bson::Decode(bson::DocView(Bson(R"({"_id": 7, "a": 1})")));
  ASSERT_TRUE((*u)->Apply(&doc).ok());
  EXPECT_EQ(doc.ToJson(), Document::FromJson(R"({"_id": 7, "x": 1})").ToJson());

  auto change = Update::Parse(bson::DocView(Bson(R"({"_id": 8})")), true);
  doc = bson::Decode(bson::DocView(Bson(R"({"_id": 7})")));
  EXPECT_EQ(MongoCodeOf((*change)->Apply(&doc)), kImmutableField);
  EXPECT_EQ(MongoCodeOf(Update::Parse(bson::DocView(Bson(R"({"$set": {"a": 1}})")), true).status()),
            kBadValue);
}

TEST(UpdateTest, StorableDocuments) {
  EXPECT_TRUE(ValidateStorable(bson::DocView(Bson(R"({"_id": 1, "a": {"$b": 1}})"))).ok());
  EXPECT_EQ(MongoCodeOf(ValidateStorable(bson::DocView(Bson(R"({"_id": [1]})")))), kBadValue);
  EXPECT_TRUE(ValidateStorable(bson::DocView(Bson(R"({"_id": 1, "$a": 1, "b.c": 1})"))).ok());
  EXPECT_EQ(MongoCodeOf(ValidateStorable(bson::DocView(Bson(R"({"_id": {"$a": 1}})")))),
            kDollarPrefixedFieldName);
}

// At most 100 levels (the top-level document is the first), at every size: the smallest
// documents of each depth (empty names, an empty document or array inside) and larger ones.
TEST(UpdateTest, StorableDocumentsNestAtMost100Levels) {
  auto nested = [](int levels, bool arrays, std::string_view name) {
    bson::Builder b;
    std::vector<size_t> open;
    for (int i = 1; i < levels; ++i) open.push_back(arrays ? b.StartArray(name) : b.StartDocument(name));
    while (!open.empty()) {
      b.End(open.back());
      open.pop_back();
    }
    return std::move(b).Finish();
  };
  for (bool arrays : {false, true}) {
    for (std::string_view name : {"", "a", "a_longer_field_name"}) {
      SCOPED_TRACE(std::string(arrays ? "arrays" : "documents") + " named '" + std::string(name) + "'");
      for (int levels : {99, 100}) {
        EXPECT_TRUE(ValidateStorable(bson::DocView(nested(levels, arrays, name))).ok()) << levels;
      }
      for (int levels : {101, 102, 150}) {
        EXPECT_EQ(MongoCodeOf(ValidateStorable(bson::DocView(nested(levels, arrays, name)))), kOverflow) << levels;
      }
    }
  }
  // The smallest 101-level document: 705 bytes.
  EXPECT_EQ(nested(101, false, "").size(), 705u);
}

}  // namespace
}  // namespace micromongo::update
