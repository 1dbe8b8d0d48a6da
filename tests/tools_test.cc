// The micromongo command-line tool as a user runs it: the real binary against a real
// worker, results checked through the C++ API (and the other way round).

#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_util.h"

namespace micromongo {
namespace {

using testing::TempDir;

struct RunResult {
  int rc = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = WorkerBridge::Create({.data_dir = dir_.Sub("data"), .server_path = MM_SERVER});
    client_ = std::make_unique<MongoClient>("mongodb://localhost/", ClientOptions{.worker_bridge = bridge_});
  }
  void TearDown() override {
    client_->Close();
    bridge_->Terminate();
  }

  // Runs `micromongo <args>` against the worker, `input` on its standard input.
  RunResult Tool(std::vector<std::string> args, const std::string& input = "", bool connect = true) {
    if (connect) {
      args.insert(args.begin() + 1, {"--address", bridge_->address()});
    }
    WriteFile(dir_.Sub("stdin"), input);
    std::string cmd = Quote(MM_CLI);
    for (const std::string& a : args) cmd += " " + Quote(a);
    cmd += " < " + Quote(dir_.Sub("stdin")) + " > " + Quote(dir_.Sub("stdout")) + " 2> " +
           Quote(dir_.Sub("stderr"));
    int status = std::system(cmd.c_str());
    RunResult r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadFile(dir_.Sub("stdout"));
    r.err = ReadFile(dir_.Sub("stderr"));
    return r;
  }

  Collection Coll(const std::string& name) { return client_->Db("tools")[name]; }
  std::vector<Document> All(const std::string& name) {
    return Coll(name).Find({}, {.sort = Document{{"_id", 1}}}).ToVector();
  }

  TempDir dir_;
  std::shared_ptr<WorkerBridge> bridge_;
  std::unique_ptr<MongoClient> client_;
};

TEST_F(ToolsTest, ImportJsonLinesPrettyAndArrays) {
  RunResult r = Tool({"import", "--db", "tools", "-c", "people"},
                     "{\"_id\": 1, \"name\": \"Ann\", \"born\": {\"$date\": \"1990-01-02T00:00:00Z\"}}\n"
                     "{\n  \"_id\": 2,\n  \"n\": {\"$numberLong\": \"7\"}\n}\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  std::vector<Document> docs = All("people");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], (Document{{"_id", 1}, {"name", "Ann"}, {"born", DateTime{631238400000}}}));
  EXPECT_EQ(docs[1], (Document{{"_id", 2}, {"n", int64_t{7}}}));
  EXPECT_NE(r.err.find("2 document(s) imported into tools.people"), std::string::npos) << r.err;

  // The collection defaults to the file's name.
  WriteFile(dir_.Sub("cities.json"), "[{\"_id\": \"osl\"}, {\"_id\": \"ber\"}]");
  r = Tool({"import", "--db", "tools", "--file", dir_.Sub("cities.json"), "--jsonArray", "--quiet"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(Coll("cities").CountDocuments(), 2);
}

TEST_F(ToolsTest, ImportErrorsNameTheirLinesAndNothingOfAFailedBatchStays) {
  // Three batches of two; the second holds a duplicate _id (line 4) and a parse error
  // would be in the third.
  std::string input =
      "{\"_id\": 1}\n{\"_id\": 2}\n"
      "{\"_id\": 3}\n{\"_id\": 1}\n"
      "{\"_id\": 5}\n{\"_id\": 6}\n";
  RunResult r = Tool({"import", "--db", "tools", "-c", "t", "--batchSize", "2"}, input);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("line 4: E11000 duplicate key"), std::string::npos) << r.err;
  EXPECT_EQ(testing::Ids(Coll("t").Find()), (std::set<int>{1, 2}));  // not 3: its batch failed

  r = Tool({"import", "--db", "tools", "-c", "u", "--batchSize", "2"},
           "{\"_id\": 1}\n{\"_id\": 2}\n{\"_id\": 3}\n{\"_id\": \n");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("line 4:"), std::string::npos) << r.err;
  EXPECT_EQ(testing::Ids(Coll("u").Find()), (std::set<int>{1, 2}));

  // --continue-on-error: every good document, every bad line reported.
  r = Tool({"import", "--db", "tools", "-c", "v", "--batchSize", "2", "--continue-on-error"},
           "{\"_id\": 1}\n{\"_id\": 1}\nnot json\n{\"_id\": 4}\n");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("line 2: E11000"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 3: expected a document"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 document(s) imported"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 document(s) failed"), std::string::npos) << r.err;
  EXPECT_EQ(testing::Ids(Coll("v").Find()), (std::set<int>{1, 4}));

  // A validator's refusal is a failure of that line too.
  client_->Db("tools").CreateCollection(
      "w", {.validator = Document{{"n", Document{{"$type", "int"}}}}});
  r = Tool({"import", "--db", "tools", "-c", "w"}, "{\"_id\": 1, \"n\": 1}\n{\"_id\": 2, \"n\": \"x\"}\n");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("line 2: Document failed validation (121"), std::string::npos) << r.err;
  EXPECT_EQ(Coll("w").CountDocuments(), 0);
  r = Tool({"import", "--db", "tools", "-c", "w", "--bypassDocumentValidation"},
           "{\"_id\": 2, \"n\": \"x\"}\n");
  EXPECT_EQ(r.rc, 0) << r.err;
}

TEST_F(ToolsTest, ImportCsvAndTsv) {
  RunResult r = Tool({"import", "--db", "tools", "-c", "csv", "--type", "csv", "--headerline"},
                     "_id,name,address.city,score\n"
                     "1,\"Smith, Ann\",Oslo,3.5\n"
                     "2,Bob,,17\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  std::vector<Document> docs = All("csv");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], (Document{{"_id", 1}, {"name", "Smith, Ann"},
                               {"address", Document{{"city", "Oslo"}}}, {"score", 3.5}}));
  EXPECT_EQ(docs[1], (Document{{"_id", 2}, {"name", "Bob"}, {"address", Document{{"city", ""}}},
                               {"score", 17}}));

  r = Tool({"import", "--db", "tools", "-c", "typed", "--type", "csv", "--columnsHaveTypes",
            "--fields", "_id.int32(),zip.string(),when.date(2006-01-02),ok.boolean(),big.int64()",
            "--ignoreBlanks"},
           "1,0150,2020-02-29,true,5\n2,,2021-01-01,0,\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  docs = All("typed");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], (Document{{"_id", 1}, {"zip", "0150"}, {"when", DateTime{1582934400000}},
                               {"ok", true}, {"big", int64_t{5}}}));
  EXPECT_EQ(docs[1], (Document{{"_id", 2}, {"when", DateTime{1609459200000}}, {"ok", false}}));

  r = Tool({"import", "--db", "tools", "-c", "typed2", "--type", "csv", "--columnsHaveTypes",
            "--fields", "_id.int32(),n.int32()"},
           "1,2\n2,x\n");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("line 2: field n: 'x' is not a valid int32"), std::string::npos) << r.err;
  EXPECT_EQ(Coll("typed2").CountDocuments(), 0);

  r = Tool({"import", "--db", "tools", "-c", "tsv", "--type", "tsv", "--fields", "_id,text"},
           "1\tsays \"hi\", then\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(All("tsv")[0], (Document{{"_id", 1}, {"text", "says \"hi\", then"}}));

  EXPECT_EQ(Tool({"import", "--db", "tools", "-c", "x", "--type", "csv"}).rc, 2);  // no field names
}

TEST_F(ToolsTest, ImportModes) {
  Coll("m").InsertMany({Document{{"_id", 1}, {"sku", "a"}, {"qty", 1}, {"keep", true}},
                        Document{{"_id", 2}, {"sku", "b"}, {"qty", 2}}});
  RunResult r = Tool({"import", "--db", "tools", "-c", "m", "--mode", "upsert"},
                     "{\"_id\": 1, \"sku\": \"a\", \"qty\": 10}\n{\"_id\": 3, \"sku\": \"c\"}\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(All("m")[0], (Document{{"_id", 1}, {"sku", "a"}, {"qty", 10}}));  // replaced
  EXPECT_EQ(Coll("m").CountDocuments(), 3);

  r = Tool({"import", "--db", "tools", "-c", "m", "--mode", "merge", "--upsertFields", "sku"},
           "{\"sku\": \"b\", \"qty\": 20, \"color\": \"red\"}\n{\"sku\": \"d\", \"qty\": 4}\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(*Coll("m").FindOne(Document{{"sku", "b"}}),
            (Document{{"_id", 2}, {"sku", "b"}, {"qty", 20}, {"color", "red"}}));
  EXPECT_EQ(Coll("m").CountDocuments(Document{{"sku", "d"}}), 1);

  r = Tool({"import", "--db", "tools", "-c", "m", "--mode", "delete", "--upsertFields", "sku"},
           "{\"sku\": \"a\"}\n{\"sku\": \"c\"}\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(Coll("m").CountDocuments(), 2);

  r = Tool({"import", "--db", "tools", "-c", "m", "--drop"}, "{\"_id\": 9}\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(testing::Ids(Coll("m").Find()), (std::set<int>{9}));
}

TEST_F(ToolsTest, ExportJsonCsvAndRoundTrip) {
  std::vector<Document> docs = {
      Document{{"_id", 1}, {"name", "Ann"}, {"n", int64_t{5}}, {"d", Decimal128::FromString("1.50")},
               {"tags", Array{"x", Array{1, 2}}}, {"at", DateTime{0}}, {"nil", nullptr}},
      Document{{"_id", 2}, {"name", "Bob, \"B\""}, {"address", Document{{"city", "Oslo"}}}},
      Document{{"_id", 3}, {"name", "Cy"}, {"score", 2.5}}};
  Coll("src").InsertMany(docs);

  RunResult r = Tool({"export", "--db", "tools", "-c", "src", "--jsonFormat", "canonical", "--quiet"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);
  EXPECT_NE(r.out.find("{\"$numberLong\": \"5\"}"), std::string::npos) << r.out;
  // Round trip: every type comes back as it was.
  r = Tool({"import", "--db", "tools", "-c", "copy", "--quiet"}, r.out);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(All("copy"), docs);

  r = Tool({"export", "--db", "tools", "-c", "src", "--query", "{\"_id\": {\"$gte\": 2}}", "--sort",
            "{\"_id\": -1}", "--projection", "{\"name\": 1}", "--jsonArray", "--quiet"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "[{\"_id\": 3, \"name\": \"Cy\"},{\"_id\": 2, \"name\": \"Bob, \\\"B\\\"\"}]\n");

  r = Tool({"export", "--db", "tools", "-c", "src", "--skip", "1", "--limit", "1", "--quiet"});
  EXPECT_EQ(r.out, "{\"_id\": 2, \"name\": \"Bob, \\\"B\\\"\", \"address\": {\"city\": \"Oslo\"}}\n");

  r = Tool({"export", "--db", "tools", "-c", "src", "--type", "csv", "--fields",
            "_id,name,address.city,n,d,tags,at,nil,missing", "--quiet"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out,
            "_id,name,address.city,n,d,tags,at,nil,missing\n"
            "1,Ann,,5,1.50,\"[\"\"x\"\", [1, 2]]\",1970-01-01T00:00:00.000Z,,\n"
            "2,\"Bob, \"\"B\"\"\",Oslo,,,,,,\n"
            "3,Cy,,,,,,,\n");
  // CSV back in with the same header.
  r = Tool({"import", "--db", "tools", "-c", "fromcsv", "--type", "csv", "--headerline", "--quiet"},
           "_id,name,address.city\n2,\"Bob, \"\"B\"\"\",Oslo\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(All("fromcsv")[0], (Document{{"_id", 2}, {"name", "Bob, \"B\""}, {"address", Document{{"city", "Oslo"}}}}));

  EXPECT_EQ(Tool({"export", "--db", "tools", "-c", "src", "--type", "csv"}).rc, 2);  // no fields
  r = Tool({"export", "--db", "tools", "-c", "src", "--query", "{\"$bad\": 1}"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("unknown top level operator: $bad"), std::string::npos) << r.err;
}

TEST_F(ToolsTest, ProgressLinesAndQuiet) {
  std::string input;
  for (int i = 0; i < 3000; ++i) input += "{\"_id\": " + std::to_string(i) + "}\n";
  WriteFile(dir_.Sub("p.json"), input);
  RunResult r = Tool({"import", "--db", "tools", "--file", dir_.Sub("p.json")});
  ASSERT_EQ(r.rc, 0) << r.err;
  // Not a terminal: plain lines, the last one complete, then the summary.
  EXPECT_NE(r.err.find("import tools.p: 3,000 docs, " + std::to_string(input.size() / 1024) + "."), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(100.0%)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("docs/s"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
  r = Tool({"export", "--db", "tools", "-c", "p", "--out", dir_.Sub("p.out"), "-q"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ReadFile(dir_.Sub("p.out")).size(), input.size());
}

TEST_F(ToolsTest, DumpAndRestoreEverything) {
  Database db = client_->Db("tools");
  db.CreateCollection("people", {.validator = Document{{"age", Document{{"$gte", 0}}}},
                                 .validation_action = "error"});
  Coll("people").InsertMany({Document{{"_id", 1}, {"age", 30}, {"email", "a@x"}, {"bio", "likes cats"}},
                             Document{{"_id", 2}, {"age", 40}, {"email", "b@x"}, {"bio", "likes dogs"}}});
  Coll("people").CreateIndex(Document{{"email", 1}}, {.unique = true});
  Coll("people").CreateIndex(Document{{"age", -1}}, {.name = "by_age",
                                                      .partial_filter_expression = Document{{"age", Document{{"$gt", 35}}}}});
  Coll("people").CreateIndex(Document{{"bio", "text"}}, {.weights = Document{{"bio", 3}}});
  Coll("events").CreateIndex(Document{{"at", 1}}, {.expire_after_seconds = 3600});
  Coll("events").InsertOne(Document{{"_id", "e"}, {"at", DateTime::Now()}});
  db.CreateCollection("adults", {.view_on = "older", .pipeline = {Document{{"$project", Document{{"email", 1}}}}}});
  db.CreateCollection("older", {.view_on = "people", .pipeline = {Document{{"$match", Document{{"age", Document{{"$gte", 35}}}}}}}});
  client_->Db("other")["x"].InsertOne(Document{{"_id", 1}});
  // A capped collection comes back capped, its documents in their insertion order.
  db.CreateCollection("log", {.capped = true, .capped_size = 100000, .capped_max = 3});
  for (int id : {9, 3, 2, 1}) Coll("log").InsertOne(Document{{"_id", id}});

  for (bool gzip : {false, true}) {
    SCOPED_TRACE(gzip ? "gzip" : "plain");
    std::string out = dir_.Sub(gzip ? "dumpgz" : "dump");
    std::vector<std::string> args = {"dump", "--out", out};
    if (gzip) args.push_back("--gzip");
    RunResult r = Tool(args);
    ASSERT_EQ(r.rc, 0) << r.err;
    std::string sfx = gzip ? ".gz" : "";
    EXPECT_TRUE(std::filesystem::exists(out + "/tools/people.bson" + sfx));
    EXPECT_TRUE(std::filesystem::exists(out + "/tools/people.metadata.json" + sfx));
    EXPECT_TRUE(std::filesystem::exists(out + "/tools/older.metadata.json" + sfx));
    EXPECT_FALSE(std::filesystem::exists(out + "/tools/older.bson" + sfx));
    EXPECT_TRUE(std::filesystem::exists(out + "/other/x.bson" + sfx));
  }
  // mongodump's BSON file: the documents one after another.
  EXPECT_EQ(ReadFile(dir_.Sub("dump/tools/people.bson")),
            All("people")[0].ToBson() + All("people")[1].ToBson());

  // Into a second worker, from the gzipped dump.
  TempDir dir2;
  auto bridge2 = WorkerBridge::Create({.data_dir = dir2.Sub("data"), .server_path = MM_SERVER});
  RunResult r = Tool({"restore", "--address", bridge2->address(), "--dir", dir_.Sub("dumpgz")}, "", false);
  ASSERT_EQ(r.rc, 0) << r.err;
  MongoClient c2("mongodb://localhost/", {.worker_bridge = bridge2});
  Database db2 = c2.Db("tools");
  EXPECT_EQ(db2["people"].Find({}, {.sort = Document{{"_id", 1}}}).ToVector(), All("people"));
  EXPECT_EQ(db2["people"].ListIndexes(), Coll("people").ListIndexes());
  EXPECT_EQ(db2["events"].ListIndexes(), Coll("events").ListIndexes());
  EXPECT_EQ(db2.ListCollections(), db.ListCollections());
  EXPECT_EQ(db2["adults"].Find().ToVector(), (std::vector<Document>{Document{{"_id", 2}, {"email", "b@x"}}}));
  EXPECT_EQ(c2.Db("other")["x"].CountDocuments(), 1);
  EXPECT_EQ(testing::IdsInOrder(db2["log"].Find()), (std::vector<int>{3, 2, 1}));
  // The restored validator and unique index work.
  EXPECT_EQ(testing::ErrorCodeOf([&] { db2["people"].InsertOne(Document{{"age", -1}}); }), 121);
  EXPECT_EQ(testing::ErrorCodeOf([&] { db2["people"].InsertOne(Document{{"age", 1}, {"email", "a@x"}}); }), 11000);
  EXPECT_EQ(db2["people"].CountDocuments(Document{{"$text", Document{{"$search", "cat"}}}}), 1);

  // Restoring again: every document is a duplicate (reported, exit 1) unless --drop.
  r = Tool({"restore", "--address", bridge2->address(), "--dir", dir_.Sub("dump"), "--db", "other"}, "", false);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("E11000"), std::string::npos) << r.err;
  r = Tool({"restore", "--address", bridge2->address(), "--dir", dir_.Sub("dump"), "--drop"}, "", false);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(db2["people"].CountDocuments(), 2);

  // One collection of one database, into another database.
  r = Tool({"restore", "--address", bridge2->address(), "--dir", dir_.Sub("dump/tools"), "--db", "copy"}, "", false);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(c2.Db("copy")["people"].CountDocuments(), 2);
  c2.Close();
  bridge2->Terminate();

  r = Tool({"dump", "--db", "tools", "-c", "people", "--query", "{\"age\": 30}", "--out", dir_.Sub("q")});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_.Sub("q/tools/people.bson")), All("people")[0].ToBson());
}

TEST_F(ToolsTest, RestoresMongodumpOutput) {
  // A dump as MongoDB's mongodump 100.x writes it: canonical metadata with a uuid, a
  // text index in its stored form, and a collation option micro-mongo does not keep.
  std::string dir = dir_.Sub("mdump/shop");
  std::filesystem::create_directories(dir);
  WriteFile(dir + "/items.metadata.json",
            R"({"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"},)"
            R"({"v":{"$numberInt":"2"},"key":{"sku":{"$numberInt":"1"}},"name":"sku_1","unique":true},)"
            R"({"v":{"$numberInt":"2"},"key":{"_fts":"text","_ftsx":{"$numberInt":"1"}},"name":"title_text",)"
            R"("weights":{"title":{"$numberInt":"1"}},"default_language":"english","language_override":"language",)"
            R"("textIndexVersion":{"$numberInt":"3"}}],)"
            R"("uuid":"5d4c4fbd8d7a4a7e9f5e1b2a3c4d5e6f","collectionName":"items","type":"collection"})");
  Document a{{"_id", ObjectId::FromHex("5f0c8e8b9d3b2a1c0e4f6a7b")}, {"sku", "a"}, {"title", "Red apples"}};
  Document b{{"_id", ObjectId::FromHex("5f0c8e8b9d3b2a1c0e4f6a7c")}, {"sku", "b"}, {"title", "Green pears"}};
  WriteFile(dir + "/items.bson", a.ToBson() + b.ToBson());
  WriteFile(dir_.Sub("mdump/prelude.json"), R"({"ServerVersion":"7.0.2","ToolVersion":"100.9.0"})");
  RunResult r = Tool({"restore", "--dir", dir_.Sub("mdump")});
  ASSERT_EQ(r.rc, 0) << r.err;
  Collection items = client_->Db("shop")["items"];
  EXPECT_EQ(items.Find({}, {.sort = Document{{"_id", 1}}}).ToVector(), (std::vector<Document>{a, b}));
  EXPECT_EQ(items.CountDocuments(Document{{"$text", Document{{"$search", "apple"}}}}), 1);
  EXPECT_EQ(testing::ErrorCodeOf([&] { items.InsertOne(Document{{"sku", "a"}}); }), 11000);

  // A truncated BSON file is an error, not a silent stop.
  WriteFile(dir + "/broken.bson", a.ToBson().substr(0, 10));
  r = Tool({"restore", "--dir", dir_.Sub("mdump"), "--db", "shop", "-c", "broken"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST_F(ToolsTest, OnlineBackupDuringWritesIsAConsistentPrefix) {
  Coll("log").CreateIndex(Document{{"seq", 1}}, {.unique = true});
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  // One writer: seq i into tools.log, then into other.log, each acknowledged in turn.
  std::thread writer([&] {
    MongoClient c("mongodb://localhost/", {.worker_bridge = bridge_});
    Collection log = c.Db("tools")["log"];
    Collection other = c.Db("other")["log"];
    for (int i = 0; !stop; ++i) {
      log.InsertOne(Document{{"_id", i}, {"seq", i}});
      other.InsertOne(Document{{"_id", i}});
      acknowledged = i + 1;
    }
  });
  while (acknowledged < 200) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int before = acknowledged;
  RunResult r = Tool({"backup", "--out", dir_.Sub("backup")});
  int after = acknowledged;
  stop = true;
  writer.join();
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("micromongo-server --data-dir"), std::string::npos) << r.err;

  // The copy, served by a worker of its own: ids 0..k-1 without a gap, with
  // before <= k <= after + 1, its index agreeing, and the other database of the same
  // instant (k or k - 1 documents: never ahead of the first).
  auto copy = WorkerBridge::Create({.data_dir = dir_.Sub("backup"), .server_path = MM_SERVER});
  MongoClient c("mongodb://localhost/", {.worker_bridge = copy});
  Collection log = c.Db("tools")["log"];
  int k = static_cast<int>(log.CountDocuments());
  EXPECT_GE(k, before);
  EXPECT_LE(k, after + 1);  // the insert in flight when the checkpoint was taken may be in
  std::vector<int> ids = testing::IdsInOrder(log.Find({}, {.sort = Document{{"_id", 1}}}));
  ASSERT_EQ(static_cast<int>(ids.size()), k);
  for (int i = 0; i < k; ++i) ASSERT_EQ(ids[i], i);
  EXPECT_EQ(log.CountDocuments(Document{{"seq", Document{{"$gte", 0}}}}, {.hint = Hint("seq_1")}), k);
  EXPECT_EQ(testing::ErrorCodeOf([&] { log.InsertOne(Document{{"seq", 0}}); }), 11000);
  int other = static_cast<int>(c.Db("other")["log"].CountDocuments());
  EXPECT_TRUE(other == k || other == k - 1) << "tools.log " << k << ", other.log " << other;
  c.Close();
  copy->Terminate();

  // Not into a directory that holds something, nor inside the data directory.
  r = Tool({"backup", "--out", dir_.Sub("backup")});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
  r = Tool({"backup", "--out", dir_.Sub("data/inside")});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("inside the data directory"), std::string::npos) << r.err;
}

TEST_F(ToolsTest, ReachesWorkersEveryWay) {
  // A worker of the tool's own on a data directory (not the running worker's).
  RunResult r = Tool({"import", "--data-dir", dir_.Sub("own"), "--db", "d", "-c", "c", "-q"},
                     "{\"_id\": 1}\n", false);
  ASSERT_EQ(r.rc, 0) << r.err;
  r = Tool({"export", "--data-dir", dir_.Sub("own"), "--db", "d", "-c", "c", "-q"}, "", false);
  EXPECT_EQ(r.out, "{\"_id\": 1}\n");
  // A URI naming no worker (no port, no useWorker): the error says so.
  r = Tool({"export", "--uri", "mongodb://localhost/tools", "-c", "u", "-q"}, "", false);
  EXPECT_EQ(r.rc, 1);
  EXPECT_FALSE(r.err.empty());
  // A URI naming a worker on a TCP port (one the worker picked: its log says which) and
  // the database.
  std::string log = dir_.Sub("tcp.log");
  std::string cmd = Quote(MM_SERVER) + " --data-dir " + Quote(dir_.Sub("tcp")) +
                    " --listen 127.0.0.1:0 2> " + Quote(log) + " & echo $!";
  FILE* p = popen(cmd.c_str(), "r");
  int pid = 0;
  ASSERT_EQ(fscanf(p, "%d", &pid), 1);
  pclose(p);
  std::string port;
  for (int i = 0; i < 300 && port.empty(); ++i) {
    std::string text = ReadFile(log);
    size_t at = text.find("\"listen\": \"127.0.0.1:");
    if (at != std::string::npos) {
      at += std::strlen("\"listen\": \"127.0.0.1:");
      port = text.substr(at, text.find('"', at) - at);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_FALSE(port.empty()) << ReadFile(log);
  std::string uri = "mongodb://127.0.0.1:" + port + "/tools";
  r = Tool({"import", "--uri", uri, "-c", "u", "-q"}, "{\"_id\": 5}\n", false);
  EXPECT_EQ(r.rc, 0) << r.err;
  r = Tool({"export", "--uri", uri, "-c", "u", "-q"}, "", false);
  EXPECT_EQ(r.out, "{\"_id\": 5}\n") << r.err;
  kill(pid, SIGTERM);
  EXPECT_TRUE(testing::WaitGone(pid, std::chrono::seconds(10)));
  // Usage errors exit 2 with the usage text.
  r = Tool({"import", "-c", "x"}, "", false);
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("one of --uri, --address, --data-dir"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("usage: micromongo import"), std::string::npos) << r.err;
  EXPECT_EQ(Tool({"frobnicate"}, "", false).rc, 2);
  EXPECT_EQ(Tool({"export", "--help"}, "", false).rc, 0);
}

}  // namespace
}  // namespace micromongo
