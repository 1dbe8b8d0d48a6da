// Database::RunCommand (AdminService/RunCommand): MongoDB's runCommand through a real
// worker, answered by the same command runner as the MongoDB wire protocol. Expected reply
// shapes are the MongoDB manual's for each command.

#include "test_util.h"

namespace micromongo::run_command_test {
namespace {

using testing::ErrorCodeOf;

Document D(std::string_view json) { return Document::FromJson(json); }

constexpr char kDb[] = "runcommand";

class RunCommandTest : public testing::WorkerTest<kDb> {};

TEST_F(RunCommandTest, CommandsAnswerWithMongoDbsReplyDocuments) {
  coll_->InsertMany({D(R"({"_id": 1, "a": 1})"), D(R"({"_id": 2, "a": 1})"), D(R"({"_id": 3, "a": 2})")});
  Database db = client_->Db();
  const std::string name = coll_->name();
  Document count = db.RunCommand(Document{{"count", name}, {"query", D(R"({"a": 1})")}});
  EXPECT_EQ(count.Get("n").ToInt64(), 2);
  EXPECT_EQ(count.Get("ok").ToDouble(), 1.0);
  Document distinct = db.RunCommand(Document{{"distinct", name}, {"key", "a"}});
  EXPECT_EQ(distinct.Get("values"), Value(Array{Value(1), Value(2)}));
  Document ping = db.RunCommand(D(R"({"ping": 1})"));
  EXPECT_EQ(ping.Get("ok").ToDouble(), 1.0);
  Document build = client_->Db("admin").RunCommand(D(R"({"buildInfo": 1})"));
  EXPECT_EQ(build.Get("version").type(), BsonType::kString);
  Document stats = db.RunCommand(Document{{"collStats", name}});
  EXPECT_EQ(stats.Get("count").ToInt64(), 3);
  EXPECT_EQ(stats.GetString("ns"), std::string(kDb) + "." + name);
  // Writes report per-document errors in the reply, with ok 1, as MongoDB's insert does.
  Document insert = db.RunCommand(Document{{"insert", name}, {"documents", Array{D(R"({"_id": 1})")}}});
  EXPECT_EQ(insert.Get("ok").ToDouble(), 1.0);
  EXPECT_EQ(insert.Get("n").ToInt64(), 0);
  ASSERT_EQ(insert.Get("writeErrors").type(), BsonType::kArray);
  EXPECT_EQ(insert.Get("writeErrors").AsArray()[0].AsDocument().Get("code").ToInt64(), 11000);
}

TEST_F(RunCommandTest, CursorCommandsContinueWithGetMore) {
  std::vector<Document> docs;
  for (int i = 0; i < 5; ++i) docs.push_back(Document{{"_id", i}});
  coll_->InsertMany(docs);
  Database db = client_->Db();
  Document first = db.RunCommand(Document{{"find", coll_->name()}, {"sort", D(R"({"_id": 1})")}, {"batchSize", 2}});
  Document cursor = first.GetDocument("cursor");
  EXPECT_EQ(cursor.GetString("ns"), std::string(kDb) + "." + coll_->name());
  EXPECT_EQ(cursor.Get("firstBatch").AsArray().size(), 2u);
  int64_t id = cursor.Get("id").AsInt64();
  ASSERT_NE(id, 0);
  Document more = db.RunCommand(Document{{"getMore", id}, {"collection", coll_->name()}});
  const Array& next = more.GetDocument("cursor").Get("nextBatch").AsArray();
  ASSERT_EQ(next.size(), 3u);
  EXPECT_EQ(next[0].AsDocument().Get("_id").ToInt64(), 2);
  EXPECT_EQ(more.GetDocument("cursor").Get("id").AsInt64(), 0);
}

TEST_F(RunCommandTest, CursorCommandsAsCursors) {
  std::vector<Document> docs;
  for (int i = 0; i < 5; ++i) docs.push_back(Document{{"_id", i}});
  coll_->InsertMany(docs);
  Database db = client_->Db();
  // A first batch of 2, then getMores of 1: every document once, in order.
  EXPECT_EQ(testing::IdsInOrder(db.RunCursorCommand(
                Document{{"find", coll_->name()}, {"sort", D(R"({"_id": 1})")}, {"batchSize", 2}}, {.batch_size = 1})),
            (std::vector<int>{0, 1, 2, 3, 4}));
  std::vector<Document> pipeline = db.RunCursorCommand(Document{{"aggregate", coll_->name()},
                                                                {"pipeline", Array{D(R"({"$match": {"_id": {"$gte": 3}}})")}},
                                                                {"cursor", D(R"({"batchSize": 0})")}})
                                       .ToVector();
  EXPECT_EQ(pipeline.size(), 2u);
  bool listed = false;
  for (const Document& c : db.RunCursorCommand(D(R"({"listCollections": 1})"))) {
    listed = listed || c.GetString("name") == coll_->name();
  }
  EXPECT_TRUE(listed);
  // A command without a cursor in its reply.
  EXPECT_EQ(ErrorCodeOf([&] { db.RunCursorCommand(D(R"({"ping": 1})")); }), 2);
}

TEST_F(RunCommandTest, FailedCommandsThrowMongoDbsCodeAndDetails) {
  Database db = client_->Db();
  EXPECT_EQ(ErrorCodeOf([&] { db.RunCommand(D(R"({"noSuchCommand": 1})")); }), 59);
  EXPECT_EQ(ErrorCodeOf([&] { db.RunCommand(Document{{"find", coll_->name()}, {"filter", "not a document"}}); }), 14);
  EXPECT_EQ(ErrorCodeOf([&] { db.RunCommand(Document{}); }), 9);
  try {
    db.RunCommand(D(R"({"commitTransaction": 1})"));
    FAIL() << "commitTransaction outside admin succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), 13);  // Unauthorized: only on admin, as MongoDB answers
  }
}

TEST_F(RunCommandTest, CommandsJoinTheSessionsTransactionBesideTypedOperations) {
  Database db = client_->Db();
  const std::string name = coll_->name();
  ClientSession session = client_->StartSession();
  session.StartTransaction();
  coll_->InsertOne(D(R"({"_id": 1})"), {.session = &session});  // starts it
  Document insert = db.RunCommand(Document{{"insert", name}, {"documents", Array{D(R"({"_id": 2})")}}},
                                  {.session = &session});
  EXPECT_EQ(insert.Get("n").ToInt64(), 1);
  Document count = db.RunCommand(Document{{"aggregate", name},
                                          {"pipeline", Array{D(R"({"$count": "n"})")}},
                                          {"cursor", Document{}}},
                                 {.session = &session});
  EXPECT_EQ(count.GetDocument("cursor").Get("firstBatch").AsArray()[0].AsDocument().Get("n").ToInt64(), 2);
  EXPECT_EQ(coll_->CountDocuments(), 0);
  session.CommitTransaction();
  EXPECT_EQ(coll_->CountDocuments(), 2);
  // A transaction started by a command and continued by typed operations.
  session.StartTransaction();
  db.RunCommand(Document{{"delete", name}, {"deletes", Array{D(R"({"q": {"_id": 1}, "limit": 1})")}}},
                {.session = &session});
  EXPECT_EQ(coll_->CountDocuments({}, {.session = &session}), 1);
  session.AbortTransaction();
  EXPECT_EQ(coll_->CountDocuments(), 2);
}

}  // namespace
}  // namespace micromongo::run_command_test
