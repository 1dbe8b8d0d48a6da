#pragma once

// Helpers for end-to-end tests: temporary directories and process checks.

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <micromongo/micromongo.h>

namespace micromongo::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mm-e2e-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The whole content of a text file ("" if it cannot be read).
inline std::string ReadFileText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The MongoDB code of the micromongo::Error that `f` throws (0 if it throws none).
inline int ErrorCodeOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return 0;
}

// True while `pid` exists and is not a zombie.
// The int32 _ids of a cursor's documents, as a set or in the order returned.
inline std::set<int> Ids(Cursor cursor) {
  std::set<int> ids;
  for (const Document& d : cursor) ids.insert(d.Get("_id").AsInt32());
  return ids;
}

// The listCollections entry of `name` ({name, type, options, ...}); {missing: true} when
// there is none.
inline Document CollectionListing(const Database& db, const std::string& name) {
  for (const Document& c : db.ListCollections()) {
    if (c.GetString("name") == name) return c;
  }
  return Document{{"missing", true}};
}

inline std::vector<int> IdsInOrder(Cursor cursor) {
  std::vector<int> ids;
  for (const Document& d : cursor) ids.push_back(d.Get("_id").AsInt32());
  return ids;
}

inline bool ProcessRunning(int pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

// Waits up to `timeout` for `pid` to be gone.
inline bool WaitGone(int pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ProcessRunning(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// `server` (a micromongo-server binary) started by hand on the unix socket `socket` over
// `data_dir`, its output discarded, as an operator would start it; returns its pid once the
// socket exists (or after 20 s). The caller stops it (SIGTERM, then waitpid).
inline pid_t SpawnServerOnSocket(const char* server, const std::string& socket,
                                 const std::string& data_dir) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(server, server, "--listen", ("unix:" + socket).c_str(), "--data-dir", data_dir.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Callers connect once the socket exists: a channel that failed to connect waits out a
  // reconnect backoff.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (access(socket.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pid;
}

// A test suite sharing one worker; each test gets a collection named after itself in
// database `Db`.
template <const char* Db>
class WorkerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    bridge_ = new std::shared_ptr<WorkerBridge>(WorkerBridge::Create({.data_dir = dir_->path()}));
  }
  static void TearDownTestSuite() {
    (*bridge_)->Terminate();
    delete bridge_;
    delete dir_;
  }
  void SetUp() override {
    client_ = std::make_unique<MongoClient>(std::string("mongodb://localhost/") + Db,
                                            ClientOptions{.worker_bridge = *bridge_});
    coll_ = std::make_unique<Collection>(
        client_->Db()[::testing::UnitTest::GetInstance()->current_test_info()->name()]);
  }
  static inline TempDir* dir_ = nullptr;
  static inline std::shared_ptr<WorkerBridge>* bridge_ = nullptr;
  std::unique_ptr<MongoClient> client_;
  std::unique_ptr<Collection> coll_;
};

}  // namespace micromongo::testing
