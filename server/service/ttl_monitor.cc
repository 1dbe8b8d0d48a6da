#include "service/ttl_monitor.h"

#include <chrono>

#include "document/builder.h"
#include "util/log.h"

#include <cstdio>

#include "document/builder.h"
#include "service/crud.h"
#include "service/query_planning.h"

namespace micromongo::service {
namespace {

struct TtlIndex {
  std::string db, coll, name, path;
  int64_t seconds = 0;
  std::string partial;  // the index's partialFilterExpression (BSON), if any
};

std::vector<TtlIndex> TtlIndexes(storage::Engine* engine) {
  std::vector<TtlIndex> out;
  for (const std::string& db_name : engine->DatabaseNames()) {
    auto db = engine->GetDatabase(db_name, /*create=*/false);
    if (!db.ok() || *db == nullptr) continue;
    std::shared_lock<std::shared_mutex> ddl((*db)->ddl_mutex());
    for (const std::string& coll_name : (*db)->CollectionNames()) {
      auto coll = (*db)->FindCollection(coll_name);
      if (coll == nullptr || coll->is_view()) continue;
      bson::ValueView clustered, expire;
      if (coll->options().Find("clusteredIndex", &clustered) && coll->options().Find("expireAfterSeconds", &expire) &&
          expire.IsNumber()) {
        // A clustered collection's TTL: its _id (the cluster key) is the date.
        out.push_back(TtlIndex{db_name, coll_name, "", "_id", static_cast<int64_t>(expire.AsDouble())});
      }
      if (coll->timeseries() && coll->options().Find("expireAfterSeconds", &expire) && expire.IsNumber()) {
        // A time series collection's TTL: its documents expire by their time.
        out.push_back(TtlIndex{db_name, coll_name, "", coll->time_field(), static_cast<int64_t>(expire.AsDouble())});
      }
      for (const storage::IndexDef& def : coll->indexes()) {
        auto spec = ParsedIndexSpec(def.spec);
        if (spec == nullptr || !spec->expire_after_seconds() || spec->fields().size() != 1) continue;
        TtlIndex ttl{db_name, coll_name, spec->name(), spec->fields()[0].path.dotted(), *spec->expire_after_seconds()};
        bson::ValueView partial;
        if (spec->spec().Find("partialFilterExpression", &partial) && partial.type == BsonType::kDocument) {
          ttl.partial = std::string(partial.Doc().bytes());
        }
        out.push_back(std::move(ttl));
      }
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<int64_t> ExpireDocuments(storage::Engine* engine) {
  int64_t deleted = 0;
  for (const TtlIndex& ttl : TtlIndexes(engine)) {
    // {path: {$lt: now - expireAfterSeconds}} matches dates only (comparisons stay in their
    // type bracket), and an array when any, so its earliest, date is older.
    int64_t cutoff = DateTime::Now().millis - ttl.seconds * 1000;
    bson::Builder range;
    range.AppendView("$lt", bson::ValueView{BsonType::kDate, reinterpret_cast<const char*>(&cutoff), 8});
    std::string range_bytes = std::move(range).Finish();
    bson::Builder filter;
    filter.AppendDocument(ttl.path, bson::DocView(range_bytes));
    std::string expiry = std::move(filter).Finish();
    if (!ttl.partial.empty()) {
      // Only documents the partial index holds expire.
      bson::Builder both, array;
      array.AppendDocument("0", bson::DocView(expiry));
      array.AppendDocument("1", bson::DocView(ttl.partial));
      both.AppendArray("$and", bson::DocView(std::move(array).Finish()));
      expiry = std::move(both).Finish();
    }
    auto matcher = query::Matcher::Parse(std::move(expiry));
    if (!matcher.ok()) continue;
    QueryHint hint;
    hint.index_name = ttl.name;  // empty for a clustered collection: the planner's _id bounds
    auto n = Delete(engine, ttl.db, ttl.coll, **matcher, /*multi=*/true, Deadline(), hint);
    if (!n.ok()) return n.status();
    deleted += *n;
  }
  return deleted;
}

TtlMonitor::TtlMonitor(storage::Engine* engine, std::chrono::seconds interval, bool log)
    : task_(interval, [engine, log] {
        SetLogContext("TTLMonitor");
        auto started = std::chrono::steady_clock::now();
        auto n = ExpireDocuments(engine);
        if (!n.ok()) {
          Log(LogSeverity::kError, LogComponent::kIndex, "TTL pass failed",
              Attrs({{"error", std::string(n.status().message())}}));
        } else if (log && *n > 0) {
          bson::Builder attr;
          attr.AppendInt64("numDeleted", *n);
          attr.AppendInt64("durationMillis", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::steady_clock::now() - started).count());
          Log(LogSeverity::kInfo, LogComponent::kIndex, "TTL pass deleted expired documents",
              std::move(attr).Finish());
        }
      }) {}

}  // namespace micromongo::service
