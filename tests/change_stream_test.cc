// Change streams through a real worker and the public API. Expected events are shaped as
// the MongoDB manual's change event reference shows them (field order included); the
// fields that vary per run (_id, clusterTime, wallTime) are checked for type and order.

#include <signal.h>

#include <thread>

#include "test_util.h"

namespace micromongo {
namespace {

using testing::ErrorCodeOf;
using testing::TempDir;

Document D(std::string_view json) { return Document::FromJson(json); }

// The event without its per-run fields, after checking them: _id is the resume token
// {_data: string}, clusterTime a Timestamp, wallTime a date.
Document Stable(const Document& event) {
  EXPECT_EQ(event.Get("_id").type(), BsonType::kDocument) << event.ToJson();
  EXPECT_EQ(event.Get("_id").AsDocument().Get("_data").type(), BsonType::kString);
  EXPECT_EQ(event.Get("clusterTime").type(), BsonType::kTimestamp);
  EXPECT_EQ(event.Get("wallTime").type(), BsonType::kDate);
  Document out;
  for (const auto& [k, v] : event) {
    if (k != "_id" && k != "clusterTime" && k != "wallTime") out.Append(k, v);
  }
  return out;
}

// Up to `n` events: stops at the stream's end, or when none comes for 2 s (a test expecting
// more fails instead of hanging).
std::vector<Document> Take(ChangeStream& s, size_t n) {
  std::vector<Document> out;
  auto idle_since = std::chrono::steady_clock::now();
  while (out.size() < n && std::chrono::steady_clock::now() - idle_since < std::chrono::seconds(2)) {
    if (auto e = s.TryNext()) {
      out.push_back(*std::move(e));
      idle_since = std::chrono::steady_clock::now();
    } else if (!s.alive()) {
      break;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  return out;
}

class ChangeStreamE2E : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override {
    client_.reset();
    if (bridge_) bridge_->Terminate();
  }
  void Start() {
    bridge_ = WorkerBridge::Create({.data_dir = dir_.path()});
    client_ = std::make_unique<MongoClient>("mongodb://localhost/cs", ClientOptions{.worker_bridge = bridge_});
  }
  Collection Coll(std::string_view name = "c") { return client_->Db()[name]; }
  TempDir dir_;
  std::shared_ptr<WorkerBridge> bridge_;
  std::unique_ptr<MongoClient> client_;
};

TEST_F(ChangeStreamE2E, EachWriteGivesTheEventTheManualShows) {
  Collection c = Coll();
  ChangeStream s = c.Watch();
  c.InsertOne(D(R"({"_id": 1, "a": 1, "arr": [1, 2, 3], "sub": {"x": 1, "y": 2}})"));
  c.UpdateOne(D(R"({"_id": 1})"), D(R"({"$set": {"a": 2, "sub.x": 5}, "$unset": {"sub.y": ""}, "$pop": {"arr": 1}})"));
  c.ReplaceOne(D(R"({"_id": 1})"), D(R"({"b": null})"));
  c.DeleteOne(D(R"({"_id": 1})"));
  auto events = Take(s, 4);
  ASSERT_EQ(events.size(), 4u);
  const char* want[] = {
      R"({"operationType": "insert", "fullDocument": {"_id": 1, "a": 1, "arr": [1, 2, 3], "sub": {"x": 1, "y": 2}},
          "ns": {"db": "cs", "coll": "c"}, "documentKey": {"_id": 1}})",
      R"({"operationType": "update", "ns": {"db": "cs", "coll": "c"}, "documentKey": {"_id": 1},
          "updateDescription": {"updatedFields": {"a": 2, "arr": [1, 2], "sub.x": 5}, "removedFields": ["sub.y"],
                                "truncatedArrays": []}})",
      R"({"operationType": "replace", "fullDocument": {"_id": 1, "b": null}, "ns": {"db": "cs", "coll": "c"},
          "documentKey": {"_id": 1}})",
      R"({"operationType": "delete", "ns": {"db": "cs", "coll": "c"}, "documentKey": {"_id": 1}})",
  };
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(Stable(events[i]).ToJson(), D(want[i]).ToJson()) << i;
  // Cluster times order the events; each _id is the token resume_token() reports after it.
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_LT(events[i - 1].Get("clusterTime").AsTimestamp(), events[i].Get("clusterTime").AsTimestamp());
  }
  EXPECT_EQ(s.resume_token(), events[3].Get("_id").AsDocument());
}

TEST_F(ChangeStreamE2E, EveryWritePathEmitsOneEventPerDocumentInCommitOrder) {
  Collection c = Coll();
  ChangeStream s = c.Watch();
  c.InsertMany({D(R"({"_id": 1, "n": 1})"), D(R"({"_id": 2, "n": 1})"), D(R"({"_id": 3, "n": 1})")});
  c.UpdateMany(D(R"({"n": 1})"), D(R"({"$inc": {"n": 1}})"));
  c.FindOneAndUpdate(D(R"({"_id": 2})"), D(R"({"$set": {"f": true}})"));
  c.FindOneAndDelete(D(R"({"_id": 3})"));
  c.BulkWrite({InsertOneModel{D(R"({"_id": 4})")}, DeleteManyModel{D(R"({"_id": {"$lte": 2}})")}});
  c.UpdateOne(D(R"({"_id": 9})"), D(R"({"$set": {"up": 1}})"), {.upsert = true});
  c.UpdateOne(D(R"({"_id": 9})"), D(R"({"$set": {"up": 1}})"));  // no change: no event
  auto events = Take(s, 11);
  std::vector<std::string> got;
  for (const Document& e : events) {
    got.push_back(e.Get("operationType").AsString() + ":" + e.Get("documentKey").AsDocument().Get("_id").ToJson());
  }
  std::vector<std::string> want = {"insert:1", "insert:2", "insert:3", "update:1", "update:2", "update:3",
                                   "update:2", "delete:3", "insert:4", "delete:1", "delete:2"};
  EXPECT_EQ(got, want);
  auto upsert = s.Next();
  ASSERT_TRUE(upsert);
  EXPECT_EQ(Stable(*upsert).ToJson(),
            D(R"({"operationType": "insert", "fullDocument": {"_id": 9, "up": 1}, "ns": {"db": "cs", "coll": "c"},
                  "documentKey": {"_id": 9}})").ToJson());
  EXPECT_FALSE(s.TryNext());
}

TEST_F(ChangeStreamE2E, FullDocumentOptions) {
  Collection plain = Coll("plain");
  client_->Db().CreateCollection("imaged", {.change_stream_pre_and_post_images = true});
  Collection imaged = Coll("imaged");
  for (Collection* c : {&plain, &imaged}) c->InsertOne(D(R"({"_id": 1, "v": 1})"));
  Document before_writes = plain.Watch().resume_token();
  ChangeStream images = imaged.Watch({}, {.full_document = ChangeStreamOptions::FullDocument::kRequired,
                                          .full_document_before_change = ChangeStreamOptions::BeforeChange::kRequired});
  ChangeStream available = plain.Watch({}, {.full_document = ChangeStreamOptions::FullDocument::kWhenAvailable,
                                            .full_document_before_change = ChangeStreamOptions::BeforeChange::kWhenAvailable});
  ChangeStream required = plain.Watch({}, {.full_document_before_change = ChangeStreamOptions::BeforeChange::kRequired});
  for (Collection* c : {&plain, &imaged}) {
    c->UpdateOne(D(R"({"_id": 1})"), D(R"({"$set": {"v": 2}})"));
    c->UpdateOne(D(R"({"_id": 1})"), D(R"({"$set": {"v": 3}})"));
    c->DeleteOne(D(R"({"_id": 1})"));
  }
  // updateLookup reads the document when the event is read: by then it is gone (null).
  ChangeStream lookup = plain.Watch({}, {.full_document = ChangeStreamOptions::FullDocument::kUpdateLookup,
                                         .resume_after = before_writes});
  auto looked = Take(lookup, 3);
  ASSERT_EQ(looked.size(), 3u);
  EXPECT_TRUE(looked[0].Get("fullDocument").IsNull());
  // Stored images: the document before and after each change.
  auto imaged_events = Take(images, 3);
  ASSERT_EQ(imaged_events.size(), 3u);
  EXPECT_EQ(imaged_events[1].Get("fullDocument").AsDocument(), D(R"({"_id": 1, "v": 3})"));
  EXPECT_EQ(imaged_events[1].Get("fullDocumentBeforeChange").AsDocument(), D(R"({"_id": 1, "v": 2})"));
  EXPECT_EQ(imaged_events[2].Get("fullDocumentBeforeChange").AsDocument(), D(R"({"_id": 1, "v": 3})"));
  EXPECT_EQ(imaged_events[2].Find("fullDocument"), nullptr);
  auto without = Take(available, 3);
  ASSERT_EQ(without.size(), 3u);
  EXPECT_TRUE(without[0].Get("fullDocument").IsNull());
  EXPECT_TRUE(without[0].Get("fullDocumentBeforeChange").IsNull());
  EXPECT_EQ(ErrorCodeOf([&] { required.Next(); }), 47);  // NoMatchingDocument
}

TEST_F(ChangeStreamE2E, PipelineShapesAndFiltersEvents) {
  Collection c = Coll();
  ChangeStream inserts = c.Watch({D(R"({"$match": {"operationType": "insert", "fullDocument.keep": true}})"),
                                  D(R"({"$project": {"operationType": 1, "fullDocument.keep": 1}})")});
  ChangeStream no_id = c.Watch({D(R"({"$project": {"_id": 0}})")});
  c.InsertOne(D(R"({"_id": 1, "keep": false})"));
  c.InsertOne(D(R"({"_id": 2, "keep": true})"));
  c.DeleteOne(D(R"({"_id": 2})"));
  auto e = inserts.Next();
  ASSERT_TRUE(e);
  Document shaped = *e;
  shaped.Remove("_id");
  EXPECT_EQ(shaped, D(R"({"operationType": "insert", "fullDocument": {"keep": true}})"));
  EXPECT_FALSE(inserts.TryNext());
  EXPECT_EQ(ErrorCodeOf([&] { no_id.Next(); }), 280);  // ChangeStreamFatalError
  EXPECT_EQ(ErrorCodeOf([&] { c.Watch({D(R"({"$group": {"_id": null}})")}); }), 20);
  EXPECT_EQ(ErrorCodeOf([&] { c.Watch({}, {.resume_after = D(R"({"_data": "nope"})")}); }), 9);
}

TEST_F(ChangeStreamE2E, DropAndRenameInvalidateCollectionStreams) {
  Collection c = Coll();
  c.InsertOne(D(R"({"_id": 1})"));
  ChangeStream dropped = c.Watch();
  ChangeStream renamed_from = Coll("r").Watch();
  Coll("r").InsertOne(D(R"({"_id": 1})"));
  c.Drop();
  client_->Db().RenameCollection("r", "r2");
  auto events = Take(dropped, 3);
  ASSERT_EQ(events.size(), 2u);  // the stream ends after its invalidate
  EXPECT_EQ(Stable(events[0]).ToJson(), D(R"({"operationType": "drop", "ns": {"db": "cs", "coll": "c"}})").ToJson());
  EXPECT_EQ(Stable(events[1]).ToJson(), D(R"({"operationType": "invalidate"})").ToJson());
  EXPECT_FALSE(dropped.Next());
  auto r = Take(renamed_from, 4);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(Stable(r[1]).ToJson(), D(R"({"operationType": "rename", "ns": {"db": "cs", "coll": "r"},
                                         "to": {"db": "cs", "coll": "r2"}})").ToJson());
  // After an invalidate: only startAfter resumes (a recreated collection's events).
  Document inv = r[2].Get("_id").AsDocument();
  EXPECT_EQ(ErrorCodeOf([&] { Coll("r").Watch({}, {.resume_after = inv}); }), 260);
  ChangeStream again = Coll("r").Watch({}, {.start_after = inv});
  Coll("r").InsertOne(D(R"({"_id": 2})"));
  auto next = again.Next();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->Get("documentKey").AsDocument(), D(R"({"_id": 2})"));
}

TEST_F(ChangeStreamE2E, ExpandedEventsShowDdlAndCollectionUuids) {
  ChangeStream plain = client_->Db().Watch();
  ChangeStream expanded = client_->Db().Watch({}, {.show_expanded_events = true});
  client_->Db().CreateCollection("x");
  Coll("x").CreateIndex(D(R"({"k": 1})"));
  Coll("x").InsertOne(D(R"({"_id": 1})"));
  client_->Db().ModifyCollection("x", {.change_stream_pre_and_post_images = true});
  Coll("x").DropIndex("k_1");
  Coll("y").InsertOne(D(R"({"_id": 1})"));
  Coll("x").Rename("y", /*drop_target=*/true);
  auto e = Take(expanded, 8);
  std::vector<std::string> ops;
  for (const Document& ev : e) ops.push_back(ev.Get("operationType").AsString());
  EXPECT_EQ(ops, (std::vector<std::string>{"create", "createIndexes", "insert", "modify", "dropIndexes", "create",
                                           "insert", "rename"}));
  ASSERT_EQ(e.size(), 8u);
  // MongoDB's order: collectionUUID after clusterTime; one UUID per collection.
  std::vector<std::string> keys;
  for (const auto& [k, v] : e[2]) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"_id", "operationType", "clusterTime", "collectionUUID", "wallTime",
                                            "fullDocument", "ns", "documentKey"}));
  EXPECT_EQ(e[2].Get("collectionUUID").type(), BsonType::kBinary);
  EXPECT_EQ(e[0].Get("collectionUUID"), e[2].Get("collectionUUID"));
  EXPECT_NE(e[5].Get("collectionUUID"), e[2].Get("collectionUUID"));
  EXPECT_EQ(e[1].Get("operationDescription").AsDocument().GetArray("indexes")[0].AsDocument().Get("key").AsDocument(),
            D(R"({"k": 1})"));
  EXPECT_EQ(e[0].Get("operationDescription").AsDocument().GetDocument("idIndex"),
            D(R"({"v": 2, "key": {"_id": 1}, "name": "_id_"})"));
  EXPECT_EQ(e[3].Get("operationDescription").AsDocument().GetDocument("changeStreamPreAndPostImages"),
            D(R"({"enabled": true})"));
  const Document& rename = e[7].Get("operationDescription").AsDocument();
  EXPECT_EQ(rename.GetDocument("to"), D(R"({"db": "cs", "coll": "y"})"));
  EXPECT_EQ(rename.Get("dropTarget"), e[5].Get("collectionUUID"));
  // Without the option: the same changes as plain events only.
  auto p = Take(plain, 3);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].Get("operationType").AsString(), "insert");
  EXPECT_EQ(p[0].Find("collectionUUID"), nullptr);
  EXPECT_EQ(p[2].Get("operationType").AsString(), "rename");
  EXPECT_EQ(p[2].Find("operationDescription"), nullptr);
}

TEST_F(ChangeStreamE2E, DatabaseAndWorkerStreams) {
  ChangeStream db = client_->Db().Watch();
  ChangeStream all = client_->Watch();
  Coll("a").InsertOne(D(R"({"_id": 1})"));
  client_->Db("other")["b"].InsertOne(D(R"({"_id": 2})"));
  Coll("a2").InsertOne(D(R"({"_id": 3})"));
  client_->Db().Drop();
  auto d = Take(db, 10);
  std::vector<std::string> ops;
  for (const Document& e : d) ops.push_back(e.Get("operationType").AsString());
  EXPECT_EQ(ops, (std::vector<std::string>{"insert", "insert", "drop", "drop", "dropDatabase", "invalidate"}));
  EXPECT_EQ(Stable(d[4]).ToJson(), D(R"({"operationType": "dropDatabase", "ns": {"db": "cs"}})").ToJson());
  auto w = Take(all, 6);
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[1].Get("ns").AsDocument(), D(R"({"db": "other", "coll": "b"})"));
  EXPECT_EQ(w[5].Get("operationType").AsString(), "dropDatabase");
  EXPECT_FALSE(all.TryNext());  // never invalidated, nothing more
}

TEST_F(ChangeStreamE2E, ResumesAcrossRestartAndKillWithNothingLostOrRepeated) {
  Collection c = Coll();
  Document token;
  {
    ChangeStream s = c.Watch();
    c.InsertOne(D(R"({"_id": 1})"));
    ASSERT_TRUE(s.Next());
    token = s.resume_token();
  }
  c.InsertOne(D(R"({"_id": 2})"));
  client_.reset();
  bridge_->Terminate();
  Start();
  c = Coll();
  c.InsertOne(D(R"({"_id": 3})"));
  {
    ChangeStream s = c.Watch({}, {.resume_after = token});
    auto events = Take(s, 2);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].Get("documentKey").AsDocument(), D(R"({"_id": 2})"));
    EXPECT_EQ(events[1].Get("documentKey").AsDocument(), D(R"({"_id": 3})"));
    EXPECT_FALSE(s.TryNext());
    token = s.resume_token();
  }
  c.InsertOne(D(R"({"_id": 4})"));  // acknowledged, then the worker is killed
  kill(bridge_->pid(), SIGKILL);
  ASSERT_TRUE(testing::WaitGone(bridge_->pid(), std::chrono::seconds(10)));
  client_.reset();
  bridge_->Terminate();
  Start();
  ChangeStream s = Coll().Watch({}, {.resume_after = token});
  auto events = Take(s, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].Get("documentKey").AsDocument(), D(R"({"_id": 4})"));
  EXPECT_FALSE(s.TryNext());
  // A time before the first event replays from there.
  ChangeStream from_start = Coll().Watch({}, {.start_at_operation_time = Timestamp{1, 0}});
  EXPECT_EQ(Take(from_start, 4).size(), 4u);
}

TEST_F(ChangeStreamE2E, ASlowWatcherCatchesUpWithoutSlowingWriters) {
  Collection c = Coll();
  ChangeStream slow = c.Watch({}, {.batch_size = 50});
  const int kDocs = 5000;
  for (int i = 0; i < kDocs; i += 500) {
    std::vector<Document> batch;
    for (int j = i; j < i + 500; ++j) batch.push_back(Document{{"_id", j}});
    c.InsertMany(batch);
  }
  int seen = 0;
  while (seen < kDocs) {
    auto e = slow.Next();
    ASSERT_TRUE(e);
    ASSERT_EQ(e->Get("documentKey").AsDocument().Get("_id").AsInt32(), seen);
    ++seen;
  }
  EXPECT_FALSE(slow.TryNext());
  // A closed stream lets the worker stop at once (no connection held, no call in flight).
  slow.Close();
  client_.reset();
  auto t0 = std::chrono::steady_clock::now();
  bridge_->Terminate();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST_F(ChangeStreamE2E, ManyWatchersAtOnceWhileOtherCallsGoOn) {
  Collection c = Coll();
  std::vector<ChangeStream> watchers;
  for (int i = 0; i < 64; ++i) watchers.push_back(i % 2 == 0 ? c.Watch() : client_->Db().Watch());
  for (int i = 0; i < 10; ++i) c.InsertOne(Document{{"_id", i}});
  EXPECT_EQ(c.CountDocuments(), 10);  // unary calls are served beside 64 open streams
  for (ChangeStream& w : watchers) {
    auto events = Take(w, 10);
    ASSERT_EQ(events.size(), 10u);
    EXPECT_EQ(events[9].Get("documentKey").AsDocument(), D(R"({"_id": 9})"));
  }
}

// Concurrent writers in several databases: a worker-wide stream sees every committed write
// exactly once, in strictly increasing cluster time (commits that finish out of order are
// not read past), and each writer's own writes in the order it made them.
TEST_F(ChangeStreamE2E, ConcurrentWritersAcrossDatabasesAreSeenOnceInClusterTimeOrder) {
  ChangeStream all = client_->Watch({D(R"({"$match": {"operationType": "insert"}})")});
  const int kWriters = 4, kEach = 300;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      Collection c = client_->Db("db" + std::to_string(w % 2))["w" + std::to_string(w)];
      for (int i = 0; i < kEach; ++i) {
        if (i % 3 == 0) {
          c.InsertMany({Document{{"_id", i}, {"w", w}}});
        } else {
          c.InsertOne(Document{{"_id", i}, {"w", w}});
        }
      }
    });
  }
  std::vector<Document> events;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (events.size() < static_cast<size_t>(kWriters * kEach) && std::chrono::steady_clock::now() < deadline) {
    if (auto e = all.TryNext()) events.push_back(*std::move(e));
  }
  for (std::thread& t : writers) t.join();
  ASSERT_EQ(events.size(), static_cast<size_t>(kWriters * kEach));
  std::vector<int> next(kWriters, 0);
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > 0) {
      ASSERT_LT(events[i - 1].Get("clusterTime").AsTimestamp(), events[i].Get("clusterTime").AsTimestamp());
    }
    const Document& doc = events[i].Get("fullDocument").AsDocument();
    int w = doc.Get("w").AsInt32();
    ASSERT_EQ(doc.Get("_id").AsInt32(), next[w]++) << "writer " << w;
  }
  EXPECT_FALSE(all.TryNext());
}

TEST_F(ChangeStreamE2E, TokenAdvancesWithoutEvents) {
  Collection c = Coll();
  ChangeStream s = c.Watch({}, {.max_await_time = std::chrono::milliseconds(50)});
  Document start = s.resume_token();
  ASSERT_NE(start.Find("_data"), nullptr);
  Coll("elsewhere").InsertOne(D(R"({"_id": 1})"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (s.resume_token() == start && std::chrono::steady_clock::now() < deadline) {
    EXPECT_FALSE(s.TryNext());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(s.resume_token().Get("_data").AsString(), start.Get("_data").AsString());
  // Resuming from that high-water mark skips the other collection's event.
  c.InsertOne(D(R"({"_id": 7})"));
  ChangeStream r = c.Watch({}, {.resume_after = s.resume_token()});
  auto e = r.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->Get("documentKey").AsDocument(), D(R"({"_id": 7})"));
}

TEST(ChangeStreamRetentionE2E, HistoryPastTheLogsRetentionIsLostNotSkipped) {
  TempDir dir;
  auto bridge = WorkerBridge::Create({.data_dir = dir.path(),
                                      .server_parameters = {{"changeLogMaxBytes", "1"},
                                                            {"changeLogTrimIntervalSecs", "1"}}});
  MongoClient client("mongodb://localhost/cs", {.worker_bridge = bridge});
  Collection c = client.Db()["c"];
  c.InsertOne(D(R"({"_id": 0})"));
  Document token = c.Watch().resume_token();
  for (int i = 1; i <= 100; ++i) c.InsertOne(Document{{"_id", i}});
  // The retention pass trims the log to (about) nothing: the token's history is gone.
  int code = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (code == 0 && std::chrono::steady_clock::now() < deadline) {
    code = ErrorCodeOf([&] { c.Watch({}, {.resume_after = token}); });
    if (code == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(code, 286);  // ChangeStreamHistoryLost
  // A stream from now on works as ever.
  ChangeStream s = c.Watch();
  c.InsertOne(D(R"({"_id": 101})"));
  auto e = s.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->Get("documentKey").AsDocument(), D(R"({"_id": 101})"));
  s.Close();
  client.Close();
  bridge->Terminate();
}

TEST(ChangeStreamTtlE2E, TtlDeletesAreDeleteEvents) {
  TempDir dir;
  auto bridge = WorkerBridge::Create({.data_dir = dir.path(), .server_parameters = {{"ttlMonitorSleepSecs", "1"}}});
  MongoClient client("mongodb://localhost/cs", {.worker_bridge = bridge});
  Collection c = client.Db()["ttl"];
  ChangeStream s = c.Watch({D(R"({"$match": {"operationType": "delete"}})")});
  c.InsertOne(Document{{"_id", 1}, {"at", DateTime{0}}});
  c.CreateIndex(D(R"({"at": 1})"), {.expire_after_seconds = 0});
  auto e = s.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(Stable(*e).ToJson(),
            D(R"({"operationType": "delete", "ns": {"db": "cs", "coll": "ttl"}, "documentKey": {"_id": 1}})").ToJson());
  s.Close();
  client.Close();
  bridge->Terminate();
}

}  // namespace
}  // namespace micromongo
