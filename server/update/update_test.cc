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
};

TEST(UpdateTest, OperatorTable) {
  for (const Case& c : kCases) {
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
  EXPECT_EQ(MongoCodeOf(ValidateStorable(bson::DocView(Bson(R"({"$a": 1})")))), kBadValue);
}

}  // namespace
}  // namespace micromongo::update
