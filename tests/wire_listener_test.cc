// A spawned worker's MongoDB wire protocol listener (WorkerOptions::mongodb_listener): the
// C++ client and a wire protocol client see one database, and the socket goes away with
// the worker.

#include <gtest/gtest.h>
#include <micromongo/micromongo.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "bench/wire_client.h"
#include "test_util.h"

namespace mm = micromongo;

namespace micromongo::testing {
namespace {

TEST(WireListenerTest, SpawnedWorkerSpeaksBothProtocolsOverOneDatabase) {
  TempDir dir;
  auto bridge = mm::WorkerBridge::Create({.data_dir = dir.path(), .mongodb_listener = true});
  std::string socket = bridge->mongodb_socket_path();
  ASSERT_FALSE(socket.empty());
  EXPECT_TRUE(std::filesystem::is_socket(socket));
  // The connection string MongoDB's drivers take for a unix socket: the path percent-encoded.
  std::string uri = bridge->mongodb_uri();
  EXPECT_EQ(uri.rfind("mongodb://%2F", 0), 0u) << uri;
  EXPECT_NE(uri.find("mongodb.sock/?directConnection=true"), std::string::npos) << uri;

  mm::MongoClient client("mongodb://localhost/app", {.worker_bridge = bridge});
  client.Connect();
  client.Db()["people"].InsertOne(Document{{"_id", 1}, {"name", "Ada"}});

  bench::WireClient wire(socket);
  Document hello = Document::FromBson(wire.Run(Document{{"hello", 1}, {"$db", "admin"}}.ToBson()));
  EXPECT_EQ(hello.Get("isWritablePrimary"), Value(true));
  Document found = Document::FromBson(wire.Run(
      Document{{"find", "people"}, {"filter", Document{{"_id", 1}}}, {"$db", "app"}}.ToBson()));
  ASSERT_EQ(found.Get("ok"), Value(1.0)) << found.ToJson();
  const Document& cursor = found.Get("cursor").AsDocument();
  EXPECT_EQ(cursor.Get("ns"), Value("app.people"));
  ASSERT_EQ(cursor.Get("firstBatch").AsArray().size(), 1u);
  EXPECT_EQ(cursor.Get("firstBatch").AsArray()[0].AsDocument().Get("name"), Value("Ada"));

  // Written over the wire, read through the C++ API.
  Document inserted = Document::FromBson(wire.Run(
      Document{{"insert", "people"}, {"documents", mm::Array{Document{{"_id", 2}}}}, {"$db", "app"}}.ToBson()));
  EXPECT_EQ(inserted.Get("n"), Value(1));
  EXPECT_EQ(client.Db()["people"].CountDocuments(Document{}), 2);

  // serverStatus counts the connections of both listeners: this wire client's and the C++
  // client's gRPC channel.
  Document status = Document::FromBson(wire.Run(Document{{"serverStatus", 1}, {"$db", "admin"}}.ToBson()));
  const Document& connections = status.Get("connections").AsDocument();
  EXPECT_GE(connections.Get("current").ToInt64(), 2) << status.ToJson();
  EXPECT_GE(connections.Get("totalCreated").ToInt64(), 2) << status.ToJson();
  EXPECT_GT(connections.Get("available").ToInt64(), 0) << status.ToJson();

  client.Close();
  bridge->Terminate();
  EXPECT_FALSE(std::filesystem::exists(socket));
}

// A connection's thread polls for the next request before it sleeps (wireSpinMicros):
// requests that come within the spin, after it, and with it off are all answered.
TEST(WireListenerTest, EveryRequestIsAnsweredWhateverTheSpin) {
  for (const char* spin : {"0", "50", "10000"}) {
    SCOPED_TRACE(std::string("wireSpinMicros=") + spin);
    TempDir dir;
    auto bridge = mm::WorkerBridge::Create({.data_dir = dir.path(),
                                            .server_parameters = {{"wireSpinMicros", spin}},
                                            .mongodb_listener = true});
    bench::WireClient wire(bridge->mongodb_socket_path());
    for (int i = 0; i < 300; ++i) {
      if (i % 100 == 99) std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past any spin
      Document reply = Document::FromBson(wire.Run(
          Document{{"insert", "c"}, {"documents", mm::Array{Document{{"_id", i}}}}, {"$db", "app"}}.ToBson()));
      ASSERT_EQ(reply.Get("n"), Value(1)) << i << " " << reply.ToJson();
    }
    Document counted = Document::FromBson(wire.Run(Document{{"count", "c"}, {"$db", "app"}}.ToBson()));
    EXPECT_EQ(counted.Get("n"), Value(300)) << counted.ToJson();
    bridge->Terminate();
  }
  TempDir dir;
  EXPECT_THROW(mm::WorkerBridge::Create({.data_dir = dir.path(),
                                         .server_parameters = {{"wireSpinMicros", "-5"}},
                                         .mongodb_listener = true}),
               mm::Error);
}

TEST(WireListenerTest, NoListenerUnlessAsked) {
  TempDir dir;
  auto bridge = mm::WorkerBridge::Create({.data_dir = dir.path()});
  EXPECT_TRUE(bridge->mongodb_uri().empty());
  EXPECT_TRUE(bridge->mongodb_socket_path().empty());
  bridge->Terminate();
}

// ?useWorker=true&mongodbListener=true: the client's own worker serves drivers too.
TEST(WireListenerTest, UriOptionOpensTheListenerOfTheClientsOwnWorker) {
  TempDir dir;
  mm::MongoClient client("mongodb://localhost/app?useWorker=true&mongodbListener=true",
                         {.worker_options = {.data_dir = dir.path()}});
  client.Connect();
  std::string socket = client.worker_bridge()->mongodb_socket_path();
  ASSERT_FALSE(socket.empty());
  client.Db()["c"].InsertOne(Document{{"_id", 1}});
  bench::WireClient wire(socket);
  Document counted = Document::FromBson(wire.Run(Document{{"count", "c"}, {"$db", "app"}}.ToBson()));
  EXPECT_EQ(counted.Get("n"), Value(1)) << counted.ToJson();
  client.Close();
  EXPECT_FALSE(std::filesystem::exists(socket));

  // mongodbListener=false overrides the options; anything but true/false is error 72.
  mm::MongoClient off("mongodb://localhost/app?useWorker=true&mongodbListener=false",
                      {.worker_options = {.data_dir = dir.path(), .mongodb_listener = true}});
  off.Connect();
  EXPECT_TRUE(off.worker_bridge()->mongodb_uri().empty());
  off.Close();
  EXPECT_EQ(ErrorCodeOf([] { mm::MongoClient bad("mongodb://localhost/?useWorker=true&mongodbListener=yes"); }), 72);
}

}  // namespace
}  // namespace micromongo::testing
