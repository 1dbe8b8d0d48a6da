#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "document/builder.h"
#include "document/status.h"
#include "service/collection_options.h"
#include "service/indexes.h"
#include "service/request_counters.h"
#include "util/connection_counts.h"
#include "util/log.h"
#include "service/admin_operations.h"
#include "service/capped.h"
#include "service/views.h"
#include "service/proto_docs.h"
#include "service/request_parsing.h"
#include "storage/namespace.h"

namespace micromongo::service {
namespace {

// The name of a collection being created or modified, and for a view that its
// definition closes no cycle.
absl::Status CheckTarget(storage::Engine* engine, const std::string& db, const std::string& coll,
                         const v1::CollectionOptions& options) {
  if (auto s = storage::ValidateCollectionName(db, coll); !s.ok()) return s;
  if (options.view_on().empty()) return absl::OkStatus();
  return CheckViewCycle(engine, db, coll, options.view_on());
}

}  // namespace

absl::Status AdminOperations::ListDatabases(const v1::ListDatabasesRequest* req,
                                             v1::ListDatabasesReply* reply) {
  MM_ASSIGN_OR_RETURN_STATUS(filter, ParseFilter(req->filter(), v1::Doc(), v1::Doc()));
  int64_t total = 0;
  for (const std::string& name : engine_->DatabaseNames()) {
    bson::Builder entry;
    entry.AppendString("name", name);
    int64_t bytes = 0;
    if (!req->name_only()) {
      auto db = engine_->GetDatabase(name, /*create=*/false);
      bool empty = true;
      if (db.ok() && *db != nullptr) {
        bytes = static_cast<int64_t>((*db)->DiskBytes());
        empty = (*db)->CollectionNames().empty();
      }
      entry.AppendInt64("sizeOnDisk", bytes);
      entry.AppendBool("empty", empty);
    }
    std::string doc = std::move(entry).Finish();
    if (!filter->Matches(bson::DocView(doc))) continue;
    total += bytes;
    reply->add_names(name);
    SetDoc(reply->add_databases(), std::move(doc), req->json());
  }
  reply->set_total_size(total);
  return absl::OkStatus();
}

absl::Status AdminOperations::DropDatabase(const v1::DatabaseRequest* req,
                                            v1::DropReply* reply) {
  auto dropped = engine_->DropDatabase(req->database());
  if (!dropped.ok()) return (dropped.status());
  reply->set_dropped(*dropped);
  return absl::OkStatus();
}

namespace {

// A collection's listCollections document, as MongoDB shapes it.
std::string CollectionEntry(const std::string& name, const storage::Collection& coll, bool name_only) {
  bson::Builder entry;
  entry.AppendString("name", name);
  std::string_view type = coll.is_view() ? "view" : coll.timeseries() ? "timeseries" : "collection";
  entry.AppendString("type", type);
  if (name_only) return std::move(entry).Finish();
  bson::DocView options = coll.options();
  entry.AppendDocument("options", options);
  auto info = entry.StartDocument("info");
  entry.AppendBool("readOnly", coll.is_view());
  entry.End(info);
  // A clustered collection has no separate _id index (MongoDB lists none), nor do views
  // and time series collections.
  bson::ValueView clustered;
  if (type == "collection" && !options.Find("clusteredIndex", &clustered)) {
    entry.AppendDocument("idIndex", bson::DocView(IdIndexDocument()));
  }
  return std::move(entry).Finish();
}

}  // namespace

absl::Status AdminOperations::ListCollections(const v1::ListCollectionsRequest* req,
                                               v1::ListCollectionsReply* reply) {
  MM_ASSIGN_OR_RETURN_STATUS(filter, ParseFilter(req->filter(), v1::Doc(), v1::Doc()));
  auto db = engine_->GetDatabase(req->database(), /*create=*/false);
  if (!db.ok()) return (db.status());
  if (*db == nullptr) return absl::OkStatus();
  for (const std::string& name : (*db)->CollectionNames()) {
    std::shared_ptr<storage::Collection> coll = (*db)->FindCollection(name);
    if (coll == nullptr) continue;  // dropped meanwhile
    std::string doc = CollectionEntry(name, *coll, req->name_only());
    if (!filter->Matches(bson::DocView(doc))) continue;
    reply->add_names(name);
    SetDoc(reply->add_collections(), std::move(doc), req->json());
  }
  return absl::OkStatus();
}

absl::Status AdminOperations::CreateCollection(const v1::CreateCollectionRequest* req,
                                                v1::Empty*) {
  if (auto s = CheckTarget(engine_, req->database(), req->collection(), req->options()); !s.ok()) {
    return (s);
  }
  auto options = BuildCollectionOptions(req->database(), req->options(), nullptr);
  if (!options.ok()) return (options.status());
  auto db = engine_->GetDatabase(req->database(), /*create=*/true);
  if (!db.ok()) return (db.status());
  if (auto s = (*db)->CreateCollection(req->collection(), *options); !s.ok()) return s;
  return CreateTimeseriesIndex(engine_, req->database(), req->collection(), bson::DocView(*options));
}

absl::Status AdminOperations::ModifyCollection(const v1::ModifyCollectionRequest* req,
                                                v1::Empty*) {
  if (req->has_index()) {
    auto change = DocToBson(req->index());
    if (!change.ok()) return (change.status());
    return ModifyIndex(engine_, req->database(), req->collection(), bson::DocView(*change), req->dry_run());
  }
  if (req->dry_run()) {
    return MongoError(kInvalidOptions, "collMod's dryRun is only supported with 'unique: true' alone");
  }
  if (auto s = CheckTarget(engine_, req->database(), req->collection(), req->options()); !s.ok()) {
    return (s);
  }
  auto db = engine_->GetDatabase(req->database(), /*create=*/false);
  if (!db.ok()) return (db.status());
  if (*db == nullptr) {
    return (MongoError(kNamespaceNotFound, StrCat("ns does not exist: ", req->database(), ".",
                                                        req->collection())));
  }
  return ((*db)->ChangeCollectionOptions(
      req->collection(), [&](bson::DocView current) {
        return BuildCollectionOptions(req->database(), req->options(), &current);
      }));
}

absl::Status AdminOperations::DropCollection(const v1::CollectionRequest* req,
                                              v1::DropReply* reply) {
  if (auto s = storage::ValidateCollectionName(req->database(), req->collection()); !s.ok()) {
    return (s);
  }
  auto db = engine_->GetDatabase(req->database(), /*create=*/false);
  if (!db.ok()) return (db.status());
  if (*db == nullptr) return absl::OkStatus();
  auto dropped = (*db)->DropCollection(req->collection());
  if (!dropped.ok()) return (dropped.status());
  reply->set_dropped(*dropped);
  return absl::OkStatus();
}

absl::Status AdminOperations::RenameCollection(const v1::RenameCollectionRequest* req,
                                                v1::Empty*) {
  for (const std::string& name : {req->from(), req->to()}) {
    if (auto s = storage::ValidateCollectionName(req->database(), name); !s.ok()) return (s);
  }
  auto db = engine_->GetDatabase(req->database(), /*create=*/false);
  if (!db.ok()) return (db.status());
  if (*db == nullptr) {
    return (MongoError(kNamespaceNotFound, StrCat("source namespace ", req->database(), ".",
                                                        req->from(), " does not exist")));
  }
  return ((*db)->RenameCollection(req->from(), req->to(), req->drop_target()));
}

absl::Status AdminOperations::CloneCollectionAsCapped(const v1::CappedCopyRequest* req, v1::Empty*) {
  return CloneAsCapped(engine_, req->database(), req->collection(), req->to(), req->size());
}

absl::Status AdminOperations::ConvertToCapped(const v1::CappedCopyRequest* req, v1::Empty*) {
  return service::ConvertToCapped(engine_, req->database(), req->collection(), req->size());
}

namespace {

// Resident and virtual memory in MiB, from /proc/self/statm.
std::pair<int64_t, int64_t> MemoryMiB() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  long long pages = 0, resident = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%lld %lld", &pages, &resident) != 2) pages = resident = 0;
    std::fclose(f);
  }
  int64_t page = sysconf(_SC_PAGESIZE);
  return {resident * page >> 20, pages * page >> 20};
}

std::string StatusDocument(storage::Engine* engine, CursorManager* cursors,
                           std::chrono::steady_clock::time_point start) {
  const RequestCounters& c = GlobalRequestCounters();
  auto uptime = std::chrono::steady_clock::now() - start;
  int64_t uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(uptime).count();
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  bson::Builder b;
  b.AppendString("host", host);
  b.AppendString("version", MICROMONGO_VERSION);
  b.AppendString("process", "micromongo-server");
  b.AppendInt64("pid", getpid());
  b.AppendDouble("uptime", static_cast<double>(uptime_ms) / 1000.0);
  b.AppendInt64("uptimeMillis", uptime_ms);
  b.AppendInt64("uptimeEstimate", uptime_ms / 1000);
  b.AppendValue("localTime", Value(DateTime{std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch()).count()}));
  auto sub = [&](const char* name, auto fill) {
    auto at = b.StartDocument(name);
    fill();
    b.End(at);
  };
  sub("connections", [&] {
    // Of both protocols' listeners; "active": requests executing now.
    ConnectionCounts all = AllConnectionCounts();
    b.AppendInt64("current", all.current);
    b.AppendInt64("available", std::max<int64_t>(0, all.max - all.current));
    b.AppendInt64("totalCreated", all.total_created);
    b.AppendInt64("rejected", all.rejected);
    b.AppendInt64("active", c.in_flight.load());
  });
  sub("network", [&] { b.AppendInt64("numRequests", c.total.load()); });
  sub("opcounters", [&] {
    b.AppendInt64("insert", c.insert.load());
    b.AppendInt64("query", c.query.load());
    b.AppendInt64("update", c.update.load());
    b.AppendInt64("delete", c.remove.load());
    b.AppendInt64("getmore", c.getmore.load());
    b.AppendInt64("command", c.command.load());
  });
  // Named copies: C++20 lambdas cannot capture structured bindings (clang enforces it).
  auto memory = MemoryMiB();
  int64_t resident = memory.first, virt = memory.second;
  sub("mem", [&] {
    b.AppendInt32("bits", 64);
    b.AppendInt64("resident", resident);
    b.AppendInt64("virtual", virt);
    b.AppendBool("supported", true);
  });
  sub("metrics", [&] {
    sub("cursor", [&] { sub("open", [&] { b.AppendInt64("total", static_cast<int64_t>(cursors->size())); }); });
    b.AppendInt64("slowOperations", c.slow.load());
  });
  sub("storageEngine", [&] {
    b.AppendString("name", "rocksdb");
    b.AppendBool("persistent", true);
  });
  sub("micromongo", [&] {
    b.AppendString("dataDir", engine->data_dir());
    b.AppendInt64("diskBytes", static_cast<int64_t>(engine->DiskBytes()));
    sub("databases", [&] {
      for (const std::string& name : engine->DatabaseNames()) {
        auto db = engine->GetDatabase(name, /*create=*/false);
        if (!db.ok() || *db == nullptr) continue;
        int64_t collections = 0, views = 0, objects = 0, indexes = 0;
        uint64_t data = 0, index_bytes = 0;
        for (const std::string& coll_name : (*db)->CollectionNames()) {
          std::shared_ptr<storage::Collection> coll = (*db)->FindCollection(coll_name);
          if (coll == nullptr) continue;
          if (coll->is_view()) {
            ++views;
            continue;
          }
          ++collections;
          objects += coll->count();
          indexes += 1 + static_cast<int64_t>(coll->indexes().size());
          data += (*db)->RecordBytes(*coll);
          index_bytes += (*db)->IndexBytes(*coll);
        }
        sub(name.c_str(), [&] {
          b.AppendInt64("collections", collections);
          b.AppendInt64("views", views);
          b.AppendInt64("objects", objects);
          b.AppendInt64("dataSize", static_cast<int64_t>(data));
          b.AppendInt64("storageSize", static_cast<int64_t>((*db)->DiskBytes()));
          b.AppendInt64("indexes", indexes);
          b.AppendInt64("indexSize", static_cast<int64_t>(index_bytes));
        });
      }
    });
  });
  return std::move(b).Finish();
}

}  // namespace

absl::Status AdminOperations::ServerStatus(const v1::ServerStatusRequest* req,
                                            v1::ServerStatusReply* reply) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  reply->set_pid(getpid());
  reply->set_version(MICROMONGO_VERSION);
  reply->set_uptime_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start_)
                           .count());
  reply->set_data_dir(engine_->data_dir());
  reply->set_peak_rss_bytes(static_cast<int64_t>(usage.ru_maxrss) * 1024);
  reply->set_open_cursors(static_cast<int64_t>(cursors_->size()));
  reply->set_disk_bytes(static_cast<int64_t>(engine_->DiskBytes()));
  SetDoc(reply->mutable_status(), StatusDocument(engine_, cursors_, start_), req->json());
  return absl::OkStatus();
}

}  // namespace micromongo::service
