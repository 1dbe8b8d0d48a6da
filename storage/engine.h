#pragma once

// The storage engine of one worker: a data root holding one directory per database.
// Databases open lazily, share the KvEnv's cache and threads, and are locked against
// other worker processes while open. Thread-safe.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/cross_commit.h"
#include "storage/database.h"
#include "storage/kv.h"

namespace micromongo::storage {

struct EngineOptions {
  std::string data_dir = "./micromongo-data";
  KvOptions kv;
  // Called once per database as it opens, before anyone uses it: the server rebuilds the
  // indexes whose format (IndexDef::format) predates kIndexFormat (storage does not know
  // how index keys are made). Its error fails the open.
  std::function<absl::Status(Database*)> on_open;
};

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();

  // The open database `name`. If it does not exist: created when `create`, else nullptr.
  // Fails with 46 (LockBusy) if another worker holds its directory.
  absl::StatusOr<std::shared_ptr<Database>> GetDatabase(std::string_view name, bool create);
  std::vector<std::string> DatabaseNames();
  // Opens and closes again every database of the data root that no worker holds, so that
  // damage shows at startup, as MongoDB checks its files when it starts (databases stay
  // free for whichever worker uses them first): the first failure names the database and
  // says to run --repair. Also fails for a directory that holds table files but lost its
  // CURRENT file (opening it would silently start an empty store beside them).
  absl::Status CheckAll();
  // The subdirectories of the data root that hold a store or the remains of one.
  std::vector<std::string> StoreDirectories();
  // micromongo-server --repair: rebuilds the store of database `name` (not open yet) from
  // its readable files (KvEnv::Repair). The caller then opens it and rebuilds its indexes.
  absl::Status RepairDatabase(std::string_view name);
  // Every database of the data root, opened (also those without collections: a dropped
  // database still holds its change log).
  std::vector<std::shared_ptr<Database>> AllDatabases();
  // The databases open now.
  std::vector<std::shared_ptr<Database>> OpenDatabases();
  // Drops every collection of the database (false if it did not exist). Its store stays on
  // disk, holding the change log that change streams read; its memory is given back as
  // soon as nothing uses it (CloseUnusedEmpty).
  absl::StatusOr<bool> DropDatabase(std::string_view name);
  // Closes the open databases that have no collections and that nothing but the engine
  // holds (no cursor, change stream or operation): each open store keeps a few MiB, and a
  // worker whose clients create and drop databases would otherwise keep every one it ever
  // saw. The next GetDatabase opens such a database again.
  void CloseUnusedEmpty();
  // While the returned token lives, CloseUnusedEmpty closes nothing. A change stream over
  // every database reads the open ones between its polls; a database created, written
  // and dropped in between must stay open until the stream has read its events.
  std::shared_ptr<void> KeepDatabasesOpen();
  uint64_t DiskBytes();

  struct BackupProgress {
    std::string database;     // the database just copied
    int databases_done = 0;
    int databases_total = 0;
    uint64_t bytes = 0;       // the copy's bytes so far
  };
  // An online backup: a checkpoint of every database into `dir`/<database> (`dir` must
  // not exist or be empty, outside the data root), all as of one instant: every write
  // acknowledged before it and none after. Writers wait while the checkpoints are taken
  // (table files hard-linked, write-ahead logs copied); readers do not. A worker started
  // on `dir` serves the copy. `progress` is called for each database copied.
  absl::Status Backup(const std::string& dir,
                      const std::function<void(const BackupProgress&)>& progress);
  const std::string& data_dir() const { return options_.data_dir; }
  // Orders the change events of every database (storage/change_clock.h).
  ChangeClock& change_clock() { return *clock_; }

 private:
  explicit Engine(const EngineOptions& options);
  EngineOptions options_;
  CommitGate commit_gate_;  // before env_, whose stores read it
  // CheckAll: a store whose creation a kill cut short (a first manifest, no CURRENT, no
  // log or table file) has its manifest removed; true if so.
  static bool ClearCreationCutShort(const std::string& dir);
  std::unique_ptr<KvEnv> env_;
  std::unique_ptr<CrossCommitter> cross_;
  std::shared_ptr<ChangeClock> clock_ = std::make_shared<ChangeClock>();
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Database>, std::less<>> open_;
  // Databases CloseUnusedEmpty closed, empty, and not opened since: DatabaseNames does not
  // open them again to see that they are empty.
  std::set<std::string, std::less<>> closed_empty_;
  std::atomic<int> keep_open_{0};  // KeepDatabasesOpen tokens alive
};

}  // namespace micromongo::storage
