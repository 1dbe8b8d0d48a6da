// CRUD semantics end to end: public client API -> gRPC -> worker -> RocksDB.

#include <gtest/gtest.h>
#include <micromongo/micromongo.h>

#include "test_util.h"

namespace mm = micromongo;
using mm::Document;
using micromongo::testing::TempDir;

namespace {

constexpr char kCrudDb[] = "crud";

class CrudTest : public micromongo::testing::WorkerTest<kCrudDb> {
 protected:
  std::vector<int> Ids(mm::Cursor cursor) {
    std::vector<int> ids;
    for (const Document& d : cursor) ids.push_back(d.GetInt32("_id"));
    return ids;
  }
};

TEST_F(CrudTest, InsertGeneratesObjectIdFirstAndFindReturnsIt) {
  auto r = coll_->InsertOne(Document{{"name", "Alice"}, {"age", 30}});
  ASSERT_EQ(r.inserted_id.type(), mm::BsonType::kObjectId);
  auto doc = coll_->FindOne(Document{{"name", "Alice"}});
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->begin()->first, "_id");
  EXPECT_EQ(doc->GetObjectId("_id"), r.inserted_id.AsObjectId());
  EXPECT_EQ(doc->GetInt32("age"), 30);
  // _id supplied later in the document is stored first.
  coll_->InsertOne(Document{{"a", 1}, {"_id", "x"}});
  EXPECT_EQ(coll_->FindOne(Document{{"_id", "x"}})->begin()->first, "_id");
}

TEST_F(CrudTest, DocumentsPassThroughAsBson) {
  // InsertManyBson sends bytes as they are; the worker adds a missing _id (first).
  std::string a = Document::JsonToBson(R"({"_id": 1, "n": {"$numberLong": "5"}})");
  std::string b = Document{{"name", "no id"}}.ToBson();
  mm::InsertManyResult r = coll_->InsertManyBson({a, b});
  EXPECT_EQ(r.inserted_count, 2);
  ASSERT_EQ(r.inserted_ids.size(), 2u);
  EXPECT_EQ(r.inserted_ids[0], mm::Value(1));
  EXPECT_EQ(r.inserted_ids[1].type(), mm::BsonType::kObjectId);
  // NextBson hands out the stored bytes; BsonToJson prints them without a Document.
  mm::Cursor c = coll_->Find({}, {.sort = Document{{"name", 1}}});
  std::string bson;
  ASSERT_TRUE(c.NextBson(&bson));
  EXPECT_EQ(bson, a);
  EXPECT_EQ(Document::BsonToJson(bson), R"({"_id": 1, "n": 5})");
  EXPECT_EQ(Document::BsonToJson(bson, true), R"({"_id": {"$numberInt": "1"}, "n": {"$numberLong": "5"}})");
  ASSERT_TRUE(c.NextBson(&bson));
  Document second = Document::FromBson(bson);
  EXPECT_EQ(second.begin()->first, "_id");
  EXPECT_EQ(second.Get("_id"), r.inserted_ids[1]);
  EXPECT_FALSE(c.NextBson(&bson));
  // Errors: a duplicate is a write error with what was inserted before it; bytes that are
  // not BSON fail the call; text that is not JSON fails to parse.
  try {
    coll_->InsertManyBson({Document{{"_id", 2}}.ToBson(), a});
    FAIL() << "expected a BulkWriteError";
  } catch (const mm::BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 1u);
    EXPECT_EQ(e.write_errors()[0].index, 1);
    EXPECT_EQ(e.write_errors()[0].code, 11000);
    EXPECT_EQ(e.result().inserted_ids.at(0), mm::Value(2));
  }
  EXPECT_EQ(mm::testing::ErrorCodeOf([&] { coll_->InsertManyBson({"not bson"}); }), 22);
  EXPECT_EQ(mm::testing::ErrorCodeOf([&] { Document::JsonToBson("{"); }), 9);
  EXPECT_EQ(mm::testing::ErrorCodeOf([&] { Document::BsonToJson("\x05\x00\x00"); }), 22);
}

TEST_F(CrudTest, DuplicateIdFailsWith11000AndKeepsTheOriginal) {
  coll_->InsertOne(Document{{"_id", 1}, {"v", "original"}});
  try {
    coll_->InsertOne(Document{{"_id", 1.0}, {"v", "duplicate"}});  // 1.0 == 1 as _id
    FAIL() << "duplicate _id accepted";
  } catch (const mm::DuplicateKeyError& e) {
    EXPECT_EQ(e.code(), 11000);
    EXPECT_EQ(e.code_name(), "DuplicateKey");
  }
  coll_->InsertOne(Document{{"_id", "1"}, {"v", "string id"}});  // "1" is another _id
  EXPECT_EQ(coll_->CountDocuments(), 2);
  EXPECT_EQ(coll_->FindOne(Document{{"_id", 1}})->GetString("v"), "original");
}

TEST_F(CrudTest, InsertManyOrderedAndUnordered) {
  std::vector<Document> docs = {Document{{"_id", 1}}, Document{{"_id", 2}}, Document{{"_id", 1}},
                                Document{{"_id", 3}}};
  try {
    coll_->InsertMany(docs);
    FAIL();
  } catch (const mm::BulkWriteError& e) {
    EXPECT_EQ(e.inserted_count(), 2);
    ASSERT_EQ(e.write_errors().size(), 1u);
    EXPECT_EQ(e.write_errors()[0].index, 2);
    EXPECT_EQ(e.write_errors()[0].code, 11000);
  }
  EXPECT_EQ(coll_->CountDocuments(), 2);
  coll_->Drop();
  try {
    coll_->InsertMany(docs, {.ordered = false});
    FAIL();
  } catch (const mm::BulkWriteError& e) {
    EXPECT_EQ(e.inserted_count(), 3);
  }
  EXPECT_EQ(coll_->CountDocuments(), 3);
  auto r = coll_->InsertMany({Document{{"x", 1}}, Document{{"x", 2}}});
  EXPECT_EQ(r.inserted_count, 2);
  EXPECT_EQ(r.inserted_ids.size(), 2u);
}

// Large batches fail at the same document as small ones: a duplicate far from its first
// copy (found by the batch's own keys, past every stored _id, where one seek answers the
// existence probe of the whole batch), an invalid document late in the batch, with no
// index, a non-unique multikey one, and a unique one whose key repeats.
TEST_F(CrudTest, LargeInsertManyFailsAtTheSameDocumentAsASmallOne) {
  struct Case {
    const char* name;
    Document index;  // empty: none
    bool unique;
    std::function<Document(int)> doc;  // document i of 2,000
    int bad;                           // the first document that fails (-1: none)
    int code;
    int with_bad_id;  // documents stored with the failing one's _id: its first copy's, or none
  };
  const std::vector<Case> cases = {
      {"no error", {}, false, [](int i) { return Document{{"_id", i}, {"k", i % 7}}; }, -1, 0, 0},
      {"duplicate _id of document 3 at 1,700", {}, false,
       [](int i) { return Document{{"_id", i == 1700 ? 3 : i}}; }, 1700, 11000, 1},
      {"duplicate _id, non-unique index", Document{{"k", 1}}, false,
       [](int i) { return Document{{"_id", i == 1400 ? 999 : i}, {"k", mm::Array{i % 5, i % 3}}}; }, 1400, 11000, 1},
      {"unique index, duplicate key across chunks", Document{{"u", 1}}, true,
       [](int i) { return Document{{"_id", i}, {"u", i == 1300 ? 10 : i}}; }, 1300, 11000, 0},
      // MongoDB's fixDocumentForInsert: BadValue, "can't use an array for _id".
      {"an array _id at 1,999", {}, false,
       [](int i) { return Document{{"_id", i == 1999 ? mm::Value(mm::Array{1, 2}) : mm::Value(i)}}; }, 1999, 2, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Document> docs;
    for (int i = 0; i < 2000; ++i) docs.push_back(c.doc(i));
    for (bool ordered : {true, false}) {
      coll_->Drop();
      if (!c.index.empty()) coll_->CreateIndex(c.index, {.unique = c.unique});
      int64_t inserted = 0;
      try {
        inserted = coll_->InsertMany(docs, {.ordered = ordered}).inserted_count;
        EXPECT_EQ(c.bad, -1);
      } catch (const mm::BulkWriteError& e) {
        ASSERT_EQ(e.write_errors().size(), 1u);
        EXPECT_EQ(e.write_errors()[0].index, c.bad);
        EXPECT_EQ(e.write_errors()[0].code, c.code);
        inserted = e.inserted_count();
      }
      // Ordered: everything before the failing document; unordered: all but it.
      int64_t want = c.bad < 0 ? 2000 : ordered ? c.bad : 1999;
      EXPECT_EQ(inserted, want) << "ordered " << ordered;
      EXPECT_EQ(coll_->CountDocuments(), want) << "ordered " << ordered;
      if (c.bad >= 0) {
        EXPECT_EQ(coll_->CountDocuments(Document{{"_id", c.doc(c.bad).Get("_id")}}), c.with_bad_id);
      }
      EXPECT_TRUE(coll_->Validate().Get("valid").AsBool()) << coll_->Validate().ToJson();
    }
  }
}

TEST_F(CrudTest, EveryBsonTypeRoundTrips) {
  Document doc{{"_id", 1},
               {"double", 1.5},
               {"string", "héllo"},
               {"doc", Document{{"a", Document{{"b", 1}}}}},
               {"array", mm::Array{1, "two", Document{{"three", 3}}}},
               {"binary", mm::Binary{4, std::string("\x01\x02\x00\x03", 4)}},
               {"oid", mm::ObjectId::FromHex("65a1b2c3d4e5f60718293a4b")},
               {"bool", true},
               {"date", mm::DateTime{1700000000123}},
               {"null", nullptr},
               {"regex", mm::Regex{"^a.*z$", "i"}},
               {"int32", int32_t{-7}},
               {"int64", int64_t{1} << 40},
               {"timestamp", mm::Timestamp{1700000000, 5}},
               {"decimal", mm::Decimal128::FromString("123.4500")},
               {"min", mm::MinKey{}},
               {"max", mm::MaxKey{}}};
  coll_->InsertOne(doc);
  auto back = coll_->FindOne(Document{{"_id", 1}});
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, doc);
  EXPECT_EQ(back->Get("decimal").AsDecimal128().ToString(), "123.4500");
  EXPECT_EQ(back->GetArray("array")[1].AsString(), "two");
}

TEST_F(CrudTest, FindWithFilterSortSkipLimitProjectionAndBatches) {
  std::vector<Document> docs;
  for (int i = 0; i < 250; ++i) {
    docs.push_back(Document{{"_id", i}, {"group", i % 5}, {"v", 249 - i}, {"x", "pad"}});
  }
  coll_->InsertMany(docs);
  // Several batches: the cursor fetches lazily with GetMore.
  EXPECT_EQ(coll_->Find(Document{}, {.batch_size = 7}).ToVector().size(), 250u);
  EXPECT_EQ(coll_->CountDocuments(Document{{"group", 2}}), 50);
  EXPECT_EQ(coll_->CountDocuments(Document{{"group", 2}}, {.skip = 45}), 5);
  EXPECT_EQ(coll_->CountDocuments(Document{}, {.limit = 10}), 10);

  auto ids = Ids(coll_->Find(Document{{"group", 1}},
                             {.sort = Document{{"v", 1}}, .skip = 2, .limit = 3}));
  EXPECT_EQ(ids, (std::vector<int>{236, 231, 226}));  // the original returned 1 here

  auto page = coll_->Find(Document{{"_id", Document{{"$lt", 3}}}},
                          {.projection = Document{{"x", 0}, {"group", 0}}})
                  .ToVector();
  ASSERT_EQ(page.size(), 3u);
  EXPECT_FALSE(page[0].Has("x"));
  EXPECT_TRUE(page[0].Has("v"));
  auto only = coll_->FindOne(Document{{"_id", 5}}, {.projection = Document{{"v", 1}, {"_id", 0}}});
  EXPECT_EQ(only->ToJson(), (Document{{"v", 244}}.ToJson()));
  // Sort on two keys, descending first.
  ids = Ids(coll_->Find(Document{{"_id", Document{{"$lt", 10}}}},
                        {.sort = Document{{"group", -1}, {"_id", 1}}, .limit = 4}));
  EXPECT_EQ(ids, (std::vector<int>{4, 9, 3, 8}));
}

TEST_F(CrudTest, CursorIsALazyInputRange) {
  std::vector<Document> docs;
  for (int i = 0; i < 30; ++i) docs.push_back(Document{{"_id", i}});
  coll_->InsertMany(docs);
  mm::Cursor cursor = coll_->Find(Document{}, {.batch_size = 4});
  int n = 0;
  for (auto it = cursor.begin(); it != cursor.end(); ++it) {
    EXPECT_EQ(it->GetInt32("_id"), n);
    if (++n == 10) break;
  }
  // Iteration stopped on _id 9 without moving past it: the rest starts there.
  auto rest = cursor.ToVector();
  ASSERT_EQ(rest.size(), 21u);
  EXPECT_EQ(rest.front().GetInt32("_id"), 9);
  EXPECT_FALSE(cursor.Next().has_value());
  EXPECT_FALSE(coll_->FindOne(Document{{"_id", 99}}).has_value());
}

TEST_F(CrudTest, UpdatesReportMatchedAndModified) {
  coll_->InsertMany({Document{{"_id", 1}, {"n", 1}}, Document{{"_id", 2}, {"n", 1}},
                     Document{{"_id", 3}, {"n", 5}}});
  auto r = coll_->UpdateMany(Document{{"n", 1}}, Document{{"$inc", Document{{"n", 1}}}});
  EXPECT_EQ(r.matched_count, 2);
  EXPECT_EQ(r.modified_count, 2);
  r = coll_->UpdateOne(Document{{"_id", 3}}, Document{{"$set", Document{{"n", 5}}}});
  EXPECT_EQ(r.matched_count, 1);
  EXPECT_EQ(r.modified_count, 0);  // no real change
  r = coll_->UpdateOne(Document{{"_id", 3}},
                       Document{{"$set", Document{{"a.b", 1}}}, {"$unset", Document{{"n", ""}}}});
  EXPECT_EQ(coll_->FindOne(Document{{"_id", 3}})->ToJson(),
            Document({{"_id", 3}, {"a", Document{{"b", 1}}}}).ToJson());
  r = coll_->ReplaceOne(Document{{"_id", 2}}, Document{{"fresh", true}});
  EXPECT_EQ(r.modified_count, 1);
  EXPECT_EQ(coll_->FindOne(Document{{"_id", 2}})->ToJson(),
            Document({{"_id", 2}, {"fresh", true}}).ToJson());
  try {
    coll_->UpdateOne(Document{{"_id", 2}}, Document{{"$set", Document{{"_id", 9}}}});
    FAIL();
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 66);
  }
}

TEST_F(CrudTest, UpsertBuildsFromFilterEqualities) {
  auto r = coll_->UpdateOne(Document{{"sku", "A1"}, {"qty", Document{{"$gt", 5}}}},
                            Document{{"$set", Document{{"price", 10}}}}, {.upsert = true});
  EXPECT_EQ(r.matched_count, 0);
  ASSERT_TRUE(r.upserted_id.has_value());
  auto doc = coll_->FindOne(Document{{"sku", "A1"}});
  ASSERT_TRUE(doc.has_value());
  EXPECT_FALSE(doc->Has("qty"));  // operator conditions are not copied
  EXPECT_EQ(doc->GetInt32("price"), 10);
  r = coll_->ReplaceOne(Document{{"_id", 42}}, Document{{"v", 1}}, {.upsert = true});
  EXPECT_EQ(r.upserted_id->AsInt32(), 42);
  r = coll_->UpdateOne(Document{{"sku", "A1"}}, Document{{"$inc", Document{{"price", 1}}}},
                       {.upsert = true});
  EXPECT_FALSE(r.upserted_id.has_value());
  EXPECT_EQ(coll_->FindOne(Document{{"sku", "A1"}})->GetInt32("price"), 11);
}

TEST_F(CrudTest, DeletesAndCounts) {
  std::vector<Document> docs;
  for (int i = 0; i < 20; ++i) docs.push_back(Document{{"_id", i}, {"even", i % 2 == 0}});
  coll_->InsertMany(docs);
  EXPECT_EQ(coll_->DeleteOne(Document{{"even", true}}).deleted_count, 1);
  EXPECT_EQ(coll_->DeleteMany(Document{{"even", true}}).deleted_count, 9);
  EXPECT_EQ(coll_->DeleteMany(Document{{"even", true}}).deleted_count, 0);
  EXPECT_EQ(coll_->EstimatedDocumentCount(), 10);
  EXPECT_EQ(coll_->CountDocuments(), 10);
}

TEST_F(CrudTest, NullMatchesMissingAndTypesCompareByBracket) {
  coll_->InsertMany({Document{{"_id", 1}, {"a", nullptr}}, Document{{"_id", 2}},
                     Document{{"_id", 3}, {"a", 5}}, Document{{"_id", 4}, {"a", "5"}},
                     Document{{"_id", 5}, {"a", int64_t{5}}}});
  EXPECT_EQ(Ids(coll_->Find(Document{{"a", nullptr}})), (std::vector<int>{1, 2}));
  EXPECT_EQ(Ids(coll_->Find(Document{{"a", 5.0}})), (std::vector<int>{3, 5}));
  EXPECT_EQ(Ids(coll_->Find(Document{{"a", Document{{"$gte", 0}}}})), (std::vector<int>{3, 5}));
  EXPECT_EQ(Ids(coll_->Find(Document{{"a", Document{{"$ne", 5}}}})), (std::vector<int>{1, 2, 4}));
}

TEST_F(CrudTest, DatabasesAndCollections) {
  mm::Database db = client_->Db("admin_ops");
  db.CreateCollection("a");
  db["b"].InsertOne(Document{{"x", 1}});
  EXPECT_EQ(db.ListCollectionNames(), (std::vector<std::string>{"a", "b"}));
  try {
    db.CreateCollection("a");
    FAIL();
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 48);
  }
  EXPECT_TRUE(db.DropCollection("a"));
  EXPECT_FALSE(db.DropCollection("a"));
  auto names = client_->ListDatabaseNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "admin_ops"), names.end());
  db.Drop();
  EXPECT_TRUE(db.ListCollectionNames().empty());
  names = client_->ListDatabaseNames();
  EXPECT_EQ(std::find(names.begin(), names.end(), "admin_ops"), names.end());
}

TEST(UriTest, DatabaseComesFromThePathEvenWithAPort) {
  mm::MongoClient a("mongodb://host:27017/app");
  EXPECT_EQ(a.Db().name(), "app");
  mm::MongoClient b("mongodb://localhost");
  EXPECT_EQ(b.Db().name(), "test");
  mm::MongoClient c("mongodb://u:p@h1:1,h2:2/inv?useWorker=false&w=1");
  EXPECT_EQ(c.Db().name(), "inv");
  EXPECT_THROW(mm::MongoClient("http://x/db"), mm::Error);
  EXPECT_THROW(mm::MongoClient("mongodb://h:99999/db"), mm::Error);
  mm::MongoClient none("mongodb://localhost/db");
  try {
    none.Connect();
    FAIL();
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 72);
  }
}

}  // namespace
