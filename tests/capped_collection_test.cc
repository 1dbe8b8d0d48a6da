// Capped collections and tailable cursors, held to MongoDB's manual ("Capped Collections",
// "Query a Capped Collection", "Change the Size of a Capped Collection", "Change Maximum
// Documents in a Capped Collection", "Tailable Cursors") and to the create command's
// errors: fixed-size collections that keep insertion order, remove their oldest documents
// to make room, and can be followed by a cursor that stays open at their end.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <micromongo/micromongo.h>

#include "test_util.h"

namespace mm = micromongo;
using mm::Document;

namespace {

constexpr char kCappedDb[] = "capped";
using CappedCollectionTest = micromongo::testing::WorkerTest<kCappedDb>;
using micromongo::testing::ErrorCodeOf;
using micromongo::testing::IdsInOrder;

mm::CollectionOptions Capped(int64_t size, std::optional<int64_t> max = std::nullopt) {
  return {.capped = true, .capped_size = size, .capped_max = max};
}


// A collection's listed options; {missing: true} when there is no such collection.
Document OptionsOf(mm::Database& db, const std::string& name) {
  Document listed = micromongo::testing::CollectionListing(db, name);
  return listed.Has("missing") ? listed : listed.GetDocument("options");
}

// The manual's "Query a Capped Collection" example, with _ids that sort opposite to the
// insertion order so that natural order cannot be mistaken for _id order.
TEST_F(CappedCollectionTest, FindReturnsInsertionOrderAndNaturalMinusOneTheReverse) {
  mm::Database db = client_->Db();
  db.CreateCollection("log", Capped(100000));
  mm::Collection log = db["log"];
  log.InsertMany({Document{{"_id", 5}, {"message", "system start"}, {"type", "startup"}, {"time", 1711403508}},
                  Document{{"_id", 4}, {"message", "user login attempt"}, {"type", "info"}, {"time", 1711403907}},
                  Document{{"_id", 3}, {"message", "user login fail"}, {"type", "warning"}, {"time", 1711404209}},
                  Document{{"_id", 2}, {"message", "user login success"}, {"type", "info"}, {"time", 1711404367}},
                  Document{{"_id", 1}, {"message", "user logout"}, {"type", "info"}, {"time", 1711404555}}});
  // "Documents are returned in the order that they were inserted."
  std::vector<std::string> info;
  for (const Document& d : log.Find(Document{{"type", "info"}})) info.push_back(d.GetString("message"));
  EXPECT_EQ(info, (std::vector<std::string>{"user login attempt", "user login success", "user logout"}));
  // "The following query returns the three most recent documents ... starting with the most recent."
  std::vector<std::string> recent;
  for (const Document& d : log.Find({}, {.sort = Document{{"$natural", -1}}, .limit = 3})) {
    recent.push_back(d.GetString("message"));
  }
  EXPECT_EQ(recent, (std::vector<std::string>{"user logout", "user login success", "user login fail"}));
  EXPECT_EQ(IdsInOrder(log.Find({}, {.hint = mm::Hint(Document{{"$natural", 1}})})), (std::vector<int>{5, 4, 3, 2, 1}));
  EXPECT_EQ(IdsInOrder(log.Find({}, {.hint = mm::Hint(Document{{"$natural", -1}})})), (std::vector<int>{1, 2, 3, 4, 5}));
  // An explicit sort on another field still sorts.
  EXPECT_EQ(IdsInOrder(log.Find({}, {.sort = Document{{"_id", 1}}})), (std::vector<int>{1, 2, 3, 4, 5}));
  // The same order through aggregation's collection scan.
  std::vector<mm::Value> agg;
  for (const Document& d : log.Aggregate({Document{{"$match", Document{{"type", "info"}}}}})) agg.push_back(d.Get("_id"));
  EXPECT_EQ(agg, (std::vector<mm::Value>{4, 2, 1}));
}

TEST_F(CappedCollectionTest, OptionsAreListedAsMongoDBListsThem) {
  mm::Database db = client_->Db();
  db.CreateCollection("sized", Capped(100000));
  db.CreateCollection("counted", Capped(5242880, 5000));
  db.CreateCollection("unbounded_max", Capped(4096, 0));
  EXPECT_EQ(OptionsOf(db, "sized"), (Document{{"capped", true}, {"size", 100000}}));
  EXPECT_EQ(OptionsOf(db, "counted"), (Document{{"capped", true}, {"size", 5242880}, {"max", 5000}}));
  // MongoDB stores a max <= 0 as 2^31 - 1: no limit.
  EXPECT_EQ(OptionsOf(db, "unbounded_max"), (Document{{"capped", true}, {"size", 4096}, {"max", int64_t{2147483647}}}));
  Document stats = db["counted"].Aggregate({Document{{"$collStats", Document{{"storageStats", Document{}}}}}})
                       .Next()
                       ->GetDocument("storageStats");
  EXPECT_EQ(stats.Get("capped"), mm::Value(true));
  EXPECT_EQ(stats.Get("max"), mm::Value(int64_t{5000}));
  EXPECT_EQ(stats.Get("maxSize"), mm::Value(int64_t{5242880}));
}

TEST_F(CappedCollectionTest, CreateErrorsAreMongoDBs) {
  mm::Database db = client_->Db();
  struct Case {
    const char* name;
    mm::CollectionOptions options;
    int code;
  } cases[] = {
      {"no_size", {.capped = true}, 72},                            // size is required
      {"no_size_with_max", {.capped = true, .capped_max = 500}, 72},
      {"size_not_capped", {.capped_size = 4096}, 72},               // size and max need capped
      {"max_not_capped", {.capped = false, .capped_max = 10}, 72},
      {"zero_size", Capped(0), 51024},                              // size >= 1
      {"negative_size", Capped(-5), 51024},
      {"too_big", Capped((int64_t{1} << 50) + 1), 2},               // size <= 1 PB
      {"max_too_big", Capped(4096, int64_t{1} << 31), 2},           // max < 2^31
      {"view", {.view_on = "x", .capped = true, .capped_size = 10}, 72},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorCodeOf([&] { db.CreateCollection(c.name, c.options); }), c.code) << c.name;
    EXPECT_EQ(OptionsOf(db, c.name), (Document{{"missing", true}})) << c.name;
  }
}

TEST_F(CappedCollectionTest, InsertsPastMaxRemoveTheOldestDocumentsWithTheirIndexEntries) {
  mm::Database db = client_->Db();
  db.CreateCollection("recent", Capped(100000, 3));
  mm::Collection recent = db["recent"];
  recent.CreateIndex(Document{{"u", 1}}, {.unique = true});
  for (int i = 1; i <= 4; ++i) recent.InsertOne(Document{{"_id", 10 - i}, {"u", i}});
  EXPECT_EQ(IdsInOrder(recent.Find({})), (std::vector<int>{8, 7, 6}));
  recent.InsertMany({Document{{"_id", 20}, {"u", 5}}, Document{{"_id", 21}, {"u", 6}}});
  EXPECT_EQ(IdsInOrder(recent.Find({})), (std::vector<int>{6, 20, 21}));
  EXPECT_EQ(recent.CountDocuments({}), 3);
  EXPECT_EQ(recent.EstimatedDocumentCount(), 3);
  // The removed documents' index entries went with them: their unique keys are free again,
  // and the index finds only the documents that are there.
  recent.InsertOne(Document{{"_id", 30}, {"u", 1}});
  EXPECT_EQ(IdsInOrder(recent.Find(Document{{"u", Document{{"$lte", 4}}}}, {.hint = mm::Hint("u_1")})),
            (std::vector<int>{30}));
  EXPECT_EQ(ErrorCodeOf([&] { recent.InsertOne(Document{{"_id", 31}, {"u", 6}}); }), 11000);
  // TTL indexes are not for capped collections, created or changed.
  EXPECT_EQ(ErrorCodeOf([&] { recent.CreateIndex(Document{{"at", 1}}, {.expire_after_seconds = 60}); }), 72);
  EXPECT_EQ(ErrorCodeOf([&] { recent.ModifyIndex({.name = "u_1", .expire_after_seconds = 60}); }), 72);
  EXPECT_EQ(IdsInOrder(recent.Find({})), (std::vector<int>{20, 21, 30}));
  Document validation = recent.Validate();
  EXPECT_TRUE(validation.GetBool("valid")) << validation.ToJson();
}

// MongoDB 5.0+ logs capped deletes as deletes: a change stream sees each removal after
// the insert that caused it.
TEST_F(CappedCollectionTest, ChangeStreamsSeeTheRemovalsAfterTheInsert) {
  mm::Database db = client_->Db();
  db.CreateCollection("watched", Capped(100000, 2));
  mm::Collection watched = db["watched"];
  watched.InsertMany({Document{{"_id", "a"}}, Document{{"_id", "b"}}});
  mm::ChangeStream stream = watched.Watch();
  watched.InsertOne(Document{{"_id", "c"}});
  std::vector<std::string> events;
  while (events.size() < 2) {
    std::optional<Document> e = stream.Next();
    ASSERT_TRUE(e.has_value());
    events.push_back(e->GetString("operationType") + " " + e->GetDocument("documentKey").GetString("_id"));
  }
  EXPECT_EQ(events, (std::vector<std::string>{"insert c", "delete a"}));
}

TEST_F(CappedCollectionTest, InsertsPastTheSizeRemoveTheOldestDocuments) {
  mm::Database db = client_->Db();
  db.CreateCollection("bytes", Capped(1000));
  mm::Collection bytes = db["bytes"];
  // {_id: int32, s: 80-byte string}: 4 + (1 + 4 + 4) + (1 + 2 + 4 + 81) + 1 = 102 bytes.
  std::string s(80, 'x');
  for (int i = 0; i < 25; ++i) bytes.InsertOne(Document{{"_id", i}, {"s", s}});
  // 9 documents (918 bytes) fit in 1000; a tenth would not.
  std::vector<int> expected;
  for (int i = 16; i < 25; ++i) expected.push_back(i);
  EXPECT_EQ(IdsInOrder(bytes.Find({})), expected);
  // A document larger than the whole collection is refused, and nothing is removed.
  EXPECT_EQ(ErrorCodeOf([&] { bytes.InsertOne(Document{{"_id", 99}, {"s", std::string(1000, 'y')}}); }), 2);
  EXPECT_EQ(bytes.CountDocuments({}), 9);
  // An unordered InsertMany writes the documents that fit and reports the other.
  EXPECT_EQ(ErrorCodeOf([&] {
              bytes.InsertMany({Document{{"_id", 100}, {"s", s}}, Document{{"_id", 101}, {"s", std::string(2000, 'z')}},
                                Document{{"_id", 102}, {"s", s}}},
                               {.ordered = false});
            }),
            2);
  expected = {18, 19, 20, 21, 22, 23, 24, 100, 102};
  EXPECT_EQ(IdsInOrder(bytes.Find({})), expected);
}

TEST_F(CappedCollectionTest, DeletesAndUpdatesOfAnySizeKeepTheOrder) {
  mm::Database db = client_->Db();
  db.CreateCollection("edits", Capped(4096, 4));
  mm::Collection edits = db["edits"];
  for (int i = 1; i <= 4; ++i) edits.InsertOne(Document{{"_id", 5 - i}, {"n", i}});
  // MongoDB 5.0+ deletes from capped collections; 6.0+ lets updates change a document's size.
  EXPECT_EQ(edits.DeleteOne(Document{{"n", 2}}).deleted_count, 1);
  EXPECT_EQ(edits.UpdateOne(Document{{"n", 3}}, Document{{"$set", Document{{"grown", std::string(200, 'g')}}}})
                .modified_count,
            1);
  EXPECT_EQ(IdsInOrder(edits.Find({})), (std::vector<int>{4, 2, 1}));
  edits.InsertOne(Document{{"_id", 9}, {"n", 5}});
  edits.InsertOne(Document{{"_id", 8}, {"n", 6}});
  // Four documents at most: the oldest, _id 4, went.
  EXPECT_EQ(IdsInOrder(edits.Find({})), (std::vector<int>{2, 1, 9, 8}));
  // An upsert inserts at the end and makes room like an insert.
  edits.UpdateOne(Document{{"_id", 7}}, Document{{"$set", Document{{"n", 7}}}}, {.upsert = true});
  EXPECT_EQ(IdsInOrder(edits.Find({})), (std::vector<int>{1, 9, 8, 7}));
}

TEST_F(CappedCollectionTest, CollModChangesTheCapsAndTheNextInsertApplies) {
  mm::Database db = client_->Db();
  db.CreateCollection("resized", Capped(2621440, 20000));
  mm::Collection resized = db["resized"];
  for (int i = 0; i < 6; ++i) resized.InsertOne(Document{{"_id", i}});
  // The manual's examples: cappedSize to 5,242,880 bytes, cappedMax to 5,000; then 3.
  db.ModifyCollection("resized", {.capped_size = 5242880});
  db.ModifyCollection("resized", {.capped_max = 5000});
  EXPECT_EQ(OptionsOf(db, "resized"), (Document{{"capped", true}, {"size", 5242880}, {"max", 5000}}));
  db.ModifyCollection("resized", {.capped_max = 3});
  EXPECT_EQ(resized.CountDocuments({}), 6);  // excess documents go at the next insert
  resized.InsertOne(Document{{"_id", 6}});
  EXPECT_EQ(IdsInOrder(resized.Find({})), (std::vector<int>{4, 5, 6}));
  // A cappedMax <= 0 means no limit.
  db.ModifyCollection("resized", {.capped_max = 0});
  resized.InsertOne(Document{{"_id", 7}});
  EXPECT_EQ(resized.CountDocuments({}), 4);
  // $out cannot replace a capped collection (MongoDB's 17152); $merge writes into it.
  client_->Db()["plain_for_collmod"].InsertOne(Document{{"_id", 1}});
  EXPECT_EQ(ErrorCodeOf([&] {
              client_->Db()["plain_for_collmod"].Aggregate({Document{{"$out", "resized"}}}).ToVector();
            }),
            17152);
  EXPECT_EQ(resized.CountDocuments({}), 4);
  client_->Db()["plain_for_collmod"].Aggregate({Document{{"$merge", "resized"}}}).ToVector();
  EXPECT_EQ(resized.CountDocuments({}), 5);
  // Not on a collection that is not capped; capped itself cannot change.
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection("plain_for_collmod", {.capped_size = 4096}); }), 72);
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection("resized", {.capped = false}); }), 72);
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection("resized", {.capped_size = 0}); }), 51024);
}

TEST_F(CappedCollectionTest, CloneAndConvertToCapped) {
  mm::Database db = client_->Db();
  mm::Collection source = db["source"];
  for (int i = 0; i < 20; ++i) source.InsertOne(Document{{"_id", 19 - i}, {"v", std::string(50, 'v')}});
  source.CreateIndex(Document{{"v", 1}});
  // Room for 5 of the 72-byte documents: the copy keeps the last 5 in natural (_id) order.
  db.CloneCollectionAsCapped("source", "copy", 400);
  EXPECT_EQ(OptionsOf(db, "copy"), (Document{{"capped", true}, {"size", 400}}));
  EXPECT_EQ(IdsInOrder(db["copy"].Find()), (std::vector<int>{15, 16, 17, 18, 19}));
  EXPECT_EQ(source.CountDocuments(), 20);  // the source is untouched
  EXPECT_EQ(ErrorCodeOf([&] { db.CloneCollectionAsCapped("source", "copy", 400); }), 48);
  EXPECT_EQ(ErrorCodeOf([&] { db.CloneCollectionAsCapped("absent", "copy2", 400); }), 26);
  EXPECT_EQ(ErrorCodeOf([&] { db.CloneCollectionAsCapped("source", "copy3", 0); }), 51024);
  // A capped source is copied in its insertion order.
  db.CloneCollectionAsCapped("copy", "copy_of_copy", 100000);
  EXPECT_EQ(IdsInOrder(db["copy_of_copy"].Find()), (std::vector<int>{15, 16, 17, 18, 19}));

  db.ConvertToCapped("source", 100000);
  EXPECT_EQ(OptionsOf(db, "source"), (Document{{"capped", true}, {"size", 100000}}));
  EXPECT_EQ(source.CountDocuments(), 20);
  EXPECT_EQ(source.ListIndexes().size(), 1u);  // only _id_ is kept, as in MongoDB
  source.InsertOne(Document{{"_id", -1}});
  EXPECT_EQ(IdsInOrder(source.Find({}, {.sort = Document{{"$natural", -1}}, .limit = 2})), (std::vector<int>{-1, 19}));
  std::vector<std::string> names = db.ListCollectionNames();
  EXPECT_EQ(std::count_if(names.begin(), names.end(), [](const std::string& n) { return n.starts_with("tmp."); }), 0);
  EXPECT_EQ(ErrorCodeOf([&] { db.ConvertToCapped("absent", 4096); }), 26);
  db.CreateCollection("a_view", {.view_on = "source"});
  EXPECT_EQ(ErrorCodeOf([&] { db.ConvertToCapped("a_view", 4096); }), 166);
}

TEST_F(CappedCollectionTest, TailableCursorFollowsInserts) {
  mm::Database db = client_->Db();
  db.CreateCollection("tail", Capped(100000));
  mm::Collection tail = db["tail"];
  tail.InsertMany({Document{{"_id", 2}, {"k", "a"}}, Document{{"_id", 1}, {"k", "b"}}, Document{{"_id", 0}, {"k", "a"}}});
  mm::Cursor cursor = tail.Find(Document{{"k", "a"}}, {.projection = Document{{"k", 0}}, .tailable = true});
  EXPECT_EQ(cursor.Next(), (Document{{"_id", 2}}));
  EXPECT_EQ(cursor.Next(), (Document{{"_id", 0}}));
  EXPECT_EQ(cursor.Next(), std::nullopt);  // at the end, and still open
  EXPECT_FALSE(cursor.closed());
  tail.InsertMany({Document{{"_id", 10}, {"k", "a"}}, Document{{"_id", 9}, {"k", "b"}}, Document{{"_id", 8}, {"k", "a"}}});
  std::vector<Document> more;
  for (int tries = 0; more.size() < 2 && tries < 10; ++tries) {
    while (auto d = cursor.Next()) more.push_back(*d);
  }
  EXPECT_EQ(more, (std::vector<Document>{Document{{"_id", 10}}, Document{{"_id", 8}}}));
  EXPECT_FALSE(cursor.closed());
  // A limit ends it.
  mm::Cursor limited = tail.Find({}, {.limit = 2, .tailable = true});
  EXPECT_EQ(IdsInOrder(std::move(limited)), (std::vector<int>{2, 1}));
}

TEST_F(CappedCollectionTest, AwaitDataWaitsForAnInsert) {
  mm::Database db = client_->Db();
  db.CreateCollection("await", Capped(100000));
  mm::Collection await = db["await"];
  await.InsertOne(Document{{"_id", 1}});
  mm::Cursor cursor = await.Find({}, {.tailable = true, .await_data = true, .max_await_time_ms = 5000});
  EXPECT_EQ(cursor.Next(), (Document{{"_id", 1}}));
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    client_->Db()["await"].InsertOne(Document{{"_id", 2}});
  });
  auto start = std::chrono::steady_clock::now();
  std::optional<Document> next = cursor.Next();
  auto waited = std::chrono::steady_clock::now() - start;
  writer.join();
  EXPECT_EQ(next, (Document{{"_id", 2}}));
  EXPECT_LT(waited, std::chrono::milliseconds(4000));  // woken by the insert, not the timeout
  // Nothing more: a short await returns empty-handed and the cursor stays open.
  mm::Cursor short_wait = await.Find({}, {.tailable = true, .await_data = true, .max_await_time_ms = 100});
  EXPECT_EQ(IdsInOrder(std::move(short_wait)), (std::vector<int>{1, 2}));
}

TEST_F(CappedCollectionTest, TailableErrorsAndEndsAsMongoDBs) {
  mm::Database db = client_->Db();
  db["not_capped"].InsertOne(Document{{"_id", 1}});
  EXPECT_EQ(ErrorCodeOf([&] { db["not_capped"].Find({}, {.tailable = true}); }), 2);
  EXPECT_EQ(ErrorCodeOf([&] { db["missing"].Find({}, {.tailable = true}); }), 2);
  db.CreateCollection("errs", Capped(100000, 2));
  mm::Collection errs = db["errs"];
  EXPECT_EQ(ErrorCodeOf([&] { errs.Find({}, {.sort = Document{{"a", 1}}, .tailable = true}); }), 2);
  EXPECT_EQ(ErrorCodeOf([&] { errs.Find({}, {.await_data = true}); }), 9);
  // On an empty collection the cursor is not kept (MongoDB's rule).
  mm::Cursor empty = errs.Find({}, {.tailable = true});
  EXPECT_EQ(empty.Next(), std::nullopt);
  EXPECT_TRUE(empty.closed());
  // {$natural: 1} is the one sort allowed.
  errs.InsertOne(Document{{"_id", 1}});
  mm::Cursor lost = errs.Find({}, {.sort = Document{{"$natural", 1}}, .tailable = true});
  EXPECT_EQ(lost.Next(), (Document{{"_id", 1}}));
  // Capped deletes overtake the cursor: the document it stood on is gone.
  errs.InsertMany({Document{{"_id", 2}}, Document{{"_id", 3}}});
  EXPECT_EQ(ErrorCodeOf([&] {
              while (lost.Next()) {
              }
              lost.Next();
            }),
            136);
  // Dropping the collection kills a tailable cursor.
  mm::Cursor dropped = errs.Find({}, {.tailable = true});
  EXPECT_EQ(IdsInOrder(std::move(dropped)).size(), 2u);
  mm::Cursor dropped2 = errs.Find({}, {.tailable = true});
  while (dropped2.Next()) {
  }
  errs.Drop();
  EXPECT_EQ(ErrorCodeOf([&] {
              for (int i = 0; i < 3; ++i) dropped2.Next();
            }),
            175);
}

}  // namespace
