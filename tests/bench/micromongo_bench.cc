// micromongo-bench: one run measures micro-mongo against a worker it spawns, with the
// baselines beside the figures (gRPC echo round trip, raw RocksDB puts), so the ratios
// hold on a noisy machine. --json prints one JSON object instead of the table.

#include <micromongo/micromongo.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "rocksdb_ceiling.h"
#include "socket_pingpong.h"
#include "wire_client.h"

namespace mm = micromongo;
using mm::Document;
using Clock = std::chrono::steady_clock;

namespace {

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

const char* kCities[] = {"Oslo", "Lima", "Pune", "Kyiv", "Rome",
                         "Baku", "Doha", "Riga", "Nice", "Bern"};

Document MakeDoc(int i) {
  return Document{{"i", i},
                  {"name", "user" + std::to_string(i)},
                  {"age", i % 100},
                  {"city", kCities[i % 10]},
                  {"tags", mm::Array{"t" + std::to_string(i % 7), "t" + std::to_string(i % 11),
                                     "t" + std::to_string(i % 13)}}};
}

double PeakRssMb(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

// Best of `rounds` runs of `f` (seconds).
template <typename F>
double BestSeconds(int rounds, F f) {
  double best = 1e30;
  for (int k = 0; k < rounds; ++k) {
    auto t0 = Clock::now();
    f();
    best = std::min(best, Seconds(Clock::now() - t0));
  }
  return best;
}

void InsertAll(mm::Collection& coll, const std::vector<Document>& docs) {
  for (size_t i = 0; i < docs.size(); i += 1000) {
    coll.InsertMany(std::vector<Document>(docs.begin() + i, docs.begin() + std::min(docs.size(), i + 1000)));
  }
}

// The aggregation figures, each beside a plain scan of the same documents in the same run.
// Workers are started afresh where a figure is a peak RSS, which only grows in a process.
void AggregationSection(const std::string& root, int n, std::map<std::string, double>* r) {
  std::string dir = root + "/agg";
  {
    auto bridge = mm::WorkerBridge::Create({.data_dir = dir});
    mm::MongoClient client("mongodb://localhost/bench", {.worker_bridge = bridge});
    client.Connect();
    mm::Collection people = client.Db()["people"];
    std::vector<Document> docs;
    for (int i = 0; i < n; ++i) docs.push_back(MakeDoc(i));
    InsertAll(people, docs);
    // Orders and customers for $lookup: 10 orders per customer, joined on an indexed field.
    int customers = std::max(1, n / 10);
    std::vector<Document> cs, os;
    for (int i = 0; i < customers; ++i) cs.push_back(Document{{"cid", i}, {"name", "c" + std::to_string(i)}});
    for (int i = 0; i < n; ++i) os.push_back(Document{{"oid", i}, {"cid", i % customers}, {"total", i % 500}});
    mm::Collection cust = client.Db()["customers"];
    mm::Collection orders = client.Db()["orders"];
    InsertAll(cust, cs);
    InsertAll(orders, os);
    cust.CreateIndex(Document{{"cid", 1}}, {.unique = true});
    client.Close();
    bridge->Terminate();
  }
  auto with_worker = [&](auto body) {
    auto bridge = mm::WorkerBridge::Create({.data_dir = dir});
    mm::MongoClient client("mongodb://localhost/bench", {.worker_bridge = bridge});
    client.Connect();
    body(client.Db());
    double rss = PeakRssMb(bridge->pid());
    client.Close();
    bridge->Terminate();
    return rss;
  };
  auto expect = [](size_t got, size_t want, const char* what) {
    if (got != want) std::fprintf(stderr, "%s returned %zu documents, expected %zu\n", what, got, want);
  };
  auto scan = [&](mm::Database& db) {
    expect(db["people"].Find(Document{{"age", 42}}).ToVector().size(), n / 100, "scan");
  };
  auto group = [&](mm::Database& db) {
    auto out = db["people"].Aggregate({Document{{"$group", Document{{"_id", "$city"},
                                                                    {"total", Document{{"$sum", "$i"}}},
                                                                    {"avg_age", Document{{"$avg", "$age"}}},
                                                                    {"oldest", Document{{"$max", "$age"}}}}}}})
                   .ToVector();
    expect(out.size(), 10, "$group");
  };
  auto unwind_group = [&](mm::Database& db) {
    auto out = db["people"].Aggregate({Document{{"$unwind", "$tags"}},
                                       Document{{"$group", Document{{"_id", "$tags"}, {"n", Document{{"$sum", 1}}}}}}})
                   .ToVector();
    expect(out.size(), 13, "$unwind + $group");  // t0 .. t12
  };
  auto sort_limit = [&](mm::Database& db) {
    auto out = db["people"].Aggregate({Document{{"$sort", Document{{"name", -1}}}}, Document{{"$limit", 10}}}).ToVector();
    expect(out.size(), 10, "$sort + $limit");
  };
  auto lookup = [&](mm::Database& db) {
    auto out = db["orders"].Aggregate({Document{{"$lookup", Document{{"from", "customers"},
                                                                     {"localField", "cid"},
                                                                     {"foreignField", "cid"},
                                                                     {"as", "customer"}}}}})
                   .ToVector();
    expect(out.size(), n, "$lookup");
  };
  // Peak RSS of a plain scan and of $sort + $limit, each in a fresh worker.
  (*r)["aggregation_scan_peak_rss_mb"] = with_worker([&](mm::Database db) { scan(db); });
  (*r)["sort_limit_peak_rss_mb"] = with_worker([&](mm::Database db) { sort_limit(db); });
  // Throughput: rounds that interleave every operation with the scan it is compared to, so
  // that all see the same machine; the best round of each counts.
  with_worker([&](mm::Database db) {
    std::map<std::string, double> best;
    auto time = [&](const char* key, auto op) {
      auto t0 = Clock::now();
      op(db);
      double s = Seconds(Clock::now() - t0);
      if (!best.count(key) || s < best[key]) best[key] = s;
    };
    for (int round = 0; round < 7; ++round) {
      time("aggregation_scan_docs_per_s", scan);
      time("group_docs_per_s", group);
      time("unwind_group_docs_per_s", unwind_group);
      time("sort_limit_docs_per_s", sort_limit);
      if (round < 3) time("lookup_docs_per_s", lookup);
    }
    for (const auto& [key, seconds] : best) (*r)[key] = n / seconds;
  });
  // $group over a million distinct keys with allowDiskUse: spills, and stays within bounded
  // memory.
  {
    std::string spill_dir = root + "/spill";
    auto bridge = mm::WorkerBridge::Create({.data_dir = spill_dir});
    mm::MongoClient client("mongodb://localhost/bench", {.worker_bridge = bridge});
    client.Connect();
    mm::Collection keys = client.Db()["keys"];
    const int kKeys = 1000000;
    std::vector<Document> batch;
    for (int i = 0; i < kKeys; ++i) {
      batch.push_back(Document{{"k", "key-" + std::to_string(i)}, {"v", i}});
      if (batch.size() == 1000) {
        keys.InsertMany(batch);
        batch.clear();
      }
    }
    double before = PeakRssMb(bridge->pid());
    auto t0 = Clock::now();
    size_t groups = 0;
    mm::Cursor c = keys.Aggregate({Document{{"$group", Document{{"_id", "$k"}, {"sum", Document{{"$sum", "$v"}}},
                                                                {"vals", Document{{"$push", "$v"}}}}}}},
                                  {.allow_disk_use = true});
    for (const Document& d : c) groups += d.empty() ? 0 : 1;
    expect(groups, kKeys, "$group with allowDiskUse");
    (*r)["group_spill_docs_per_s"] = kKeys / Seconds(Clock::now() - t0);
    (*r)["group_spill_peak_rss_mb"] = PeakRssMb(bridge->pid());
    (*r)["group_spill_load_peak_rss_mb"] = before;
    client.Close();
    bridge->Terminate();
  }
}

// The planner and index figures over `n` (1M) generated documents {_id, k, g, r}: k
// unique and indexed, g = k % 100 (compound {g, k}), r random and unindexed. Each latency
// is beside the gRPC echo floor measured interleaved with it; throughputs beside a plain
// scan of the same collection.
void IndexSection(const std::string& root, int n, std::map<std::string, double>* r) {
  auto bridge = mm::WorkerBridge::Create(
      {.data_dir = root + "/indexes", .server_parameters = {{"ttlMonitorSleepSecs", "1"}}});
  mm::MongoClient client("mongodb://localhost/bench", {.worker_bridge = bridge});
  client.Connect();
  mm::Collection coll = client.Db()["indexed"];
  std::mt19937 rng(7);
  std::vector<Document> batch;
  for (int i = 0; i < n; ++i) {
    batch.push_back(Document{{"_id", i}, {"k", i}, {"g", i % 100}, {"r", static_cast<int64_t>(rng())}});
    if (batch.size() == 1000 || i == n - 1) {
      coll.InsertMany(batch);
      batch.clear();
    }
  }
  auto t = Clock::now();
  coll.CreateIndex(Document{{"k", 1}});
  (*r)["create_index_docs_per_s"] = n / Seconds(Clock::now() - t);
  coll.CreateIndex(Document{{"g", 1}, {"k", 1}});

  std::vector<double> rtt;
  auto ping = [&] {
    auto t0 = Clock::now();
    client.Ping();
    rtt.push_back(Micros(Clock::now() - t0));
  };
  auto latency = [&](int rounds, auto op) {
    std::vector<double> lat;
    for (int i = 0; i < rounds; ++i) {
      ping();
      auto t0 = Clock::now();
      op(i);
      lat.push_back(Micros(Clock::now() - t0));
    }
    return Percentile(lat, 0.5);
  };
  auto expect = [](size_t got, size_t want, const char* what) {
    if (got != want) std::fprintf(stderr, "%s returned %zu, expected %zu\n", what, got, want);
  };
  (*r)["find_by_id_1m_us_p50"] = latency(3000, [&](int) {
    expect(coll.FindOne(Document{{"_id", static_cast<int>(rng() % n)}}) ? 1 : 0, 1, "find by _id");
  });
  (*r)["find_by_indexed_field_1m_us_p50"] = latency(3000, [&](int) {
    expect(coll.FindOne(Document{{"k", static_cast<int>(rng() % n)}}) ? 1 : 0, 1, "find by k");
  });
  (*r)["compound_eq_range_us_p50"] = latency(2000, [&](int) {
    int g = static_cast<int>(rng() % 100), from = static_cast<int>(rng() % (n - 20000));
    Document f{{"g", g}, {"k", Document{{"$gte", from}, {"$lt", from + 10000}}}};
    expect(coll.Find(f).ToVector().size(), 100, "compound eq+range");
  });
  (*r)["sort_limit_indexed_us_p50"] = latency(2000, [&](int) {
    expect(coll.Find({}, {.sort = Document{{"k", -1}}, .limit = 10}).ToVector().size(), 10, "indexed sort");
  });
  // The same shape with a new field name each time never meets the plan cache.
  (*r)["plan_uncached_us_p50"] = latency(2000, [&](int i) {
    int k = static_cast<int>(rng() % n);
    Document f{{"g", k % 100}, {"k", k}, {"u" + std::to_string(i), Document{{"$exists", false}}}};
    expect(coll.Find(f).ToVector().size(), 1, "uncached plan");
  });
  (*r)["plan_cached_us_p50"] = latency(2000, [&](int) {
    int k = static_cast<int>(rng() % n);
    Document f{{"g", k % 100}, {"k", k}, {"u", Document{{"$exists", false}}}};
    expect(coll.Find(f).ToVector().size(), 1, "cached plan");
  });
  (*r)["indexes_echo_rtt_us"] = Percentile(rtt, 0.5);

  int span = std::min(n / 100, 10000);
  auto range_rate = [&](const mm::FindOptions& options) {
    return span / BestSeconds(5, [&] {
      int from = static_cast<int>(rng() % (n - span));
      Document f{{"k", Document{{"$gte", from}, {"$lt", from + span}}}};
      expect(coll.Find(f, options).ToVector().size(), span, "range");
    });
  };
  (*r)["indexed_range_docs_per_s"] = range_rate({});
  (*r)["covered_query_docs_per_s"] = range_rate({.projection = Document{{"k", 1}, {"_id", 0}}});
  (*r)["indexes_scan_docs_per_s"] = n / BestSeconds(3, [&] {
    mm::FindOptions natural;
    natural.hint = mm::Hint(Document{{"$natural", 1}});
    expect(coll.Find(Document{{"g", Document{{"$lt", 0}}}}, natural).ToVector().size(), 0, "scan");
  });
  (*r)["sort_limit_unindexed_docs_per_s"] = n / BestSeconds(3, [&] {
    expect(coll.Find({}, {.sort = Document{{"r", 1}}, .limit = 10}).ToVector().size(), 10, "unindexed sort");
  });
  // TTL: documents already expired when their index appears, deleted by the monitor's
  // next pass; timed from the first deletion seen to the last.
  mm::Collection ttl = client.Db()["ttl"];
  int ttl_docs = std::min(n, 200000);
  for (int i = 0; i < ttl_docs; i += 1000) {
    std::vector<Document> docs;
    for (int j = i; j < std::min(ttl_docs, i + 1000); ++j) docs.push_back(Document{{"_id", j}, {"at", mm::DateTime{0}}});
    ttl.InsertMany(docs);
  }
  ttl.CreateIndex(Document{{"at", 1}}, {.expire_after_seconds = 0});
  Clock::time_point first{};
  auto give_up = Clock::now() + std::chrono::seconds(120);
  for (;;) {
    int64_t left = ttl.EstimatedDocumentCount();
    if (left < ttl_docs && first == Clock::time_point{}) first = Clock::now();
    if (left == 0 || Clock::now() > give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  (*r)["ttl_delete_docs_per_s"] = ttl_docs / std::max(1e-3, Seconds(Clock::now() - first));
  client.Close();
  bridge->Terminate();
}

// Text search over short English-like documents: each has 6 to 10 words from a common
// vocabulary plus one of 2,000 rarer words (each in 50 documents), so that a two-word
// query of rare words returns about 100 documents. Geo queries over as many points.
void SearchSection(const std::string& root, int n, std::map<std::string, double>* r) {
  auto bridge = mm::WorkerBridge::Create({.data_dir = root + "/search"});
  mm::MongoClient client("mongodb://localhost/bench", {.worker_bridge = bridge});
  client.Connect();
  mm::Collection coll = client.Db()["articles"];
  std::mt19937 rng(11);
  const char* syllables[] = {"ba", "ko", "ri", "te", "mu", "sa", "lo", "ne", "di", "ga", "pu", "ve", "zo", "hi"};
  auto word = [&](int k) {
    std::string w;
    for (int s = 0; s < 3; ++s) {
      w += syllables[k % 14];
      k /= 14;
    }
    return w;
  };
  const int common = 2000, rare = 2000;
  std::vector<Document> batch;
  for (int i = 0; i < n; ++i) {
    std::string body;
    int words = 6 + static_cast<int>(rng() % 5);
    for (int w = 0; w < words; ++w) body += word(static_cast<int>(rng() % common)) + "s ";
    body += "x" + word(i % rare) + "ing";
    batch.push_back(Document{{"_id", i}, {"body", body}});
    if (batch.size() == 1000 || i == n - 1) {
      coll.InsertMany(batch);
      batch.clear();
    }
  }
  auto t = Clock::now();
  coll.CreateIndex(Document{{"body", "text"}});
  (*r)["text_index_build_docs_per_s"] = n / Seconds(Clock::now() - t);

  std::vector<double> rtt, lat;
  mm::FindOptions by_score;
  by_score.projection = Document{{"score", Document{{"$meta", "textScore"}}}};
  by_score.sort = Document{{"score", Document{{"$meta", "textScore"}}}};
  for (int i = 0; i < 500; ++i) {
    auto t0 = Clock::now();
    client.Ping();
    rtt.push_back(Micros(Clock::now() - t0));
    int a = static_cast<int>(rng() % rare), b = (a + 1) % rare;
    std::string search = "x" + word(a) + "ing x" + word(b) + "ing";
    t0 = Clock::now();
    size_t got = coll.Find(Document{{"$text", Document{{"$search", search}}}}, by_score).ToVector().size();
    lat.push_back(Micros(Clock::now() - t0));
    if (got != 100) std::fprintf(stderr, "text search returned %zu, expected 100\n", got);
  }
  (*r)["text_search_us_p50"] = Percentile(lat, 0.5);

  // Geo: points spread evenly over a 20 x 20 degree square.
  mm::Collection places = client.Db()["places"];
  std::uniform_real_distribution<double> lng(-10, 10), lats(40, 60);
  for (int i = 0; i < n; ++i) {
    batch.push_back(Document{{"_id", i},
                             {"loc", Document{{"type", "Point"}, {"coordinates", mm::Array{lng(rng), lats(rng)}}}}});
    if (batch.size() == 1000 || i == n - 1) {
      places.InsertMany(batch);
      batch.clear();
    }
  }
  t = Clock::now();
  places.CreateIndex(Document{{"loc", "2dsphere"}});
  (*r)["geo_index_build_docs_per_s"] = n / Seconds(Clock::now() - t);
  std::vector<double> near_lat;
  for (int i = 0; i < 500; ++i) {
    auto t0 = Clock::now();
    client.Ping();
    rtt.push_back(Micros(Clock::now() - t0));
    Document near{{"loc", Document{{"$near", Document{{"$geometry", Document{{"type", "Point"},
                  {"coordinates", mm::Array{lng(rng) * 0.9, 41 + (lats(rng) - 41) * 0.9}}}}}}}}};
    t0 = Clock::now();
    size_t got = places.Find(near, {.limit = 10}).ToVector().size();
    near_lat.push_back(Micros(Clock::now() - t0));
    if (got != 10) std::fprintf(stderr, "$near returned %zu, expected 10\n", got);
  }
  (*r)["near_top10_us_p50"] = Percentile(near_lat, 0.5);
  // $geoWithin a 2 x 2 degree square (about 1% of the points), a different square each
  // round: the best round's documents per second (each round's count over its own time).
  double best_rate = 0;
  for (int k = 0; k < 5; ++k) {
    double x = lng(rng) * 0.8, y = 45 + (lats(rng) - 40) * 0.5;
    mm::Array ring{mm::Array{x, y}, mm::Array{x + 2, y}, mm::Array{x + 2, y + 2}, mm::Array{x, y + 2}, mm::Array{x, y}};
    Document f{{"loc", Document{{"$geoWithin", Document{{"$geometry", Document{{"type", "Polygon"},
                                                                              {"coordinates", mm::Array{mm::Value(ring)}}}}}}}}};
    size_t within = 0;
    double secs = BestSeconds(1, [&] { within = places.Find(f).ToVector().size(); });
    best_rate = std::max(best_rate, within / secs);
  }
  (*r)["geo_within_docs_per_s"] = best_rate;
  // The baseline of the throughputs: a collection scan of the same points.
  (*r)["search_scan_docs_per_s"] = n / BestSeconds(3, [&] {
    mm::FindOptions natural;
    natural.hint = mm::Hint(Document{{"$natural", 1}});
    size_t got = places.Find(Document{{"_id", Document{{"$lt", -1}}}}, natural).ToVector().size();
    if (got != 0) std::fprintf(stderr, "scan returned %zu, expected 0\n", got);
  });
  (*r)["search_echo_rtt_us"] = Percentile(rtt, 0.5);
  client.Close();
  bridge->Terminate();
}

// The micromongo tool's import and export of JSON lines, beside InsertMany of the same
// documents in the same run.
void ToolsSection(const std::string& root, int n, std::map<std::string, double>* r) {
  auto bridge = mm::WorkerBridge::Create({.data_dir = root + "/tools"});
  mm::MongoClient client("mongodb://localhost/bench", {.worker_bridge = bridge});
  client.Connect();
  std::vector<Document> docs;
  std::string jsonl;
  for (int i = 0; i < n; ++i) {
    docs.push_back(MakeDoc(i));
    docs.back().Insert(docs.back().begin(), {"_id", mm::ObjectId::Generate()});
    jsonl += docs.back().ToJson();
    jsonl += '\n';
  }
  std::string file = root + "/tools.jsonl";
  std::ofstream(file, std::ios::binary) << jsonl;
  auto tool = [&](const std::string& args) {
    std::string cmd = std::string(MM_CLI) + " " + args + " --address '" + bridge->address() +
                      "' --db bench --quiet";
    auto t = Clock::now();
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "failed: %s\n", cmd.c_str());
    return Seconds(Clock::now() - t);
  };
  double insert = 1e30, import = 1e30, export_ = 1e30;
  for (int round = 0; round < 2; ++round) {
    mm::Collection coll = client.Db()["insert_many"];
    coll.Drop();
    auto t = Clock::now();
    InsertAll(coll, docs);
    insert = std::min(insert, Seconds(Clock::now() - t));
    import = std::min(import, tool("import --drop -c imported --file " + file));
    export_ = std::min(export_, tool("export -c imported --out " + root + "/exported.jsonl"));
  }
  (*r)["tools_insert_many_docs_per_s"] = n / insert;
  (*r)["import_jsonl_docs_per_s"] = n / import;
  (*r)["export_jsonl_docs_per_s"] = n / export_;
  client.Close();
  bridge->Terminate();
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  int n = 100000;
  int index_docs = 1000000;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) json = true;
    if (std::strcmp(argv[i], "--docs") == 0 && i + 1 < argc) n = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    if (std::strcmp(argv[i], "--index-docs") == 0 && i + 1 < argc) index_docs = std::atoi(argv[++i]);
  }
  if (!only.empty() && only != "crud" && only != "aggregation" && only != "indexes" &&
      only != "search" && only != "tools") {
    std::fprintf(stderr, "micromongo-bench: --only crud|aggregation|indexes|search|tools\n");
    return 2;
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "mm-bench-XXXXXX").string();
  std::string root = mkdtemp(tmpl.data());
  std::map<std::string, double> r;

  if (only.empty() || only == "aggregation") AggregationSection(root, n, &r);
  if (only.empty() || only == "indexes") IndexSection(root, index_docs, &r);
  if (only.empty() || only == "search") SearchSection(root, n, &r);
  if (only.empty() || only == "tools") ToolsSection(root, n, &r);
  if (only.empty() || only == "crud") {
    // Forked before the worker and the client's threads exist.
    micromongo::bench::SocketPingPong uds;
    auto bridge = mm::WorkerBridge::Create({.data_dir = root + "/worker", .mongodb_listener = true});
    mm::MongoClient client("mongodb://localhost/bench", {.worker_bridge = bridge});
    client.Connect();
    mm::Collection one = client.Db()["insert_one"];
    mm::Collection coll = client.Db()["people"];

    // The floors, an empty RPC and a socket ping-pong between two processes, are timed
    // interleaved with the operations they are floors for, so that all see the same machine.
    std::vector<double> rtt, uds_rtt;
    auto ping = [&] {
      uds_rtt.push_back(uds.RoundTripMicros());
      auto t = Clock::now();
      client.Ping();
      rtt.push_back(Micros(Clock::now() - t));
    };
    std::vector<double> lat;
    uint64_t insert_one_bytes = 0;
    for (int i = 0; i < 10000; ++i) {
      Document d = MakeDoc(i);
      insert_one_bytes += d.ToBson().size() + 17;  // + the generated _id
      ping();
      auto t = Clock::now();
      one.InsertOne(d);
      lat.push_back(Micros(Clock::now() - t));
    }
    r["insert_one_us_p50"] = Percentile(lat, 0.5);
    r["insert_one_us_p99"] = Percentile(lat, 0.99);

    std::vector<Document> docs;
    std::vector<std::string> raw;
    uint64_t raw_bytes = 0;
    for (int i = 0; i < n; ++i) {
      docs.push_back(MakeDoc(i));
      docs.back().Insert(docs.back().begin(), {"_id", mm::ObjectId::Generate()});
      raw.push_back(docs.back().ToBson());
      raw_bytes += raw.back().size();
    }
    std::vector<std::vector<Document>> batches;
    for (int i = 0; i < n; i += 1000) {
      batches.emplace_back(docs.begin() + i, docs.begin() + std::min(n, i + 1000));
    }
    auto t = Clock::now();
    for (const auto& batch : batches) coll.InsertMany(batch);
    r["insert_many_docs_per_s"] = n / Seconds(Clock::now() - t);

    std::mt19937 rng(42);
    std::vector<double> find_lat;
    for (int i = 0; i < 5000; ++i) {
      const Document& d = docs[rng() % n];
      ping();
      auto t0 = Clock::now();
      auto found = coll.FindOne(Document{{"_id", d.Get("_id")}});
      find_lat.push_back(Micros(Clock::now() - t0));
      if (!found) std::fprintf(stderr, "FindOne missed\n");
    }
    r["find_by_id_us_p50"] = Percentile(find_lat, 0.5);

    // The same operations over MongoDB's wire protocol (one OP_MSG connection on the
    // worker's unix socket), interleaved with the socket ping-pong like the gRPC ones.
    {
      micromongo::bench::WireClient wire(bridge->mongodb_socket_path());
      auto check_ok = [](const std::string& reply, const char* what) {
        if (Document::FromBson(reply).Get("ok") != mm::Value(1.0)) {
          std::fprintf(stderr, "wire %s failed: %s\n", what, Document::FromBson(reply).ToJson().c_str());
        }
      };
      std::vector<double> wire_insert, wire_find;
      for (int i = 0; i < 5000; ++i) {
        std::string body = Document{{"insert", "wire_one"}, {"documents", mm::Array{MakeDoc(i)}},
                                    {"$db", "bench"}}.ToBson();
        uds_rtt.push_back(uds.RoundTripMicros());
        auto t0 = Clock::now();
        std::string reply = wire.Run(body);
        wire_insert.push_back(Micros(Clock::now() - t0));
        if (i == 0) check_ok(reply, "insert");
      }
      for (int i = 0; i < 5000; ++i) {
        const Document& d = docs[rng() % n];
        std::string body = Document{{"find", "people"}, {"filter", Document{{"_id", d.Get("_id")}}},
                                    {"limit", 1}, {"singleBatch", true}, {"$db", "bench"}}.ToBson();
        uds_rtt.push_back(uds.RoundTripMicros());
        auto t0 = Clock::now();
        std::string reply = wire.Run(body);
        wire_find.push_back(Micros(Clock::now() - t0));
        if (i == 0) check_ok(reply, "find");
      }
      r["wire_insert_one_us_p50"] = Percentile(wire_insert, 0.5);
      r["wire_find_by_id_us_p50"] = Percentile(wire_find, 0.5);
      std::string header = Document{{"insert", "wire_people"}, {"$db", "bench"}}.ToBson();
      std::vector<std::vector<std::string>> wire_batches;
      for (int i = 0; i < n; i += 1000) {
        wire_batches.emplace_back(raw.begin() + i, raw.begin() + std::min(n, i + 1000));
      }
      auto t0 = Clock::now();
      for (const auto& batch : wire_batches) {
        std::string reply = wire.Run(header, "documents", &batch);
        if (&batch == &wire_batches.front()) check_ok(reply, "insert many");
      }
      r["wire_insert_many_docs_per_s"] = n / Seconds(Clock::now() - t0);
    }
    r["echo_rtt_us"] = Percentile(rtt, 0.5);
    r["uds_pingpong_us_p50"] = Percentile(uds_rtt, 0.5);

    // Throughput with 8 client threads on the client's one channel: FindOne by _id beside
    // Ping, alternating in rounds of 1 s (the best round of each).
    auto threads8 = [&](auto op) {
      std::atomic<bool> stop{false};
      std::atomic<uint64_t> calls{0};
      std::vector<std::thread> threads;
      auto t0 = Clock::now();
      for (int k = 0; k < 8; ++k) {
        threads.emplace_back([&, k] {
          std::mt19937 local(k);
          uint64_t mine = 0;
          while (!stop.load(std::memory_order_relaxed)) {
            op(local);
            ++mine;
          }
          calls += mine;
        });
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
      stop = true;
      for (auto& th : threads) th.join();
      return static_cast<double>(calls.load()) / Seconds(Clock::now() - t0);
    };
    for (int round = 0; round < 3; ++round) {
      r["echo_8t_calls_per_s"] = std::max(r["echo_8t_calls_per_s"], threads8([&](std::mt19937&) {
        client.Ping();
      }));
      r["find_by_id_8t_ops_per_s"] =
          std::max(r["find_by_id_8t_ops_per_s"], threads8([&](std::mt19937& local) {
            const Document& d = docs[local() % n];
            if (!coll.FindOne(Document{{"_id", d.Get("_id")}})) std::fprintf(stderr, "FindOne missed\n");
          }));
    }

    // Full scans: best of 5, each over all n documents.
    auto scan = [&](const Document& filter, size_t expected) {
      double best = 1e30;
      for (int k = 0; k < 5; ++k) {
        auto t0 = Clock::now();
        size_t got = coll.Find(filter).ToVector().size();
        best = std::min(best, Seconds(Clock::now() - t0));
        if (got != expected) std::fprintf(stderr, "scan returned %zu, expected %zu\n", got, expected);
      }
      return n / best;
    };
    r["scan_docs_per_s"] = scan(Document{{"age", 42}}, n / 100);
    r["and_scan_docs_per_s"] =
        scan(Document{{"$and", mm::Array{Document{{"age", Document{{"$gte", 20}}}},
                                         Document{{"age", Document{{"$lt", 25}}}},
                                         Document{{"city", Document{{"$in", mm::Array{"Oslo", "Lima"}}}}}}}},
             static_cast<size_t>(n) / 50);  // ages 20 and 21 live in Oslo and Lima

    r["disk_bytes_per_bson_byte"] =
        static_cast<double>(DirBytes(root + "/worker/bench")) /
        static_cast<double>(raw_bytes + insert_one_bytes);

    t = Clock::now();
    auto upd = coll.UpdateMany(Document{{"age", Document{{"$lt", 10}}}},
                               Document{{"$inc", Document{{"i", 1}}}});
    r["update_many_docs_per_s"] = upd.modified_count / Seconds(Clock::now() - t);
    t = Clock::now();
    auto del = coll.DeleteMany(Document{{"age", Document{{"$gte", 90}}}});
    r["delete_many_docs_per_s"] = del.deleted_count / Seconds(Clock::now() - t);

    // An index on name: building it over the remaining documents, then FindOne by name,
    // which an index lookup serves instead of a scan.
    t = Clock::now();
    coll.CreateIndex(Document{{"name", 1}});
    r["create_index_small_docs_per_s"] = static_cast<double>(coll.EstimatedDocumentCount()) /
                                         Seconds(Clock::now() - t);
    std::vector<double> indexed_lat;
    for (int i = 0; i < 2000; ++i) {
      int k = static_cast<int>(rng() % static_cast<unsigned>(n));
      ping();
      auto t0 = Clock::now();
      auto found = coll.FindOne(Document{{"name", "user" + std::to_string(k)}});
      indexed_lat.push_back(Micros(Clock::now() - t0));
      if (!found && k % 100 < 90 && k % 100 >= 10) std::fprintf(stderr, "indexed FindOne missed\n");
    }
    r["find_by_indexed_field_us_p50"] = Percentile(indexed_lat, 0.5);

    r["worker_peak_rss_mb"] = PeakRssMb(bridge->pid());
    client.Close();
    bridge->Terminate();

    r["rocksdb_raw_docs_per_s"] =
        micromongo::bench::RawRocksDbDocsPerSecond(root + "/raw", raw, 1000);
  }
  std::filesystem::remove_all(root);

  if (json) {
    std::printf("{");
    bool first = true;
    for (const auto& [k, v] : r) {
      std::printf("%s\"%s\": %.3f", first ? "" : ", ", k.c_str(), v);
      first = false;
    }
    std::printf("}\n");
    return 0;
  }
  auto row = [&](const char* what, const char* key, const char* unit, const std::string& target) {
    std::printf("%-44s %14.1f %-10s %s\n", what, r[key], unit, target.c_str());
  };
  char buf[128];
  std::printf("micromongo-bench: %d documents {i, name, age, city, tags[3]}\n\n", n);
  std::printf("%-44s %14s %-10s %s\n", "measure", "value", "unit", "target / baseline");
  if (r.count("echo_rtt_us")) {
  row("socket pair ping-pong, 64 bytes (floor)", "uds_pingpong_us_p50", "us", "baseline");
  row("gRPC echo round trip", "echo_rtt_us", "us", "baseline");
  double uds9 = 9 * r["uds_pingpong_us_p50"];
  std::snprintf(buf, sizeof buf, "<= %.1f (1.5 x echo, 9 x ping-pong)",
                std::min(1.5 * r["echo_rtt_us"], uds9));
  row("InsertOne p50", "insert_one_us_p50", "us", buf);
  row("InsertOne p99", "insert_one_us_p99", "us", "");
  std::snprintf(buf, sizeof buf, ">= 100000 and >= %.0f (0.5 x raw); JS original: 433",
                r["rocksdb_raw_docs_per_s"] / 2);
  row("InsertMany, batches of 1000", "insert_many_docs_per_s", "docs/s", buf);
  row("raw RocksDB WriteBatch puts (ceiling)", "rocksdb_raw_docs_per_s", "docs/s", "baseline");
  std::snprintf(buf, sizeof buf, "<= %.1f (1.5 x echo, 9 x ping-pong)",
                std::min(1.5 * r["echo_rtt_us"], uds9));
  row("FindOne by _id p50", "find_by_id_us_p50", "us", buf);
  std::snprintf(buf, sizeof buf, "<= %.1f (3 x ping-pong)", 3 * r["uds_pingpong_us_p50"]);
  row("wire protocol insert, p50", "wire_insert_one_us_p50", "us", buf);
  row("wire protocol find by _id, p50", "wire_find_by_id_us_p50", "us", buf);
  std::snprintf(buf, sizeof buf, ">= %.0f (the gRPC InsertMany)", r["insert_many_docs_per_s"]);
  row("wire protocol insert, batches of 1000", "wire_insert_many_docs_per_s", "docs/s", buf);
  row("Ping, 8 threads", "echo_8t_calls_per_s", "calls/s", "baseline");
  std::snprintf(buf, sizeof buf, ">= %.0f (0.8 x Ping, 8 threads)", 0.8 * r["echo_8t_calls_per_s"]);
  row("FindOne by _id, 8 threads", "find_by_id_8t_ops_per_s", "ops/s", buf);
  row("full scan, 1% match", "scan_docs_per_s", "docs/s", ">= 2000000");
  row("full scan, $and of ranges and $in", "and_scan_docs_per_s", "docs/s", ">= 2000000");
  row("UpdateMany 10% with $inc", "update_many_docs_per_s", "docs/s", ">= 200000");
  row("DeleteMany 10%", "delete_many_docs_per_s", "docs/s", ">= 200000");
  row("CreateIndex {name: 1} over the documents", "create_index_small_docs_per_s", "docs/s", "");
  std::snprintf(buf, sizeof buf, "<= %.1f (1.5 x echo); JS original: 47 ms",
                1.5 * r["echo_rtt_us"]);
  row("FindOne by indexed field p50", "find_by_indexed_field_us_p50", "us", buf);
  row("worker peak RSS", "worker_peak_rss_mb", "MB", "<= 150");
  row("bytes on disk per byte of raw BSON", "disk_bytes_per_bson_byte", "ratio", "<= 3");
  }
  if (r.count("group_docs_per_s")) {
    double scan = r["aggregation_scan_docs_per_s"];
    std::printf("\naggregation (the scan baseline measured in the same run)\n");
    row("find, 1% match (baseline)", "aggregation_scan_docs_per_s", "docs/s", "baseline");
    std::snprintf(buf, sizeof buf, ">= %.0f (0.5 x scan)", 0.5 * scan);
    row("$group by city: $sum $avg $max", "group_docs_per_s", "docs/s", buf);
    std::snprintf(buf, sizeof buf, ">= %.0f (0.3 x scan)", 0.3 * scan);
    row("$unwind tags, $group by tag", "unwind_group_docs_per_s", "docs/s", buf);
    row("$lookup into an indexed field", "lookup_docs_per_s", "docs/s", ">= 200000");
    std::snprintf(buf, sizeof buf, ">= %.0f (0.5 x scan)", 0.5 * scan);
    row("$sort unindexed + $limit 10", "sort_limit_docs_per_s", "docs/s", buf);
    std::snprintf(buf, sizeof buf, "<= %.1f (scan's + 20)", r["aggregation_scan_peak_rss_mb"] + 20);
    row("worker peak RSS, $sort + $limit", "sort_limit_peak_rss_mb", "MB", buf);
    row("worker peak RSS, plain scan", "aggregation_scan_peak_rss_mb", "MB", "baseline");
    row("$group 1M keys, allowDiskUse", "group_spill_docs_per_s", "docs/s", "");
    row("worker peak RSS, $group 1M keys spilling", "group_spill_peak_rss_mb", "MB", "<= 250");
  }
  if (r.count("indexed_range_docs_per_s")) {
    double echo = r["indexes_echo_rtt_us"];
    std::printf("\nindexes and the planner, %d documents (echo and scan measured in the same run)\n", index_docs);
    row("gRPC echo round trip (floor)", "indexes_echo_rtt_us", "us", "baseline");
    std::snprintf(buf, sizeof buf, "<= %.1f (1.5 x echo)", 1.5 * echo);
    row("FindOne by _id p50", "find_by_id_1m_us_p50", "us", buf);
    row("FindOne by indexed field p50", "find_by_indexed_field_1m_us_p50", "us", buf);
    row("indexed range, 10000 docs to the client", "indexed_range_docs_per_s", "docs/s", ">= 1000000");
    std::snprintf(buf, sizeof buf, "<= %.1f (3 x echo)", 3 * echo);
    row("compound eq + range, 100 results p50", "compound_eq_range_us_p50", "us", buf);
    std::snprintf(buf, sizeof buf, "<= %.1f (1.5 x echo)", 1.5 * echo);
    row("sort on indexed field + limit 10 p50", "sort_limit_indexed_us_p50", "us", buf);
    row("full scan (baseline)", "indexes_scan_docs_per_s", "docs/s", "baseline");
    std::snprintf(buf, sizeof buf, ">= %.0f (0.5 x scan)", 0.5 * r["indexes_scan_docs_per_s"]);
    row("sort unindexed + limit 10", "sort_limit_unindexed_docs_per_s", "docs/s", buf);
    std::snprintf(buf, sizeof buf, ">= %.0f (1.5 x indexed range)", 1.5 * r["indexed_range_docs_per_s"]);
    row("covered range, 10000 docs", "covered_query_docs_per_s", "docs/s", buf);
    row("CreateIndex {k: 1}", "create_index_docs_per_s", "docs/s", ">= 500000");
    row("TTL monitor deletes", "ttl_delete_docs_per_s", "docs/s", ">= 100000");
    row("two candidate plans, uncached p50", "plan_uncached_us_p50", "us", "");
    row("two candidate plans, cached p50", "plan_cached_us_p50", "us", "< uncached");
  }
  if (r.count("text_search_us_p50")) {
    std::printf("\ntext and geo, %d documents and as many points (echo and scan measured in the same run)\n", n);
    double echo = r["search_echo_rtt_us"];
    row("gRPC echo round trip", "search_echo_rtt_us", "us", "baseline");
    row("collection scan of the points", "search_scan_docs_per_s", "docs/s", "baseline");
    row("text index build", "text_index_build_docs_per_s", "docs/s", ">= 100000");
    std::snprintf(buf, sizeof buf, "<= %.1f (5 x echo)", 5 * echo);
    row("$text, two words, 100 by score, p50", "text_search_us_p50", "us", buf);
    row("2dsphere index build", "geo_index_build_docs_per_s", "docs/s", ">= 100000");
    std::snprintf(buf, sizeof buf, "<= %.1f (3 x echo)", 3 * echo);
    row("$near, limit 10, p50", "near_top10_us_p50", "us", buf);
    row("$geoWithin a polygon (~1%)", "geo_within_docs_per_s", "docs/s", ">= 500000");
  }
  if (r.count("import_jsonl_docs_per_s")) {
    std::printf("\ntools (InsertMany of the same documents measured in the same run)\n");
    row("InsertMany, batches of 1000 (baseline)", "tools_insert_many_docs_per_s", "docs/s", "baseline");
    std::snprintf(buf, sizeof buf, ">= %.0f (0.7 x InsertMany)", 0.7 * r["tools_insert_many_docs_per_s"]);
    row("micromongo import, JSON lines", "import_jsonl_docs_per_s", "docs/s", buf);
    row("micromongo export, JSON lines", "export_jsonl_docs_per_s", "docs/s", ">= 500000");
  }
  return 0;
}
