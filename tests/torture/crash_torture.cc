// Crash torture: rounds of concurrent writers against a worker that is killed with SIGKILL
// at a random moment, restarted on the same data, and checked.
//
// Each writer thread owns a range of _ids and keeps a model of what its documents must be:
// every acknowledged write is in the model; the one write a thread had in flight when the
// worker died may have happened or not (per document: the state before or after it, never
// anything else). After the restart, every document must be exactly as the model says,
// and MongoDB's validate must find records, index entries (unique, compound, multikey)
// and counts in agreement. Writes of every kind: insertOne, insertMany, updateOne,
// updateMany, replaceOne, deleteOne, deleteMany, ordered bulk writes, findAndModify, and
// writes that must fail (duplicate _id, duplicate unique key, validator) and leave nothing.
// Beside them, transactions that write to two databases (cross_database_writer.h): each
// must be in both or in neither; and retryable writes (retryable_writer.h): a write cut
// by a kill and retried after the restart is applied exactly once.
//
//   crash_torture [--rounds N] [--sync] [--threads T] [--seed S] [--max-run-ms MS]
//                 [--data-dir DIR] [--verbose]
//
// Exit status 0 when every round checked out; 1 with the first difference otherwise (the
// data directory is then kept for inspection).

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <micromongo/micromongo.h>

#include "cross_database_writer.h"
#include "retryable_writer.h"

namespace mm = micromongo;
using mm::Document;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kIdSpace = 400;  // _ids per thread: bounds the collection's size
constexpr const char* kDb = "torture";
constexpr const char* kColl = "c";

struct Options {
  int rounds = 30;
  bool sync = false;
  int threads = 4;
  uint64_t seed = 0;
  int max_run_ms = 400;
  std::string data_dir;
  bool verbose = false;
};

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: crash_torture [--rounds N] [--sync] [--threads T] [--seed S] [--max-run-ms MS]\n"
               "                     [--data-dir DIR] [--verbose]\n");
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--rounds") {
      o.rounds = std::stoi(value());
    } else if (a == "--sync") {
      o.sync = true;
    } else if (a == "--threads") {
      o.threads = std::stoi(value());
    } else if (a == "--seed") {
      o.seed = std::stoull(value());
    } else if (a == "--max-run-ms") {
      o.max_run_ms = std::stoi(value());
    } else if (a == "--data-dir") {
      o.data_dir = value();
    } else if (a == "--verbose") {
      o.verbose = true;
    } else {
      Usage();
    }
  }
  if (o.rounds < 1 || o.threads < 1 || o.max_run_ms < 1) Usage();
  return o;
}

using State = std::optional<Document>;  // nullopt: the document does not exist

// Exact equality: same fields in the same order with the same types and values.
bool Same(const State& a, const State& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a.has_value() || *a == *b;
}

std::string Show(const State& s) { return s.has_value() ? s->ToJson() : "(absent)"; }

// What one thread's documents must be.
struct Model {
  std::map<int64_t, Document> docs;
  // The write in flight when the worker died: per _id, the states it may have left.
  std::map<int64_t, std::vector<State>> pending;
  int64_t version = 0;  // makes every unique key value fresh
  int64_t acknowledged = 0;
};

class Writer {
 public:
  Writer(int thread, uint64_t seed, Model* model, std::atomic<bool>* killed)
      : thread_(thread), rng_(seed), model_(model), killed_(killed) {}

  // Runs writes until the worker dies. Returns an error message for anything but that.
  std::string Run(mm::Collection coll) {
    try {
      while (true) Step(coll);
    } catch (const Died&) {
      return "";
    } catch (const Failure& f) {
      return f.message;
    }
  }

 private:
  struct Died {};
  struct Failure {
    std::string message;
  };

  int64_t Id(int64_t i) const { return thread_ * kIdSpace + i; }
  int64_t RandomId() { return Id(std::uniform_int_distribution<int64_t>(0, kIdSpace - 1)(rng_)); }
  int Rand(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  Document MakeDoc(int64_t id) {
    int64_t ver = ++model_->version;
    mm::Array a;
    for (int i = Rand(4); i > 0; --i) a.emplace_back(static_cast<int32_t>(Rand(50)));
    return Document{{"_id", id},
                    {"t", static_cast<int32_t>(thread_)},
                    {"u", id * 1000000000 + ver},
                    {"v", static_cast<int64_t>(Rand(1000))},
                    {"n", static_cast<int32_t>(0)},
                    {"a", a},
                    {"p", std::string(static_cast<size_t>(Rand(200)), static_cast<char>('a' + Rand(26)))}};
  }
  // The document as an update {$set: {u, v, a}, $inc: {n: 1}} leaves it (fields keep
  // their places), and that update.
  std::pair<Document, Document> Updated(const Document& old) {
    Document fresh = MakeDoc(old.Get("_id").AsInt64());
    Document next;
    for (const auto& [k, v] : old) {
      if (k == "u" || k == "v" || k == "a") {
        next.Append(k, fresh.Get(k));
      } else if (k == "n") {
        next.Append(k, static_cast<int32_t>(v.AsInt32() + 1));
      } else {
        next.Append(k, v);
      }
    }
    Document update{{"$set", Document{{"u", fresh.Get("u")}, {"v", fresh.Get("v")}, {"a", fresh.Get("a")}}},
                    {"$inc", Document{{"n", 1}}}};
    return {next, update};
  }

  State Current(int64_t id) const {
    auto it = model_->docs.find(id);
    return it == model_->docs.end() ? State() : State(it->second);
  }
  void Set(int64_t id, const State& s) {
    if (s.has_value()) {
      model_->docs[id] = *s;
    } else {
      model_->docs.erase(id);
    }
  }

  // Runs a write expected to succeed; on the worker's death, records `outcomes` (per _id:
  // the state before and the state after) as pending and stops the thread.
  template <typename F>
  void Write(const std::map<int64_t, std::pair<State, State>>& outcomes, F&& f) {
    try {
      f();
    } catch (const mm::Error& e) {
      if (!killed_->load()) throw Failure{std::string("unexpected error before the kill: ") + e.what()};
      for (const auto& [id, states] : outcomes) model_->pending[id] = {states.first, states.second};
      throw Died{};
    }
    for (const auto& [id, states] : outcomes) Set(id, states.second);
    ++model_->acknowledged;
  }
  // Runs a write that must fail with `code` and change nothing.
  template <typename F>
  void MustFail(int code, const char* what, F&& f) {
    try {
      f();
    } catch (const mm::Error& e) {
      if (e.code() == code) {
        ++model_->acknowledged;
        return;
      }
      if (killed_->load()) throw Died{};
      throw Failure{std::string(what) + ": expected error " + std::to_string(code) + ", got " + e.what()};
    }
    throw Failure{std::string(what) + ": succeeded but must fail with " + std::to_string(code)};
  }

  // A few distinct _ids: those present in the model or absent, as asked.
  std::vector<int64_t> Pick(int n, bool present) {
    std::set<int64_t> ids;
    for (int tries = 0; tries < 50 && static_cast<int>(ids.size()) < n; ++tries) {
      int64_t id = RandomId();
      if (model_->docs.contains(id) == present) ids.insert(id);
    }
    return {ids.begin(), ids.end()};
  }

  void Step(mm::Collection& coll) {
    switch (Rand(12)) {
      case 0:
      case 1: {  // insertOne
        for (int64_t id : Pick(1, false)) {
          Document d = MakeDoc(id);
          Write({{id, {State(), d}}}, [&] { coll.InsertOne(d); });
        }
        break;
      }
      case 2: {  // insertMany (ordered)
        std::vector<Document> docs;
        std::map<int64_t, std::pair<State, State>> outcomes;
        for (int64_t id : Pick(1 + Rand(8), false)) {
          docs.push_back(MakeDoc(id));
          outcomes[id] = {State(), docs.back()};
        }
        if (!docs.empty()) Write(outcomes, [&] { coll.InsertMany(docs); });
        break;
      }
      case 3: {  // updateOne
        for (int64_t id : Pick(1, true)) {
          auto [next_doc, update_doc] = Updated(model_->docs[id]);
          const Document &next = next_doc, &update = update_doc;
          Write({{id, {Current(id), next}}}, [&] {
            auto r = coll.UpdateOne(Document{{"_id", id}}, update);
            if (r.modified_count != 1) throw Failure{"updateOne modified " + std::to_string(r.modified_count)};
          });
        }
        break;
      }
      case 4: {  // updateMany over a range of this thread's _ids: each document on its own
        int64_t lo = RandomId(), hi = std::min(lo + 1 + Rand(20), Id(kIdSpace));
        std::map<int64_t, std::pair<State, State>> outcomes;
        for (auto it = model_->docs.lower_bound(lo); it != model_->docs.end() && it->first < hi; ++it) {
          Document next;
          for (const auto& [k, v] : it->second) {
            next.Append(k, k == "n" ? mm::Value(static_cast<int32_t>(v.AsInt32() + 1)) : v);
          }
          outcomes[it->first] = {it->second, next};
        }
        Write(outcomes, [&] {
          auto r = coll.UpdateMany(Document{{"_id", Document{{"$gte", lo}, {"$lt", hi}}}},
                                   Document{{"$inc", Document{{"n", 1}}}});
          if (r.modified_count != static_cast<int64_t>(outcomes.size())) {
            throw Failure{"updateMany modified " + std::to_string(r.modified_count) + " of " +
                          std::to_string(outcomes.size())};
          }
        });
        break;
      }
      case 5: {  // replaceOne
        for (int64_t id : Pick(1, true)) {
          Document d = MakeDoc(id);
          Document replacement;
          for (const auto& [k, v] : d) {
            if (k != "_id") replacement.Append(k, v);
          }
          Write({{id, {Current(id), d}}}, [&] { coll.ReplaceOne(Document{{"_id", id}}, replacement); });
        }
        break;
      }
      case 6: {  // deleteOne
        for (int64_t id : Pick(1, true)) {
          Write({{id, {Current(id), State()}}}, [&] {
            if (coll.DeleteOne(Document{{"_id", id}}).deleted_count != 1) throw Failure{"deleteOne deleted nothing"};
          });
        }
        break;
      }
      case 7: {  // deleteMany over a small range
        int64_t lo = RandomId(), hi = std::min(lo + 1 + Rand(6), Id(kIdSpace));
        std::map<int64_t, std::pair<State, State>> outcomes;
        for (auto it = model_->docs.lower_bound(lo); it != model_->docs.end() && it->first < hi; ++it) {
          outcomes[it->first] = {it->second, State()};
        }
        Write(outcomes, [&] {
          auto r = coll.DeleteMany(Document{{"_id", Document{{"$gte", lo}, {"$lt", hi}}}});
          if (r.deleted_count != static_cast<int64_t>(outcomes.size())) throw Failure{"deleteMany count"};
        });
        break;
      }
      case 8: {  // ordered bulk write: inserts, updates, deletes of distinct _ids
        std::vector<mm::WriteModel> models;
        std::map<int64_t, std::pair<State, State>> outcomes;
        for (int64_t id : Pick(1 + Rand(3), false)) {
          Document d = MakeDoc(id);
          models.push_back(mm::InsertOneModel{d});
          outcomes[id] = {State(), d};
        }
        for (int64_t id : Pick(1 + Rand(3), true)) {
          if (Rand(3) == 0) {
            models.push_back(mm::DeleteOneModel{Document{{"_id", id}}});
            outcomes[id] = {Current(id), State()};
          } else {
            auto [next_doc, update_doc] = Updated(model_->docs[id]);
          const Document &next = next_doc, &update = update_doc;
            models.push_back(mm::UpdateOneModel{Document{{"_id", id}}, update});
            outcomes[id] = {Current(id), next};
          }
        }
        if (!models.empty()) Write(outcomes, [&] { coll.BulkWrite(models); });
        break;
      }
      case 9: {  // findAndModify, returning the document after
        for (int64_t id : Pick(1, true)) {
          auto [next_doc, update_doc] = Updated(model_->docs[id]);
          const Document &next = next_doc, &update = update_doc;
          Write({{id, {Current(id), next}}}, [&] {
            auto after = coll.FindOneAndUpdate(Document{{"_id", id}}, update,
                                               {.return_document = mm::ReturnDocument::kAfter});
            if (!Same(after, next)) throw Failure{"findAndModify returned " + Show(after) + ", expected " + Show(next)};
          });
        }
        break;
      }
      case 10: {  // a duplicate _id and a duplicate unique key must fail and change nothing
        for (int64_t id : Pick(1, true)) {
          Document d = MakeDoc(id);
          MustFail(11000, "duplicate _id", [&] { coll.InsertOne(d); });
          for (int64_t other : Pick(1, false)) {
            Document clash = MakeDoc(other);
            Document dup;
            for (const auto& [k, v] : clash) dup.Append(k, k == "u" ? model_->docs[id].Get("u") : v);
            MustFail(11000, "duplicate unique key", [&] { coll.InsertOne(dup); });
          }
        }
        break;
      }
      case 11: {  // the validator refuses a non-numeric v
        for (int64_t id : Pick(1, false)) {
          Document d = MakeDoc(id);
          Document bad;
          for (const auto& [k, v] : d) bad.Append(k, k == "v" ? mm::Value(std::string("not a number")) : v);
          MustFail(121, "validator", [&] { coll.InsertOne(bad); });
        }
        break;
      }
    }
  }

  int thread_;
  std::mt19937_64 rng_;
  Model* model_;
  std::atomic<bool>* killed_;
};

struct Totals {
  int64_t acknowledged = 0;  // acknowledged writes (all checked after the next restart)
  int64_t in_flight = 0;          // writes cut by a kill, resolved one way or the other
  int64_t in_flight_applied = 0;  // documents those writes changed
  int64_t documents_checked = 0;
};

// Checks the restarted worker against the models; resolves pending writes. "" if all is well.
std::string Check(mm::Collection coll, std::vector<Model>* models, Totals* totals) {
  std::map<int64_t, Document> actual;
  for (const Document& d : coll.Find()) actual[d.Get("_id").AsInt64()] = d;
  int64_t expected_total = 0;
  for (Model& m : *models) {
    for (const auto& [id, states] : m.pending) {
      auto it = actual.find(id);
      State got = it == actual.end() ? State() : State(it->second);
      bool ok = false;
      for (const State& s : states) ok = ok || Same(got, s);
      if (!ok) {
        return "_id " + std::to_string(id) + " of a write cut by the kill is " + Show(got) + "; it must be " +
               Show(states[0]) + " or " + Show(states[1]);
      }
      if (!Same(got, states[0])) ++totals->in_flight_applied;
      if (got.has_value()) {
        m.docs[id] = *got;
      } else {
        m.docs.erase(id);
      }
    }
    if (!m.pending.empty()) ++totals->in_flight;
    m.pending.clear();
    for (const auto& [id, doc] : m.docs) {
      auto it = actual.find(id);
      if (it == actual.end()) return "acknowledged document lost: " + doc.ToJson();
      if (!Same(it->second, doc)) return "document is " + it->second.ToJson() + "; acknowledged: " + doc.ToJson();
      ++totals->documents_checked;
    }
    expected_total += static_cast<int64_t>(m.docs.size());
  }
  if (static_cast<int64_t>(actual.size()) != expected_total) {
    for (const auto& [id, doc] : actual) {
      size_t owner = static_cast<size_t>(id / kIdSpace);
      if (id < 0 || owner >= models->size() || !(*models)[owner].docs.contains(id)) return "document that no write acknowledged or attempted: " + doc.ToJson();
    }
  }
  Document v = coll.Validate({.full = true});
  if (!v.Get("valid").AsBool()) return "validate: " + v.ToJson();
  if (v.Get("nrecords").AsInt64() != expected_total) return "validate counted " + v.ToJson();
  if (coll.CountDocuments() != expected_total || coll.EstimatedDocumentCount() != expected_total) {
    return "counts differ from " + std::to_string(expected_total);
  }
  // Each index answers as the records do (validate checked the entries; this checks reads).
  int64_t by_thread = 0;
  for (size_t t = 0; t < models->size(); ++t) {
    by_thread += coll.CountDocuments(Document{{"t", static_cast<int32_t>(t)}},
                                     {.hint = mm::Hint(Document{{"t", 1}, {"v", -1}})});
  }
  if (by_thread != expected_total) return "the compound index counts " + std::to_string(by_thread);
  return "";
}

void SetUpCollection(mm::MongoClient& client) {
  auto db = client.Db(kDb);
  db.CreateCollection(kColl, {.validator = Document{{"v", Document{{"$type", "number"}}}}});
  auto coll = db[kColl];
  coll.CreateIndex(Document{{"u", 1}}, {.unique = true});
  coll.CreateIndex(Document{{"t", 1}, {"v", -1}});
  coll.CreateIndex(Document{{"a", 1}});
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  if (o.seed == 0) o.seed = std::random_device()() | static_cast<uint64_t>(::getpid()) << 32;
  bool own_dir = o.data_dir.empty();
  if (own_dir) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mm-torture-XXXXXX").string();
    o.data_dir = mkdtemp(tmpl.data());
  }
  std::printf("crash_torture: %d rounds, %d writers, %s, seed %llu, data %s\n", o.rounds, o.threads,
              o.sync ? "--sync" : "no --sync", static_cast<unsigned long long>(o.seed), o.data_dir.c_str());
  std::fflush(stdout);
  std::mt19937_64 rng(o.seed);
  std::vector<Model> models(static_cast<size_t>(o.threads));
  Totals totals;
  mm::torture::CrossDatabaseModel cross;
  mm::torture::RetryableModel retryable;
  for (int i = 0; i < 16; ++i) retryable.lsid.push_back(static_cast<char>(rng()));
  auto started = Clock::now();
  std::string failure;
  int round = 0;
  try {
    for (round = 1; round <= o.rounds && failure.empty(); ++round) {
      auto bridge = mm::WorkerBridge::Create(
          {.data_dir = o.data_dir, .sync_writes = o.sync, .mongodb_listener = true});
      mm::MongoClient client(std::string("mongodb://localhost/") + kDb, {.worker_bridge = bridge});
      if (round == 1) SetUpCollection(client);
      failure = Check(client.Db(kDb)[kColl], &models, &totals);
      if (failure.empty()) failure = mm::torture::CheckCrossDatabase(bridge->mongodb_socket_path(), &cross);
      if (failure.empty()) failure = mm::torture::CheckRetryable(bridge->mongodb_socket_path(), &retryable);
      if (!failure.empty()) break;

      std::atomic<bool> killed{false};
      std::vector<std::string> errors(models.size());
      std::vector<std::thread> threads;
      for (size_t t = 0; t < models.size(); ++t) {
        uint64_t seed = rng();
        threads.emplace_back([&, t, seed] {
          // Each writer has a client of its own on the shared bridge, like separate users.
          mm::MongoClient own(std::string("mongodb://localhost/") + kDb, {.worker_bridge = bridge});
          Writer w(static_cast<int>(t), seed, &models[t], &killed);
          errors[t] = w.Run(own.Db(kDb)[kColl]);
        });
      }
      std::string cross_error, retry_error;
      threads.emplace_back([&] {
        cross_error = mm::torture::RunCrossDatabaseWriter(bridge->mongodb_socket_path(), &cross, &killed);
      });
      threads.emplace_back([&] {
        retry_error = mm::torture::RunRetryableWriter(bridge->mongodb_socket_path(), &retryable, &killed);
      });
      int run_ms = std::uniform_int_distribution<int>(1, o.max_run_ms)(rng);
      std::this_thread::sleep_for(std::chrono::milliseconds(run_ms));
      killed = true;
      ::kill(bridge->pid(), SIGKILL);
      for (auto& t : threads) t.join();
      bridge->Terminate();
      for (const std::string& e : errors) {
        if (!e.empty() && failure.empty()) failure = e;
      }
      if (failure.empty()) failure = cross_error;
      if (failure.empty()) failure = retry_error;
      if (o.verbose) {
        int64_t acked = 0;
        for (const Model& m : models) acked += m.acknowledged;
        std::printf("round %d: killed after %d ms, %lld writes acknowledged so far\n", round, run_ms,
                    static_cast<long long>(acked));
        std::fflush(stdout);
      }
    }
    if (failure.empty()) {
      // The last kill's aftermath.
      auto bridge = mm::WorkerBridge::Create(
          {.data_dir = o.data_dir, .sync_writes = o.sync, .mongodb_listener = true});
      mm::MongoClient client(std::string("mongodb://localhost/") + kDb, {.worker_bridge = bridge});
      failure = Check(client.Db(kDb)[kColl], &models, &totals);
      if (failure.empty()) failure = mm::torture::CheckCrossDatabase(bridge->mongodb_socket_path(), &cross);
      if (failure.empty()) failure = mm::torture::CheckRetryable(bridge->mongodb_socket_path(), &retryable);
      bridge->Terminate();
    }
  } catch (const mm::Error& e) {
    failure = std::string("round ") + std::to_string(round) + ": " + e.what();
  }
  for (const Model& m : models) totals.acknowledged += m.acknowledged;
  double secs = std::chrono::duration<double>(Clock::now() - started).count();
  if (!failure.empty()) {
    std::printf("crash_torture: FAILED in round %d: %s\n  data kept in %s\n", round, failure.c_str(),
                o.data_dir.c_str());
    return 1;
  }
  std::printf(
      "crash_torture: %d rounds in %.1f s: %lld acknowledged writes, all present; %lld writes cut by kills "
      "(%lld of their documents changed, the others untouched); %lld document checks; validate clean every round; "
      "%lld transactions across two databases committed, each in both, %lld cut by kills (%lld found committed, "
      "none in one database only); %lld retryable writes (batches of %d statements) acknowledged, %lld cut by "
      "kills and retried after the restart (%lld answered from the history: its stored reply, or what its "
      "statements changed when the kill came before the reply's record; %lld cut between statements, resumed: "
      "those done answered, the others run; %lld run by the retry), none applied twice, none refused; 0 lost\n",
      o.rounds, secs, static_cast<long long>(totals.acknowledged), static_cast<long long>(totals.in_flight),
      static_cast<long long>(totals.in_flight_applied), static_cast<long long>(totals.documents_checked),
      static_cast<long long>(cross.committed), static_cast<long long>(cross.cut),
      static_cast<long long>(cross.cut_applied), static_cast<long long>(retryable.acknowledged), mm::torture::kCounters,
      static_cast<long long>(retryable.retried_from_history + retryable.retried_resumed + retryable.retried_ran),
      static_cast<long long>(retryable.retried_from_history), static_cast<long long>(retryable.retried_resumed),
      static_cast<long long>(retryable.retried_ran));
  if (own_dir) std::filesystem::remove_all(o.data_dir);
  return 0;
}
