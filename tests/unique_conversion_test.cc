// prepareUnique and the conversion of an index to unique (collMod), end to end through the
// public API. Which keys count as the same follows MongoDB's unique indexes as the manual
// describes them: a missing field is indexed as null, numbers equal in value are one key,
// each array element is a key (a document may repeat its own keys), and a nested array is
// a key of its own.

#include <gtest/gtest.h>

#include <micromongo/micromongo.h>

#include "test_util.h"

namespace mm = micromongo;
using mm::Array;
using mm::Document;
using mm::Value;

namespace {

constexpr char kUniqueDb[] = "unique_conversion";
using UniqueConversionTest = micromongo::testing::WorkerTest<kUniqueDb>;
using micromongo::testing::ErrorCodeOf;
using micromongo::testing::Ids;

struct KeyCase {
  const char* name;
  Document key;                 // the index's key pattern
  std::vector<Document> docs;   // stored before prepareUnique
  Document next;                // inserted after it
  bool duplicate;               // whether prepareUnique refuses `next`
};

// [inner]: a one-element array holding an array. Array{Array{1}} would not do: clang
// reads a braced list of one Array as a copy of it (CWG 2137), gcc as a list.
Array Nested(Array inner) {
  Array outer;
  outer.push_back(Value(std::move(inner)));
  return outer;
}

std::vector<KeyCase> KeyCases() {
  auto d128 = [](const char* s) { return Value(mm::Decimal128::FromString(s)); };
  return {
      {"same string", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", "x"}}}, Document{{"_id", 9}, {"a", "x"}}, true},
      {"other string", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", "x"}}}, Document{{"_id", 9}, {"a", "y"}}, false},
      {"int and double", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", 1}}}, Document{{"_id", 9}, {"a", 1.0}}, true},
      {"int and decimal", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", 1}}}, Document{{"_id", 9}, {"a", d128("1.00")}},
       true},
      {"int64 and double", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", int64_t{2}}}},
       Document{{"_id", 9}, {"a", 2.0}}, true},
      {"missing and missing", Document{{"a", 1}}, {Document{{"_id", 1}}}, Document{{"_id", 9}}, true},
      {"missing and null", Document{{"a", 1}}, {Document{{"_id", 1}}}, Document{{"_id", 9}, {"a", nullptr}}, true},
      {"null and a value", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", nullptr}}}, Document{{"_id", 9}, {"a", 0}},
       false},
      {"an element shared", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", Array{1, 2}}}},
       Document{{"_id", 9}, {"a", Array{2, 3}}}, true},
      {"a scalar equal to an element", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", Array{1, 2}}}},
       Document{{"_id", 9}, {"a", 2}}, true},
      {"own repeated elements", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", Array{1, 2}}}},
       Document{{"_id", 9}, {"a", Array{3, 3}}}, false},
      {"a nested array is one key", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", Nested(Array{1})}}},
       Document{{"_id", 9}, {"a", Array{1}}}, false},
      {"the same nested array", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", Nested(Array{1})}}},
       Document{{"_id", 9}, {"a", Array{Value(Array{1}), 2}}}, true},
      {"a dotted path into arrays", Document{{"a.b", 1}},
       {Document{{"_id", 1}, {"a", Array{Document{{"b", 5}}, Document{{"b", 6}}}}}},
       Document{{"_id", 9}, {"a", Document{{"b", 6}}}}, true},
      {"an embedded document", Document{{"a", 1}}, {Document{{"_id", 1}, {"a", Document{{"x", 1}, {"y", 2}}}}},
       Document{{"_id", 9}, {"a", Document{{"y", 2}, {"x", 1}}}}, false},
      {"compound: all fields equal", Document{{"a", 1}, {"b", -1}},
       {Document{{"_id", 1}, {"a", 1}, {"b", "q"}}}, Document{{"_id", 9}, {"a", 1.0}, {"b", "q"}}, true},
      {"compound: one field differs", Document{{"a", 1}, {"b", -1}},
       {Document{{"_id", 1}, {"a", 1}, {"b", "q"}}}, Document{{"_id", 9}, {"a", 1}, {"b", "r"}}, false},
  };
}

TEST_F(UniqueConversionTest, PrepareUniqueRefusesANewKeyAnotherDocumentHas) {
  int n = 0;
  for (const KeyCase& c : KeyCases()) {
    SCOPED_TRACE(c.name);
    mm::Collection coll = client_->Db()["keys" + std::to_string(n++)];
    coll.InsertMany(c.docs);
    std::string index = coll.CreateIndex(c.key);
    coll.ModifyIndex({.name = index, .prepare_unique = true});
    int code = ErrorCodeOf([&] { coll.InsertOne(c.next); });
    EXPECT_EQ(code, c.duplicate ? 11000 : 0);
    EXPECT_EQ(coll.CountDocuments(), static_cast<int64_t>(c.docs.size()) + (c.duplicate ? 0 : 1));
    // The conversion agrees: possible exactly when the insert was.
    code = ErrorCodeOf([&] { coll.ModifyIndex({.name = index, .unique = true, .dry_run = true}); });
    EXPECT_EQ(code, 0);
    coll.ModifyIndex({.name = index, .unique = true});
    EXPECT_EQ(ErrorCodeOf([&] { coll.InsertOne(c.next); }), 11000);
  }
}

// The manual's walk-through (the apples collection), through the C++ API.
TEST_F(UniqueConversionTest, ExistingDuplicatesStayUntilResolvedThenTheIndexBecomesUnique) {
  coll_->InsertMany({Document{{"_id", 1}, {"type", "Delicious"}, {"quantity", 12}},
                     Document{{"_id", 2}, {"type", "Macintosh"}, {"quantity", 13}},
                     Document{{"_id", 3}, {"type", "Delicious"}, {"quantity", 13}},
                     Document{{"_id", 4}, {"type", "Fuji"}, {"quantity", 15}},
                     Document{{"_id", 5}, {"type", "Washington"}, {"quantity", 10}},
                     Document{{"_id", 6}, {"type", "Fuji"}, {"quantity", 1}},
                     Document{{"_id", 7}, {"type", "Delicious"}, {"quantity", 2}}});
  coll_->CreateIndex(Document{{"type", 1}});
  // Not prepared: 72, and nothing changes.
  EXPECT_EQ(ErrorCodeOf([&] { coll_->ModifyIndex({.name = "type_1", .unique = true}); }), 72);
  coll_->ModifyIndex({.key_pattern = Document{{"type", 1}}, .prepare_unique = true});
  EXPECT_TRUE(coll_->ListIndexes()[1].GetBool("prepareUnique"));

  // New duplicates are refused, with the duplicate key error's fields.
  try {
    coll_->InsertOne(Document{{"_id", 8}, {"type", "Delicious"}, {"quantity", 20}});
    ADD_FAILURE() << "inserted a duplicate";
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 11000);
    EXPECT_EQ(e.details().GetDocument("keyValue"), (Document{{"type", "Delicious"}}));
    EXPECT_EQ(e.details().GetDocument("keyPattern"), (Document{{"type", 1}}));
  }
  // An update to another document's key too; the document stays as it was.
  EXPECT_EQ(ErrorCodeOf([&] { coll_->UpdateOne(Document{{"_id", 2}}, Document{{"$set", Document{{"type", "Fuji"}}}}); }),
            11000);
  EXPECT_EQ(coll_->FindOne(Document{{"_id", 2}})->GetString("type"), "Macintosh");
  // A document that already shares a key may change other fields and keep its key.
  coll_->UpdateOne(Document{{"_id", 3}}, Document{{"$inc", Document{{"quantity", 1}}}});
  EXPECT_EQ(coll_->FindOne(Document{{"_id", 3}})->GetInt32("quantity"), 14);
  // Two new documents with one new key in one request: the second is refused.
  try {
    coll_->InsertMany({Document{{"_id", 10}, {"type", "Gala"}}, Document{{"_id", 11}, {"type", "Gala"}}});
    ADD_FAILURE() << "inserted a duplicate";
  } catch (const mm::BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 1u);
    EXPECT_EQ(e.write_errors()[0].index, 1);
    EXPECT_EQ(e.write_errors()[0].code, 11000);
  }
  EXPECT_EQ(Ids(coll_->Find(Document{{"type", "Gala"}})), std::set<int>{10});

  // The violations: one group per shared key, in index order, each with its _ids.
  for (bool dry_run : {true, false}) {
    try {
      coll_->ModifyIndex({.name = "type_1", .unique = true, .dry_run = dry_run});
      ADD_FAILURE() << "converted an index with duplicates";
    } catch (const mm::Error& e) {
      EXPECT_EQ(e.code(), 359);
      EXPECT_EQ(e.code_name(), "CannotConvertIndexToUnique");
      Array expected{Document{{"ids", Array{1, 3, 7}}}, Document{{"ids", Array{4, 6}}}};
      EXPECT_EQ(e.details().GetArray("violations"), expected);
    }
  }
  EXPECT_FALSE(coll_->ListIndexes()[1].Has("unique"));

  coll_->DeleteMany(Document{{"_id", Document{{"$in", Array{3, 6, 7}}}}});
  coll_->ModifyIndex({.name = "type_1", .unique = true, .dry_run = true});
  EXPECT_FALSE(coll_->ListIndexes()[1].Has("unique"));  // a dry run changes nothing
  coll_->ModifyIndex({.name = "type_1", .unique = true});
  Document spec = coll_->ListIndexes()[1];
  EXPECT_TRUE(spec.GetBool("unique"));
  EXPECT_FALSE(spec.Has("prepareUnique"));
  // Unique now: planned as such, and every document still found through it.
  Document plan = coll_->Explain().Find(Document{{"type", "Fuji"}});
  EXPECT_NE(plan.ToJson().find("\"isUnique\": true"), std::string::npos) << plan.ToJson();
  EXPECT_EQ(Ids(coll_->Find(Document{{"type", Document{{"$gte", "A"}}}}, {.hint = mm::Hint("type_1")})),
            (std::set<int>{1, 2, 4, 5, 10}));
  EXPECT_EQ(ErrorCodeOf([&] { coll_->InsertOne(Document{{"type", "Washington"}}); }), 11000);
  coll_->InsertOne(Document{{"_id", 12}, {"type", "Honeycrisp"}});
  // Asking again changes nothing.
  coll_->ModifyIndex({.name = "type_1", .unique = true});
  coll_->ModifyIndex({.name = "type_1", .prepare_unique = true});
  EXPECT_FALSE(coll_->ListIndexes()[1].Has("prepareUnique"));
}

TEST_F(UniqueConversionTest, ErrorsLeaveTheIndexAsItWas) {
  coll_->InsertOne(Document{{"_id", 1}, {"a", 1}, {"h", 1}});
  coll_->CreateIndex(Document{{"a", 1}});
  coll_->CreateIndex(Document{{"h", "hashed"}});
  struct Case {
    const char* what;
    mm::IndexModification change;
    int code;
  };
  const Case cases[] = {
      {"unique and prepareUnique at once", {.name = "a_1", .prepare_unique = true, .unique = true}, 72},
      {"a dry run of anything else", {.name = "a_1", .hidden = true, .dry_run = true}, 72},
      {"a dry run without unique", {.name = "a_1", .prepare_unique = true, .dry_run = true}, 72},
      {"no such index", {.name = "b_1", .prepare_unique = true}, 27},
      {"the _id index", {.name = "_id_", .prepare_unique = true}, 2},
      {"a hashed index cannot be unique", {.name = "h_hashed", .prepare_unique = true}, 16764},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorCodeOf([&] { coll_->ModifyIndex(c.change); }), c.code) << c.what;
  }
  for (const Document& spec : coll_->ListIndexes()) {
    EXPECT_FALSE(spec.Has("prepareUnique")) << spec.ToJson();
    EXPECT_FALSE(spec.Has("hidden")) << spec.ToJson();
  }
  // prepareUnique: false returns the index to taking duplicates.
  coll_->ModifyIndex({.name = "a_1", .prepare_unique = true});
  EXPECT_EQ(ErrorCodeOf([&] { coll_->InsertOne(Document{{"_id", 2}, {"a", 1}}); }), 11000);
  coll_->ModifyIndex({.name = "a_1", .prepare_unique = false});
  coll_->InsertOne(Document{{"_id", 2}, {"a", 1}});
  EXPECT_EQ(coll_->CountDocuments(Document{{"a", 1}}), 2);
}

// createIndexes takes prepareUnique too: the documents already there may share keys.
TEST_F(UniqueConversionTest, AnIndexCreatedPreparedTakesTheDuplicatesAlreadyThere) {
  coll_->InsertMany({Document{{"_id", 1}, {"a", 1}}, Document{{"_id", 2}, {"a", 1}}});
  coll_->CreateIndex(Document{{"a", 1}}, {.prepare_unique = true});
  EXPECT_TRUE(coll_->ListIndexes()[1].GetBool("prepareUnique"));
  EXPECT_EQ(ErrorCodeOf([&] { coll_->InsertOne(Document{{"_id", 3}, {"a", 1}}); }), 11000);
  coll_->InsertOne(Document{{"_id", 3}, {"a", 2}});
  EXPECT_EQ(coll_->CountDocuments(), 3);
}

}  // namespace
