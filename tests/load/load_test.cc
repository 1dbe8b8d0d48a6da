// Load: many concurrent clients against one worker for a while, half of them sharing one
// channel and half with connections of their own, running a mix of reads, writes, cursors
// and aggregations. Checks that no operation fails, that the worker's resident memory does
// not grow after warm-up, that 10,000 cursors can be open at once, that closed ones are
// released and idle ones reclaimed; prints p50/p99 latency per operation.
//
//   load_test [--clients N] [--seconds S] [--cursors N] [--max-rss-growth-mib M] [--json]

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <micromongo/micromongo.h>

namespace mm = micromongo;
using mm::Document;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int clients = 64;
  int seconds = 60;
  int cursors = 10000;
  // Resident memory may grow this much after warm-up (RocksDB's memtables fill as the
  // data grows; a leak grows without bound).
  int max_rss_growth_mib = 64;
  bool json = false;
};

int64_t RssKib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

// Latencies of one kind of operation, in microseconds.
struct Samples {
  std::vector<int64_t> us;
  int64_t Percentile(double p) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    return us[std::min(us.size() - 1, static_cast<size_t>(p * us.size()))];
  }
};

const char* kOps[] = {"insert_one", "find_by_id", "update_one", "find_range", "aggregate", "delete_insert", "count"};
constexpr int kNumOps = 7;

class Server {
 public:
  Server(const std::string& dir, int cursor_timeout_ms) {
    address_ = "unix:" + dir + "/s.sock";
    std::string cmd = std::string(MM_SERVER) + " --data-dir " + dir + "/data --listen " +
                      address_ + " --cursor-timeout-ms " + std::to_string(cursor_timeout_ms) +
                      " --log-level warning 2> " + dir + "/server.log & echo $!";
    FILE* p = popen(cmd.c_str(), "r");
    if (fscanf(p, "%d", &pid_) != 1) pid_ = 0;
    pclose(p);
  }
  ~Server() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 500 && kill(pid_, 0) == 0; ++i) {
      waitpid(pid_, nullptr, WNOHANG);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  const std::string& address() const { return address_; }
  int pid() const { return pid_; }

 private:
  std::string address_;
  int pid_ = 0;
};

int64_t OpenCursors(mm::MongoClient& client) {
  Document status = client.ServerStatus();
  return status.Get("metrics").AsDocument().Get("cursor").AsDocument().Get("open").AsDocument()
      .Get("total").AsInt64();
}

int Run(const Options& o) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mm-load-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  int failures = 0;
  try {
    const int cursor_timeout_ms = 3000;
    Server server(dir, cursor_timeout_ms);
    auto shared = mm::WorkerBridge::Connect(server.address(), std::chrono::milliseconds(15000));
    mm::MongoClient admin("mongodb://localhost/load", {.worker_bridge = shared});
    auto items = admin.Db()["items"];
    {
      std::vector<Document> docs;
      for (int i = 0; i < 10000; ++i) {
        docs.push_back(Document{{"_id", i}, {"k", i % 1000}, {"g", i % 10}, {"n", 0}, {"s", std::string(100, 'a' + i % 26)}});
      }
      items.InsertMany(docs);
      items.CreateIndex(Document{{"k", 1}});
    }
    int64_t rss_start = RssKib(server.pid());

    std::atomic<bool> stop{false};
    std::atomic<int64_t> errors{0};
    std::atomic<int64_t> next_id{1'000'000};
    std::mutex mu;
    std::vector<Samples> all(kNumOps);
    std::string first_error;
    std::vector<std::thread> threads;
    auto started = Clock::now();
    auto deadline = started + std::chrono::seconds(o.seconds);
    for (int t = 0; t < o.clients; ++t) {
      threads.emplace_back([&, t] {
        // Even clients share the first channel; odd ones open their own connection.
        std::shared_ptr<mm::WorkerBridge> bridge =
            t % 2 == 0 ? shared : mm::WorkerBridge::Connect(server.address());
        mm::MongoClient client("mongodb://localhost/load", {.worker_bridge = bridge});
        auto coll = client.Db()["items"];
        std::mt19937_64 rng(t * 7919 + 1);
        std::vector<Samples> mine(kNumOps);
        while (!stop.load(std::memory_order_relaxed)) {
          int r = static_cast<int>(rng() % 100);
          int op = r < 25 ? 0 : r < 55 ? 1 : r < 70 ? 2 : r < 80 ? 3 : r < 85 ? 4 : r < 92 ? 5 : 6;
          auto t0 = Clock::now();
          try {
            switch (op) {
              case 0:
                coll.InsertOne(Document{{"_id", next_id.fetch_add(1)}, {"k", static_cast<int>(rng() % 1000)},
                                        {"g", static_cast<int>(rng() % 10)}, {"n", 0}});
                break;
              case 1:
                coll.FindOne(Document{{"_id", static_cast<int>(rng() % 10000)}});
                break;
              case 2:
                coll.UpdateOne(Document{{"_id", static_cast<int>(rng() % 10000)}},
                               Document{{"$inc", Document{{"n", 1}}}});
                break;
              case 3: {
                int k = static_cast<int>(rng() % 990);
                int64_t n = 0;
                for (const Document& d : coll.Find(Document{{"k", Document{{"$gte", k}, {"$lt", k + 10}}}},
                                                   {.batch_size = 50})) {
                  n += d.Has("_id");
                }
                if (n < 100) throw std::runtime_error("find_range returned too few documents");
                break;
              }
              case 4: {
                auto c = coll.Aggregate({Document{{"$match", Document{{"k", Document{{"$lt", 50}}}}}},
                                         Document{{"$group", Document{{"_id", "$g"}, {"n", Document{{"$sum", 1}}}}}}});
                int groups = 0;
                for (const Document& d : c) groups += d.Has("n");
                if (groups == 0) throw std::runtime_error("aggregate returned nothing");
                break;
              }
              case 5: {
                int64_t id = next_id.fetch_add(1);
                coll.InsertOne(Document{{"_id", id}, {"k", 5}});
                if (coll.DeleteOne(Document{{"_id", id}}).deleted_count != 1) {
                  throw std::runtime_error("delete of a fresh insert deleted nothing");
                }
                break;
              }
              case 6:
                coll.CountDocuments(Document{{"g", static_cast<int>(rng() % 10)}});
                break;
            }
          } catch (const std::exception& e) {
            if (errors.fetch_add(1) == 0) {
              std::lock_guard<std::mutex> l(mu);
              first_error = std::string(kOps[op]) + ": " + e.what();
            }
          }
          mine[op].us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
        }
        std::lock_guard<std::mutex> l(mu);
        for (int i = 0; i < kNumOps; ++i) all[i].us.insert(all[i].us.end(), mine[i].us.begin(), mine[i].us.end());
      });
    }
    // Warm-up: the first fifth of the run (at least 2 s); then RSS is sampled every
    // second and must stay within the allowed growth of the warm-up level.
    auto warm = started + std::max(std::chrono::seconds(o.seconds / 5), std::chrono::seconds(2));
    std::this_thread::sleep_until(std::min(warm, deadline));
    int64_t rss_warm = RssKib(server.pid());
    int64_t rss_max = rss_warm;
    while (Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      rss_max = std::max(rss_max, RssKib(server.pid()));
    }
    stop = true;
    for (auto& th : threads) th.join();
    double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    int64_t rss_end = RssKib(server.pid());

    // 10,000 cursors open at once (each with one batch taken; exempt from the idle timeout,
    // since opening them all takes longer than it).
    std::vector<mm::Cursor> cursors;
    cursors.reserve(o.cursors);
    for (int i = 0; i < o.cursors; ++i) {
      cursors.push_back(items.Find(Document{{"k", i % 1000}}, {.batch_size = 2, .no_cursor_timeout = true}));
    }
    int64_t open_peak = OpenCursors(admin);
    // Some are read to the end: their server cursors close.
    int64_t read = 0;
    for (int i = 0; i < 100; ++i) {
      for (const Document& d : cursors[i]) read += d.Has("_id");
    }
    int64_t open_after_reads = OpenCursors(admin);
    int64_t rss_cursors = RssKib(server.pid());
    cursors.clear();  // killCursors for the rest
    int64_t open_after_close = OpenCursors(admin);
    // Cursors left idle past the timeout are reclaimed by the worker.
    for (int i = 0; i < 1000; ++i) cursors.push_back(items.Find(Document{{"k", i}}, {.batch_size = 2}));
    std::this_thread::sleep_for(std::chrono::milliseconds(cursor_timeout_ms + 2500));
    int64_t open_after_idle = OpenCursors(admin);
    int reclaimed_code = 0;
    try {
      for (const Document& d : cursors.back()) read += d.Has("_id");
    } catch (const mm::Error& e) {
      reclaimed_code = e.code();
    }
    cursors.clear();

    int64_t total_ops = 0;
    for (auto& s : all) total_ops += static_cast<int64_t>(s.us.size());
    if (o.json) {
      std::printf("{\"clients\": %d, \"seconds\": %.1f, \"ops\": %lld, \"ops_per_s\": %.0f, \"errors\": %lld,\n",
                  o.clients, elapsed, static_cast<long long>(total_ops), total_ops / elapsed,
                  static_cast<long long>(errors.load()));
      std::printf(" \"rss_mib\": {\"start\": %.1f, \"warm\": %.1f, \"max\": %.1f, \"end\": %.1f, \"with_cursors\": %.1f},\n",
                  rss_start / 1024.0, rss_warm / 1024.0, rss_max / 1024.0, rss_end / 1024.0, rss_cursors / 1024.0);
      std::printf(" \"cursors\": {\"opened\": %d, \"open_peak\": %lld, \"after_reading_100\": %lld, \"after_close\": %lld, \"after_idle\": %lld, \"getmore_after_reclaim_code\": %d},\n",
                  o.cursors, static_cast<long long>(open_peak), static_cast<long long>(open_after_reads),
                  static_cast<long long>(open_after_close), static_cast<long long>(open_after_idle), reclaimed_code);
      std::printf(" \"latency_us\": {");
      for (int i = 0; i < kNumOps; ++i) {
        size_t n = all[i].us.size();
        std::printf("%s\"%s\": {\"n\": %zu, \"p50\": %lld, \"p99\": %lld}", i ? ", " : "", kOps[i], n,
                    static_cast<long long>(all[i].Percentile(0.5)), static_cast<long long>(all[i].Percentile(0.99)));
      }
      std::printf("}}\n");
    } else {
      std::printf("load: %d clients, %.1f s, %lld operations (%.0f/s), %lld errors\n", o.clients, elapsed,
                  static_cast<long long>(total_ops), total_ops / elapsed, static_cast<long long>(errors.load()));
      for (int i = 0; i < kNumOps; ++i) {
        std::printf("  %-14s n=%-8zu p50=%6lld us  p99=%7lld us\n", kOps[i], all[i].us.size(),
                    static_cast<long long>(all[i].Percentile(0.5)), static_cast<long long>(all[i].Percentile(0.99)));
      }
      std::printf("  worker RSS: start %.1f MiB, after warm-up %.1f, max %.1f, end %.1f, with %d cursors %.1f\n",
                  rss_start / 1024.0, rss_warm / 1024.0, rss_max / 1024.0, rss_end / 1024.0, o.cursors,
                  rss_cursors / 1024.0);
      std::printf("  cursors: %lld open at peak, %lld after reading 100 to the end, %lld after closing "
                  "the rest; of 1000 more, %lld left after %d ms idle (getMore then: code %d)\n",
                  static_cast<long long>(open_peak), static_cast<long long>(open_after_reads),
                  static_cast<long long>(open_after_close), static_cast<long long>(open_after_idle),
                  cursor_timeout_ms, reclaimed_code);
    }
    auto fail = [&](const std::string& why) {
      std::fprintf(stderr, "load_test: FAILED: %s\n", why.c_str());
      ++failures;
    };
    if (errors.load() > 0) fail(std::to_string(errors.load()) + " operations failed; first: " + first_error);
    for (int i = 0; i < kNumOps; ++i) {
      if (all[i].us.empty()) fail(std::string("no ") + kOps[i] + " ran");
    }
    if (rss_max - rss_warm > o.max_rss_growth_mib * 1024LL) {
      fail("worker RSS grew from " + std::to_string(rss_warm / 1024) + " MiB after warm-up to " +
           std::to_string(rss_max / 1024) + " MiB");
    }
    if (open_peak < o.cursors) fail("only " + std::to_string(open_peak) + " cursors open at once");
    if (open_after_reads > open_peak - 100) fail("cursors read to the end stayed open");
    if (read == 0) fail("the cursors read to the end returned nothing");
    if (open_after_close != 0) fail(std::to_string(open_after_close) + " cursors stayed open after they were closed");
    if (open_after_idle != 0) fail(std::to_string(open_after_idle) + " idle cursors were not reclaimed");
    if (reclaimed_code != 43) fail("getMore on a reclaimed cursor gave code " + std::to_string(reclaimed_code) + ", not 43");
  } catch (const std::exception& e) {
    // The worker is stopped (Server's destructor) and the directory removed all the same.
    std::fprintf(stderr, "load_test: FAILED: %s\n", e.what());
    ++failures;
  }
  std::filesystem::remove_all(dir);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> int {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "load_test: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::atoi(argv[++i]);
    };
    if (a == "--clients") {
      o.clients = next();
    } else if (a == "--seconds") {
      o.seconds = next();
    } else if (a == "--cursors") {
      o.cursors = next();
    } else if (a == "--max-rss-growth-mib") {
      o.max_rss_growth_mib = next();
    } else if (a == "--json") {
      o.json = true;
    } else {
      std::fprintf(stderr,
                   "usage: load_test [--clients N] [--seconds S] [--cursors N] "
                   "[--max-rss-growth-mib M] [--json]\n");
      return 2;
    }
  }
  if (o.clients < 1 || o.seconds < 1 || o.cursors < 101) {
    std::fprintf(stderr, "load_test: --clients and --seconds must be positive, --cursors over 100\n");
    return 2;
  }
  return Run(o);
}
