// Storage statistics: collStats and dbStats. Both read the numbers through the aggregation
// stage $collStats ({storageStats}), the one implementation of collection statistics, and
// shape them as MongoDB's commands do. Sizes are logical (the bytes of the stored
// documents and index keys; RocksDB compresses and compacts them on disk).

#include <sys/statvfs.h>

#include "document/status.h"
#include "wire/handlers.h"

namespace micromongo::wire {
namespace {

// A positive scale factor (MongoDB: 51024 for a value below 1); 1 when absent.
absl::StatusOr<int64_t> ReadScale(const Command& command) {
  auto v = command.Get("scale");
  if (!v) return 1;
  if (!v->IsNumber()) return command.WrongType("scale", *v, "number");
  double scale = v->AsDouble();
  if (scale < 1) {
    return MongoError(51024, StrCat("BSON field 'scale' value must be >= 1, actual value '",
                                    static_cast<int64_t>(scale), "'"));
  }
  return static_cast<int64_t>(scale);
}

// $collStats {storageStats: {scale}} of one collection: the storageStats document, or
// nullopt when the collection does not exist.
absl::StatusOr<std::optional<std::string>> StorageStats(const HandlerContext& context, const std::string& coll,
                                                        int64_t scale) {
  bson::Builder stage;
  auto at = stage.StartDocument("$collStats");
  auto storage = stage.StartDocument("storageStats");
  stage.AppendInt64("scale", scale);
  stage.End(storage);
  stage.End(at);
  v1::AggregateRequest req;
  req.set_database(context.db);
  req.set_collection(coll);
  req.add_pipeline()->set_bson(std::move(stage).Finish());
  v1::CursorReply reply;
  absl::Status s = context.data->Aggregate(&req, &reply);
  if (MongoCodeOf(s) == kNamespaceNotFound) return std::nullopt;
  if (!s.ok()) return s;
  if (reply.documents_size() != 1) return MongoError(kInternalError, "$collStats returned no document");
  bson::ValueView stats;
  if (!bson::DocView(reply.documents(0).bson()).Find("storageStats", &stats) || stats.type != BsonType::kDocument) {
    return MongoError(kInternalError, "$collStats returned no storageStats");
  }
  return std::string(stats.Doc().bytes());
}

int64_t Number(bson::DocView doc, std::string_view key) {
  bson::ValueView v;
  if (!doc.Find(key, &v) || !v.IsNumber()) return 0;
  return static_cast<int64_t>(v.AsDouble());
}

absl::Status CollStats(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"scale", "verbose"}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  auto scale = ReadScale(command);
  if (!scale.ok()) return scale.status();
  auto stats = StorageStats(context, *coll, *scale);
  if (!stats.ok()) return stats.status();
  out->AppendString("ns", StrCat(context.db, ".", *coll));
  if (!*stats) {
    // MongoDB answers a collection that does not exist with zeros, not an error.
    for (std::string_view key : {"size", "count", "storageSize", "totalSize", "nindexes", "totalIndexSize"}) {
      out->AppendInt32(key, 0);
    }
    auto sizes = out->StartDocument("indexSizes");
    out->End(sizes);
    out->AppendInt32("scaleFactor", static_cast<int32_t>(*scale));
    return absl::OkStatus();
  }
  for (const bson::ElementView& e : bson::DocView(**stats)) out->AppendView(e.key, e.value);
  return absl::OkStatus();
}

absl::Status DbStats(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"scale", "freeStorage"}); !s.ok()) return s;
  auto scale = ReadScale(command);
  if (!scale.ok()) return scale.status();
  v1::ListCollectionsRequest req;
  req.set_database(context.db);
  v1::ListCollectionsReply listing;
  if (auto s = context.admin->ListCollections(&req, &listing); !s.ok()) return s;
  int64_t collections = 0, views = 0, objects = 0, indexes = 0;
  int64_t data_size = 0, index_size = 0;  // unscaled
  for (const v1::Doc& c : listing.collections()) {
    bson::DocView entry(c.bson());
    bson::ValueView name, type;
    if (!entry.Find("name", &name) || name.type != BsonType::kString) continue;
    if (entry.Find("type", &type) && type.type == BsonType::kString && type.String() == "view") {
      ++views;
      continue;
    }
    auto stats = StorageStats(context, std::string(name.String()), 1);
    if (!stats.ok()) return stats.status();
    if (!*stats) continue;  // dropped meanwhile
    bson::DocView doc(**stats);
    ++collections;
    objects += Number(doc, "count");
    data_size += Number(doc, "size");
    indexes += Number(doc, "nindexes");
    index_size += Number(doc, "totalIndexSize");
  }
  auto scaled = [&](int64_t bytes) { return static_cast<double>(bytes / *scale); };
  out->AppendString("db", context.db);
  out->AppendInt64("collections", collections);
  out->AppendInt64("views", views);
  out->AppendInt64("objects", objects);
  out->AppendDouble("avgObjSize", objects == 0 ? 0 : static_cast<double>(data_size) / objects);
  out->AppendDouble("dataSize", scaled(data_size));
  out->AppendDouble("storageSize", scaled(data_size));
  out->AppendInt64("indexes", indexes);
  out->AppendDouble("indexSize", scaled(index_size));
  out->AppendDouble("totalSize", scaled(data_size + index_size));
  out->AppendInt64("scaleFactor", *scale);
  // The file system of the data directory, as MongoDB reports its dbPath's.
  struct statvfs fs{};
  if (statvfs(context.admin->engine()->data_dir().c_str(), &fs) == 0) {
    double total = static_cast<double>(fs.f_blocks) * fs.f_frsize;
    double used = total - static_cast<double>(fs.f_bfree) * fs.f_frsize;
    out->AppendDouble("fsUsedSize", used / *scale);
    out->AppendDouble("fsTotalSize", total / *scale);
  }
  return absl::OkStatus();
}

}  // namespace

std::span<const CommandEntry> StatsCommands() {
  static const CommandEntry kTable[] = {
      {"collStats", CollStats},
      {"dbStats", DbStats},
      {"dbstats", DbStats},
  };
  return kTable;
}

}  // namespace micromongo::wire
