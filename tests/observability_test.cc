// What an operator sees of a worker: serverStatus through the C++ API, the slow-operation
// log with plan summaries, and the log in MongoDB's JSON format or as text.

#include <fstream>
#include <set>
#include <regex>
#include <sstream>

#include "bench/wire_client.h"
#include "test_util.h"

namespace micromongo {
namespace {

using testing::TempDir;

int64_t Int(const Document& d, std::initializer_list<const char*> path) {
  const Document* at = &d;
  const Value* v = nullptr;
  for (const char* p : path) {
    v = at->Find(p);
    if (v == nullptr) return -1;
    if (v->type() == BsonType::kDocument) at = &v->AsDocument();
  }
  return v->ToInt64();
}

TEST(ObservabilityTest, ServerStatusCountsOperationsAndSizes) {
  TempDir dir;
  auto bridge = WorkerBridge::Create({.data_dir = dir.Sub("data"), .server_path = MM_SERVER});
  MongoClient client("mongodb://localhost/obs", {.worker_bridge = bridge});
  Collection coll = client.Db()["c"];
  Document before = client.ServerStatus();
  coll.InsertMany({Document{{"_id", 1}, {"a", 1}}, Document{{"_id", 2}, {"a", 2}},
                   Document{{"_id", 3}, {"a", 3}}});
  coll.CreateIndex(Document{{"a", 1}});
  coll.Find().ToVector();
  coll.Find({}, {.batch_size = 1}).ToVector();  // a first batch, then GetMores
  coll.UpdateOne(Document{{"_id", 1}}, Document{{"$set", Document{{"b", 1}}}});
  coll.DeleteOne(Document{{"_id", 3}});
  coll.BulkWrite({InsertOneModel{Document{{"_id", 4}}}, DeleteOneModel{Document{{"_id", 4}}}});
  client.Db().CreateCollection("v", {.view_on = "c", .pipeline = {}});
  Document after = client.ServerStatus();

  EXPECT_EQ(after.GetString("process"), "micromongo-server");
  EXPECT_EQ(after.GetInt64("pid"), bridge->pid());
  EXPECT_GE(after.GetInt64("uptimeMillis"), before.GetInt64("uptimeMillis"));
  EXPECT_EQ(after.Get("localTime").type(), BsonType::kDate);
  EXPECT_EQ(Int(after, {"opcounters", "insert"}) - Int(before, {"opcounters", "insert"}), 4);
  EXPECT_EQ(Int(after, {"opcounters", "query"}) - Int(before, {"opcounters", "query"}), 2);
  EXPECT_GE(Int(after, {"opcounters", "getmore"}) - Int(before, {"opcounters", "getmore"}), 2);
  EXPECT_EQ(Int(after, {"opcounters", "update"}) - Int(before, {"opcounters", "update"}), 1);
  EXPECT_EQ(Int(after, {"opcounters", "delete"}) - Int(before, {"opcounters", "delete"}), 2);
  EXPECT_GE(Int(after, {"opcounters", "command"}) - Int(before, {"opcounters", "command"}), 3);
  EXPECT_GT(Int(after, {"mem", "resident"}), 0);
  EXPECT_GE(Int(after, {"connections", "active"}), 1);  // this very call
  EXPECT_GE(Int(after, {"connections", "current"}), 1);  // this client's
  EXPECT_GE(Int(after, {"connections", "totalCreated"}), Int(after, {"connections", "current"}));
  // The default cap, --max-connections 1000.
  EXPECT_EQ(Int(after, {"connections", "current"}) + Int(after, {"connections", "available"}), 1000);
  EXPECT_EQ(Int(after, {"connections", "rejected"}), 0);
  EXPECT_EQ(Int(after, {"micromongo", "databases", "obs", "collections"}), 1);
  EXPECT_EQ(Int(after, {"micromongo", "databases", "obs", "views"}), 1);
  EXPECT_EQ(Int(after, {"micromongo", "databases", "obs", "objects"}), 2);
  EXPECT_EQ(Int(after, {"micromongo", "databases", "obs", "indexes"}), 2);
  EXPECT_GT(Int(after, {"micromongo", "databases", "obs", "storageSize"}), 0);
  EXPECT_EQ(after.GetDocument("storageEngine").GetString("name"), "rocksdb");
  client.Close();
  bridge->Terminate();
}

// A server started by hand with log flags, its stderr in a file.
class LoggedServer {
 public:
  LoggedServer(const TempDir& dir, const std::vector<std::string>& flags) : log_(dir.Sub("server.log")) {
    address_ = "unix:" + dir.Sub("s.sock");
    std::string cmd = std::string(MM_SERVER) + " --data-dir " + dir.Sub("data") + " --listen " + address_;
    for (const std::string& f : flags) cmd += " " + f;
    cmd += " 2> " + log_ + " & echo $!";
    FILE* p = popen(cmd.c_str(), "r");
    if (fscanf(p, "%d", &pid_) != 1) pid_ = 0;
    pclose(p);
    bridge_ = WorkerBridge::Connect(address_, std::chrono::milliseconds(15000));
  }
  ~LoggedServer() {
    bridge_->Terminate();
    kill(pid_, SIGTERM);
    testing::WaitGone(pid_, std::chrono::seconds(10));
  }
  std::shared_ptr<WorkerBridge> bridge() { return bridge_; }
  std::vector<std::string> Lines() {
    std::ifstream in(log_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::string log_;
  std::string address_;
  int pid_ = 0;
  std::shared_ptr<WorkerBridge> bridge_;
};

TEST(ObservabilityTest, SlowOperationsAreLoggedWithPlanAndCountsAsJson) {
  TempDir dir;
  {
    LoggedServer server(dir, {"--slow-ms", "0", "--log-format", "json", "--mongodb-listen",
                              "unix:" + dir.Sub("m.sock")});
    MongoClient client("mongodb://localhost/obs", {.worker_bridge = server.bridge()});
    Collection coll = client.Db()["people"];
    std::vector<Document> docs;
    for (int i = 0; i < 50; ++i) docs.push_back(Document{{"_id", i}, {"age", i}});
    coll.InsertMany(docs);
    coll.CreateIndex(Document{{"age", 1}});
    EXPECT_EQ(coll.Find(Document{{"age", Document{{"$gte", 40}}}}).ToVector().size(), 10u);
    // The same query over MongoDB's wire protocol is logged the same way.
    bench::WireClient wire(dir.Sub("m.sock"));
    Document found = Document::FromBson(wire.Run(
        Document{{"find", "people"}, {"filter", Document{{"age", Document{{"$gte", 40}}}}}, {"$db", "obs"}}.ToBson()));
    EXPECT_EQ(found.Get("ok"), Value(1.0)) << found.ToJson();
    client.Close();
  }
  // Every line is one JSON object with MongoDB's fields; the find's line names its plan.
  std::set<std::string> found_protocols;
  std::ifstream in(dir.Sub("server.log"));
  int lines = 0;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    Document d = Document::FromJson(line);  // throws if a line is not JSON
    EXPECT_TRUE(d.Has("t") && d.Has("s") && d.Has("c") && d.Has("ctx") && d.Has("msg")) << line;
    EXPECT_EQ(d.Get("t").type(), BsonType::kDate) << line;  // {"$date": "...+00:00"}
    if (d.GetString("msg") != "Slow query") continue;
    const Document& attr = d.GetDocument("attr");
    if (attr.GetString("command") != "Find" && attr.GetString("command") != "find") continue;
    found_protocols.insert(attr.GetString("protocol"));
    EXPECT_EQ(attr.GetString("protocol"), attr.GetString("command") == "Find" ? "grpc" : "op_msg") << line;
    EXPECT_EQ(d.GetString("c"), "COMMAND");
    EXPECT_EQ(attr.GetString("ns"), "obs.people");
    EXPECT_EQ(attr.GetDocument("filter"), (Document{{"age", Document{{"$gte", 40}}}}));
    EXPECT_EQ(attr.GetString("planSummary"), "IXSCAN { age: 1 }");
    EXPECT_EQ(attr.GetInt64("keysExamined"), 10);
    EXPECT_EQ(attr.GetInt64("docsExamined"), 10);
    EXPECT_EQ(attr.GetInt64("nreturned"), 10);
    EXPECT_EQ(attr.GetInt32("ok"), 1);
    EXPECT_GE(attr.GetInt64("durationMillis"), 0);
  }
  EXPECT_EQ(found_protocols, (std::set<std::string>{"grpc", "op_msg"}));
  EXPECT_GT(lines, 3);
}

TEST(ObservabilityTest, TextLogAndTheDefaultThreshold) {
  TempDir dir;
  std::vector<std::string> lines;
  {
    LoggedServer server(dir, {});
    MongoClient client("mongodb://localhost/obs", {.worker_bridge = server.bridge()});
    client.Db()["c"].InsertOne(Document{{"a", 1}});
    client.Db()["c"].Find().ToVector();
    client.Close();
    lines = server.Lines();
  }
  ASSERT_FALSE(lines.empty());
  // "2026-12-02T19:45:00.123Z I  NETWORK  [main] Waiting for connections {...}"
  std::regex text(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [EWI]\S?\s+[A-Z]+\s+\[\w+\] .+)");
  for (const std::string& line : lines) {
    EXPECT_TRUE(std::regex_match(line, text)) << line;
    // The default threshold is 100 ms: an operation is logged only if it took that long
    // (a loaded machine, or a sanitized build creating the database, may).
    if (size_t at = line.find("Slow query "); at != std::string::npos) {
      Document attr = Document::FromJson(line.substr(at + 11));
      EXPECT_GE(attr.Get("durationMillis").ToInt64(), 100) << line;
    }
  }
  EXPECT_NE(lines[0].find("Waiting for connections"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace micromongo
