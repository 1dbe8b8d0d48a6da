#include "storage/engine.h"

#include <filesystem>

#include "document/status.h"
#include "storage/dir_lock.h"
#include "storage/namespace.h"

namespace micromongo::storage {

namespace fs = std::filesystem;

Engine::Engine(const EngineOptions& options)
    : options_(options), env_(KvEnv::Create(options.kv)) {}

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
  auto db = Database::Open(std::string(name), *std::move(kv), *std::move(lock), clock_);
  if (!db.ok()) return db.status();
  std::shared_ptr<Database> shared = *std::move(db);
  if (options_.on_open) {
    if (auto s = options_.on_open(shared.get()); !s.ok()) return s;
  }
  open_.emplace(std::string(name), shared);
  return shared;
}

std::vector<std::string> Engine::DatabaseNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.data_dir, ec)) {
    if (!entry.is_directory(ec) || !fs::exists(entry.path() / "CURRENT", ec)) continue;
    std::string name = entry.path().filename().string();
    auto db = GetDatabase(name, /*create=*/false);
    if (db.ok() && *db != nullptr && !(*db)->CollectionNames().empty()) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
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
  // The instance stays open (cursors and in-flight operations may hold it); dropping every
  // collection empties it, and a database without collections is not listed, as in MongoDB.
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
  return dropped;
}

uint64_t Engine::DiskBytes() {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(options_.data_dir, ec)) {
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  }
  return total;
}

}  // namespace micromongo::storage
