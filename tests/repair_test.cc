// Damaged data files: the server refuses to start with the database named and --repair
// suggested; `micromongo-server --repair` rebuilds the store, its indexes and counts, and the
// data is served again.

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

#include "test_util.h"

namespace micromongo {
namespace {

using testing::TempDir;

// Runs the server on `data` until it serves (returns its pid) or exits (returns 0).
int StartServer(const TempDir& dir, const std::string& log) {
  std::string cmd = std::string(MM_SERVER) + " --data-dir " + dir.Sub("data") + " --listen unix:" +
                    dir.Sub("s.sock") + " 2> " + log + " & echo $!";
  FILE* p = popen(cmd.c_str(), "r");
  int pid = 0;
  if (fscanf(p, "%d", &pid) != 1) pid = 0;
  pclose(p);
  for (int i = 0; i < 500; ++i) {
    if (testing::ReadFileText(log).find("Waiting for connections") != std::string::npos) return pid;
    if (!testing::ProcessRunning(pid)) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pid;
}

void StopServer(int pid) {
  kill(pid, SIGTERM);
  testing::WaitGone(pid, std::chrono::seconds(10));
}

int RunRepair(const TempDir& dir, const std::string& log) {
  int rc = std::system((std::string(MM_SERVER) + " --repair --data-dir " + dir.Sub("data") + " 2> " + log).c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Starts a server on `dir`, runs `use` on its app.people collection, stops the server.
void WithPeople(const TempDir& dir, const std::string& log, const std::function<void(Collection&)>& use) {
  int pid = StartServer(dir, log);
  ASSERT_GT(pid, 0) << testing::ReadFileText(log);
  {
    auto bridge = WorkerBridge::Connect("unix:" + dir.Sub("s.sock"));
    MongoClient client("mongodb://localhost/app", {.worker_bridge = bridge});
    Collection people = client.Db()["people"];
    use(people);
  }
  StopServer(pid);
}

void ExpectServed(const TempDir& dir, int expected) {
  WithPeople(dir, dir.Sub("serve.log"), [&](Collection& people) {
    EXPECT_EQ(people.CountDocuments(), expected);
    EXPECT_EQ(people.CountDocuments(Document{{"age", Document{{"$gte", 0}}}}, {.hint = Hint("age_1")}), expected);
    EXPECT_TRUE(people.Validate({.full = true}).Get("valid").AsBool());
  });
}

class RepairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WithPeople(dir_, dir_.Sub("first.log"), [](Collection& people) {
      people.CreateIndex(Document{{"age", 1}});
      std::vector<Document> docs;
      for (int i = 0; i < 200; ++i) docs.push_back(Document{{"_id", i}, {"age", i % 90}});
      people.InsertMany(docs);
    });
  }
  std::string StoreFile(const std::string& prefix) {
    for (const auto& f : std::filesystem::directory_iterator(dir_.Sub("data/app"))) {
      if (f.path().filename().string().rfind(prefix, 0) == 0) return f.path().string();
    }
    return "";
  }
  TempDir dir_;
};

TEST_F(RepairTest, LostCurrentFile) {
  ExpectServed(dir_, 200);
  ASSERT_TRUE(std::filesystem::remove(dir_.Sub("data/app/CURRENT")));
  std::string log = dir_.Sub("refused.log");
  EXPECT_EQ(StartServer(dir_, log), 0) << "started on a damaged store";
  std::string text = testing::ReadFileText(log);
  EXPECT_NE(text.find("database 'app'"), std::string::npos) << text;
  EXPECT_NE(text.find("--repair"), std::string::npos) << text;
  EXPECT_EQ(RunRepair(dir_, dir_.Sub("repair.log")), 0) << testing::ReadFileText(dir_.Sub("repair.log"));
  EXPECT_NE(testing::ReadFileText(dir_.Sub("repair.log")).find("Repaired collection"), std::string::npos);
  ExpectServed(dir_, 200);
}

TEST_F(RepairTest, CorruptManifest) {
  std::string manifest = StoreFile("MANIFEST-");
  ASSERT_FALSE(manifest.empty());
  {
    std::fstream f(manifest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    std::string garbage(64, '\xA5');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  std::string log = dir_.Sub("refused.log");
  EXPECT_EQ(StartServer(dir_, log), 0) << "started on a corrupt MANIFEST";
  std::string text = testing::ReadFileText(log);
  EXPECT_NE(text.find("database 'app'"), std::string::npos) << text;
  EXPECT_NE(text.find("--repair"), std::string::npos) << text;
  EXPECT_EQ(RunRepair(dir_, dir_.Sub("repair.log")), 0) << testing::ReadFileText(dir_.Sub("repair.log"));
  ExpectServed(dir_, 200);
}

}  // namespace
}  // namespace micromongo
