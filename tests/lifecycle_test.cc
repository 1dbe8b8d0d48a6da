// Worker lifecycle guarantees, through the public API and real worker processes.

#include <gtest/gtest.h>
#include <micromongo/micromongo.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>

#include "test_util.h"

extern char** environ;

namespace mm = micromongo;
using micromongo::testing::TempDir;
using micromongo::testing::WaitGone;
using std::chrono::milliseconds;

namespace {

mm::WorkerOptions InDir(const TempDir& dir) { return mm::WorkerOptions{.data_dir = dir.path()}; }

template <typename Fn>
milliseconds TimeIt(Fn&& fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
}

TEST(LifecycleTest, SharedBridgeServesManyClientsAndOutlivesTheirClose) {
  TempDir dir;
  auto bridge = mm::WorkerBridge::Create(InDir(dir));
  ASSERT_TRUE(bridge->owns_worker());
  mm::MongoClient client1("mongodb://localhost/db1", {.worker_bridge = bridge});
  mm::MongoClient client2("mongodb://localhost/db2", {.worker_bridge = bridge});
  client1.Connect();
  client2.Connect();
  EXPECT_EQ(client1.worker_bridge(), client2.worker_bridge());
  EXPECT_EQ(client1.worker_bridge()->pid(), bridge->pid());

  client1.Db()["users"].InsertOne(mm::Document{{"name", "Alice"}});
  client1.Close();
  EXPECT_TRUE(bridge->IsAlive());
  EXPECT_THROW(client1.Db()["users"].CountDocuments(), mm::Error);
  client2.Db()["products"].InsertOne(mm::Document{{"sku", "ABC123"}});
  EXPECT_EQ(client2.Db()["products"].CountDocuments(), 1);
  EXPECT_EQ(client2.Db("db1")["users"].CountDocuments(), 1);

  int pid = bridge->pid();
  bridge->Terminate();
  EXPECT_TRUE(WaitGone(pid, milliseconds(1000)));
  EXPECT_FALSE(bridge->IsAlive());
  auto took = TimeIt([&] {
    try {
      client2.Db()["products"].CountDocuments();
      ADD_FAILURE() << "call after Terminate() succeeded";
    } catch (const mm::WorkerError& e) {
      EXPECT_EQ(e.code(), 6);
      EXPECT_NE(std::string(e.what()).find("terminated"), std::string::npos) << e.what();
    }
  });
  EXPECT_LT(took, milliseconds(500));
  bridge->Terminate();  // idempotent
}

TEST(LifecycleTest, UseWorkerClientOwnsItsProcess) {
  TempDir dir;
  mm::MongoClient analytics("mongodb://localhost/analytics?useWorker=true",
                            {.worker_options = InDir(dir)});
  analytics.Connect();
  auto own = analytics.worker_bridge();
  ASSERT_NE(own, nullptr);
  int pid = own->pid();
  EXPECT_TRUE(mm::testing::ProcessRunning(pid));
  analytics.Db()["events"].InsertOne(mm::Document{{"type", "click"}});
  EXPECT_EQ(analytics.Db().name(), "analytics");
  EXPECT_EQ(analytics.Db()["events"].CountDocuments(), 1);
  analytics.Close();
  EXPECT_TRUE(WaitGone(pid, milliseconds(2000)));
}

TEST(LifecycleTest, SeedMixedExampleWorksAsWritten) {
  TempDir shared_dir, own_dir;
  auto sharedBridge = mm::WorkerBridge::Create(InDir(shared_dir));
  mm::MongoClient mainClient("mongodb://localhost/main", {.worker_bridge = sharedBridge});
  mm::MongoClient cacheClient("mongodb://localhost/cache", {.worker_bridge = sharedBridge});
  mm::MongoClient analyticsClient("mongodb://localhost/analytics?useWorker=true",
                                  {.worker_options = InDir(own_dir)});
  mainClient.Connect();
  cacheClient.Connect();
  analyticsClient.Connect();
  EXPECT_NE(analyticsClient.worker_bridge()->pid(), sharedBridge->pid());

  mainClient.Db()["users"].InsertOne(mm::Document{{"name", "Alice"}});
  cacheClient.Db()["entries"].InsertOne(mm::Document{{"k", "v"}});
  analyticsClient.Db()["events"].InsertOne(mm::Document{{"n", 1}});
  int analytics_pid = analyticsClient.worker_bridge()->pid();

  mainClient.Close();
  cacheClient.Close();
  sharedBridge->Terminate();
  analyticsClient.Close();
  EXPECT_TRUE(WaitGone(analytics_pid, milliseconds(2000)));
}

TEST(LifecycleTest, SameNamedCollectionsInTwoDatabasesAreSeparate) {
  TempDir dir;
  auto bridge = mm::WorkerBridge::Create(InDir(dir));
  mm::MongoClient c1("mongodb://localhost/db1", {.worker_bridge = bridge});
  mm::MongoClient c2("mongodb://localhost/db2", {.worker_bridge = bridge});
  c1.Db()["users"].InsertOne(mm::Document{{"_id", 1}, {"who", "db1"}});
  c2.Db()["users"].InsertOne(mm::Document{{"_id", 1}, {"who", "db2"}});  // no conflict
  EXPECT_EQ(c1.Db()["users"].FindOne()->GetString("who"), "db1");
  EXPECT_EQ(c2.Db()["users"].FindOne()->GetString("who"), "db2");
  c2.Db()["users"].Drop();
  EXPECT_EQ(c1.Db()["users"].CountDocuments(), 1);
}

TEST(LifecycleTest, DataSurvivesTerminateAndANewBridge) {
  TempDir dir;
  {
    auto bridge = mm::WorkerBridge::Create(InDir(dir));
    mm::MongoClient client("mongodb://localhost/app", {.worker_bridge = bridge});
    std::vector<mm::Document> docs;
    for (int i = 0; i < 500; ++i) docs.push_back(mm::Document{{"_id", i}, {"sq", i * i}});
    client.Db()["nums"].InsertMany(docs);
    client.Db()["nums"].UpdateOne(mm::Document{{"_id", 7}}, mm::Document{{"$set", mm::Document{{"x", true}}}});
    bridge->Terminate();
  }
  auto bridge = mm::WorkerBridge::Create(InDir(dir));
  mm::MongoClient client("mongodb://localhost/app", {.worker_bridge = bridge});
  EXPECT_EQ(client.Db()["nums"].CountDocuments(), 500);
  EXPECT_EQ(client.Db()["nums"].FindOne(mm::Document{{"_id", 9}})->GetInt32("sq"), 81);
  EXPECT_TRUE(client.Db()["nums"].FindOne(mm::Document{{"_id", 7}})->GetBool("x"));
  EXPECT_EQ(client.ListDatabaseNames(), std::vector<std::string>{"app"});
}

TEST(LifecycleTest, AcknowledgedWritesSurviveKillDashNine) {
  TempDir dir;
  auto bridge = mm::WorkerBridge::Create(InDir(dir));
  mm::MongoClient client("mongodb://localhost/app", {.worker_bridge = bridge});
  for (int i = 0; i < 100; ++i) client.Db()["c"].InsertOne(mm::Document{{"_id", i}});
  kill(bridge->pid(), SIGKILL);
  EXPECT_TRUE(WaitGone(bridge->pid(), milliseconds(2000)));
  auto again = mm::WorkerBridge::Create(InDir(dir));
  mm::MongoClient client2("mongodb://localhost/app", {.worker_bridge = again});
  EXPECT_EQ(client2.Db()["c"].CountDocuments(), 100);
}

TEST(LifecycleTest, SecondWorkerOnAHeldDatabaseGetsAClearError) {
  TempDir dir;
  auto first = mm::WorkerBridge::Create(InDir(dir));
  mm::MongoClient a("mongodb://localhost/shared", {.worker_bridge = first});
  a.Db()["c"].InsertOne(mm::Document{{"x", 1}});
  auto second = mm::WorkerBridge::Create(InDir(dir));
  mm::MongoClient b("mongodb://localhost/shared", {.worker_bridge = second});
  try {
    b.Db()["c"].InsertOne(mm::Document{{"x", 2}});
    FAIL() << "second worker wrote to a database the first one holds";
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 46);
    EXPECT_EQ(e.code_name(), "LockBusy");
    std::string what = e.what();
    EXPECT_NE(what.find("'shared'"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(first->pid())), std::string::npos) << what;
  }
  // Other databases of the same data root are free for the second worker.
  b.Db("other")["c"].InsertOne(mm::Document{{"x", 3}});
  EXPECT_EQ(a.Db()["c"].CountDocuments(), 1);
}

TEST(LifecycleTest, KilledWorkerFailsCallsFastAndIsNotAlive) {
  TempDir dir;
  auto bridge = mm::WorkerBridge::Create(InDir(dir));
  mm::MongoClient client("mongodb://localhost/app", {.worker_bridge = bridge});
  client.Db()["c"].InsertOne(mm::Document{{"x", 1}});
  kill(bridge->pid(), SIGKILL);
  ASSERT_TRUE(WaitGone(bridge->pid(), milliseconds(2000)));
  auto took = TimeIt([&] {
    try {
      client.Db()["c"].CountDocuments();
      ADD_FAILURE() << "call to a killed worker succeeded";
    } catch (const mm::WorkerError& e) {
      EXPECT_NE(std::string(e.what()).find("worker died"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("signal 9"), std::string::npos) << e.what();
    }
  });
  EXPECT_LT(took, milliseconds(3000));
  EXPECT_FALSE(bridge->IsAlive());
}

TEST(LifecycleTest, WorkersExitWhenTheApplicationIsKilled) {
  // A separate application process spawns a worker, reports its pid, then is SIGKILLed.
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  TempDir dir;
  std::string helper = MM_SPAWN_HELPER;
  char* argv[] = {helper.data(), const_cast<char*>(dir.path().c_str()), nullptr};
  pid_t app = -1;
  ASSERT_EQ(posix_spawn(&app, helper.c_str(), &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  int worker_pid = 0;
  char address[512] = {};
  ASSERT_EQ(fscanf(f, "%d %511s", &worker_pid, address), 2);
  fclose(f);
  // unix:/tmp/micromongo-XXXXXX/worker.sock -> the bridge's private runtime directory
  std::filesystem::path runtime_dir = std::filesystem::path(address + 5).parent_path();
  ASSERT_TRUE(std::filesystem::exists(runtime_dir)) << runtime_dir;
  ASSERT_TRUE(mm::testing::ProcessRunning(worker_pid));
  kill(app, SIGKILL);
  waitpid(app, nullptr, 0);
  EXPECT_TRUE(WaitGone(worker_pid, milliseconds(5000)));
  // Nobody else is left to remove the runtime directory: the orphaned worker did.
  EXPECT_FALSE(std::filesystem::exists(runtime_dir)) << runtime_dir;
}

TEST(LifecycleTest, CreateWithNoOptionsWorksFromAnyDirectory) {
  TempDir dir;
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  {
    auto bridge = mm::WorkerBridge::Create();
    mm::MongoClient client("mongodb://localhost/mydb", {.worker_bridge = bridge});
    client.Db()["users"].InsertOne(mm::Document{{"name", "Alice"}});
    EXPECT_EQ(client.Db()["users"].CountDocuments(), 1);
    bridge->Terminate();
  }
  std::filesystem::current_path(cwd);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/micromongo-data/mydb"));
}

TEST(LifecycleTest, BrokenServerFailsFastQuotingItsError) {
  TempDir dir;
  std::string script = dir.Sub("broken-server.sh");
  {
    std::ofstream s(script);
    s << "#!/bin/sh\necho 'fatal: cannot open the frobnicator' >&2\nexit 3\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  auto took = TimeIt([&] {
    try {
      mm::WorkerBridge::Create({.server_path = script});
      ADD_FAILURE() << "Create() with a broken server succeeded";
    } catch (const mm::WorkerError& e) {
      std::string what = e.what();
      EXPECT_NE(what.find("cannot open the frobnicator"), std::string::npos) << what;
      EXPECT_NE(what.find("exited with status 3"), std::string::npos) << what;
    }
  });
  EXPECT_LT(took, milliseconds(3000));
  EXPECT_THROW(mm::WorkerBridge::Create({.server_path = dir.Sub("missing")}), mm::WorkerError);
  // A server that cannot use its data directory says why.
  std::ofstream(dir.Sub("file")) << "x";
  try {
    mm::WorkerBridge::Create({.data_dir = dir.Sub("file")});
    ADD_FAILURE() << "Create() on a data dir that is a file succeeded";
  } catch (const mm::WorkerError& e) {
    EXPECT_NE(std::string(e.what()).find("data directory"), std::string::npos) << e.what();
  }
}

TEST(LifecycleTest, AttachedBridgeOnlyDisconnects) {
  TempDir dir;
  auto owner = mm::WorkerBridge::Create(InDir(dir));
  auto attached = mm::WorkerBridge::Connect(owner->address());
  EXPECT_FALSE(attached->owns_worker());
  EXPECT_EQ(attached->pid(), 0);
  mm::MongoClient client("mongodb://localhost/app", {.worker_bridge = attached});
  client.Db()["c"].InsertOne(mm::Document{{"x", 1}});
  attached->Terminate();
  EXPECT_THROW(client.Db()["c"].CountDocuments(), mm::WorkerError);
  EXPECT_TRUE(owner->IsAlive());
  mm::MongoClient direct("mongodb://localhost/app", {.worker_bridge = owner});
  EXPECT_EQ(direct.Db()["c"].CountDocuments(), 1);
  EXPECT_THROW(mm::WorkerBridge::Connect("unix:" + dir.Sub("nobody.sock"), milliseconds(200)),
               mm::WorkerError);
}

TEST(LifecycleTest, OneClientIsSafeFromManyThreads) {
  TempDir dir;
  auto bridge = mm::WorkerBridge::Create(InDir(dir));
  mm::MongoClient client("mongodb://localhost/app", {.worker_bridge = bridge});
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto coll = client.Db()["c"];
        for (int i = 0; i < 100; ++i) {
          coll.InsertOne(mm::Document{{"t", t}, {"i", i}});
          if (i % 10 == 0) coll.CountDocuments(mm::Document{{"t", t}});
        }
      } catch (const std::exception& e) {
        ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(client.Db()["c"].CountDocuments(), 800);
  EXPECT_EQ(client.Db()["c"].CountDocuments(mm::Document{{"t", 3}}), 100);
}

// Each thread waits for its calls' replies on a completion queue of its own (polling it
// before it blocks), created at its first call and drained when the thread exits.
TEST(LifecycleTest, CallsFromShortLivedThreadsAndAfterFailuresAndSlowCalls) {
  TempDir dir;
  auto bridge = mm::WorkerBridge::Create(InDir(dir));
  mm::MongoClient client("mongodb://localhost/app", {.worker_bridge = bridge});
  mm::Collection coll = client.Db()["c"];
  for (int i = 0; i < 64; ++i) {
    std::thread([&, i] { coll.InsertOne(mm::Document{{"_id", i}}); }).join();
  }
  EXPECT_EQ(coll.CountDocuments(), 64);
  // A call that the worker fails, then the next call on the same thread.
  EXPECT_THROW(coll.InsertOne(mm::Document{{"_id", 0}}), mm::Error);
  EXPECT_THROW(client.Db()["c"].Aggregate({mm::Document{{"$nope", 1}}}), mm::Error);
  EXPECT_EQ(coll.CountDocuments(), 64);
  // Calls that take far longer than a reply is polled for.
  std::vector<mm::Document> many;
  for (int i = 64; i < 50'000; ++i) many.push_back(mm::Document{{"_id", i}, {"pad", std::string(100, 'x')}});
  coll.InsertMany(many);
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(coll.Find(mm::Document{}).ToVector().size(), 50'000u);
    EXPECT_EQ(coll.FindOne(mm::Document{{"_id", 7}})->Get("_id"), mm::Value(7));
  }
  // After Terminate a call fails with WorkerError before anything is sent.
  bridge->Terminate();
  EXPECT_THROW(coll.CountDocuments(), mm::WorkerError);
}

}  // namespace
