#include "storage/engine.h"

#include "absl/strings/match.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <shared_mutex>

#include "document/status.h"
#include "storage/dir_lock.h"
#include "storage/key_codec.h"
#include "storage/namespace.h"
#include "storage/transaction.h"

namespace micromongo::storage {

namespace fs = std::filesystem;

namespace {

KvOptions WithGate(KvOptions kv, const CommitGate* gate) {
  kv.commit_gate = gate;
  kv.record_cache_prefix = std::string(1, kRecordPrefix);
  kv.write_stream = WriteStreamPrefix;
  kv.file_group = FileGroupPrefix;
  return kv;
}

}  // namespace

Engine::Engine(const EngineOptions& options)
    : options_(options),
      env_(KvEnv::Create(WithGate(options.kv, &commit_gate_))),
      cross_(std::make_unique<CrossCommitter>((fs::path(options.data_dir) / ".transactions").string(),
                                              &commit_gate_, options.kv.sync_writes)) {
  cross_->SetOpenDatabases([this] { return OpenDatabases(); });
}

Engine::~Engine() {
  std::lock_guard<std::mutex> l(mu_);
  open_.clear();
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  if (ec) {
    return MongoError(kInternalError,
                      StrCat("cannot create data directory ", options.data_dir, ": ", ec.message()));
  }
  return std::unique_ptr<Engine>(new Engine(options));
}

absl::StatusOr<std::shared_ptr<Database>> Engine::GetDatabase(std::string_view name, bool create) {
  if (auto s = ValidateDatabaseName(name); !s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  auto it = open_.find(name);
  if (it != open_.end()) return it->second;
  std::string dir = (fs::path(options_.data_dir) / std::string(name)).string();
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (!create) return std::shared_ptr<Database>();
    fs::create_directories(dir, ec);
    if (ec) return MongoError(kInternalError, StrCat("cannot create ", dir, ": ", ec.message()));
  }
  auto lock = DirLock::Acquire(dir, StrCat("database '", name, "'"));
  if (!lock.ok()) return lock.status();
  auto kv = env_->Open(dir);
  if (!kv.ok()) return kv.status();
  // Opening is no part of the caller's transaction (a statement's first use of a database
  // opens it): on_open's index rebuilds read the store itself, and a transaction's first
  // read would ask this engine for its open databases, under mu_.
  TransactionScope unbound(nullptr);
  auto db = Database::Open(std::string(name), *std::move(kv), *std::move(lock), clock_, cross_.get());
  if (!db.ok()) return db.status();
  std::shared_ptr<Database> shared = *std::move(db);
  if (options_.on_open) {
    if (auto s = options_.on_open(shared.get()); !s.ok()) return s;
  }
  // Counted before it is listed among the open databases (both under mu_): transactions
  // whose snapshots were taken before read it as it is now.
  shared->MarkOpened(cross_->DatabaseOpened());
  open_.emplace(std::string(name), shared);
  if (auto e = closed_empty_.find(name); e != closed_empty_.end()) closed_empty_.erase(e);
  return shared;
}

std::vector<std::string> Engine::DatabaseNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.data_dir, ec)) {
    if (!entry.is_directory(ec) || !fs::exists(entry.path() / "CURRENT", ec)) continue;
    std::string name = entry.path().filename().string();
    {
      std::lock_guard<std::mutex> l(mu_);
      if (closed_empty_.contains(name)) continue;
    }
    auto db = GetDatabase(name, /*create=*/false);
    if (db.ok() && *db != nullptr && !(*db)->CollectionNames().empty()) names.push_back(name);
  }
  CloseUnusedEmpty();  // the empty ones just opened to look at them
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> Engine::StoreDirectories() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.data_dir, ec)) {
    if (!entry.is_directory(ec)) continue;
    bool store = false;
    for (const auto& file : fs::directory_iterator(entry.path(), ec)) {
      std::string f = file.path().filename().string();
      store = store || f == "CURRENT" || f.rfind("MANIFEST-", 0) == 0 ||
              (f.size() > 4 && (f.substr(f.size() - 4) == ".sst" || f.substr(f.size() - 4) == ".log"));
    }
    if (store) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool Engine::ClearCreationCutShort(const std::string& dir) {
  // RocksDB creates a store by writing MANIFEST-000001, then CURRENT; a worker killed in
  // between leaves a manifest and nothing else. No write log and no table file: nothing
  // was ever written to it, so it is cleared and created again when next used. Only with
  // the directory's lock: a worker holding it may be creating the store right now.
  std::error_code ec;
  std::vector<fs::path> manifests;
  for (const auto& file : fs::directory_iterator(dir, ec)) {
    std::string f = file.path().filename().string();
    bool table_or_log = f.size() > 4 && (f.substr(f.size() - 4) == ".sst" || f.substr(f.size() - 4) == ".log");
    if (table_or_log || f == "CURRENT" || (f.rfind("MANIFEST-", 0) == 0 && f != "MANIFEST-000001")) return false;
    if (f == "MANIFEST-000001") manifests.push_back(file.path());
  }
  if (ec || manifests.empty()) return false;
  auto lock = DirLock::Acquire(dir, "a database created when its worker stopped");
  if (!lock.ok()) return false;
  for (const fs::path& m : manifests) {
    if (!fs::remove(m, ec) || ec) return false;
  }
  return true;
}

absl::Status Engine::CheckAll() {
  // Databases another worker holds: commits across databases that name one of them may
  // still need their decisions.
  std::set<std::string, std::less<>> unchecked;
  for (const std::string& name : StoreDirectories()) {
    std::string dir = (fs::path(options_.data_dir) / name).string();
    std::error_code ec;
    if (!fs::exists(fs::path(dir) / "CURRENT", ec) && ClearCreationCutShort(dir)) continue;
    if (!fs::exists(fs::path(dir) / "CURRENT", ec)) {
      return MongoError(kDataCorruptionDetected,
                        StrCat("database '", name, "' (", dir, ") has table files but no CURRENT "
                               "file: run micromongo-server --repair"));
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      if (open_.count(name) > 0) continue;
    }
    // A database another worker holds is that worker's to check (it opened it).
    auto lock = DirLock::Acquire(dir, StrCat("database '", name, "'"));
    if (!lock.ok() && MongoCodeOf(lock.status()) == kLockBusy) {
      unchecked.insert(name);
      continue;
    }
    absl::Status s = lock.status();
    if (s.ok()) {
      auto kv = env_->Open(dir);
      s = kv.status();
      if (kv.ok()) s = Database::Open(name, *std::move(kv), *std::move(lock), clock_, cross_.get()).status();
    }
    if (!s.ok()) {
      return MongoError(MongoCodeOf(s),
                        StrCat("cannot open database '", name, "' (", dir, "): ", s.message(),
                               absl::StrContains(s.message(), "--repair")
                                   ? ""
                                   : " (if its files are damaged, run micromongo-server --repair)"));
    }
  }
  // Every database not held elsewhere has resolved its pending commits (at its open).
  cross_->RemoveResolved(unchecked);
  return absl::OkStatus();
}

absl::Status Engine::RepairDatabase(std::string_view name) {
  std::string dir = (fs::path(options_.data_dir) / std::string(name)).string();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (open_.count(name) > 0) {
      return MongoError(kIllegalOperation, StrCat("database '", name, "' is open"));
    }
  }
  auto lock = DirLock::Acquire(dir, StrCat("database '", name, "'"));
  if (!lock.ok()) return lock.status();
  if (auto s = env_->Repair(dir); !s.ok()) return s;
  // Records in unreadable files are gone: the statistics are counted again when it opens.
  auto kv = env_->Open(dir);
  if (!kv.ok()) return kv.status();
  return Database::DiscardStats(kv->get());
}

std::vector<std::shared_ptr<Database>> Engine::AllDatabases() {
  std::vector<std::shared_ptr<Database>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.data_dir, ec)) {
    if (!entry.is_directory(ec) || !fs::exists(entry.path() / "CURRENT", ec)) continue;
    auto db = GetDatabase(entry.path().filename().string(), /*create=*/false);
    if (db.ok() && *db != nullptr) out.push_back(*std::move(db));
  }
  return out;
}

std::vector<std::shared_ptr<Database>> Engine::OpenDatabases() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::shared_ptr<Database>> out;
  for (const auto& [name, db] : open_) out.push_back(db);
  return out;
}

absl::StatusOr<bool> Engine::DropDatabase(std::string_view name) {
  auto db = GetDatabase(name, /*create=*/false);
  if (!db.ok()) return db.status();
  if (*db == nullptr) return false;
  // Cursors and in-flight operations may hold the instance: dropping every collection
  // empties it, and a database without collections is not listed, as in MongoDB.
  bool dropped = false;
  for (const std::string& c : (*db)->CollectionNames()) {
    auto r = (*db)->DropCollection(c);
    if (!r.ok()) return r.status();
    dropped = dropped || *r;
  }
  // After the drop event of each collection, as MongoDB's change streams show it.
  if (dropped) {
    if (auto s = (*db)->LogDropDatabase(); !s.ok()) return s;
  }
  db->reset();
  CloseUnusedEmpty();
  return dropped;
}

std::shared_ptr<void> Engine::KeepDatabasesOpen() {
  keep_open_.fetch_add(1, std::memory_order_acq_rel);
  return std::shared_ptr<void>(static_cast<void*>(this), [](void* engine) {
    static_cast<Engine*>(engine)->keep_open_.fetch_sub(1, std::memory_order_acq_rel);
  });
}

void Engine::CloseUnusedEmpty() {
  // Under the lock: GetDatabase cannot hand the instance out meanwhile, nor open the
  // directory again before this instance has released its lock.
  std::lock_guard<std::mutex> l(mu_);
  if (keep_open_.load(std::memory_order_acquire) > 0) return;
  for (auto it = open_.begin(); it != open_.end();) {
    if (it->second.use_count() == 1 && it->second->CollectionNames().empty()) {
      closed_empty_.insert(it->first);
      it = open_.erase(it);
    } else {
      ++it;
    }
  }
}

uint64_t Engine::DiskBytes() {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(options_.data_dir, ec)) {
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  }
  return total;
}

namespace {

uint64_t TreeBytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  }
  return total;
}

}  // namespace

absl::Status Engine::Backup(const std::string& dir,
                            const std::function<void(const BackupProgress&)>& progress) {
  if (dir.empty()) return MongoError(kBadValue, "backup: the target directory is empty");
  std::error_code ec;
  fs::path target = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  fs::path root = fs::weakly_canonical(fs::absolute(options_.data_dir, ec), ec);
  // A copy inside the data root would be taken for part of it (and copy itself next time).
  auto [r, t] = std::mismatch(root.begin(), root.end(), target.begin(), target.end());
  if (r == root.end()) {
    return MongoError(kBadValue, StrCat("backup: ", dir, " is inside the data directory ",
                                        options_.data_dir));
  }
  if (fs::exists(target, ec) && !fs::is_empty(target, ec)) {
    return MongoError(kBadValue, StrCat("backup: ", dir, " exists and is not empty"));
  }
  fs::create_directories(target, ec);
  if (ec) {
    return MongoError(kInternalError, StrCat("backup: cannot create ", dir, ": ", ec.message()));
  }
  std::vector<std::shared_ptr<Database>> dbs = AllDatabases();
  std::sort(dbs.begin(), dbs.end(), [](const auto& a, const auto& b) { return a->name() < b->name(); });
  {
    // One instant for every database: with each write gate held (in name order, as
    // nothing else takes two), no write is between its start and its commit anywhere.
    // Checkpoints hard-link table files and copy the write-ahead log: writers wait
    // milliseconds, readers not at all.
    std::vector<std::unique_lock<std::shared_mutex>> gates;
    gates.reserve(dbs.size());
    for (const auto& db : dbs) gates.emplace_back(db->write_gate());
    for (const auto& db : dbs) {
      fs::path copy = target / db->name();
      if (auto s = db->Checkpoint(copy.string()); !s.ok()) {
        return MongoError(kInternalError, StrCat("backup of database '", db->name(), "' into ",
                                                 copy.string(), ": ", s.message()));
      }
    }
  }
  BackupProgress p;
  p.databases_total = static_cast<int>(dbs.size());
  for (const auto& db : dbs) {
    p.database = db->name();
    ++p.databases_done;
    p.bytes += TreeBytes(target / db->name());
    if (progress) progress(p);
  }
  return absl::OkStatus();
}

}  // namespace micromongo::storage
