// listDatabases, listCollections and listIndexes through the C++ API: MongoDB's entry
// shapes, its filter and nameOnly options, and its session rules (no listing inside a
// transaction or with a snapshot session's read concern).

#include <gtest/gtest.h>

#include <micromongo/micromongo.h>

#include "test_util.h"

namespace micromongo {
namespace {

constexpr char kDb[] = "listing";
using ListingTest = testing::WorkerTest<kDb>;
using testing::ErrorCodeOf;

Document D(std::string_view json) { return Document::FromJson(json); }

std::vector<std::string> Names(const std::vector<Document>& entries) {
  std::vector<std::string> out;
  for (const Document& d : entries) out.push_back(d.GetString("name"));
  return out;
}

// A collection, a capped collection and a view over the first.
void MakeCollections(Database db) {
  db.CreateCollection("plain");
  db.CreateCollection("ring", {.capped = true, .capped_size = 4096});
  db.CreateCollection("recent", {.view_on = "plain", .pipeline = std::vector<Document>{D(R"({"$limit": 5})")}});
}

// The listCollections entries MongoDB's manual shows: {name, type, options, info:
// {readOnly}, idIndex} for a collection, no idIndex and readOnly true for a view.
TEST_F(ListingTest, CollectionEntriesHaveMongoDBsShape) {
  Database db = client_->Db("shapes");
  MakeCollections(db);
  std::vector<Document> all = db.ListCollections();
  ASSERT_EQ(Names(all), (std::vector<std::string>{"plain", "recent", "ring"}));
  const Document& plain = all[0];
  EXPECT_EQ(plain.GetString("type"), "collection");
  EXPECT_TRUE(plain.GetDocument("options").empty());
  EXPECT_FALSE(plain.GetDocument("info").GetBool("readOnly"));
  EXPECT_EQ(plain.GetDocument("idIndex").ToJson(), D(R"({"v": 2, "key": {"_id": 1}, "name": "_id_"})").ToJson());
  const Document& view = all[1];
  EXPECT_EQ(view.GetString("type"), "view");
  EXPECT_EQ(view.GetDocument("options").GetString("viewOn"), "plain");
  EXPECT_TRUE(view.GetDocument("info").GetBool("readOnly"));
  EXPECT_FALSE(view.Has("idIndex"));
  EXPECT_TRUE(all[2].GetDocument("options").GetBool("capped"));
  // nameOnly: {name, type} and nothing else.
  for (const Document& d : db.ListCollections({.name_only = true})) {
    EXPECT_EQ(d.size(), 2u) << d.ToJson();
    EXPECT_TRUE(d.Has("type"));
  }
}

TEST_F(ListingTest, CollectionFilters) {
  Database db = client_->Db("filters");
  MakeCollections(db);
  struct Case {
    const char* filter;
    bool name_only;
    std::vector<std::string> names;
  } cases[] = {
      {R"({})", false, {"plain", "recent", "ring"}},
      {R"({"name": "ring"})", false, {"ring"}},
      {R"({"name": {"$in": ["plain", "absent"]}})", false, {"plain"}},
      {R"({"type": "view"})", false, {"recent"}},
      {R"({"type": "view"})", true, {"recent"}},
      {R"({"options.capped": true})", false, {"ring"}},
      // With nameOnly the filter sees {name, type} only.
      {R"({"options.capped": true})", true, {}},
      {R"({"name": "plain"})", true, {"plain"}},
      {R"({"info.readOnly": false})", false, {"plain", "ring"}},
      {R"({"name": {"$regex": "^r"}, "type": "collection"})", false, {"ring"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.filter);
    ListCollectionsOptions options{.filter = D(c.filter), .name_only = c.name_only};
    EXPECT_EQ(Names(db.ListCollections(options)), c.names);
    EXPECT_EQ(db.ListCollectionNames(options), c.names);
  }
  EXPECT_EQ(ErrorCodeOf([&] { db.ListCollections({.filter = D(R"({"$bogus": 1})")}); }), 2);
  EXPECT_TRUE(client_->Db("no_such_database").ListCollections().empty());
}

TEST_F(ListingTest, DatabaseEntriesAndFilters) {
  client_->Db("dbs_full")["c"].InsertOne(D(R"({"x": 1})"));
  client_->Db("dbs_other")["c"].InsertOne(D(R"({"x": 1})"));
  ListDatabasesOptions ours{.filter = D(R"({"name": {"$regex": "^dbs_"}})")};
  std::vector<Document> entries = client_->ListDatabases(ours);
  ASSERT_EQ(Names(entries), (std::vector<std::string>{"dbs_full", "dbs_other"}));
  for (const Document& d : entries) {
    EXPECT_EQ(d.Get("sizeOnDisk").type(), BsonType::kInt64) << d.ToJson();
    EXPECT_GT(d.GetInt64("sizeOnDisk"), 0);
    EXPECT_FALSE(d.GetBool("empty"));
  }
  EXPECT_EQ(client_->ListDatabaseNames(ours), (std::vector<std::string>{"dbs_full", "dbs_other"}));
  ours.name_only = true;
  for (const Document& d : client_->ListDatabases(ours)) EXPECT_EQ(d.size(), 1u) << d.ToJson();
  EXPECT_EQ(Names(client_->ListDatabases({.filter = D(R"({"name": "dbs_other"})")})),
            std::vector<std::string>{"dbs_other"});
  // The sizes are there to filter on unless nameOnly leaves them out.
  Document sized = D(R"({"name": "dbs_full", "sizeOnDisk": {"$gt": 0}})");
  EXPECT_EQ(client_->ListDatabaseNames({.filter = sized}), std::vector<std::string>{"dbs_full"});
  EXPECT_EQ(Names(client_->ListDatabases({.filter = sized})), std::vector<std::string>{"dbs_full"});
  EXPECT_EQ(client_->ListDatabaseNames({.filter = sized, .name_only = true}), std::vector<std::string>{});
  EXPECT_EQ(ErrorCodeOf([&] { client_->ListDatabases({.filter = D(R"({"name": {"$bogus": 1}})")}); }), 2);
}

// In a session: allowed outside a transaction; in one, MongoDB answers 263
// OperationNotSupportedInTransaction and aborts it; with a snapshot session, 72.
TEST_F(ListingTest, SessionRules) {
  Database db = client_->Db();
  coll_->InsertOne(D(R"({"_id": 1})"));
  ClientSession session = client_->StartSession();
  EXPECT_FALSE(db.ListCollections({.session = &session}).empty());
  EXPECT_EQ(coll_->ListIndexes({.session = &session}).size(), 1u);
  EXPECT_FALSE(client_->ListDatabaseNames({.session = &session}).empty());

  const std::vector<std::pair<const char*, std::function<void(ClientSession*)>>> listings = {
      {"listCollections", [&](ClientSession* s) { db.ListCollections({.session = s}); }},
      {"listCollectionNames", [&](ClientSession* s) { db.ListCollectionNames({.session = s}); }},
      {"listIndexes", [&](ClientSession* s) { coll_->ListIndexes({.session = s}); }},
      {"listDatabases", [&](ClientSession* s) { client_->ListDatabases({.session = s}); }},
  };
  // Not a structured binding: clang 14 (the sanitizer build) cannot capture one.
  for (const auto& listing : listings) {
    SCOPED_TRACE(listing.first);
    const std::function<void(ClientSession*)>& list = listing.second;
    session.StartTransaction();
    coll_->InsertOne(D(R"({"in": "transaction"})"), {.session = &session});
    EXPECT_EQ(ErrorCodeOf([&] { list(&session); }), 263);
    // The transaction was aborted: its insert is gone and it cannot commit.
    EXPECT_EQ(ErrorCodeOf([&] { session.CommitTransaction(); }), 251);
    EXPECT_EQ(coll_->CountDocuments(D(R"({"in": "transaction"})")), 0);

    ClientSession snapshot = client_->StartSession({.snapshot = true});
    EXPECT_EQ(ErrorCodeOf([&] { list(&snapshot); }), 72);
  }
}

}  // namespace
}  // namespace micromongo
