#include "storage/cross_commit.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "document/status.h"
#include "storage/database.h"
#include "storage/key_codec.h"
#include "storage/transaction.h"

namespace micromongo::storage {

namespace {

namespace fs = std::filesystem;

std::atomic<CrossCommitter::Stop> stop_for_testing{CrossCommitter::Stop::kNone};
std::function<void()> after_decision_for_testing;

// How long a part whose write failed after the decision is tried again.
constexpr std::chrono::seconds kApplyRetryTime{30};

// 128 random bits in hex: a commit's id, unique across workers and restarts.
std::string NewCommitId() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int word = 0; word < 2; ++word) {
    uint64_t bits = rng();
    for (int i = 0; i < 16; ++i, bits >>= 4) id.push_back(kHex[bits & 15]);
  }
  return id;
}

void AppendSized(std::string_view bytes, std::string* out) {
  AppendBigEndian32(static_cast<uint32_t>(bytes.size()), out);
  out->append(bytes);
}

bool ReadSized(std::string_view* in, std::string* out) {
  if (in->size() < 4) return false;
  uint32_t n = ReadBigEndian32(in->data());
  if (in->size() - 4 < n) return false;
  out->assign(in->data() + 4, n);
  in->remove_prefix(4 + n);
  return true;
}

// fsyncs a file or directory; false on failure.
bool SyncPath(const std::string& path, bool directory) {
  int fd = open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

absl::Status Interrupted(std::string_view where) {
  return MongoError(kInternalError, StrCat("commit across databases stopped ", where, " (test failpoint)"));
}

}  // namespace

std::string PendingPart::Encode() const {
  std::string out;
  AppendBigEndian32(static_cast<uint32_t>(databases.size()), &out);
  for (const std::string& db : databases) AppendSized(db, &out);
  AppendBigEndian32(change_count, &out);
  AppendSized(changes, &out);
  for (const Op& op : ops) {
    out.push_back(static_cast<char>(op.kind));
    AppendSized(op.key, &out);
    AppendSized(op.value, &out);
  }
  return out;
}

bool PendingPart::Decode(std::string_view in) {
  if (in.size() < 4) return false;
  uint32_t n = ReadBigEndian32(in.data());
  in.remove_prefix(4);
  databases.assign(n > in.size() ? 0 : n, std::string());
  if (databases.size() != n) return false;
  for (std::string& db : databases) {
    if (!ReadSized(&in, &db)) return false;
  }
  if (in.size() < 4) return false;
  change_count = ReadBigEndian32(in.data());
  in.remove_prefix(4);
  if (!ReadSized(&in, &changes)) return false;
  ops.clear();
  while (!in.empty()) {
    Op op;
    auto kind = static_cast<KvBatch::OpKind>(in[0]);
    if (kind != KvBatch::OpKind::kPut && kind != KvBatch::OpKind::kDelete && kind != KvBatch::OpKind::kDeleteRange &&
        kind != KvBatch::OpKind::kMerge) {
      return false;
    }
    op.kind = kind;
    in.remove_prefix(1);
    if (!ReadSized(&in, &op.key) || !ReadSized(&in, &op.value)) return false;
    ops.push_back(std::move(op));
  }
  return true;
}

CrossCommitter::CrossCommitter(std::string dir, CommitGate* gate, bool sync)
    : dir_(std::move(dir)), gate_(gate), sync_(sync) {}

void CrossCommitter::StopForTesting(Stop at) { stop_for_testing.store(at); }

void CrossCommitter::AfterDecisionForTesting(std::function<void()> fn) { after_decision_for_testing = std::move(fn); }

bool CrossCommitter::Decided(std::string_view id) const {
  std::error_code ec;
  return fs::exists(fs::path(dir_) / std::string(id), ec);
}

absl::Status CrossCommitter::WriteDecision(std::string_view id, const std::vector<std::string>& databases) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return MongoError(kInternalError, StrCat("cannot create ", dir_, ": ", ec.message()));
  // Written whole under a temporary name, then renamed: a decision file is complete or
  // absent.
  std::string path = (fs::path(dir_) / std::string(id)).string(), temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    for (const std::string& db : databases) out << db << '\n';
    out.close();
    if (!out) return MongoError(kInternalError, StrCat("cannot write the commit decision ", temp));
  }
  if (sync_ && !SyncPath(temp, false)) {
    fs::remove(temp, ec);
    return MongoError(kInternalError, StrCat("cannot sync ", temp));
  }
  fs::rename(temp, path, ec);
  if (ec) {
    std::error_code remove_ec;
    fs::remove(temp, remove_ec);
    return MongoError(kInternalError, StrCat("cannot write the commit decision ", path, ": ", ec.message()));
  }
  if (sync_ && !SyncPath(dir_, true)) {
    // Not durable: undone if it can be. A decision that cannot be removed stands (the
    // commit goes on), or a database could apply its part while the others drop theirs.
    if (fs::remove(path, ec) && !ec) return MongoError(kInternalError, StrCat("cannot sync ", dir_));
  }
  return absl::OkStatus();
}

absl::Status CrossCommitter::Commit(std::vector<TransactionPart*> parts) {
  // Locks in database name order, as a backup takes the write gates.
  std::sort(parts.begin(), parts.end(),
            [](const TransactionPart* a, const TransactionPart* b) { return a->db->name() < b->db->name(); });
  std::vector<Database::PreparedCommit> prepared(parts.size());
  std::vector<std::string> names;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (auto s = parts[i]->db->PrepareCommit(parts[i], &prepared[i]); !s.ok()) return s;
    names.push_back(parts[i]->db->name());
  }
  const Stop stop = stop_for_testing.load();
  const std::string id = NewCommitId();
  // Phase 1: every part stored whole, pending.
  for (size_t i = 0; i < parts.size(); ++i) {
    PendingPart pending{.databases = names, .changes = parts[i]->changes, .change_count = parts[i]->change_count};
    prepared[i].batch->ForEach([&](KvBatch::OpKind kind, std::string_view key, std::string_view value) {
      pending.ops.push_back({kind, std::string(key), std::string(value)});
    });
    if (auto s = parts[i]->db->WritePending(id, pending.Encode()); !s.ok()) {
      for (size_t j = 0; j < i; ++j) parts[j]->db->DropPending(id).IgnoreError();
      return s;
    }
  }
  if (stop == Stop::kAfterPrepare) return Interrupted("after its parts were stored");
  // The commit point.
  if (auto s = WriteDecision(id, names); !s.ok()) {
    for (TransactionPart* part : parts) part->db->DropPending(id).IgnoreError();
    return s;
  }
  if (stop == Stop::kAfterDecision) return Interrupted("after its decision");
  if (after_decision_for_testing) after_decision_for_testing();
  // Phase 2: the parts applied together, under times taken at once (no change stream reads
  // past one of them until all are written).
  uint32_t changes = 0;
  std::vector<uint64_t> times;  // each part's first change time
  ChangeClock& clock = parts[0]->db->change_clock();
  for (TransactionPart* part : parts) changes += part->change_count;
  const uint64_t first = changes > 0 ? clock.Reserve(changes) : 0;
  for (uint64_t at = first; TransactionPart* part : parts) {
    times.push_back(at);
    at += part->change_count;
  }
  absl::Status failed;
  std::vector<bool> applied(parts.size(), false);
  {
    CommitGate::Hold hold(gate_);
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i == 1 && stop == Stop::kAfterFirstApply) {
        if (changes > 0) clock.Release(first);
        return Interrupted("after its first part was applied");
      }
      absl::Status s = parts[i]->db->ApplyPrepared(parts[i], &prepared[i], id, times[i]);
      applied[i] = s.ok();
      if (!s.ok()) failed = s;
    }
    // The catalogs show the collections the parts made before any reader goes on (no
    // store is read here).
    for (size_t i = 0; i < parts.size(); ++i) {
      if (applied[i]) parts[i]->db->PublishCommit(parts[i], &prepared[i]);
    }
  }
  // The decision stands. A part that failed (an I/O error, a full disk) is tried again
  // while the transaction still holds its keys, so that nothing newer lands on them
  // first; one that never goes through stays pending, for its database's next open.
  const auto give_up = std::chrono::steady_clock::now() + kApplyRetryTime;
  bool all = true;
  for (size_t i = 0; i < parts.size(); ++i) {
    while (!applied[i] && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      absl::Status s = parts[i]->db->ApplyPrepared(parts[i], &prepared[i], id, times[i]);
      applied[i] = s.ok();
      if (s.ok()) parts[i]->db->PublishCommit(parts[i], &prepared[i]);
      if (!s.ok()) failed = s;
    }
    all = all && applied[i];
  }
  if (changes > 0) clock.Release(first);
  if (!all) return failed;
  std::error_code ec;
  fs::remove(fs::path(dir_) / id, ec);
  return absl::OkStatus();
}

std::vector<std::pair<std::shared_ptr<Database>, std::shared_ptr<const KvSnapshot>>>
CrossCommitter::SnapshotOpenDatabases(uint64_t* opens_before) {
  std::vector<std::pair<std::shared_ptr<Database>, std::shared_ptr<const KvSnapshot>>> snapshots;
  if (opens_before != nullptr) {
    // Counted before the list is read: a database counted by then is listed (it is
    // counted, then listed, under the engine's lock, which the list takes); one that opens
    // later sees this transaction reading and keeps its state at opening.
    std::lock_guard<std::mutex> l(opens_mu_);
    *opens_before = opens_;
    reading_.insert(opens_);
  }
  if (!open_) return snapshots;
  for (;;) {
    uint64_t before = gate_->epoch();
    if (before % 2 == 1) {  // a commit is being applied
      gate_->AwaitOpen();
      continue;
    }
    snapshots.clear();
    for (std::shared_ptr<Database>& db : open_()) {
      std::shared_ptr<const KvSnapshot> snapshot = db->kv_->GetSnapshot();
      snapshots.emplace_back(std::move(db), std::move(snapshot));
    }
    if (gate_->epoch() == before) return snapshots;
  }
}

void CrossCommitter::TransactionEnded(uint64_t opens_before) {
  std::lock_guard<std::mutex> l(opens_mu_);
  auto it = reading_.find(opens_before);
  if (it != reading_.end()) reading_.erase(it);
}

CrossCommitter::Opened CrossCommitter::DatabaseOpened() {
  std::lock_guard<std::mutex> l(opens_mu_);
  return {++opens_, !reading_.empty()};
}

bool CrossCommitter::ReadingSince(uint64_t number) const {
  std::lock_guard<std::mutex> l(opens_mu_);
  return !reading_.empty() && *reading_.begin() < number;
}

void CrossCommitter::RemoveResolved(const std::set<std::string, std::less<>>& unchecked) {
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    bool needed = false;
    if (name.size() < 4 || name.substr(name.size() - 4) != ".tmp") {
      std::ifstream in(entry.path());
      std::string db;
      while (std::getline(in, db)) needed = needed || unchecked.contains(db);
    }
    std::error_code remove_ec;
    if (!needed) fs::remove(entry.path(), remove_ec);
  }
}

}  // namespace micromongo::storage
