// Sessions and multi-statement transactions through a real worker and the public API
// (session.h). Expected behaviour is MongoDB's, as its manual's transactions pages and the
// drivers' transactions specification describe it: all-or-nothing commits, reads of one
// snapshot plus the transaction's own writes, write conflicts labelled
// TransientTransactionError, the client-side state rules of StartTransaction /
// CommitTransaction / AbortTransaction, and the convenient API's retries.

#include <future>
#include <thread>

#include "test_util.h"

namespace micromongo::transaction_test {
namespace {

using testing::ErrorCodeOf;
using testing::Ids;

Document D(std::string_view json) { return Document::FromJson(json); }

constexpr char kDb[] = "txn";

class TransactionTest : public testing::WorkerTest<kDb> {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    other_ = std::make_unique<MongoClient>("mongodb://localhost/txn", ClientOptions{.worker_bridge = *bridge_});
    other_coll_ = std::make_unique<Collection>(other_->Db()[coll_->name()]);
  }
  // The Error `f` throws (code 0 if none).
  static Error ErrorOf(const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e;
    }
    return Error(0, "", "no error");
  }
  std::unique_ptr<MongoClient> other_;  // another application's client of the same worker
  std::unique_ptr<Collection> other_coll_;
};

TEST_F(TransactionTest, CommittedWritesAppearTogetherAndOnlyThen) {
  coll_->InsertOne(D(R"({"_id": 1, "balance": 100})"));
  coll_->InsertOne(D(R"({"_id": 2, "balance": 0})"));
  ClientSession session = client_->StartSession();
  session.StartTransaction();
  EXPECT_TRUE(session.in_transaction());
  coll_->UpdateOne(D(R"({"_id": 1})"), D(R"({"$inc": {"balance": -30}})"), {.session = &session});
  coll_->UpdateOne(D(R"({"_id": 2})"), D(R"({"$inc": {"balance": 30}})"), {.session = &session});
  coll_->InsertOne(D(R"({"_id": 3, "log": "transfer"})"), {.session = &session});
  // The transaction reads its own writes; nobody else sees them yet.
  EXPECT_EQ(coll_->FindOne(D(R"({"_id": 1})"), {.session = &session})->GetInt32("balance"), 70);
  EXPECT_EQ(coll_->CountDocuments({}, {.session = &session}), 3);
  EXPECT_EQ(other_coll_->FindOne(D(R"({"_id": 1})"))->GetInt32("balance"), 100);
  EXPECT_EQ(other_coll_->CountDocuments(), 2);
  EXPECT_EQ(coll_->CountDocuments(), 2);  // the same client, outside the session
  session.CommitTransaction();
  EXPECT_FALSE(session.in_transaction());
  EXPECT_EQ(other_coll_->FindOne(D(R"({"_id": 1})"))->GetInt32("balance"), 70);
  EXPECT_EQ(other_coll_->FindOne(D(R"({"_id": 2})"))->GetInt32("balance"), 30);
  EXPECT_EQ(other_coll_->CountDocuments(), 3);
  // A commit may be sent again (the drivers retry it); it changes nothing.
  session.CommitTransaction();
  EXPECT_EQ(other_coll_->CountDocuments(), 3);
}

TEST_F(TransactionTest, AbortDiscardsEveryWrite) {
  coll_->InsertOne(D(R"({"_id": 1, "n": 1})"));
  ClientSession session = client_->StartSession();
  session.StartTransaction();
  coll_->InsertMany({D(R"({"_id": 2})"), D(R"({"_id": 3})")}, {.session = &session});
  coll_->DeleteOne(D(R"({"_id": 1})"), {.session = &session});
  coll_->FindOneAndUpdate(D(R"({"_id": 2})"), D(R"({"$set": {"x": 1}})"), {.session = &session});
  EXPECT_EQ(Ids(coll_->Find({}, {.session = &session})), (std::set<int>{2, 3}));
  session.AbortTransaction();
  EXPECT_EQ(Ids(coll_->Find()), (std::set<int>{1}));
  // The session runs later operations outside any transaction, and may start another.
  coll_->InsertOne(D(R"({"_id": 4})"), {.session = &session});
  EXPECT_EQ(Ids(other_coll_->Find()), (std::set<int>{1, 4}));
  session.StartTransaction();
  coll_->InsertOne(D(R"({"_id": 5})"), {.session = &session});
  session.CommitTransaction();
  EXPECT_EQ(Ids(other_coll_->Find()), (std::set<int>{1, 4, 5}));
}

TEST_F(TransactionTest, ReadsSeeOneSnapshotWhateverCommitsMeanwhile) {
  coll_->InsertOne(D(R"({"_id": 1, "v": "before"})"));
  ClientSession session = client_->StartSession();
  session.StartTransaction();
  EXPECT_EQ(coll_->FindOne(D(R"({"_id": 1})"), {.session = &session})->GetString("v"), "before");
  other_coll_->UpdateOne(D(R"({"_id": 1})"), D(R"({"$set": {"v": "after"}})"));
  other_coll_->InsertOne(D(R"({"_id": 2})"));
  // MongoDB's snapshot read concern: the transaction keeps reading what it first saw.
  EXPECT_EQ(coll_->FindOne(D(R"({"_id": 1})"), {.session = &session})->GetString("v"), "before");
  EXPECT_EQ(Ids(coll_->Find({}, {.session = &session})), (std::set<int>{1}));
  EXPECT_EQ(coll_->Distinct("v", {}, {.session = &session}), (std::vector<Value>{Value("before")}));
  session.CommitTransaction();
  EXPECT_EQ(coll_->FindOne(D(R"({"_id": 1})"))->GetString("v"), "after");
}

TEST_F(TransactionTest, CursorsReadOnInsideTheTransaction) {
  ClientSession session = client_->StartSession();
  session.StartTransaction();
  std::vector<Document> docs;
  for (int i = 0; i < 7; ++i) docs.push_back(Document{{"_id", i}});
  coll_->InsertMany(docs, {.session = &session});
  // Batches of 2: the GetMores run in the transaction and see its uncommitted writes.
  EXPECT_EQ(testing::IdsInOrder(coll_->Find({}, {.sort = D(R"({"_id": 1})"), .batch_size = 2, .session = &session})),
            (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  std::vector<Document> grouped = coll_->Aggregate({D(R"({"$group": {"_id": null, "n": {"$sum": 1}}})")},
                                                   {.session = &session})
                                      .ToVector();
  ASSERT_EQ(grouped.size(), 1u);
  EXPECT_EQ(grouped[0].GetInt32("n"), 7);
  EXPECT_TRUE(other_coll_->Find().ToVector().empty());
  session.CommitTransaction();
  EXPECT_EQ(other_coll_->CountDocuments(), 7);
}

TEST_F(TransactionTest, ConcurrentWritersConflictAndTheLoserIsAborted) {
  coll_->InsertOne(D(R"({"_id": 1, "n": 0})"));
  ClientSession a = client_->StartSession();
  ClientSession b = other_->StartSession();
  a.StartTransaction();
  b.StartTransaction();
  coll_->UpdateOne(D(R"({"_id": 1})"), D(R"({"$inc": {"n": 1}})"), {.session = &a});
  Error conflict = ErrorOf([&] {
    other_coll_->UpdateOne(D(R"({"_id": 1})"), D(R"({"$inc": {"n": 10}})"), {.session = &b});
  });
  EXPECT_EQ(conflict.code(), 112) << conflict.what();
  EXPECT_TRUE(conflict.HasErrorLabel("TransientTransactionError"));
  // MongoDB aborts the transaction whose statement conflicted.
  Error gone = ErrorOf([&] { other_coll_->InsertOne(D(R"({"_id": 2})"), {.session = &b}); });
  EXPECT_EQ(gone.code(), 251);
  EXPECT_TRUE(gone.HasErrorLabel("TransientTransactionError"));
  a.CommitTransaction();
  EXPECT_EQ(coll_->FindOne(D(R"({"_id": 1})"))->GetInt32("n"), 1);
  EXPECT_EQ(coll_->CountDocuments(), 1);
  // Committing the aborted transaction fails, labelled for the whole transaction to run
  // again (MongoDB's NoSuchTransaction on commit).
  Error commit = ErrorOf([&] { b.CommitTransaction(); });
  EXPECT_EQ(commit.code(), 251);
  EXPECT_TRUE(commit.HasErrorLabel("TransientTransactionError"));
}

// A write outside transactions that meets a key an open transaction holds waits for it
// (MongoDB's writeConflictRetry), then goes on: an insertMany inserts each of its
// documents once, and fails at the transaction's document only if the transaction
// committed it.
TEST_F(TransactionTest, AnInsertManyMeetingATransactionsKeyWaitsAndInsertsEachDocumentOnce) {
  for (bool commit : {false, true}) {
    SCOPED_TRACE(commit ? "the transaction commits" : "the transaction aborts");
    coll_->Drop();
    coll_->InsertOne(D(R"({"_id": -1, "by": "setup"})"));  // the collection exists before
    ClientSession a = client_->StartSession();
    a.StartTransaction();
    coll_->InsertOne(D(R"({"_id": 1900, "by": "transaction"})"), {.session = &a});
    std::vector<Document> docs;
    for (int i = 0; i < 2000; ++i) docs.push_back(Document{{"_id", i}, {"by", "insertMany"}});
    std::promise<int64_t> inserted;
    std::thread writer([&] {
      try {
        inserted.set_value(other_coll_->InsertMany(docs).inserted_count);
      } catch (const BulkWriteError& e) {
        EXPECT_EQ(e.write_errors().size(), 1u);
        EXPECT_EQ(e.write_errors().at(0).index, 1900);
        EXPECT_EQ(e.write_errors().at(0).code, 11000);
        inserted.set_value(e.inserted_count());
      } catch (const Error& e) {
        ADD_FAILURE() << e.what();
        inserted.set_value(-1);
      }
    });
    std::future<int64_t> result = inserted.get_future();
    // The insert waits while the transaction is open.
    EXPECT_EQ(result.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
    if (commit) a.CommitTransaction();
    else a.AbortTransaction();
    int64_t n = result.get();
    writer.join();
    EXPECT_EQ(n, commit ? 1900 : 2000);
    EXPECT_EQ(coll_->CountDocuments(D(R"({"by": "insertMany"})")), commit ? 1900 : 2000);
    EXPECT_EQ(coll_->CountDocuments(D(R"({"by": "transaction"})")), commit ? 1 : 0);
    EXPECT_TRUE(coll_->Validate().Get("valid").AsBool());
  }
}

TEST_F(TransactionTest, WithTransactionRunsTheCallbackAgainAfterATransientError) {
  coll_->InsertOne(D(R"({"_id": 1, "n": 0})"));
  ClientSession blocker = other_->StartSession();
  blocker.StartTransaction();
  other_coll_->UpdateOne(D(R"({"_id": 1})"), D(R"({"$inc": {"n": 10}})"), {.session = &blocker});
  ClientSession session = client_->StartSession();
  int runs = 0;
  session.WithTransaction([&](ClientSession& s) {
    ++runs;
    if (runs == 1) {
      // Conflicts with the blocker's uncommitted write; the blocker then commits, so that
      // the second run can go through.
      Error e = ErrorOf([&] { coll_->UpdateOne(D(R"({"_id": 1})"), D(R"({"$inc": {"n": 1}})"), {.session = &s}); });
      blocker.CommitTransaction();
      throw e;
    }
    coll_->UpdateOne(D(R"({"_id": 1})"), D(R"({"$inc": {"n": 1}})"), {.session = &s});
    coll_->InsertOne(D(R"({"_id": 2})"), {.session = &s});
  });
  EXPECT_EQ(runs, 2);
  EXPECT_FALSE(session.in_transaction());
  EXPECT_EQ(coll_->FindOne(D(R"({"_id": 1})"))->GetInt32("n"), 11);
  EXPECT_EQ(coll_->CountDocuments(), 2);
}

TEST_F(TransactionTest, WithTransactionAbortsOnOtherErrorsAndRethrows) {
  ClientSession session = client_->StartSession();
  int runs = 0;
  EXPECT_THROW(session.WithTransaction([&](ClientSession& s) {
    ++runs;
    coll_->InsertOne(D(R"({"_id": 1})"), {.session = &s});
    throw std::runtime_error("application error");
  }),
               std::runtime_error);
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(session.in_transaction());
  EXPECT_EQ(coll_->CountDocuments(), 0);
  // A duplicate key inside the transaction: not transient, thrown as it is, nothing kept.
  coll_->InsertOne(D(R"({"_id": 7})"));
  int code = ErrorCodeOf([&] {
    session.WithTransaction([&](ClientSession& s) {
      coll_->InsertOne(D(R"({"_id": 8})"), {.session = &s});
      coll_->InsertOne(D(R"({"_id": 7})"), {.session = &s});
    });
  });
  EXPECT_EQ(code, 11000);
  EXPECT_EQ(Ids(coll_->Find()), (std::set<int>{7}));
}

TEST_F(TransactionTest, ClientSideStateRulesAsTheDriversSpecificationSays) {
  ClientSession session = client_->StartSession();
  EXPECT_EQ(ErrorCodeOf([&] { session.CommitTransaction(); }), 20);  // no transaction started
  EXPECT_EQ(ErrorCodeOf([&] { session.AbortTransaction(); }), 20);
  session.StartTransaction();
  EXPECT_EQ(ErrorCodeOf([&] { session.StartTransaction(); }), 20);  // already in progress
  // Nothing ran: the commit needs no round trip, and abort is then refused.
  session.CommitTransaction();
  EXPECT_EQ(ErrorCodeOf([&] { session.AbortTransaction(); }), 20);
  session.StartTransaction();
  coll_->InsertOne(D(R"({"_id": 1})"), {.session = &session});
  session.AbortTransaction();
  EXPECT_EQ(ErrorCodeOf([&] { session.AbortTransaction(); }), 20);   // twice
  EXPECT_EQ(ErrorCodeOf([&] { session.CommitTransaction(); }), 20);  // after abort
  // A session belongs to its client.
  Collection foreign = other_->Db()[coll_->name()];
  EXPECT_EQ(ErrorCodeOf([&] { foreign.InsertOne(D(R"({"_id": 2})"), {.session = &session}); }), 20);
  // An ended session is not used again; ending twice is harmless.
  session.EndSession();
  session.EndSession();
  EXPECT_EQ(ErrorCodeOf([&] { coll_->InsertOne(D(R"({"_id": 3})"), {.session = &session}); }), 20);
  EXPECT_EQ(ErrorCodeOf([&] { session.StartTransaction(); }), 20);
  EXPECT_EQ(coll_->CountDocuments(), 0);
  // A session moved from is no session.
  ClientSession moved = client_->StartSession();
  ClientSession taker = std::move(moved);
  EXPECT_EQ(ErrorCodeOf([&] { coll_->InsertOne(D(R"({"_id": 4})"), {.session = &moved}); }), 20);
  EXPECT_TRUE(moved.id().empty());
  EXPECT_FALSE(taker.id().empty());
  // The id is a UUID (binary subtype 4 of 16 bytes).
  ClientSession fresh = client_->StartSession();
  Value id = fresh.id().Get("id");
  ASSERT_EQ(id.type(), BsonType::kBinary);
  EXPECT_EQ(id.AsBinary().subtype, 4);
  EXPECT_EQ(id.AsBinary().data.size(), 16u);
  EXPECT_NE(fresh.id(), client_->StartSession().id());
}

TEST_F(TransactionTest, EndingASessionAbortsItsTransaction) {
  {
    ClientSession session = client_->StartSession();
    session.StartTransaction();
    coll_->InsertOne(D(R"({"_id": 1})"), {.session = &session});
  }  // destroyed: ended, its transaction aborted
  EXPECT_EQ(coll_->CountDocuments(), 0);
  // The document is not held by a forgotten transaction: others may write it at once.
  coll_->InsertOne(D(R"({"_id": 1})"));
  EXPECT_EQ(coll_->CountDocuments(), 1);
}

TEST_F(TransactionTest, OperationsATransactionCannotRunFailWith263AndAbortIt) {
  ClientSession session = client_->StartSession();
  session.StartTransaction();
  coll_->InsertOne(D(R"({"_id": 1})"), {.session = &session});
  // $out and $merge write outside the transaction's rules: MongoDB refuses them in one.
  int code = ErrorCodeOf([&] {
    coll_->Aggregate({D(R"({"$match": {}})"), D(R"({"$out": "elsewhere"})")}, {.session = &session}).ToVector();
  });
  EXPECT_EQ(code, 263);
  // The failed statement aborted the transaction, its insert included.
  EXPECT_EQ(ErrorCodeOf([&] { coll_->InsertOne(D(R"({"_id": 2})"), {.session = &session}); }), 251);
  EXPECT_EQ(coll_->CountDocuments(), 0);
}

// The stages MongoDB marks as not allowed in a transaction (TransactionRequirement::
// kNotAllowed): refused with 263 when the pipeline is parsed, in a sub-pipeline too, and
// the refusal aborts the transaction like any failed statement. Outside one they run.
TEST_F(TransactionTest, StagesMongoDBDoesNotRunInATransactionFailWith263) {
  const std::vector<std::vector<std::string>> pipelines = {
      {R"({"$collStats": {"count": {}}})"},
      {R"({"$collStats": {"storageStats": {}}})"},
      {R"({"$indexStats": {}})"},
      {R"({"$planCacheStats": {}})"},
      {R"({"$match": {}})", R"({"$merge": {"into": "elsewhere"}})"},
      {R"({"$lookup": {"from": "other", "pipeline": [{"$collStats": {"count": {}}}], "as": "s"}})"},
      {R"({"$unionWith": {"coll": "other", "pipeline": [{"$indexStats": {}}]}})"},
  };
  coll_->InsertOne(D(R"({"_id": 0})"));  // the collection exists: storageStats needs one
  coll_->DeleteOne(D(R"({"_id": 0})"));
  for (const auto& stages : pipelines) {
    std::vector<Document> pipeline;
    for (const std::string& s : stages) pipeline.push_back(D(s));
    SCOPED_TRACE(stages.back());
    ClientSession session = client_->StartSession();
    session.StartTransaction();
    coll_->InsertOne(D(R"({"_id": 1})"), {.session = &session});
    EXPECT_EQ(ErrorCodeOf([&] { coll_->Aggregate(pipeline, {.session = &session}).ToVector(); }), 263);
    EXPECT_EQ(ErrorCodeOf([&] { coll_->InsertOne(D(R"({"_id": 2})"), {.session = &session}); }), 251);
    EXPECT_EQ(coll_->CountDocuments(), 0);
    // In the same session once the transaction is over, and without a session, it runs.
    session.AbortTransaction();
    EXPECT_EQ(ErrorCodeOf([&] { coll_->Aggregate(pipeline, {.session = &session}).ToVector(); }), 0);
    EXPECT_EQ(ErrorCodeOf([&] { coll_->Aggregate(pipeline).ToVector(); }), 0);
    other_->Db()["elsewhere"].Drop();
  }
}

TEST_F(TransactionTest, ACollectionAndIndexMadeInATransactionAppearWhenItCommits) {
  Database db = client_->Db();
  std::string name = coll_->name() + "_new";
  ClientSession session = client_->StartSession();
  session.StartTransaction();
  db.CreateCollection(name, {.session = &session});
  db[name].CreateIndex(D(R"({"a": 1})"), {.name = "a_1", .session = &session});
  db[name].InsertOne(D(R"({"_id": 1, "a": 5})"), {.session = &session});
  EXPECT_EQ(testing::CollectionListing(other_->Db(), name).Has("missing"), true);
  session.CommitTransaction();
  EXPECT_EQ(testing::CollectionListing(other_->Db(), name).GetString("name"), name);
  std::vector<Document> indexes = other_->Db()[name].ListIndexes();
  ASSERT_EQ(indexes.size(), 2u);
  EXPECT_EQ(indexes[1].GetString("name"), "a_1");
  EXPECT_EQ(other_->Db()[name].CountDocuments(), 1);
  // collMod runs in no session.
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection(name, {.session = &session}); }), 72);
}

TEST_F(TransactionTest, OneTransactionCommitsAcrossDatabases) {
  Collection orders = client_->Db("txn_orders")[coll_->name()];
  Collection stock = client_->Db("txn_stock")[coll_->name()];
  stock.InsertOne(D(R"({"_id": "widget", "count": 5})"));
  ClientSession session = client_->StartSession();
  session.WithTransaction([&](ClientSession& s) {
    orders.InsertOne(D(R"({"_id": 1, "item": "widget"})"), {.session = &s});
    stock.UpdateOne(D(R"({"_id": "widget"})"), D(R"({"$inc": {"count": -1}})"), {.session = &s});
    EXPECT_EQ(other_->Db("txn_orders")[coll_->name()].CountDocuments(), 0);
  });
  EXPECT_EQ(other_->Db("txn_orders")[coll_->name()].CountDocuments(), 1);
  EXPECT_EQ(other_->Db("txn_stock")[coll_->name()].FindOne()->GetInt32("count"), 4);
  orders.Drop();
  stock.Drop();
}

TEST_F(TransactionTest, ChangeEventsOfACommitCarryTheSessionAndTransactionNumber) {
  ChangeStream stream = coll_->Watch();
  ClientSession session = client_->StartSession();
  session.StartTransaction();
  coll_->InsertOne(D(R"({"_id": 1})"), {.session = &session});
  coll_->InsertOne(D(R"({"_id": 2})"), {.session = &session});
  session.CommitTransaction();
  std::vector<Document> events;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (events.size() < 2 && std::chrono::steady_clock::now() < until) {
    if (auto e = stream.TryNext()) {
      events.push_back(*e);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ASSERT_EQ(events.size(), 2u);
  for (const Document& e : events) {
    // MongoDB's change events of a transaction: lsid {id, uid} and txnNumber.
    ASSERT_TRUE(e.Has("lsid")) << e.ToJson();
    EXPECT_EQ(e.Get("lsid").AsDocument().Get("id"), session.id().Get("id"));
    EXPECT_TRUE(e.Get("lsid").AsDocument().Has("uid"));
    EXPECT_EQ(e.Get("txnNumber").AsInt64(), 1);
  }
}

// Snapshot sessions (MongoDB's startSession({snapshot: true})): every read of the session
// sees the data as of its first read, whatever is written meanwhile.
TEST_F(TransactionTest, ASnapshotSessionsReadsAllSeeOneMoment) {
  coll_->InsertMany({D(R"({"_id": 1, "n": 1, "tag": "a"})"), D(R"({"_id": 2, "n": 2, "tag": "b"})")});
  ClientSession session = client_->StartSession({.snapshot = true});
  EXPECT_FALSE(session.snapshot_time().has_value());
  EXPECT_EQ(coll_->FindOne(D(R"({"_id": 1})"), {.session = &session})->GetInt32("n"), 1);
  ASSERT_TRUE(session.snapshot_time().has_value());
  const Timestamp first = *session.snapshot_time();
  // Written after the first read, by another client.
  other_coll_->UpdateOne(D(R"({"_id": 1})"), D(R"({"$set": {"n": 10}})"));
  other_coll_->InsertOne(D(R"({"_id": 3, "n": 3, "tag": "c"})"));
  other_coll_->DeleteOne(D(R"({"_id": 2})"));
  EXPECT_EQ(coll_->FindOne(D(R"({"_id": 1})"), {.session = &session})->GetInt32("n"), 1);
  EXPECT_EQ(Ids(coll_->Find({}, {.session = &session})), (std::set<int>{1, 2}));
  EXPECT_EQ(coll_->CountDocuments({}, {.session = &session}), 2);
  EXPECT_EQ(coll_->Distinct("tag", {}, {.session = &session}).size(), 2u);
  auto sum = coll_->Aggregate({D(R"({"$group": {"_id": null, "n": {"$sum": "$n"}}})")}, {.session = &session})
                 .ToVector();
  ASSERT_EQ(sum.size(), 1u);
  EXPECT_EQ(sum[0].Get("n").ToInt64(), 3);
  EXPECT_EQ(*session.snapshot_time(), first);  // pinned by the first read
  // Outside the session, and in a new snapshot session, the data as it is now.
  EXPECT_EQ(Ids(coll_->Find({})), (std::set<int>{1, 3}));
  ClientSession later = client_->StartSession({.snapshot = true});
  EXPECT_EQ(coll_->CountDocuments({}, {.session = &later}), 2);
  EXPECT_EQ(coll_->FindOne(D(R"({"_id": 1})"), {.session = &later})->GetInt32("n"), 10);
  EXPECT_GT(*later.snapshot_time(), first);
}

TEST_F(TransactionTest, ASnapshotCursorKeepsItsMomentAcrossBatchesAndTheSessionOnlyReads) {
  for (int i = 0; i < 5; ++i) coll_->InsertOne(Document{{"_id", i}});
  ClientSession session = client_->StartSession({.snapshot = true});
  Cursor cursor = coll_->Find({}, {.batch_size = 2, .session = &session});
  ASSERT_TRUE(cursor.Next().has_value());
  other_coll_->DeleteMany({});
  int rest = 0;
  while (cursor.Next()) ++rest;
  EXPECT_EQ(rest, 4);
  EXPECT_EQ(Ids(coll_->Find({}, {.session = &session})), (std::set<int>{0, 1, 2, 3, 4}));
  // Writes and other commands with a snapshot read concern: MongoDB's 72, nothing written.
  EXPECT_EQ(ErrorOf([&] { coll_->InsertOne(Document{{"_id", 100}}, {.session = &session}); }).code(), 72);
  EXPECT_EQ(ErrorOf([&] { coll_->UpdateOne(D(R"({"_id": 1})"), D(R"({"$set": {"x": 1}})"), {.session = &session}); })
                .code(),
            72);
  EXPECT_EQ(ErrorOf([&] { client_->Db(kDb).RunCommand(D(R"({"listCollections": 1})"), {.session = &session}); })
                .code(),
            72);
  EXPECT_EQ(other_coll_->CountDocuments(), 0);
  // Nor pipelines that write ($out, $merge), as MongoDB refuses them at that read concern.
  for (const char* stage : {R"({"$out": "copy"})", R"({"$merge": {"into": "copy"}})"}) {
    EXPECT_EQ(ErrorOf([&] { coll_->Aggregate({D(stage)}, {.session = &session}).ToVector(); }).code(), 72) << stage;
  }
  EXPECT_EQ(client_->Db(kDb)["copy"].CountDocuments(), 0);
  // No transactions in a snapshot session (the drivers' rule).
  EXPECT_EQ(ErrorOf([&] { session.StartTransaction(); }).code(), 20);
  EXPECT_FALSE(session.in_transaction());
}

// A snapshot session may start at another's moment (MongoDB's snapshotTime option), and
// commands sent with RunCommand read at it too.
TEST_F(TransactionTest, ASnapshotSessionStartsAtAGivenMoment) {
  coll_->InsertOne(D(R"({"_id": 1, "n": 1})"));
  ClientSession first = client_->StartSession({.snapshot = true});
  EXPECT_EQ(coll_->CountDocuments({}, {.session = &first}), 1);
  other_coll_->InsertOne(D(R"({"_id": 2, "n": 2})"));
  ClientSession same = client_->StartSession({.snapshot = true, .snapshot_time = first.snapshot_time()});
  EXPECT_EQ(*same.snapshot_time(), *first.snapshot_time());
  EXPECT_EQ(Ids(coll_->Find({}, {.session = &same})), (std::set<int>{1}));
  Document found = client_->Db(kDb).RunCommand(Document{{"find", coll_->name()}}, {.session = &same});
  EXPECT_EQ(found.GetDocument("cursor").GetArray("firstBatch").size(), 1u) << found.ToJson();
  // A session that learns its time from a command's reply.
  ClientSession by_command = client_->StartSession({.snapshot = true});
  Document counted = client_->Db(kDb).RunCommand(
      Document{{"aggregate", coll_->name()}, {"pipeline", Array{D(R"({"$count": "n"})")}}, {"cursor", Document{}}},
      {.session = &by_command});
  ASSERT_TRUE(by_command.snapshot_time().has_value()) << counted.ToJson();
  EXPECT_GT(*by_command.snapshot_time(), *first.snapshot_time());
}

}  // namespace
}  // namespace micromongo::transaction_test
