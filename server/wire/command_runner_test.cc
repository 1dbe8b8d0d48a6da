// CommandRunner over a real engine in a temporary directory: reply shapes and error codes
// as MongoDB's manual documents them for each command.

#include "wire/command_runner.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/escaping.h"
#include "document/json.h"
#include "document/builder.h"
#include "document/status.h"
#include "storage/retry_history.h"

namespace micromongo::wire {
namespace {

// (message_test.cc's Bson is another file's: a unity build puts both in one unit.)
std::string CommandBson(std::string_view json) {
  auto b = bson::JsonToBson(json);
  EXPECT_TRUE(b.ok()) << json;
  return b.ok() ? *b : std::string();
}

class CommandRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("wire-runner-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    engine_ = *storage::Engine::Open({.data_dir = dir_.string()});
    data_ = std::make_unique<service::DataOperations>(engine_.get(), &cursors_);
    admin_ = std::make_unique<service::AdminOperations>(engine_.get(), &cursors_);
    runner_ = std::make_unique<CommandRunner>(data_.get(), admin_.get());
  }
  void TearDown() override {
    runner_.reset();
    cursors_.Clear();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs `json` (with "$db": "d" added unless present) and returns the reply as BSON.
  std::string Run(std::string_view json, const std::vector<DocumentSequence>* sequences = nullptr) {
    std::string body = CommandBson(json);
    bson::ValueView unused;
    if (!bson::DocView(body).Find("$db", &unused)) {
      std::string with_db(json);
      with_db.insert(with_db.rfind('}'), R"(, "$db": "d")");
      body = CommandBson(with_db);
    }
    bodies_.push_back(body);
    return runner_->Run(Command(bson::DocView(bodies_.back()), sequences), &connection_);
  }

  static bson::ValueView Field(const std::string& reply, std::string_view path) {
    bson::DocView doc(reply);
    bson::ValueView v;
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      std::string_view key = path.substr(start, dot == std::string_view::npos ? path.npos : dot - start);
      if (!doc.Find(key, &v)) return bson::ValueView{BsonType::kUndefined, "", 0};
      if (dot == std::string_view::npos) return v;
      doc = v.Doc();
      start = dot + 1;
    }
  }
  // -1 when the field is missing or not a number (so a missing field never passes).
  static double Ok(const std::string& reply) {
    bson::ValueView v = Field(reply, "ok");
    return v.IsNumber() ? v.AsDouble() : -1;
  }
  static int Code(const std::string& reply) {
    bson::ValueView v = Field(reply, "code");
    return v.type == BsonType::kInt32 ? v.Int32() : -1;
  }
  // The bytes of a binary (or string) SASL payload.
  static std::string Payload(const std::string& reply, std::string_view path) {
    bson::ValueView v = Field(reply, path);
    if (v.type == BsonType::kString) return std::string(v.String());
    if (v.type != BsonType::kBinary) return "<no payload>";
    return std::string(v.data + 5, static_cast<size_t>(bson::ReadInt32(v.data)));
  }
  static std::string Json(const std::string& reply) { return bson::BsonToJson(reply); }

  std::filesystem::path dir_;
  service::CursorManager cursors_{std::chrono::minutes(10)};
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<service::DataOperations> data_;
  std::unique_ptr<service::AdminOperations> admin_;
  std::unique_ptr<CommandRunner> runner_;
  ConnectionInfo connection_{.id = 42, .peer = "127.0.0.1:5555"};
  std::vector<std::string> bodies_;
};

TEST_F(CommandRunnerTest, HelloAsTheManualDescribesIt) {
  std::string r = Run(R"({"hello": 1, "helloOk": true})");
  EXPECT_EQ(Ok(r), 1) << Json(r);
  EXPECT_TRUE(Field(r, "isWritablePrimary").Bool());
  EXPECT_TRUE(Field(r, "helloOk").Bool());
  EXPECT_EQ(Field(r, "maxBsonObjectSize").Int32(), 16 * 1024 * 1024);
  EXPECT_EQ(Field(r, "maxMessageSizeBytes").Int32(), 48000000);
  EXPECT_EQ(Field(r, "maxWriteBatchSize").Int32(), 100000);
  EXPECT_EQ(Field(r, "localTime").type, BsonType::kDate);
  EXPECT_EQ(Field(r, "logicalSessionTimeoutMinutes").Int32(), 30);
  EXPECT_EQ(Field(r, "connectionId").Int64(), 42);
  EXPECT_EQ(Field(r, "minWireVersion").Int32(), 0);
  EXPECT_EQ(Field(r, "maxWireVersion").Int32(), 25);
  EXPECT_EQ(Field(r, "ismaster").type, BsonType::kUndefined);
  // isMaster answers with the legacy field name; no helloOk unless asked.
  std::string legacy = Run(R"({"isMaster": 1})");
  EXPECT_TRUE(Field(legacy, "ismaster").Bool());
  EXPECT_EQ(Field(legacy, "helloOk").type, BsonType::kUndefined);
}

TEST_F(CommandRunnerTest, LegacyOpQueryServesOnlyTheHandshake) {
  std::string q = CommandBson(R"({"isMaster": 1, "helloOk": true})");
  std::string r = runner_->RunLegacy(bson::DocView(q), &connection_);
  EXPECT_EQ(Ok(r), 1);
  EXPECT_TRUE(Field(r, "ismaster").Bool());
  EXPECT_TRUE(Field(r, "helloOk").Bool());
  std::string find = CommandBson(R"({"find": "c"})");
  std::string refused = runner_->RunLegacy(bson::DocView(find), &connection_);
  EXPECT_EQ(Ok(refused), 0);
  EXPECT_EQ(Code(refused), 352);
  EXPECT_EQ(Field(refused, "codeName").String(), "UnsupportedOpQueryCommand");
}

TEST_F(CommandRunnerTest, ErrorsHaveMongoDbsCodesAndShape) {
  struct Case {
    std::string command;
    int code;
    std::string errmsg;  // empty: not checked
  };
  std::vector<Case> cases = {
      {R"({"noSuchCommand": 1})", 59, "no such command: 'noSuchCommand'"},
      {R"({"ping": 1, "$db": 5})", 14, ""},
      {R"({"find": "c", "filter": 1})", 14,
       "BSON field 'find.filter' is the wrong type 'int', expected type 'object'"},
      {R"({"find": "c", "bogus": 1})", 40415, "BSON field 'find.bogus' is an unknown field."},
      {R"({"find": 5})", 73, ""},
      {R"({"find": "c", "limit": -1})", 51024, ""},
      {R"({"insert": "c", "documents": []})", 16, ""},
      {R"({"insert": "c", "documents": [1]})", 14, ""},
      {R"({"delete": "c", "deletes": [{"q": {}, "limit": 2}]})", 9,
       "The limit field in delete objects must be 0 or 1. Got 2"},
      {R"({"update": "c", "updates": [{"q": {}}]})", 4, ""},
      {R"({"aggregate": "c", "pipeline": []})", 9, ""},
      {R"({"getMore": 5, "collection": "c"})", 14, ""},
      {R"({"getMore": {"$numberLong": "12345"}, "collection": "c"})", 43, ""},
      {R"({"insert": "c", "documents": [{}], "txnNumber": {"$numberLong": "1"}})", 20, ""},
      {R"({"find": "c", "filter": {"$bogus": 1}})", 2, ""},
  };
  for (const Case& c : cases) {
    std::string r = Run(c.command);
    EXPECT_EQ(Ok(r), 0) << c.command;
    EXPECT_EQ(Code(r), c.code) << c.command << " -> " << Json(r);
    EXPECT_EQ(Field(r, "codeName").String(), ErrorCodeName(c.code)) << c.command;
    if (!c.errmsg.empty()) {
      EXPECT_EQ(Field(r, "errmsg").String(), c.errmsg) << c.command;
    }
  }
  // Messages quoting what the client sent stay valid UTF-8 (the reply must be valid BSON).
  std::vector<DocumentSequence> odd(1);
  odd[0].identifier = "docum\xd5nts";
  std::string odd_reply = Run(R"({"insert": "c"})", &odd);
  EXPECT_EQ(Code(odd_reply), 40415);
  EXPECT_TRUE(bson::Validate(odd_reply).ok()) << Field(odd_reply, "errmsg").String();
  // OP_MSG requires $db.
  std::string body = CommandBson(R"({"ping": 1})");
  std::string r = runner_->Run(Command(bson::DocView(body), nullptr), &connection_);
  EXPECT_EQ(Code(r), 40571);
}

// A worker started with --replSet: hello names the set, replies carry the cluster time,
// and sessions hold transactions and retryable writes.
class ReplicaSetRunnerTest : public CommandRunnerTest {
 protected:
  void SetUp() override {
    CommandRunnerTest::SetUp();
    runner_->EnableReplicaSet("rs0");
    connection_.local = "127.0.0.1:27017";
  }
  // A worker restarted over the same data: a new session catalog (kept in restarts_, which
  // the runner points to) and runner.
  void Restart() {
    service::SessionCatalog* restarted = restarts_.emplace_back(std::make_unique<service::SessionCatalog>()).get();
    restarted->SetHistory(engine_.get());
    runner_ = std::make_unique<CommandRunner>(data_.get(), admin_.get());
    runner_->EnableReplicaSet("rs0", restarted);
  }
  // `command` as retryable write `txn` of session 1.
  std::string RetryInSession1(std::string command, int64_t txn) {
    command.insert(command.rfind('}'), StrCat(R"(, "txnNumber": {"$numberLong": ")", txn, R"("})"));
    return InSession(1, command);
  }
  void TearDown() override {
    runner_.reset();  // before the catalogs it points to
    restarts_.clear();
    CommandRunnerTest::TearDown();
  }
  std::vector<std::unique_ptr<service::SessionCatalog>> restarts_;

  // `json` in session `lsid` (a one-byte UUID stand-in is enough: the id's bytes name it).
  std::string InSession(int lsid, std::string json) {
    std::string session = StrCat(R"("lsid": {"id": {"$binary": {"base64": ")",
                                 lsid == 1 ? "AQ==" : "Ag==", R"(", "subType": "04"}}})");
    json.insert(json.rfind('}'), ", " + session);
    return Run(json);
  }
  static std::string Txn(int n, std::string_view extra = "") {
    return StrCat(R"("txnNumber": {"$numberLong": ")", n, R"("}, "autocommit": false)", extra);
  }
  static bool Labelled(const std::string& reply) {
    bson::ValueView labels = Field(reply, "errorLabels");
    if (labels.type != BsonType::kArray) return false;
    for (const bson::ElementView& e : labels.Doc()) {
      if (e.value.type == BsonType::kString && e.value.String() == "TransientTransactionError") return true;
    }
    return false;
  }
};

TEST_F(ReplicaSetRunnerTest, HelloDescribesTheSet) {
  std::string r = Run(R"({"hello": 1})");
  EXPECT_EQ(Field(r, "setName").String(), "rs0") << Json(r);
  EXPECT_TRUE(Field(r, "isWritablePrimary").Bool());
  EXPECT_FALSE(Field(r, "secondary").Bool());
  EXPECT_EQ(Field(r, "hosts.0").String(), "127.0.0.1:27017");
  EXPECT_EQ(Field(r, "me").String(), "127.0.0.1:27017");
  EXPECT_EQ(Field(r, "primary").String(), "127.0.0.1:27017");
  EXPECT_EQ(Field(r, "setVersion").Int32(), 1);
  EXPECT_EQ(Field(r, "electionId").type, BsonType::kObjectId);
  EXPECT_EQ(Field(r, "$clusterTime.clusterTime").type, BsonType::kTimestamp);
  EXPECT_EQ(Field(r, "operationTime").type, BsonType::kTimestamp);
  // Errors carry it too.
  EXPECT_EQ(Field(Run(R"({"noSuchCommand": 1})"), "operationTime").type, BsonType::kTimestamp);
}

TEST_F(ReplicaSetRunnerTest, StatusAndConfigOfTheOneMember) {
  std::string status = Run(R"({"replSetGetStatus": 1, "$db": "admin"})");
  EXPECT_EQ(Field(status, "set").String(), "rs0") << Json(status);
  EXPECT_EQ(Field(status, "myState").Int32(), 1);
  EXPECT_EQ(Field(status, "members.0.stateStr").String(), "PRIMARY");
  EXPECT_EQ(Field(status, "members.0.name").String(), "127.0.0.1:27017");
  EXPECT_TRUE(Field(status, "members.0.self").Bool());
  std::string config = Run(R"({"replSetGetConfig": 1, "$db": "admin"})");
  EXPECT_EQ(Field(config, "config._id").String(), "rs0") << Json(config);
  EXPECT_EQ(Field(config, "config.members.0.host").String(), "127.0.0.1:27017");
  EXPECT_EQ(Field(config, "config.members.0.votes").Int32(), 1);
}

TEST_F(ReplicaSetRunnerTest, SeedFormNamesTheMember) {
  runner_->EnableReplicaSet("prod/db.example.com:27017");
  std::string r = Run(R"({"hello": 1})");
  EXPECT_EQ(Field(r, "setName").String(), "prod") << Json(r);
  EXPECT_EQ(Field(r, "me").String(), "db.example.com:27017");
  EXPECT_EQ(Field(r, "hosts.0").String(), "db.example.com:27017");
}

TEST_F(ReplicaSetRunnerTest, FailCommandFailPoint) {
  // Off unless test commands are enabled, as in mongod.
  EXPECT_EQ(Code(Run(R"({"configureFailPoint": "failCommand", "mode": "alwaysOn", "$db": "admin"})")), 59);
  runner_->EnableTestCommands();
  EXPECT_EQ(Code(Run(R"({"configureFailPoint": "noSuchPoint", "mode": "alwaysOn", "$db": "admin"})")), 2);
  ASSERT_EQ(Ok(Run(R"({"configureFailPoint": "failCommand", "mode": {"times": 2},
                       "data": {"failCommands": ["insert"], "errorCode": 10107}, "$db": "admin"})")),
            1);
  // Twice, then the inserts go through; other commands are not touched.
  EXPECT_EQ(Ok(Run(R"({"find": "c"})")), 1);
  std::string first = InSession(1, R"({"insert": "c", "documents": [{"_id": 1}], "txnNumber": {"$numberLong": "1"}})");
  EXPECT_EQ(Code(first), 10107) << Json(first);
  // A retryable write's retriable error carries RetryableWriteError.
  EXPECT_EQ(Field(first, "errorLabels.0").String(), "RetryableWriteError") << Json(first);
  EXPECT_EQ(Code(Run(R"({"insert": "c", "documents": [{"_id": 1}]})")), 10107);
  EXPECT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1}]})")), 1);
  // Labels given replace the server's; a write concern error is attached to a success;
  // closeConnection closes without a reply.
  ASSERT_EQ(Ok(Run(R"({"configureFailPoint": "failCommand", "mode": "alwaysOn",
                       "data": {"failCommands": ["ping"], "errorCode": 91, "errorLabels": ["Mine"]}, "$db": "admin"})")),
            1);
  std::string ping = Run(R"({"ping": 1})");
  EXPECT_EQ(Code(ping), 91);
  EXPECT_EQ(Field(ping, "errorLabels.0").String(), "Mine") << Json(ping);
  ASSERT_EQ(Ok(Run(R"({"configureFailPoint": "failCommand", "mode": "alwaysOn",
                       "data": {"failCommands": ["insert"], "writeConcernError": {"code": 91, "errmsg": "x"}},
                       "$db": "admin"})")),
            1);
  std::string wce = Run(R"({"insert": "c", "documents": [{"_id": 2}]})");
  EXPECT_EQ(Ok(wce), 1);
  EXPECT_EQ(Field(wce, "writeConcernError.code").Int32(), 91) << Json(wce);
  ASSERT_EQ(Ok(Run(R"({"configureFailPoint": "failCommand", "mode": {"times": 1},
                       "data": {"failCommands": ["find"], "closeConnection": true}, "$db": "admin"})")),
            1);
  Run(R"({"find": "c"})");
  EXPECT_TRUE(connection_.close);
  connection_.close = false;
  ASSERT_EQ(Ok(Run(R"({"configureFailPoint": "failCommand", "mode": "off", "$db": "admin"})")), 1);
  EXPECT_EQ(Ok(Run(R"({"ping": 1})")), 1);
}

// A transaction's change events carry its lsid: the id the driver sent and, as uid, the
// SHA-256 of the user, here of "" (no login; the hash of the empty string), the same for
// every command of the connection.
TEST_F(ReplicaSetRunnerTest, TransactionEventsCarryTheSessionUidOfTheUser) {
  ASSERT_EQ(Ok(Run(R"({"create": "c"})")), 1);
  std::string opened = Run(R"({"aggregate": "c", "pipeline": [{"$changeStream": {}}], "cursor": {}})");
  ASSERT_EQ(Ok(opened), 1) << Json(opened);
  int64_t id = Field(opened, "cursor.id").Int64();
  for (int txn = 1; txn <= 2; ++txn) {
    std::string fields = StrCat(R"("lsid": {"id": {"$binary": {"base64": "AQ==", "subType": "04"}}}, )", Txn(txn));
    ASSERT_EQ(Ok(Run(StrCat(R"({"insert": "c", "documents": [{"_id": )", txn, "}], ", fields,
                            R"(, "startTransaction": true})"))),
              1);
    ASSERT_EQ(Ok(Run(StrCat(R"({"commitTransaction": 1, "$db": "admin", )", fields, "}"))), 1);
    std::string events =
        Run(StrCat(R"({"getMore": {"$numberLong": ")", id, R"("}, "collection": "c", "maxTimeMS": 2000})"));
    ASSERT_EQ(Ok(events), 1) << Json(events);
    bson::ValueView uid = Field(events, "cursor.nextBatch.0.lsid.uid");
    ASSERT_EQ(uid.type, BsonType::kBinary) << Json(events);
    EXPECT_EQ(absl::BytesToHexString(absl::string_view(uid.data + 5, bson::ReadInt32(uid.data))),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }
}

TEST_F(ReplicaSetRunnerTest, TransactionStatesAndTheirErrors) {
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1}]})")), 1);
  struct Step {
    int session;
    std::string command;
    int code;  // 0: ok
    bool transient = false;
  };
  std::vector<Step> steps = {
      {1, R"({"insert": "c", "documents": [{"_id": 2}], )" + Txn(1, R"(, "startTransaction": true)") + "}", 0},
      {1, R"({"find": "c", )" + Txn(1) + "}", 0},
      // Another session writing the same document: the first writer wins.
      {2, R"({"update": "c", "updates": [{"q": {"_id": 2}, "u": {"x": 1}, "upsert": true}], )" +
              Txn(1, R"(, "startTransaction": true)") + "}",
       112, true},
      // ...which ended that transaction.
      {2, R"({"find": "c", )" + Txn(1) + "}", 251, true},
      {1, R"({"count": "c", )" + Txn(1) + "}", 263},  // not in a transaction; aborts it
      {1, R"({"commitTransaction": 1, "$db": "admin", )" + Txn(1) + "}", 251, true},
      {1, R"({"insert": "c", "documents": [{"_id": 3}], )" + Txn(2, R"(, "startTransaction": true)") + "}", 0},
      {1, R"({"find": "c", )" + Txn(1) + "}", 225},
      {1, R"({"find": "c", )" + Txn(3) + "}", 251, true},
      {1, R"({"commitTransaction": 1, )" + Txn(2) + "}", 13},  // not on admin
      {1, R"({"commitTransaction": 1, "$db": "admin", )" + Txn(2) + "}", 0},
      {1, R"({"commitTransaction": 1, "$db": "admin", )" + Txn(2) + "}", 0},  // a retried commit
      {1, R"({"abortTransaction": 1, "$db": "admin", )" + Txn(2) + "}", 256},
      {1, R"({"insert": "c", "documents": [{"_id": 4}], )" + Txn(2) + "}", 256},
      // Malformed transaction fields.
      {1, R"({"find": "c", "autocommit": true, "txnNumber": {"$numberLong": "9"}})", 72},
      {1, R"({"find": "c", "autocommit": false})", 72},
      {1, R"({"find": "c", "startTransaction": true, "txnNumber": {"$numberLong": "9"}})", 72},
      // txnNumber without autocommit is a retryable write, and only writes are.
      {1, R"({"find": "c", "txnNumber": {"$numberLong": "9"}})", 50768},
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& step = steps[i];
    std::string r = InSession(step.session, step.command);
    if (step.code == 0) {
      EXPECT_EQ(Ok(r), 1) << i << ": " << step.command << " -> " << Json(r);
    } else {
      EXPECT_EQ(Code(r), step.code) << i << ": " << step.command << " -> " << Json(r);
      EXPECT_EQ(Labelled(r), step.transient) << i << ": " << Json(r);
    }
  }
  // txnNumber with no session at all.
  EXPECT_EQ(Code(Run(R"({"insert": "c", "documents": [{}], "txnNumber": {"$numberLong": "1"}})")), 72);
  // What committed: 1 and 3; transaction 1's insert of 2 was aborted.
  std::string all = Run(R"({"find": "c", "sort": {"_id": 1}})");
  EXPECT_EQ(Field(all, "cursor.firstBatch.0._id").Int32(), 1) << Json(all);
  EXPECT_EQ(Field(all, "cursor.firstBatch.1._id").Int32(), 3) << Json(all);
  EXPECT_EQ(Field(all, "cursor.firstBatch.2._id").type, BsonType::kUndefined) << Json(all);
}

TEST_F(ReplicaSetRunnerTest, RetryableWritesRunOnce) {
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1, "n": 0}]})")), 1);
  std::string inc = R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}], )"
                    R"("txnNumber": {"$numberLong": "5"}})";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Field(InSession(1, inc), "nModified").Int32(), 1);
  std::string doc = Run(R"({"find": "c"})");
  EXPECT_EQ(Field(doc, "cursor.firstBatch.0.n").Int32(), 1) << Json(doc);
  // The same number in another session is another write.
  EXPECT_EQ(Field(InSession(2, inc), "nModified").Int32(), 1);
  doc = Run(R"({"find": "c"})");
  EXPECT_EQ(Field(doc, "cursor.firstBatch.0.n").Int32(), 2) << Json(doc);
  // w greater than the set's one member: the write happens, the reply says it is not
  // acknowledged as asked.
  std::string w2 = Run(R"({"insert": "c", "documents": [{"_id": 2}], "writeConcern": {"w": 2}})");
  EXPECT_EQ(Ok(w2), 1);
  EXPECT_EQ(Field(w2, "writeConcernError.code").Int32(), 100) << Json(w2);
  EXPECT_EQ(Field(w2, "n").Int32(), 1);
}

// The history of retryable writes is stored with the data: a worker restarted (a new
// session catalog and runner over the same engine) answers a retried $inc from it instead
// of applying it again, and refuses a number older than the session's last.
TEST_F(ReplicaSetRunnerTest, RetryableWritesRunOnceAcrossARestart) {
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1, "n": 0}]})")), 1);
  std::string inc = R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}], )"
                    R"("txnNumber": {"$numberLong": "8"}})";
  service::SessionCatalog before;
  before.SetHistory(engine_.get());
  runner_->EnableReplicaSet("rs0", &before);
  std::string first = InSession(1, inc);
  EXPECT_EQ(Field(first, "nModified").Int32(), 1) << Json(first);

  service::SessionCatalog after;
  after.SetHistory(engine_.get());
  runner_ = std::make_unique<CommandRunner>(data_.get(), admin_.get());
  runner_->EnableReplicaSet("rs0", &after);
  std::string retried = InSession(1, inc);
  EXPECT_EQ(Field(retried, "nModified").Int32(), 1) << Json(retried);
  EXPECT_EQ(Field(retried, "n").Int32(), 1);
  std::string doc = Run(R"({"find": "c"})");
  EXPECT_EQ(Field(doc, "cursor.firstBatch.0.n").Int32(), 1) << Json(doc);
  std::string older = R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}], )"
                      R"("txnNumber": {"$numberLong": "7"}})";
  EXPECT_EQ(Code(InSession(1, older)), 225);
  runner_.reset();  // before the catalogs it points to
}

// A retried write whose first run committed but whose reply record was lost (the worker
// stopped in between) is answered from what its commit changed when that determines the
// reply, as MongoDB answers from its oplog, and refused with 217 otherwise: never run twice.
TEST_F(ReplicaSetRunnerTest, ARetryWhoseReplyWasLostIsAnsweredFromItsCommit) {
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1, "n": 0}, {"_id": 2}, {"_id": 3}]})")), 1);
  const std::string lsid("\x01\0\0\0\x04\x01", 6);  // lsid.id of InSession(1, ...)
  struct Case {
    std::string command;
    std::string expected;  // the reply's fields, or "" for 217
  };
  std::vector<Case> cases = {
      {R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}]})", R"({"n": 1, "nModified": 1})"},
      {R"({"update": "c", "updates": [{"q": {"_id": 7}, "u": {"$set": {"n": 1}}, "upsert": true}]})",
       R"({"n": 1, "nModified": 0, "upserted": [{"index": 0, "_id": 7}]})"},
      {R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"n": 5}}]})", R"({"n": 1, "nModified": 1})"},
      {R"({"delete": "c", "deletes": [{"q": {"_id": 2}, "limit": 1}]})", R"({"n": 1})"},
      {R"({"insert": "c", "documents": [{"_id": 10}, {"_id": 11}]})", R"({"n": 2})"},
      // findAndModify's document is kept with its commit: the value returned is the first
      // run's, projected as it was.
      {R"({"findAndModify": "c", "query": {"_id": 1}, "update": {"$inc": {"n": 1}}, "new": true,
           "fields": {"_id": 0}})",
       R"({"lastErrorObject": {"n": 1, "updatedExisting": true}, "value": {"n": 6}})"},
      {R"({"findAndModify": "c", "query": {"_id": 1}, "update": {"$inc": {"n": 1}}})",
       R"({"lastErrorObject": {"n": 1, "updatedExisting": true}, "value": {"_id": 1, "n": 6}})"},
      {R"({"findAndModify": "c", "query": {"_id": 10}, "remove": true})",
       R"({"lastErrorObject": {"n": 1}, "value": {"_id": 10}})"},
      {R"({"findAndModify": "c", "query": {"_id": 20}, "update": {"$set": {"n": 1}}, "upsert": true})",
       R"({"lastErrorObject": {"n": 1, "updatedExisting": false, "upserted": 20}, "value": null})"},
      {R"({"findAndModify": "c", "query": {"_id": 21}, "update": {"$set": {"n": 1}}, "upsert": true, "new": true})",
       R"({"lastErrorObject": {"n": 1, "updatedExisting": false, "upserted": 21}, "value": {"_id": 21, "n": 1}})"},
      // Several statements: each one's changes are recorded as its own (MongoDB's stmtId).
      {R"({"update": "c", "updates": [{"q": {"_id": 3}, "u": {"$set": {"a": 1}}}, {"q": {"_id": 3}, "u": {"$set": {"b": 1}}}]})",
       R"({"n": 2, "nModified": 2})"},
      {R"({"update": "c", "updates": [{"q": {"_id": 3}, "u": {"$inc": {"k": 1}}}, {"q": {"_id": 30}, "u": {"$set": {"k": 1}}, "upsert": true}]})",
       R"({"n": 2, "nModified": 1, "upserted": [{"index": 1, "_id": 30}]})"},
      {R"({"delete": "c", "deletes": [{"q": {"_id": 30}, "limit": 1}, {"q": {"_id": 31}, "limit": 1}, {"q": {"_id": 3}, "limit": 1}]})",
       R"({"n": 2})"},
      // A duplicate key stopped the ordered insert at its second document: the retry runs
      // that statement again (it fails again) and not the first.
      {R"({"insert": "c", "documents": [{"_id": 40}, {"_id": 1}, {"_id": 41}]})",
       R"({"n": 1, "writeErrors": [{"index": 1, "code": 11000}]})"},
  };
  int64_t txn = 20;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.command);
    ++txn;
    std::string name = c.command.substr(2, c.command.find('"', 2) - 2);
    {
      // The first run: its commits carry the record; the worker stops before its reply's.
      storage::RetryScope first_run(lsid, txn, "wire:" + name);
      ASSERT_EQ(Ok(Run(c.command)), 1);
    }
    std::string state = Run(R"({"find": "c", "sort": {"_id": 1}})");
    Restart();
    std::string retried = RetryInSession1(c.command, txn);
    if (c.expected.empty()) {
      EXPECT_EQ(Code(retried), 217) << Json(retried);
    } else {
      ASSERT_EQ(Ok(retried), 1) << Json(retried);
      std::string expected = CommandBson(c.expected);
      for (const bson::ElementView& e : bson::DocView(expected)) {
        bson::Builder got, want;
        if (e.key == "writeErrors") {  // index and code (the message names the key)
          got.AppendInt32("index", Field(retried, "writeErrors.0.index").Int32());
          got.AppendInt32("code", Field(retried, "writeErrors.0.code").Int32());
          bson::DocView first = e.value.Doc().begin()->value.Doc();
          EXPECT_EQ(Json(std::move(got).Finish()), Json(std::string(first.data(), first.size())));
          continue;
        }
        got.AppendView("v", Field(retried, std::string(e.key)));
        want.AppendView("v", e.value);
        EXPECT_EQ(Json(std::move(got).Finish()), Json(std::move(want).Finish())) << e.key << " in " << Json(retried);
      }
    }
    // Nothing ran twice.
    EXPECT_EQ(Run(R"({"find": "c", "sort": {"_id": 1}})"), state);
  }
}

// A batch cut by a stop after some of its statements (here: the first run was only the
// batch's first statements) is resumed by its retry as MongoDB resumes one from its
// oplog: the statements done are answered, the rest run, each exactly once.
TEST_F(ReplicaSetRunnerTest, ARetryOfACutBatchRunsOnlyTheStatementsNotDone) {
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1, "n": 0}, {"_id": 2, "n": 0}, {"_id": 3, "n": 0}]})")), 1);
  const std::string lsid("\x01\0\0\0\x04\x01", 6);  // lsid.id of InSession(1, ...)
  struct Case {
    std::string done;     // the statements the first run committed
    std::string command;  // the whole batch, retried
    std::string expected;  // the retry's n (and nModified)
    std::string after;     // the collection afterwards
  };
  std::vector<Case> cases = {
      {R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}]})",
       R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}, {"q": {"_id": 2}, "u": {"$inc": {"n": 1}}},
           {"q": {"_id": 3}, "u": {"$inc": {"n": 1}}}]})",
       R"({"n": 3, "nModified": 3})", R"([{"_id": 1, "n": 1}, {"_id": 2, "n": 1}, {"_id": 3, "n": 1}])"},
      {R"({"insert": "c", "documents": [{"_id": 4}, {"_id": 5}]})",
       R"({"insert": "c", "documents": [{"_id": 4}, {"_id": 5}, {"_id": 6}, {"_id": 7}]})", R"({"n": 4})",
       R"([{"_id": 1, "n": 1}, {"_id": 2, "n": 1}, {"_id": 3, "n": 1}, {"_id": 4}, {"_id": 5}, {"_id": 6}, {"_id": 7}])"},
      {R"({"delete": "c", "deletes": [{"q": {"_id": 4}, "limit": 1}]})",
       R"({"delete": "c", "deletes": [{"q": {"_id": 4}, "limit": 1}, {"q": {"_id": 5}, "limit": 1}]})", R"({"n": 2})",
       R"([{"_id": 1, "n": 1}, {"_id": 2, "n": 1}, {"_id": 3, "n": 1}, {"_id": 6}, {"_id": 7}])"},
      // MongoDB 8.0's bulkWrite: op i is statement i.
      {R"({"bulkWrite": 1, "ops": [{"insert": 0, "document": {"_id": 8}}, {"update": 0, "filter": {"_id": 1},
           "updateMods": {"$inc": {"n": 1}}}], "nsInfo": [{"ns": "d.c"}], "$db": "admin"})",
       R"({"bulkWrite": 1, "ops": [{"insert": 0, "document": {"_id": 8}}, {"update": 0, "filter": {"_id": 1},
           "updateMods": {"$inc": {"n": 1}}}, {"delete": 0, "filter": {"_id": 6}}, {"update": 0, "filter": {"_id": 2},
           "updateMods": {"$inc": {"n": 1}}}], "nsInfo": [{"ns": "d.c"}], "$db": "admin"})",
       R"({"nErrors": 0, "nInserted": 1, "nMatched": 2, "nModified": 2, "nDeleted": 1})",
       R"([{"_id": 1, "n": 2}, {"_id": 2, "n": 2}, {"_id": 3, "n": 1}, {"_id": 7}, {"_id": 8}])"},
  };
  int64_t txn = 50;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.command);
    ++txn;
    std::string name = c.command.substr(2, c.command.find('"', 2) - 2);
    {
      storage::RetryScope first_run(lsid, txn, "wire:" + name);
      ASSERT_EQ(Ok(Run(c.done)), 1);
    }
    Restart();
    std::string retried = RetryInSession1(c.command, txn);
    ASSERT_EQ(Ok(retried), 1) << Json(retried);
    EXPECT_EQ(Field(retried, "writeErrors").type, BsonType::kUndefined) << Json(retried);
    const std::string expected = CommandBson(c.expected);
    for (const bson::ElementView& e : bson::DocView(expected)) {
      EXPECT_EQ(Field(retried, std::string(e.key)).Int32(), e.value.Int32()) << e.key << " in " << Json(retried);
    }
    std::string docs = Run(R"({"find": "c", "sort": {"_id": 1}})");
    bson::ValueView batch = Field(docs, "cursor.firstBatch");
    std::string after = CommandBson(StrCat(R"({"a": )", c.after, "}"));
    bson::ValueView want = Field(after, "a");
    EXPECT_EQ(Json(std::string(batch.Doc().data(), batch.Doc().size())),
              Json(std::string(want.Doc().data(), want.Doc().size())));
    // Retried once more, the reply is the one the resumed run kept.
    EXPECT_EQ(Json(RetryInSession1(c.command, txn)), Json(retried));
    EXPECT_EQ(Run(R"({"find": "c", "sort": {"_id": 1}})"), docs);
  }
}

// A bulkWrite across databases keeps each op's entry where it committed: its retry merges
// the records of every database it names.
TEST_F(ReplicaSetRunnerTest, ACutBulkWriteAcrossDatabasesResumes) {
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1, "n": 0}, {"_id": 2, "n": 0}]})")), 1);
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1, "n": 0}], "$db": "e"})")), 1);
  const std::string lsid("\x01\0\0\0\x04\x01", 6);  // lsid.id of InSession(1, ...)
  const std::string inc_d1 = R"({"update": 0, "filter": {"_id": 1}, "updateMods": {"$inc": {"n": 1}}})";
  const std::string inc_e1 = R"({"update": 1, "filter": {"_id": 1}, "updateMods": {"$inc": {"n": 1}}})";
  const std::string inc_d2 = R"({"update": 0, "filter": {"_id": 2}, "updateMods": {"$inc": {"n": 1}}})";
  auto bulk = [](const std::string& ops) {
    return StrCat(R"({"bulkWrite": 1, "ops": [)", ops, R"(], "nsInfo": [{"ns": "d.c"}, {"ns": "e.c"}], "$db": "admin"})");
  };
  // The first run: ops 0 and 1 in d, 2 in e, 3 in d again (d's record then lacks op 2's
  // entry, e's lacks op 3's); the stop came before op 4.
  const std::string done = StrCat(inc_d1, ", ", inc_d2, ", ", inc_e1, ", ", inc_d2);
  {
    storage::RetryScope first_run(lsid, 9, "wire:bulkWrite");
    ASSERT_EQ(Ok(Run(bulk(done))), 1);
  }
  Restart();
  std::string retried = RetryInSession1(bulk(StrCat(done, ", ", inc_d1)), 9);
  ASSERT_EQ(Ok(retried), 1) << Json(retried);
  EXPECT_EQ(Field(retried, "nErrors").Int32(), 0) << Json(retried);
  EXPECT_EQ(Field(retried, "nModified").Int32(), 5) << Json(retried);
  std::string d = Run(R"({"find": "c", "sort": {"_id": 1}})");
  std::string e = Run(R"({"find": "c", "$db": "e"})");
  EXPECT_EQ(Field(d, "cursor.firstBatch.0.n").Int32(), 2) << Json(d);
  EXPECT_EQ(Field(d, "cursor.firstBatch.1.n").Int32(), 2) << Json(d);
  EXPECT_EQ(Field(e, "cursor.firstBatch.0.n").Int32(), 1) << Json(e);
}

// In a retryable write MongoDB refuses multi: true updates and limit: 0 deletes statement by
// statement (72 InvalidOptions); the batch's other statements run. In a transaction, and
// without a txnNumber, they run.
TEST_F(ReplicaSetRunnerTest, RetryableWritesRefuseMultiDocumentStatements) {
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1, "x": 1}, {"_id": 2, "x": 2}, {"_id": 3, "x": 2}]})")), 1);
  service::SessionCatalog sessions;
  runner_->EnableReplicaSet("rs0", &sessions);
  std::string update = InSession(1, R"({"update": "c", "updates": [{"q": {"x": 1}, "u": {"$set": {"y": 1}}},
      {"q": {"x": 2}, "u": {"$set": {"z": 1}}, "multi": true}], "ordered": true, "txnNumber": {"$numberLong": "1"}})");
  EXPECT_EQ(Field(update, "n").Int32(), 1) << Json(update);
  EXPECT_EQ(Field(update, "writeErrors.0.index").Int32(), 1) << Json(update);
  EXPECT_EQ(Field(update, "writeErrors.0.code").Int32(), 72);
  EXPECT_EQ(Field(update, "writeErrors.0.errmsg").String(), "Cannot use (or request) retryable writes with multi=true");
  std::string del = InSession(1, R"({"delete": "c", "deletes": [{"q": {"_id": 1}, "limit": 1},
      {"q": {"x": 2}, "limit": 0}], "ordered": false, "txnNumber": {"$numberLong": "2"}})");
  EXPECT_EQ(Field(del, "n").Int32(), 1) << Json(del);
  EXPECT_EQ(Field(del, "writeErrors.0.index").Int32(), 1) << Json(del);
  EXPECT_EQ(Field(del, "writeErrors.0.code").Int32(), 72);
  EXPECT_EQ(Field(del, "writeErrors.0.errmsg").String(), "Cannot use (or request) retryable writes with limit=0");
  // Without a txnNumber the same statements run.
  std::string plain = InSession(1, R"({"delete": "c", "deletes": [{"q": {"x": 2}, "limit": 0}]})");
  EXPECT_EQ(Field(plain, "n").Int32(), 2) << Json(plain);
  runner_.reset();
}

TEST_F(ReplicaSetRunnerTest, SnapshotReadsOutsideTransactions) {
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1}]})")), 1);
  std::string first = Run(R"({"find": "c", "readConcern": {"level": "snapshot"}})");
  bson::ValueView at = Field(first, "cursor.atClusterTime");
  ASSERT_EQ(at.type, BsonType::kTimestamp) << Json(first);
  uint64_t ts = static_cast<uint64_t>(at.Int64());
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 2}]})")), 1);
  std::string again = Run(StrCat(R"({"find": "c", "readConcern": {"level": "snapshot", "atClusterTime": )",
                                 R"({"$timestamp": {"t": )", ts >> 32, R"(, "i": )", ts & 0xffffffff, "}}}}"));
  EXPECT_EQ(Field(again, "cursor.firstBatch.0._id").Int32(), 1) << Json(again);
  EXPECT_EQ(Field(again, "cursor.firstBatch.1._id").type, BsonType::kUndefined) << Json(again);
  std::string distinct = Run(StrCat(R"({"distinct": "c", "key": "_id", "readConcern": {"level": "snapshot", )",
                                    R"("atClusterTime": {"$timestamp": {"t": )", ts >> 32, R"(, "i": )",
                                    ts & 0xffffffff, "}}}}"));
  EXPECT_EQ(Field(distinct, "values.1").type, BsonType::kUndefined) << Json(distinct);
  EXPECT_EQ(Field(distinct, "atClusterTime").type, BsonType::kTimestamp) << Json(distinct);
  struct Case {
    std::string command;
    int code;
  };
  std::vector<Case> cases = {
      {R"({"insert": "c", "documents": [{}], "readConcern": {"level": "snapshot"}})", 72},
      {R"({"listCollections": 1, "readConcern": {"level": "snapshot"}})", 72},
      // Pipelines that write cannot read at a snapshot.
      {R"({"aggregate": "c", "pipeline": [{"$out": "o"}], "cursor": {}, "readConcern": {"level": "snapshot"}})", 72},
      {R"({"aggregate": "c", "pipeline": [{"$merge": {"into": "o"}}], "cursor": {},
           "readConcern": {"level": "snapshot"}})",
       72},
      {R"({"find": "c", "readConcern": {"level": "snapshot", "atClusterTime": {"$timestamp": {"t": 1, "i": 1}}}})",
       239},
      {R"({"find": "c", "readConcern": {"level": "snapshot", "atClusterTime": 5}})", 14},
  };
  for (const Case& c : cases) EXPECT_EQ(Code(Run(c.command)), c.code) << c.command;
}

TEST_F(CommandRunnerTest, SnapshotReadsNeedAReplicaSet) {
  EXPECT_EQ(Code(Run(R"({"find": "c", "readConcern": {"level": "snapshot"}})")), 123);
  EXPECT_EQ(Code(Run(R"({"replSetGetStatus": 1, "$db": "admin"})")), 76);
  EXPECT_EQ(Field(Run(R"({"hello": 1})"), "setName").type, BsonType::kUndefined);
}

TEST_F(ReplicaSetRunnerTest, KillAllSessionsAbortsEveryTransaction) {
  ASSERT_EQ(Ok(InSession(1, R"({"insert": "c", "documents": [{"_id": 1}], )" +
                                 Txn(1, R"(, "startTransaction": true)") + "}")),
            1);
  ASSERT_EQ(Ok(InSession(2, R"({"insert": "c", "documents": [{"_id": 2}], )" +
                                 Txn(1, R"(, "startTransaction": true)") + "}")),
            1);
  ASSERT_EQ(Ok(Run(R"({"killAllSessions": [], "$db": "admin"})")), 1);
  EXPECT_EQ(Code(InSession(1, R"({"commitTransaction": 1, "$db": "admin", )" + Txn(1) + "}")), 251);
  EXPECT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}]})")), 1);
  std::string started = Run(R"({"startSession": 1, "$db": "admin"})");
  EXPECT_EQ(Field(started, "id.id").type, BsonType::kBinary) << Json(started);
  EXPECT_EQ(Field(started, "timeoutMinutes").Int32(), 30);
  EXPECT_EQ(Ok(Run(R"({"refreshSessions": [], "$db": "admin"})")), 1);
}

TEST_F(ReplicaSetRunnerTest, EndSessionsAbortsTheirTransactions) {
  ASSERT_EQ(Ok(InSession(1, R"({"insert": "c", "documents": [{"_id": 1}], )" +
                                 Txn(1, R"(, "startTransaction": true)") + "}")),
            1);
  ASSERT_EQ(Ok(Run(R"({"endSessions": [{"id": {"$binary": {"base64": "AQ==", "subType": "04"}}}], "$db": "admin"})")),
            1);
  // The document it held is free for others, and was never written.
  EXPECT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1}]})")), 1);
  EXPECT_EQ(Field(Run(R"({"insert": "c", "documents": [{"_id": 1}]})"), "writeErrors.0.code").Int32(), 11000);
}

TEST_F(CommandRunnerTest, InsertFromADocumentSequenceThenFindWithGetMore) {
  std::vector<std::string> docs = {CommandBson(R"({"_id": 1, "a": [1, [2]]})"), CommandBson(R"({"_id": 2, "a": null})"),
                                   CommandBson(R"({"_id": 3})")};
  std::vector<DocumentSequence> seq(1);
  seq[0].identifier = "documents";
  for (const std::string& d : docs) seq[0].documents.push_back(bson::DocView(d));
  std::string inserted = Run(R"({"insert": "c", "ordered": true})", &seq);
  EXPECT_EQ(Ok(inserted), 1) << Json(inserted);
  EXPECT_EQ(Field(inserted, "n").Int32(), 3);

  // Null matches both the null and the missing field, as MongoDB's equality to null does.
  std::string first = Run(R"({"find": "c", "filter": {"a": null}, "sort": {"_id": 1}, "batchSize": 1})");
  ASSERT_EQ(Ok(first), 1) << Json(first);
  EXPECT_EQ(Field(first, "cursor.ns").String(), "d.c");
  EXPECT_EQ(Field(first, "cursor.firstBatch").Doc().CountElements(), 1u);
  bson::ValueView id = Field(first, "cursor.id");
  ASSERT_EQ(id.type, BsonType::kInt64);
  ASSERT_NE(id.Int64(), 0);
  std::string more = Run(StrCat(R"({"getMore": {"$numberLong": ")", id.Int64(),
                                R"("}, "collection": "c", "batchSize": 5})"));
  ASSERT_EQ(Ok(more), 1) << Json(more);
  EXPECT_EQ(Field(more, "cursor.nextBatch").Doc().CountElements(), 1u);
  EXPECT_EQ(Field(more, "cursor.id").Int64(), 0);

  // Nested arrays: {a: 2} does not match [1, [2]] (only one level is traversed).
  std::string nested = Run(R"({"find": "c", "filter": {"a": 2}})");
  EXPECT_EQ(Field(nested, "cursor.firstBatch").Doc().CountElements(), 0u) << Json(nested);
  std::string whole = Run(R"({"find": "c", "filter": {"a": [2]}})");
  EXPECT_EQ(Field(whole, "cursor.firstBatch").Doc().CountElements(), 1u) << Json(whole);
}

TEST_F(CommandRunnerTest, KillCursorsTellsKilledFromNotFound) {
  Run(R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}, {"_id": 3}]})");
  std::string first = Run(R"({"find": "c", "batchSize": 1})");
  int64_t id = Field(first, "cursor.id").Int64();
  ASSERT_NE(id, 0);
  std::string r = Run(StrCat(R"({"killCursors": "c", "cursors": [{"$numberLong": ")", id,
                             R"("}, {"$numberLong": "77"}]})"));
  ASSERT_EQ(Ok(r), 1) << Json(r);
  EXPECT_EQ(Field(r, "cursorsKilled").Doc().begin()->value.Int64(), id);
  EXPECT_EQ(Field(r, "cursorsNotFound").Doc().begin()->value.Int64(), 77);
}

TEST_F(CommandRunnerTest, WriteErrorsAndUpserts) {
  std::string dup = Run(R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 1}, {"_id": 2}]})");
  EXPECT_EQ(Ok(dup), 1) << Json(dup);
  EXPECT_EQ(Field(dup, "n").Int32(), 1);  // ordered: stops at the first error
  bson::DocView errors = Field(dup, "writeErrors").Doc();
  ASSERT_EQ(errors.CountElements(), 1u) << Json(dup);
  bson::DocView e = errors.begin()->value.Doc();
  bson::ValueView v;
  ASSERT_TRUE(e.Find("index", &v));
  EXPECT_EQ(v.Int32(), 1);
  ASSERT_TRUE(e.Find("code", &v));
  EXPECT_EQ(v.Int32(), 11000);
  EXPECT_TRUE(e.Find("keyValue", &v)) << Json(dup);

  std::string unordered = Run(R"({"insert": "c", "ordered": false, "documents": [{"_id": 1}, {"_id": 3}]})");
  EXPECT_EQ(Field(unordered, "n").Int32(), 1);

  std::string up = Run(R"({"update": "c", "updates": [
      {"q": {"_id": 10}, "u": {"$set": {"x": 1}}, "upsert": true},
      {"q": {"_id": {"$in": [1, 2, 3]}}, "u": {"$set": {"y": 1}}, "multi": true}]})");
  ASSERT_EQ(Ok(up), 1) << Json(up);
  EXPECT_EQ(Field(up, "n").Int32(), 3);         // 1 upserted + 2 matched (_id 1 and 3)
  EXPECT_EQ(Field(up, "nModified").Int32(), 2);
  bson::DocView upserted = Field(up, "upserted").Doc().begin()->value.Doc();
  ASSERT_TRUE(upserted.Find("index", &v));
  EXPECT_EQ(v.Int32(), 0);
  ASSERT_TRUE(upserted.Find("_id", &v));
  EXPECT_EQ(v.Int32(), 10);

  std::string bad_op = Run(R"({"update": "c", "updates": [{"q": {}, "u": {"$bogus": {"x": 1}}}]})");
  EXPECT_EQ(Ok(bad_op), 1);
  EXPECT_EQ(Field(bad_op, "writeErrors").Doc().CountElements(), 1u) << Json(bad_op);

  // MongoDB 8.0's updateOne sort: of the matching documents, the first in sort order.
  std::string sorted = Run(R"({"update": "c", "updates": [
      {"q": {"y": 1}, "u": {"$set": {"z": 1}}, "sort": {"_id": -1}}]})");
  EXPECT_EQ(Field(sorted, "n").Int32(), 1) << Json(sorted);
  EXPECT_EQ(Field(sorted, "nModified").Int32(), 1);
  std::string z = Run(R"({"find": "c", "filter": {"z": 1}})");
  EXPECT_EQ(Field(z, "cursor.firstBatch").Doc().begin()->value.Doc().begin()->value.Int32(), 3) << Json(z);
  std::string again = Run(R"({"update": "c", "updates": [
      {"q": {"y": 1}, "u": {"$set": {"z": 1}}, "sort": {"_id": -1}}]})");
  EXPECT_EQ(Field(again, "n").Int32(), 1);
  EXPECT_EQ(Field(again, "nModified").Int32(), 0);  // already so: matched, not modified
  std::string multi_sort = Run(R"({"update": "c", "updates": [
      {"q": {}, "u": {"$set": {"z": 2}}, "sort": {"_id": 1}, "multi": true}]})");
  EXPECT_EQ(Field(multi_sort, "writeErrors").Doc().begin()->value.Doc().begin()->value.Int32(), 0)
      << Json(multi_sort);

  std::string del = Run(R"({"delete": "c", "deletes": [{"q": {"y": 1}, "limit": 0}]})");
  EXPECT_EQ(Field(del, "n").Int32(), 2) << Json(del);
}

TEST_F(CommandRunnerTest, FindAndModifyCountDistinctAggregate) {
  Run(R"({"insert": "c", "documents": [{"_id": 1, "k": "x", "n": 1}, {"_id": 2, "k": "y", "n": 2},
                                       {"_id": 3, "k": "x", "n": {"$numberDecimal": "3"}}]})");
  std::string fam = Run(R"({"findAndModify": "c", "query": {"k": "x"}, "sort": {"_id": -1},
                            "update": {"$inc": {"n": 1}}, "new": true})");
  ASSERT_EQ(Ok(fam), 1) << Json(fam);
  EXPECT_EQ(Field(fam, "lastErrorObject.n").Int32(), 1);
  EXPECT_TRUE(Field(fam, "lastErrorObject.updatedExisting").Bool());
  EXPECT_EQ(Field(fam, "value._id").Int32(), 3);
  EXPECT_EQ(Field(fam, "value.n").type, BsonType::kDecimal128);  // decimal + int stays decimal

  std::string none = Run(R"({"findAndModify": "c", "query": {"k": "zzz"}, "remove": true})");
  EXPECT_EQ(Field(none, "lastErrorObject.n").Int32(), 0);
  EXPECT_EQ(Field(none, "value").type, BsonType::kNull);

  std::string count = Run(R"({"count": "c", "query": {"k": "x"}})");
  EXPECT_EQ(Field(count, "n").Int32(), 2) << Json(count);
  std::string distinct = Run(R"({"distinct": "c", "key": "k"})");
  EXPECT_EQ(Field(distinct, "values").Doc().CountElements(), 2u) << Json(distinct);
  std::string agg = Run(R"({"aggregate": "c", "pipeline": [{"$group": {"_id": "$k", "s": {"$sum": "$n"}}},
                                                         {"$sort": {"_id": 1}}], "cursor": {}})");
  ASSERT_EQ(Ok(agg), 1) << Json(agg);
  bson::DocView batch = Field(agg, "cursor.firstBatch").Doc();
  ASSERT_EQ(batch.CountElements(), 2u);
  EXPECT_EQ(Field(agg, "cursor.ns").String(), "d.c");
}

TEST_F(CommandRunnerTest, CollectionsAndIndexes) {
  std::string created = Run(R"({"create": "v", "validator": {"a": {"$type": "int"}}})");
  EXPECT_EQ(Ok(created), 1) << Json(created);
  std::string invalid = Run(R"({"insert": "v", "documents": [{"a": "text"}]})");
  EXPECT_EQ(Field(invalid, "writeErrors").Doc().begin()->value.Doc().begin()->value.Int32(), 0);
  std::string exists = Run(R"({"create": "v"})");
  EXPECT_EQ(Code(exists), 48);
  std::string capped = Run(R"({"create": "cap", "capped": true, "size": 4096, "max": 10})");
  EXPECT_EQ(Ok(capped), 1) << Json(capped);
  EXPECT_EQ(Code(Run(R"({"create": "cap2", "capped": true})")), 72);  // size is required
  EXPECT_EQ(Code(Run(R"({"create": "cap2", "size": 4096})")), 72);    // size needs capped
  EXPECT_EQ(Ok(Run(R"({"collMod": "cap", "cappedSize": 8192, "cappedMax": 5})")), 1);
  std::string cap_info = Run(R"({"listCollections": 1, "filter": {"name": "cap"}})");
  EXPECT_EQ(Json(std::string(Field(cap_info, "cursor.firstBatch.0.options").Doc().bytes())),
            R"({"capped": true, "size": 8192, "max": 5})");

  std::string idx = Run(R"({"createIndexes": "c", "indexes": [{"key": {"a": 1}, "name": "a_1", "unique": true}]})");
  ASSERT_EQ(Ok(idx), 1) << Json(idx);
  EXPECT_EQ(Field(idx, "numIndexesBefore").Int32(), 1);
  EXPECT_EQ(Field(idx, "numIndexesAfter").Int32(), 2);
  EXPECT_TRUE(Field(idx, "createdCollectionAutomatically").Bool());
  std::string list = Run(R"({"listIndexes": "c"})");
  EXPECT_EQ(Field(list, "cursor.firstBatch").Doc().CountElements(), 2u) << Json(list);
  EXPECT_EQ(Field(list, "cursor.ns").String(), "d.c");
  std::string colls = Run(R"({"listCollections": 1, "filter": {"type": "collection"}, "nameOnly": true})");
  ASSERT_EQ(Ok(colls), 1) << Json(colls);
  EXPECT_EQ(Field(colls, "cursor.firstBatch").Doc().CountElements(), 3u) << Json(colls);
  EXPECT_EQ(Field(colls, "cursor.ns").String(), "d.$cmd.listCollections");
  std::string dropped = Run(R"({"dropIndexes": "c", "index": "a_1"})");
  EXPECT_EQ(Field(dropped, "nIndexesWas").Int32(), 2) << Json(dropped);
  EXPECT_EQ(Code(Run(R"({"dropIndexes": "c", "index": "nope"})")), 27);
  EXPECT_EQ(Ok(Run(R"({"drop": "c"})")), 1);
  EXPECT_EQ(Ok(Run(R"({"drop": "never-existed"})")), 1);  // MongoDB 7.0+: no error
  std::string dbs = Run(R"({"listDatabases": 1, "nameOnly": true, "$db": "admin"})");
  EXPECT_EQ(Field(dbs, "databases").Doc().CountElements(), 1u) << Json(dbs);
  EXPECT_EQ(Field(Run(R"({"dropDatabase": 1})"), "dropped").String(), "d");
}


// --auth-token-file: TCP connections authenticate before anything but the handshake runs.
// Shapes and codes from MongoDB's manual (saslStart, saslContinue, hello) and its server.
TEST_F(CommandRunnerTest, AuthenticationGateAndSaslErrors) {
  ASSERT_TRUE(runner_->SetPassword("s3cret").ok());
  connection_.auth_required = true;
  std::string refused = Run(R"({"find": "c"})");
  EXPECT_EQ(Code(refused), 13) << Json(refused);
  EXPECT_EQ(Field(refused, "codeName").String(), "Unauthorized");
  EXPECT_EQ(Field(refused, "errmsg").String(), "Command find requires authentication");
  EXPECT_EQ(Code(Run(R"({"insert": "c", "documents": [{"a": 1}]})")), 13);
  EXPECT_EQ(Code(Run(R"({"listDatabases": 1, "$db": "admin"})")), 13);
  // An unknown command is still 59 (MongoDB looks the command up first).
  EXPECT_EQ(Code(Run(R"({"noSuchCommand": 1})")), 59);
  for (const char* open : {R"({"hello": 1})", R"({"isMaster": 1})", R"({"ping": 1})",
                           R"({"buildInfo": 1})", R"({"connectionStatus": 1})"}) {
    EXPECT_EQ(Ok(Run(open)), 1) << open;
  }
  // saslSupportedMechs names the mechanisms of an existing user only.
  std::string mechs = Run(R"({"hello": 1, "saslSupportedMechs": "admin.micromongo", "$db": "admin"})");
  EXPECT_EQ(Json(std::string(Field(mechs, "saslSupportedMechs").Doc().bytes())), R"({"0": "SCRAM-SHA-256"})");
  std::string unknown = Run(R"({"hello": 1, "saslSupportedMechs": "admin.someone", "$db": "admin"})");
  EXPECT_EQ(Field(unknown, "saslSupportedMechs").type, BsonType::kUndefined);

  struct Case {
    const char* command;
    int code;
  };
  const Case cases[] = {
      {R"({"saslStart": 1, "mechanism": "SCRAM-SHA-1", "payload": "n,,n=micromongo,r=abc", "$db": "admin"})", 334},
      {R"({"saslStart": 1, "mechanism": "PLAIN", "payload": "x", "$db": "admin"})", 334},
      {R"({"saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": "n,,n=other,r=abc", "$db": "admin"})", 18},
      // The user lives in admin; authenticating against another database fails as MongoDB's does.
      {R"({"saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": "n,,n=micromongo,r=abc", "$db": "d"})", 18},
      {R"({"saslStart": 1, "mechanism": "SCRAM-SHA-256", "$db": "admin"})", 4},
      {R"({"saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": 5, "$db": "admin"})", 14},
      {R"({"saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": "x", "bogus": 1, "$db": "admin"})", 40415},
      {R"({"saslContinue": 1, "conversationId": 1, "payload": "c=biws", "$db": "admin"})", 17},
  };
  for (const Case& c : cases) {
    std::string r = Run(c.command);
    EXPECT_EQ(Code(r), c.code) << c.command << " -> " << Json(r);
  }

  // A conversation that starts well and ends with a wrong proof.
  std::string start = Run(
      R"({"saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": "n,,n=micromongo,r=clientnonce",
          "autoAuthorize": 1, "options": {"skipEmptyExchange": true}, "$db": "admin"})");
  ASSERT_EQ(Ok(start), 1) << Json(start);
  EXPECT_EQ(Field(start, "conversationId").Int32(), 1);
  EXPECT_FALSE(Field(start, "done").Bool());
  std::string server_first = Payload(start, "payload");
  EXPECT_EQ(server_first.rfind("r=clientnonce", 0), 0u) << server_first;
  EXPECT_NE(server_first.find(",i=15000"), std::string::npos) << server_first;
  std::string nonce = server_first.substr(2, server_first.find(',') - 2);
  std::string wrong = Run(R"({"saslContinue": 1, "conversationId": 1, "payload": "c=biws,r=)" + nonce +
                          R"(,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "$db": "admin"})");
  EXPECT_EQ(Code(wrong), 18) << Json(wrong);
  EXPECT_EQ(Field(wrong, "errmsg").String(), "Authentication failed.");
  // The failed conversation is gone, and the connection is still unauthenticated.
  EXPECT_EQ(Code(Run(R"({"saslContinue": 1, "conversationId": 1, "payload": "", "$db": "admin"})")), 17);
  EXPECT_EQ(Code(Run(R"({"find": "c"})")), 13);
  std::string status = Run(R"({"connectionStatus": 1})");
  EXPECT_EQ(Json(std::string(Field(status, "authInfo.authenticatedUsers").Doc().bytes())), "{}");

  // hello's speculativeAuthenticate answers saslStart's first step in the same round trip.
  std::string speculative = Run(
      R"({"hello": 1, "speculativeAuthenticate": {"saslStart": 1, "mechanism": "SCRAM-SHA-256",
          "payload": "n,,n=micromongo,r=abc", "db": "admin"}, "$db": "admin"})");
  EXPECT_EQ(Field(speculative, "speculativeAuthenticate.conversationId").Int32(), 1) << Json(speculative);
  EXPECT_EQ(Payload(speculative, "speculativeAuthenticate.payload").rfind("r=abc", 0), 0u);
  // ... and leaves the field out when the first step fails.
  std::string no_user = Run(
      R"({"hello": 1, "speculativeAuthenticate": {"saslStart": 1, "mechanism": "SCRAM-SHA-256",
          "payload": "n,,n=nobody,r=abc", "db": "admin"}, "$db": "admin"})");
  EXPECT_EQ(Ok(no_user), 1);
  EXPECT_EQ(Field(no_user, "speculativeAuthenticate").type, BsonType::kUndefined);
}

// Without --auth-token-file no user exists: everything runs, and authenticating fails.
TEST_F(CommandRunnerTest, WithoutAPasswordNoUserExists) {
  EXPECT_EQ(Ok(Run(R"({"find": "c"})")), 1);
  std::string r = Run(R"({"saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": "n,,n=micromongo,r=abc", "$db": "admin"})");
  EXPECT_EQ(Code(r), 18) << Json(r);
  std::string hello = Run(R"({"hello": 1, "saslSupportedMechs": "admin.micromongo", "$db": "admin"})");
  EXPECT_EQ(Field(hello, "saslSupportedMechs").type, BsonType::kUndefined);
}


// collMod as the manual's examples show it: a new validator applies to later writes; hiding
// an index answers hidden_old/hidden_new, a TTL change expireAfterSeconds_old/_new, and a
// change to the value an option already has answers neither.
TEST_F(CommandRunnerTest, CollModValidatorHiddenAndTtl) {
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1, "a": 5}]})")), 1);
  std::string v = Run(R"({"collMod": "c", "validator": {"a": {"$type": "int"}}, "validationAction": "error"})");
  EXPECT_EQ(Ok(v), 1) << Json(v);
  std::string refused = Run(R"({"insert": "c", "documents": [{"_id": 2, "a": "x"}]})");
  EXPECT_EQ(Field(refused, "writeErrors.0.code").Int32(), 121) << Json(refused);
  std::string level = Run(R"({"collMod": "c", "validationLevel": "off"})");
  EXPECT_EQ(Ok(level), 1) << Json(level);
  EXPECT_EQ(Field(Run(R"({"insert": "c", "documents": [{"_id": 3, "a": "x"}]})"), "n").Int32(), 1);

  ASSERT_EQ(Ok(Run(R"({"createIndexes": "c", "indexes": [{"key": {"a": 1}, "name": "a_1"},
                        {"key": {"t": 1}, "name": "t_1", "expireAfterSeconds": 3600}]})")), 1);
  std::string hide = Run(R"({"collMod": "c", "index": {"keyPattern": {"a": 1}, "hidden": true}})");
  EXPECT_EQ(Json(hide), R"({"hidden_old": false, "hidden_new": true, "ok": 1.0})");
  std::string again = Run(R"({"collMod": "c", "index": {"name": "a_1", "hidden": true}})");
  EXPECT_EQ(Json(again), R"({"ok": 1.0})");
  std::string listed = Run(R"({"listIndexes": "c"})");
  EXPECT_TRUE(Field(listed, "cursor.firstBatch.1.hidden").Bool()) << Json(listed);
  std::string ttl = Run(R"({"collMod": "c", "index": {"name": "t_1", "expireAfterSeconds": 1209600}})");
  EXPECT_EQ(Json(ttl), R"({"expireAfterSeconds_old": 3600, "expireAfterSeconds_new": 1209600, "ok": 1.0})");

  struct Case {
    const char* command;
    int code;
  };
  const Case cases[] = {
      {R"({"collMod": "missing", "validator": {}})", 26},
      {R"({"collMod": "c", "index": {"name": "nope", "hidden": true}})", 27},
      {R"({"collMod": "c", "bogus": 1})", 40415},
      {R"({"collMod": "c", "validator": 5})", 14},
      {R"({"collMod": "c", "validationLevel": "sometimes"})", 2},
  };
  for (const Case& c : cases) {
    std::string r = Run(c.command);
    EXPECT_EQ(Code(r), c.code) << c.command << " -> " << Json(r);
  }
}

// Converting an index to unique as the manual's "Convert an Existing Index to a Unique
// Index" walks through it (the apples collection): prepareUnique refuses new duplicates,
// a dry run lists the documents that share a key, and the conversion answers unique_new.
TEST_F(CommandRunnerTest, CollModConvertsAnIndexToUnique) {
  ASSERT_EQ(Ok(Run(R"({"insert": "apples", "documents": [
      {"_id": 1, "type": "Delicious", "quantity": 12}, {"_id": 2, "type": "Macintosh", "quantity": 13},
      {"_id": 3, "type": "Delicious", "quantity": 13}, {"_id": 4, "type": "Fuji", "quantity": 15},
      {"_id": 5, "type": "Washington", "quantity": 10}]})")), 1);
  ASSERT_EQ(Ok(Run(R"({"createIndexes": "apples", "indexes": [{"key": {"type": 1}, "name": "type_1"}]})")), 1);
  std::string early = Run(R"({"collMod": "apples", "index": {"keyPattern": {"type": 1}, "unique": true}})");
  EXPECT_EQ(Code(early), 72) << Json(early);
  std::string prepare = Run(R"({"collMod": "apples", "index": {"keyPattern": {"type": 1}, "prepareUnique": true}})");
  EXPECT_EQ(Json(prepare), R"({"prepareUnique_old": false, "prepareUnique_new": true, "ok": 1.0})");
  std::string dup = Run(R"({"insert": "apples", "documents": [{"type": "Delicious", "quantity": 20}]})");
  EXPECT_EQ(Field(dup, "writeErrors.0.code").Int32(), 11000) << Json(dup);
  EXPECT_EQ(Json(std::string(Field(dup, "writeErrors.0.keyValue").Doc().bytes())), R"({"type": "Delicious"})");
  std::string dry = Run(R"({"collMod": "apples", "index": {"keyPattern": {"type": 1}, "unique": true}, "dryRun": true})");
  EXPECT_EQ(Code(dry), 359) << Json(dry);
  EXPECT_EQ(Field(dry, "codeName").String(), "CannotConvertIndexToUnique");
  EXPECT_EQ(Json(std::string(Field(dry, "violations").Doc().bytes())), R"({"0": {"ids": [1, 3]}})");
  ASSERT_EQ(Field(Run(R"({"delete": "apples", "deletes": [{"q": {"_id": 3}, "limit": 1}]})"), "n").Int32(), 1);
  EXPECT_EQ(Json(Run(R"({"collMod": "apples", "index": {"keyPattern": {"type": 1}, "unique": true}, "dryRun": true})")),
            R"({"ok": 1.0})");
  std::string listed = Run(R"({"listIndexes": "apples"})");
  EXPECT_EQ(Field(listed, "cursor.firstBatch.1.unique").type, BsonType::kUndefined) << Json(listed);
  std::string made = Run(R"({"collMod": "apples", "index": {"keyPattern": {"type": 1}, "unique": true}})");
  EXPECT_EQ(Json(made), R"({"unique_new": true, "ok": 1.0})");
  listed = Run(R"({"listIndexes": "apples"})");
  EXPECT_TRUE(Field(listed, "cursor.firstBatch.1.unique").Bool()) << Json(listed);
  EXPECT_EQ(Field(listed, "cursor.firstBatch.1.prepareUnique").type, BsonType::kUndefined) << Json(listed);
  std::string again = Run(R"({"insert": "apples", "documents": [{"type": "Fuji"}]})");
  EXPECT_EQ(Field(again, "writeErrors.0.code").Int32(), 11000) << Json(again);

  struct Case {
    const char* command;
    int code;
  };
  const Case cases[] = {
      {R"({"collMod": "apples", "index": {"name": "type_1", "unique": false}})", 2},
      {R"({"collMod": "apples", "index": {"name": "type_1", "unique": "100"}})", 14},
      {R"({"collMod": "apples", "index": {"name": "type_1", "prepareUnique": 1}})", 14},
      {R"({"collMod": "apples", "index": {"name": "type_1", "hidden": true}, "dryRun": true})", 72},
      {R"({"collMod": "apples", "validationLevel": "off", "dryRun": true})", 72},
      {R"({"collMod": "apples", "index": {"name": "type_1", "unique": true, "prepareUnique": true}})", 72},
  };
  for (const Case& c : cases) {
    std::string r = Run(c.command);
    EXPECT_EQ(Code(r), c.code) << c.command << " -> " << Json(r);
  }
}

TEST_F(CommandRunnerTest, CollStatsAndDbStats) {
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1, "s": "aaaa"}, {"_id": 2, "s": "bbbb"}]})")), 1);
  ASSERT_EQ(Ok(Run(R"({"createIndexes": "c", "indexes": [{"key": {"s": 1}, "name": "s_1"}]})")), 1);
  ASSERT_EQ(Ok(Run(R"({"create": "v", "viewOn": "c", "pipeline": []})")), 1);
  std::string stats = Run(R"({"collStats": "c"})");
  ASSERT_EQ(Ok(stats), 1) << Json(stats);
  EXPECT_EQ(Field(stats, "ns").String(), "d.c");
  EXPECT_EQ(Field(stats, "count").AsDouble(), 2);
  EXPECT_EQ(Field(stats, "nindexes").AsDouble(), 2);
  EXPECT_GT(Field(stats, "size").AsDouble(), 0);
  EXPECT_EQ(Field(stats, "avgObjSize").AsDouble() * 2, Field(stats, "size").AsDouble());
  EXPECT_GT(Field(stats, "indexSizes.s_1").AsDouble(), 0);
  EXPECT_EQ(Field(stats, "scaleFactor").AsDouble(), 1);
  std::string scaled = Run(R"({"collStats": "c", "scale": 1024})");
  EXPECT_EQ(Field(scaled, "scaleFactor").AsDouble(), 1024);
  EXPECT_EQ(Field(scaled, "size").AsDouble(), 0);  // a few dozen bytes, in KiB
  // A collection that does not exist has zeros, not an error.
  std::string missing = Run(R"({"collStats": "nothing"})");
  EXPECT_EQ(Ok(missing), 1) << Json(missing);
  EXPECT_EQ(Field(missing, "count").AsDouble(), 0);
  EXPECT_EQ(Field(missing, "nindexes").AsDouble(), 0);
  EXPECT_EQ(Code(Run(R"({"collStats": "v"})")), 166);
  EXPECT_EQ(Code(Run(R"({"collStats": "c", "scale": 0})")), 51024);

  std::string db = Run(R"({"dbStats": 1})");
  ASSERT_EQ(Ok(db), 1) << Json(db);
  EXPECT_EQ(Field(db, "db").String(), "d");
  EXPECT_EQ(Field(db, "collections").AsDouble(), 1);
  EXPECT_EQ(Field(db, "views").AsDouble(), 1);
  EXPECT_EQ(Field(db, "objects").AsDouble(), 2);
  EXPECT_EQ(Field(db, "indexes").AsDouble(), 2);
  EXPECT_EQ(Field(db, "dataSize").AsDouble(), Field(stats, "size").AsDouble());
  EXPECT_EQ(Field(db, "indexSize").AsDouble(), Field(stats, "totalIndexSize").AsDouble());
  EXPECT_GT(Field(db, "fsTotalSize").AsDouble(), 0);
  std::string empty = Run(R"({"dbStats": 1, "$db": "nodb"})");
  EXPECT_EQ(Ok(empty), 1) << Json(empty);
  EXPECT_EQ(Field(empty, "collections").AsDouble(), 0);
  EXPECT_EQ(Field(empty, "objects").AsDouble(), 0);
}

TEST_F(CommandRunnerTest, ListCommandsNamesEveryCommand) {
  std::string r = Run(R"({"listCommands": 1, "$db": "admin"})");
  ASSERT_EQ(Ok(r), 1);
  for (const char* name : {"find", "insert", "aggregate", "collMod", "dbStats", "collStats", "hello",
                           "saslStart", "listCommands", "serverStatus"}) {
    EXPECT_EQ(Field(r, StrCat("commands.", name)).type, BsonType::kDocument) << name;
  }
  EXPECT_TRUE(Field(r, "commands.find.requiresAuth").Bool());
  EXPECT_FALSE(Field(r, "commands.hello.requiresAuth").Bool());
  EXPECT_EQ(Field(r, "commands.noSuchCommand").type, BsonType::kUndefined);
}


// The manual (find, aggregate): "A batchSize of 0 means that the cursor will be
// established, but no documents will be returned in the first batch."
TEST_F(CommandRunnerTest, BatchSizeZeroOpensACursorWithAnEmptyFirstBatch) {
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}, {"_id": 3}]})")), 1);
  for (const char* command : {R"({"find": "c", "sort": {"_id": 1}, "batchSize": 0})",
                              R"({"aggregate": "c", "pipeline": [{"$sort": {"_id": 1}}], "cursor": {"batchSize": 0}})",
                              // Also when nothing matches: the query has not run yet.
                              R"({"find": "c", "filter": {"_id": 99}, "batchSize": 0})"}) {
    std::string first = Run(command);
    ASSERT_EQ(Ok(first), 1) << Json(first);
    EXPECT_EQ(Json(std::string(Field(first, "cursor.firstBatch").Doc().bytes())), "{}") << command;
    int64_t id = Field(first, "cursor.id").Int64();
    EXPECT_NE(id, 0) << command;
    std::string more = Run(StrCat(R"({"getMore": {"$numberLong": ")", id, R"("}, "collection": "c"})"));
    ASSERT_EQ(Ok(more), 1) << Json(more);
    EXPECT_EQ(Field(more, "cursor.id").Int64(), 0);
    bool matches = std::string_view(command).find("99") == std::string_view::npos;
    EXPECT_EQ(Json(std::string(Field(more, "cursor.nextBatch").Doc().bytes())),
              matches ? R"({"0": {"_id": 1}, "1": {"_id": 2}, "2": {"_id": 3}})" : "{}")
        << command;
  }
}


// maxTimeMS on update and delete bounds the whole command; running out is a top-level 50
// (MongoDB fails the whole batch on an interruption, ordered or not).
TEST_F(CommandRunnerTest, MaxTimeMSOnUpdateAndDelete) {
  std::string docs = R"({"insert": "c", "documents": [)";
  for (int i = 0; i < 20000; ++i) docs += StrCat(i ? ", " : "", R"({"s": "value number )", i, R"("})");
  docs += "]}";
  ASSERT_EQ(Ok(Run(docs)), 1);
  const char* slow = R"({"s": {"$regex": "(a|b|c|d)+x$"}})";
  for (std::string command : {StrCat(R"({"update": "c", "updates": [{"q": )", slow,
                                     R"(, "u": {"$set": {"t": 1}}, "multi": true}], "ordered": false, "maxTimeMS": 1})"),
                              StrCat(R"({"delete": "c", "deletes": [{"q": )", slow, R"(, "limit": 0}], "maxTimeMS": 1})")}) {
    std::string r = Run(command);
    EXPECT_EQ(Code(r), 50) << Json(r);
    EXPECT_EQ(Field(r, "codeName").String(), "MaxTimeMSExpired");
  }
  std::string enough = Run(StrCat(R"({"delete": "c", "deletes": [{"q": )", slow, R"(, "limit": 0}], "maxTimeMS": 60000})"));
  EXPECT_EQ(Json(enough), R"({"n": 0, "ok": 1.0})");
  EXPECT_EQ(Code(Run(R"({"update": "c", "updates": [{"q": {}, "u": {"$set": {"t": 1}}}], "maxTimeMS": -1})")), 51024);
  EXPECT_EQ(Field(Run(R"({"count": "c"})"), "n").Int32(), 20000);
}


// MongoDB 8.0's bulkWrite, as the manual's examples show its reply: counts, then a cursor
// of per-operation results ({ok, idx, n, nModified?, upserted?}; errors with code and
// errmsg), only errors with errorsOnly.
TEST_F(CommandRunnerTest, BulkWriteAcrossCollections) {
  std::string r = Run(R"({"bulkWrite": 1, "ops": [
      {"insert": 0, "document": {"_id": 1, "a": 1}},
      {"insert": 1, "document": {"_id": 1, "b": 1}},
      {"update": 0, "filter": {"_id": 1}, "updateMods": {"$set": {"a": 2}}},
      {"update": 1, "filter": {"_id": 9}, "updateMods": {"b": 9}, "upsert": true},
      {"delete": 1, "filter": {"_id": 1}, "multi": false}],
      "nsInfo": [{"ns": "d.c1"}, {"ns": "d.c2"}], "$db": "admin"})");
  ASSERT_EQ(Ok(r), 1) << Json(r);
  EXPECT_EQ(Json(r),
            R"({"nErrors": 0, "nInserted": 2, "nMatched": 1, "nModified": 1, "nUpserted": 1, "nDeleted": 1, )"
            R"("cursor": {"id": 0, "firstBatch": [{"ok": 1.0, "idx": 0, "n": 1}, {"ok": 1.0, "idx": 1, "n": 1}, )"
            R"({"ok": 1.0, "idx": 2, "n": 1, "nModified": 1}, {"ok": 1.0, "idx": 3, "n": 1, "nModified": 0, )"
            R"("upserted": {"_id": 9}}, {"ok": 1.0, "idx": 4, "n": 1}], "ns": "admin.$cmd.bulkWrite"}, "ok": 1.0})");
  EXPECT_EQ(Field(Run(R"({"find": "c1"})"), "cursor.firstBatch.0.a").Int32(), 2);

  // Ordered: the duplicate stops the command; unordered with errorsOnly: only the error.
  std::string ordered = Run(R"({"bulkWrite": 1, "ops": [{"insert": 0, "document": {"_id": 1}},
      {"insert": 0, "document": {"_id": 2}}], "nsInfo": [{"ns": "d.c1"}], "$db": "admin"})");
  EXPECT_EQ(Field(ordered, "nErrors").Int32(), 1) << Json(ordered);
  EXPECT_EQ(Field(ordered, "nInserted").Int32(), 0);
  EXPECT_EQ(Field(ordered, "cursor.firstBatch.0.code").Int32(), 11000);
  EXPECT_EQ(Field(ordered, "cursor.firstBatch.0.keyValue._id").Int32(), 1);
  EXPECT_EQ(Field(ordered, "cursor.firstBatch.1").type, BsonType::kUndefined);
  std::string unordered = Run(R"({"bulkWrite": 1, "ordered": false, "errorsOnly": true, "ops": [
      {"insert": 0, "document": {"_id": 1}}, {"insert": 0, "document": {"_id": 3}}],
      "nsInfo": [{"ns": "d.c1"}], "$db": "admin"})");
  EXPECT_EQ(Field(unordered, "nInserted").Int32(), 1) << Json(unordered);
  EXPECT_EQ(Field(unordered, "cursor.firstBatch.0.idx").Int32(), 0);
  EXPECT_EQ(Field(unordered, "cursor.firstBatch.1").type, BsonType::kUndefined);

  struct Case {
    const char* command;
    int code;
  };
  const Case cases[] = {
      {R"({"bulkWrite": 1, "ops": [{"insert": 0, "document": {}}], "nsInfo": [{"ns": "d.c1"}]})", 13},
      {R"({"bulkWrite": 1, "nsInfo": [{"ns": "d.c1"}], "$db": "admin"})", 40414},
      {R"({"bulkWrite": 1, "ops": [{"insert": 0, "document": {}}], "$db": "admin"})", 40414},
      {R"({"bulkWrite": 1, "ops": [{"upsert": 0}], "nsInfo": [{"ns": "d.c1"}], "$db": "admin"})", 9},
      {R"({"bulkWrite": 1, "ops": [{"insert": 0}], "nsInfo": [{"ns": "d.c1"}], "bogus": 1, "$db": "admin"})", 40415},
  };
  for (const Case& c : cases) {
    std::string e = Run(c.command);
    EXPECT_EQ(Code(e), c.code) << c.command << " -> " << Json(e);
  }
  // A bad namespace index fails that operation only.
  std::string bad_index = Run(R"({"bulkWrite": 1, "ops": [{"insert": 5, "document": {}}],
      "nsInfo": [{"ns": "d.c1"}], "$db": "admin"})");
  EXPECT_EQ(Field(bad_index, "nErrors").Int32(), 1) << Json(bad_index);
}


// watch() as drivers send it: aggregate [{$changeStream: {...}}]; the reply's cursor stays
// open and carries postBatchResumeToken; a getMore waits for events.
TEST_F(CommandRunnerTest, ChangeStreamAsAnAggregateCursor) {
  ASSERT_EQ(Ok(Run(R"({"create": "c"})")), 1);
  std::string opened = Run(R"({"aggregate": "c", "pipeline": [{"$changeStream": {}}], "cursor": {}})");
  ASSERT_EQ(Ok(opened), 1) << Json(opened);
  EXPECT_EQ(Json(std::string(Field(opened, "cursor.firstBatch").Doc().bytes())), "{}");
  EXPECT_EQ(Field(opened, "cursor.postBatchResumeToken").type, BsonType::kDocument) << Json(opened);
  EXPECT_EQ(Field(opened, "cursor.ns").String(), "d.c");
  int64_t id = Field(opened, "cursor.id").Int64();
  ASSERT_NE(id, 0);
  ASSERT_EQ(Ok(Run(R"({"insert": "c", "documents": [{"_id": 7}]})")), 1);
  std::string more = Run(StrCat(R"({"getMore": {"$numberLong": ")", id, R"("}, "collection": "c", "maxTimeMS": 2000})"));
  ASSERT_EQ(Ok(more), 1) << Json(more);
  EXPECT_EQ(Field(more, "cursor.nextBatch.0.operationType").String(), "insert");
  EXPECT_EQ(Field(more, "cursor.nextBatch.0.documentKey._id").Int32(), 7);
  EXPECT_EQ(Field(more, "cursor.id").Int64(), id);
  // The token moved past the event.
  EXPECT_NE(Json(std::string(Field(more, "cursor.postBatchResumeToken").Doc().bytes())),
            Json(std::string(Field(opened, "cursor.postBatchResumeToken").Doc().bytes())));
  EXPECT_EQ(Ok(Run(StrCat(R"({"killCursors": "c", "cursors": [{"$numberLong": ")", id, R"("}]})"))), 1);

  struct Case {
    const char* command;
    int code;
  };
  const Case cases[] = {
      {R"({"aggregate": "c", "pipeline": [{"$changeStream": {"bogus": 1}}], "cursor": {}})", 40415},
      {R"({"aggregate": "c", "pipeline": [{"$changeStream": 5}], "cursor": {}})", 50808},
      {R"({"aggregate": "c", "pipeline": [{"$changeStream": {"fullDocument": "sometimes"}}], "cursor": {}})", 2},
      {R"({"aggregate": "c", "pipeline": [{"$changeStream": {"fullDocument": 1}}], "cursor": {}})", 14},
      {R"({"aggregate": 1, "pipeline": [{"$changeStream": {}}], "cursor": {}, "$db": "admin"})", 72},
      {R"({"aggregate": 1, "pipeline": [{"$changeStream": {"allChangesForCluster": true}}], "cursor": {}})", 72},
      {R"({"aggregate": "c", "pipeline": [{"$match": {}}, {"$changeStream": {}}], "cursor": {}})", 40602},
  };
  for (const Case& c : cases) {
    std::string r = Run(c.command);
    EXPECT_EQ(Code(r), c.code) << c.command << " -> " << Json(r);
  }
  std::string cluster = Run(R"({"aggregate": 1, "pipeline": [{"$changeStream": {"allChangesForCluster": true}}],
                                "cursor": {}, "$db": "admin"})");
  EXPECT_EQ(Ok(cluster), 1) << Json(cluster);
  EXPECT_EQ(Field(cluster, "cursor.ns").String(), "admin.$cmd.aggregate");
}

}  // namespace
}  // namespace micromongo::wire
