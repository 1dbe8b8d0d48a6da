// Databases, collections, indexes and status: listDatabases, dropDatabase,
// listCollections, create, collMod, drop, renameCollection, createIndexes, listIndexes,
// dropIndexes, validate, serverStatus.

#include <cmath>

#include "document/status.h"
#include "service/request_parsing.h"
#include "wire/handlers.h"

namespace micromongo::wire {
namespace {

void AppendAll(bson::DocView doc, bson::Builder* out) {
  for (const bson::ElementView& e : doc) out->AppendView(e.key, e.value);
}

// The filter and nameOnly options listDatabases and listCollections share.
template <typename Request>
absl::Status ReadListingOptions(const Command& command, Request* req) {
  auto name_only = command.Bool("nameOnly", false);
  if (!name_only.ok()) return name_only.status();
  req->set_name_only(*name_only);
  return SetObject(command, "filter", req->mutable_filter());
}

absl::Status ListDatabases(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"nameOnly", "filter", "authorizedDatabases"}); !s.ok()) return s;
  v1::ListDatabasesRequest req;
  if (auto s = ReadListingOptions(command, &req); !s.ok()) return s;
  v1::ListDatabasesReply reply;
  if (auto s = context.admin->ListDatabases(&req, &reply); !s.ok()) return s;
  int n = 0;
  char key[24];
  auto at = out->StartArray("databases");
  for (const v1::Doc& entry : reply.databases()) {
    out->AppendDocument(bson::ArrayKey(n++, key), bson::DocView(entry.bson()));
  }
  out->End(at);
  if (!req.name_only()) {
    out->AppendInt64("totalSize", reply.total_size());
    out->AppendInt64("totalSizeMb", reply.total_size() >> 20);
  }
  return absl::OkStatus();
}

absl::Status DropDatabase(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({}); !s.ok()) return s;
  v1::DatabaseRequest req;
  req.set_database(context.db);
  v1::DropReply reply;
  if (auto s = context.admin->DropDatabase(&req, &reply); !s.ok()) return s;
  out->AppendString("dropped", context.db);
  return absl::OkStatus();
}

absl::Status ListCollections(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"filter", "nameOnly", "authorizedCollections", "cursor"}); !s.ok()) return s;
  v1::ListCollectionsRequest req;
  req.set_database(context.db);
  if (auto s = ReadListingOptions(command, &req); !s.ok()) return s;
  v1::ListCollectionsReply reply;
  if (auto s = context.admin->ListCollections(&req, &reply); !s.ok()) return s;
  v1::CursorReply cursor;
  for (v1::Doc& c : *reply.mutable_collections()) cursor.add_documents()->set_bson(std::move(*c.mutable_bson()));
  AppendCursor(cursor, "firstBatch", StrCat(context.db, ".$cmd.listCollections"), out);
  return absl::OkStatus();
}

// The collection options create and collMod share (validator, validationLevel,
// validationAction, viewOn, pipeline, changeStreamPreAndPostImages); absent ones stay
// unset.
absl::Status ReadCollectionOptions(const Command& command, v1::CollectionOptions* options) {
  bool has_validator = false;
  if (auto s = SetObject(command, "validator", options->mutable_validator(), &has_validator); !s.ok()) return s;
  if (!has_validator) options->clear_validator();
  auto level = command.String("validationLevel", "");
  auto action = command.String("validationAction", "");
  auto view_on = command.String("viewOn", "");
  for (const auto* v : {&level, &action, &view_on}) {
    if (!v->ok()) return v->status();
  }
  options->set_validation_level(*level);
  options->set_validation_action(*action);
  options->set_view_on(*view_on);
  auto pipeline = command.Objects("pipeline");
  if (!pipeline.ok()) return pipeline.status();
  for (bson::DocView stage : *pipeline) SetBson(options->add_pipeline(), stage);
  if (auto images = command.Object("changeStreamPreAndPostImages"); !images.ok()) {
    return images.status();
  } else if (*images) {
    Command images_command(**images, nullptr);
    auto enabled = images_command.Bool("enabled", false);
    if (!enabled.ok()) return enabled.status();
    options->set_change_stream_pre_and_post_images(*enabled);
  }
  if (auto clustered = command.Get("clusteredIndex")) {
    if (clustered->type != BsonType::kDocument) {
      return MongoError(5979702, "'clusteredIndex' has to be a boolean or object.");
    }
    SetBson(options->mutable_clustered_index(), clustered->Doc());
  }
  if (auto expire = command.Get("expireAfterSeconds")) {
    if (!expire->IsNumber()) return MongoError(kTypeMismatch, "expireAfterSeconds must be a number");
    double seconds = expire->AsDouble();
    if (std::isnan(seconds) || seconds < 0 || seconds > 2147483647) {
      return MongoError(kInvalidOptions, "TTL index 'expireAfterSeconds' option must be within an acceptable "
                                         "range, try a lower number");
    }
    options->set_expire_after_seconds(static_cast<int64_t>(seconds));
  }
  return absl::OkStatus();
}

// A capped collection's size and document caps, under create's names (size, max) or
// collMod's (cappedSize, cappedMax); absent ones stay unset.
absl::Status ReadCappedLimits(const Command& command, const char* size_key, const char* max_key,
                              v1::CollectionOptions* options) {
  if (command.Has(size_key)) {
    auto size = command.Integer(size_key, 0);
    if (!size.ok()) return size.status();
    options->set_capped_size(*size);
  }
  if (command.Has(max_key)) {
    auto max = command.Integer(max_key, 0);
    if (!max.ok()) return max.status();
    options->set_capped_max(*max);
  }
  return absl::OkStatus();
}

absl::Status Create(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"validator", "validationLevel", "validationAction", "viewOn",
                                    "pipeline", "changeStreamPreAndPostImages", "capped", "size",
                                    "max", "collation", "clusteredIndex", "expireAfterSeconds", "timeseries"});
      !s.ok()) {
    return s;
  }
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  if (command.Has("collation")) {
    return MongoError(kInvalidOptions, "a collection default collation is not supported by micro-mongo; "
                                       "pass collation with each operation");
  }
  v1::CreateCollectionRequest req;
  req.set_database(context.db);
  req.set_collection(*coll);
  if (auto s = ReadCollectionOptions(command, req.mutable_options()); !s.ok()) return s;
  if (command.Has("capped")) {
    auto capped = command.Bool("capped", false);
    if (!capped.ok()) return capped.status();
    req.mutable_options()->set_capped(*capped);
  }
  if (auto s = ReadCappedLimits(command, "size", "max", req.mutable_options()); !s.ok()) return s;
  if (auto timeseries = command.Get("timeseries")) {
    if (timeseries->type != BsonType::kDocument) return command.WrongType("timeseries", *timeseries, "object");
    SetBson(req.mutable_options()->mutable_timeseries(), timeseries->Doc());
  }
  v1::Empty reply;
  return context.admin->CreateCollection(&req, &reply);
}

// The listIndexes entry of the index collMod's index option names ({name} or
// {keyPattern}); empty when there is none.
std::string FindIndexSpec(const HandlerContext& context, const std::string& coll, bson::DocView option) {
  v1::ListIndexesRequest req;
  req.set_database(context.db);
  req.set_collection(coll);
  v1::ListIndexesReply reply;
  if (!context.data->ListIndexes(&req, &reply).ok()) return "";
  bson::ValueView name, key_pattern;
  bool by_name = option.Find("name", &name) && name.type == BsonType::kString;
  bool by_key = option.Find("keyPattern", &key_pattern) && key_pattern.type == BsonType::kDocument;
  for (const v1::Doc& spec : reply.indexes()) {
    bson::DocView doc(spec.bson());
    bson::ValueView v;
    if (by_name && doc.Find("name", &v) && v.type == BsonType::kString && v.String() == name.String()) {
      return spec.bson();
    }
    if (by_key && doc.Find("key", &v) && v.type == BsonType::kDocument && v.bytes() == key_pattern.bytes()) {
      return spec.bson();
    }
  }
  return "";
}

absl::Status CollMod(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"validator", "validationLevel", "validationAction", "viewOn",
                                    "pipeline", "changeStreamPreAndPostImages", "index", "dryRun",
                                    "expireAfterSeconds", "cappedSize", "cappedMax", "timeseries"});
      !s.ok()) {
    return s;
  }
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  v1::ModifyCollectionRequest req;
  req.set_database(context.db);
  req.set_collection(*coll);
  auto index = command.Object("index");
  if (!index.ok()) return index.status();
  if (auto dry_run = command.Get("dryRun")) {
    if (dry_run->type != BsonType::kBool) return MongoError(kTypeMismatch, "dryRun must be a boolean");
    req.set_dry_run(dry_run->Bool());
  }
  if (!*index) {
    if (auto s = ReadCollectionOptions(command, req.mutable_options()); !s.ok()) return s;
    if (auto s = ReadCappedLimits(command, "cappedSize", "cappedMax", req.mutable_options()); !s.ok()) return s;
    if (auto timeseries = command.Get("timeseries")) {
      if (timeseries->type != BsonType::kDocument) return command.WrongType("timeseries", *timeseries, "object");
      SetBson(req.mutable_options()->mutable_timeseries(), timeseries->Doc());
    }
    v1::Empty reply;
    return context.admin->ModifyCollection(&req, &reply);
  }
  if (command.Has("validator") || command.Has("viewOn") || command.Has("pipeline") ||
      command.Has("validationLevel") || command.Has("validationAction") || command.Has("expireAfterSeconds") ||
      command.Has("cappedSize") || command.Has("cappedMax") || command.Has("timeseries")) {
    return MongoError(kInvalidOptions, "collMod's index option cannot be combined with other changes here");
  }
  SetBson(req.mutable_index(), **index);
  std::string before = FindIndexSpec(context, *coll, **index);
  v1::Empty reply;
  if (auto s = context.admin->ModifyCollection(&req, &reply); !s.ok()) return s;
  std::string after = FindIndexSpec(context, *coll, **index);
  if (before.empty() || after.empty()) return absl::OkStatus();
  // MongoDB reports each option that changed as <option>_old and <option>_new (a hidden
  // field that is absent is false).
  bson::DocView old_spec(before), new_spec(after), change(**index);
  bson::ValueView asked, old_value, new_value;
  if (change.Find("hidden", &asked)) {
    bool was = old_spec.Find("hidden", &old_value) && old_value.type == BsonType::kBool && old_value.Bool();
    bool is = new_spec.Find("hidden", &new_value) && new_value.type == BsonType::kBool && new_value.Bool();
    if (was != is) {
      out->AppendBool("hidden_old", was);
      out->AppendBool("hidden_new", is);
    }
  }
  auto flag = [](bson::DocView spec, std::string_view option) {
    bson::ValueView v;
    return spec.Find(option, &v) && v.type == BsonType::kBool && v.Bool();
  };
  if (change.Find("prepareUnique", &asked) && flag(old_spec, "prepareUnique") != flag(new_spec, "prepareUnique")) {
    out->AppendBool("prepareUnique_old", flag(old_spec, "prepareUnique"));
    out->AppendBool("prepareUnique_new", flag(new_spec, "prepareUnique"));
  }
  if (!flag(old_spec, "unique") && flag(new_spec, "unique")) out->AppendBool("unique_new", true);
  if (change.Find("expireAfterSeconds", &asked) && old_spec.Find("expireAfterSeconds", &old_value) &&
      new_spec.Find("expireAfterSeconds", &new_value) &&
      (old_value.type != new_value.type || old_value.bytes() != new_value.bytes())) {
    out->AppendView("expireAfterSeconds_old", old_value);
    out->AppendView("expireAfterSeconds_new", new_value);
  }
  return absl::OkStatus();
}

absl::Status Drop(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  v1::CollectionRequest req;
  req.set_database(context.db);
  req.set_collection(*coll);
  v1::DropReply reply;
  if (auto s = context.admin->DropCollection(&req, &reply); !s.ok()) return s;
  // MongoDB 7.0+ answers ok for a collection that does not exist.
  if (reply.dropped()) out->AppendString("ns", StrCat(context.db, ".", *coll));
  return absl::OkStatus();
}

// The size of convertToCapped and cloneCollectionAsCapped: a required number.
absl::StatusOr<int64_t> RequiredSize(const Command& command, std::string_view name) {
  if (!command.Has("size")) {
    return MongoError(40414, StrCat("BSON field '", name, ".size' is missing but a required field"));
  }
  return command.Integer("size", 0);
}

absl::Status CloneCollectionAsCapped(const HandlerContext& context, const Command& command, bson::Builder*) {
  if (auto s = command.CheckFields({"toCollection", "size", "temp"}); !s.ok()) return s;
  auto from = command.Collection();
  if (!from.ok()) return from.status();
  if (!command.Has("toCollection")) {
    return MongoError(40414, "BSON field 'cloneCollectionAsCapped.toCollection' is missing but a required field");
  }
  auto to = command.String("toCollection", "");
  if (!to.ok()) return to.status();
  auto size = RequiredSize(command, "cloneCollectionAsCapped");
  if (!size.ok()) return size.status();
  v1::CappedCopyRequest req;
  req.set_database(context.db);
  req.set_collection(*from);
  req.set_to(*to);
  req.set_size(*size);
  v1::Empty reply;
  return context.admin->CloneCollectionAsCapped(&req, &reply);
}

absl::Status ConvertToCapped(const HandlerContext& context, const Command& command, bson::Builder*) {
  if (auto s = command.CheckFields({"size"}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  auto size = RequiredSize(command, "convertToCapped");
  if (!size.ok()) return size.status();
  v1::CappedCopyRequest req;
  req.set_database(context.db);
  req.set_collection(*coll);
  req.set_size(*size);
  v1::Empty reply;
  return context.admin->ConvertToCapped(&req, &reply);
}

absl::Status RenameCollection(const HandlerContext& context, const Command& command, bson::Builder*) {
  if (auto s = command.CheckFields({"to", "dropTarget", "stayTemp"}); !s.ok()) return s;
  if (context.db != "admin") {
    return MongoError(13, "renameCollection may only be run against the admin database.");
  }
  auto from = command.Collection();
  if (!from.ok()) return from.status();
  auto to = command.String("to", "");
  if (!to.ok()) return to.status();
  auto drop_target = command.Bool("dropTarget", false);
  if (!drop_target.ok()) return drop_target.status();
  size_t from_dot = from->find('.'), to_dot = to->find('.');
  if (from_dot == std::string::npos || to_dot == std::string::npos) {
    return MongoError(kInvalidNamespace, "Invalid namespace specified");
  }
  if (from->substr(0, from_dot) != to->substr(0, to_dot)) {
    return MongoError(kIllegalOperation, "renaming a collection to another database is not supported by micro-mongo");
  }
  v1::RenameCollectionRequest req;
  req.set_database(from->substr(0, from_dot));
  req.set_from(from->substr(from_dot + 1));
  req.set_to(to->substr(to_dot + 1));
  req.set_drop_target(*drop_target);
  v1::Empty reply;
  return context.admin->RenameCollection(&req, &reply);
}

// The number of indexes of a collection, 0 when it does not exist.
int CountIndexes(const HandlerContext& context, const std::string& coll) {
  v1::ListIndexesRequest req;
  req.set_database(context.db);
  req.set_collection(coll);
  v1::ListIndexesReply reply;
  if (!context.data->ListIndexes(&req, &reply).ok()) return 0;
  return reply.indexes_size();
}

absl::Status CreateIndexes(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"indexes", "commitQuorum"}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  auto indexes = command.Objects("indexes");
  if (!indexes.ok()) return indexes.status();
  v1::CreateIndexesRequest req;
  req.set_database(context.db);
  req.set_collection(*coll);
  for (bson::DocView spec : *indexes) {
    v1::IndexModel* model = req.add_indexes();
    bson::Builder options;
    bool has_key = false;
    for (const bson::ElementView& e : spec) {
      if (e.key == "key") {
        if (e.value.type != BsonType::kDocument) return command.WrongType("indexes.key", e.value, "object");
        SetBson(model->mutable_keys(), e.value.Doc());
        has_key = true;
      } else if (e.key != "v") {
        options.AppendView(e.key, e.value);
      }
    }
    if (!has_key) return MongoError(kFailedToParse, "The 'key' field is a required property of an index specification");
    model->mutable_options()->set_bson(std::move(options).Finish());
  }
  int before = CountIndexes(context, *coll);
  v1::CreateIndexesReply reply;
  if (auto s = context.data->CreateIndexes(&req, &reply); !s.ok()) return s;
  int after = CountIndexes(context, *coll);
  out->AppendInt32("numIndexesBefore", before == 0 ? 1 : before);
  out->AppendInt32("numIndexesAfter", after);
  out->AppendBool("createdCollectionAutomatically", before == 0);
  return absl::OkStatus();
}

absl::Status ListIndexes(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"cursor"}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  v1::ListIndexesRequest req;
  req.set_database(context.db);
  req.set_collection(*coll);
  v1::ListIndexesReply reply;
  if (auto s = context.data->ListIndexes(&req, &reply); !s.ok()) return s;
  v1::CursorReply cursor;
  for (v1::Doc& spec : *reply.mutable_indexes()) cursor.add_documents()->Swap(&spec);
  AppendCursor(cursor, "firstBatch", StrCat(context.db, ".", *coll), out);
  return absl::OkStatus();
}

absl::Status DropIndexes(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"index"}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  auto index = command.Get("index");
  if (!index) return MongoError(kNoSuchKey, "BSON field 'dropIndexes.index' is missing but a required field");
  std::vector<v1::DropIndexRequest> drops;
  auto add = [&](const bson::ValueView& v) -> absl::Status {
    v1::DropIndexRequest req;
    req.set_database(context.db);
    req.set_collection(*coll);
    if (v.type == BsonType::kString) {
      req.set_name(std::string(v.String()));
    } else if (v.type == BsonType::kDocument) {
      SetBson(req.mutable_keys(), v.Doc());
    } else {
      return command.WrongType("index", v, "string or object");
    }
    drops.push_back(std::move(req));
    return absl::OkStatus();
  };
  if (index->type == BsonType::kArray) {
    for (const bson::ElementView& e : index->Doc()) {
      if (e.value.type != BsonType::kString) return command.WrongType("index", e.value, "string");
      if (auto s = add(e.value); !s.ok()) return s;
    }
  } else if (auto s = add(*index); !s.ok()) {
    return s;
  }
  int before = CountIndexes(context, *coll);
  for (const v1::DropIndexRequest& req : drops) {
    v1::Empty reply;
    if (auto s = context.data->DropIndex(&req, &reply); !s.ok()) return s;
  }
  out->AppendInt32("nIndexesWas", before);
  return absl::OkStatus();
}

absl::Status Validate(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"full", "repair", "metadata", "checkBSONConformance",
                                    "background"});
      !s.ok()) {
    return s;
  }
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  auto full = command.Bool("full", false);
  if (!full.ok()) return full.status();
  v1::ValidateRequest req;
  req.set_database(context.db);
  req.set_collection(*coll);
  req.set_full(*full);
  v1::ValidateReply reply;
  if (auto s = context.data->Validate(&req, &reply); !s.ok()) return s;
  AppendAll(bson::DocView(reply.result().bson()), out);
  return absl::OkStatus();
}

absl::Status ServerStatus(const HandlerContext& context, const Command&, bson::Builder* out) {
  // serverStatus takes sections to include or leave out ({repl: 0, metrics: 1}); all
  // sections are always returned, which MongoDB allows for the default ones.
  v1::ServerStatusRequest req;
  v1::ServerStatusReply reply;
  if (auto s = context.admin->ServerStatus(&req, &reply); !s.ok()) return s;
  AppendAll(bson::DocView(reply.status().bson()), out);
  return absl::OkStatus();
}

}  // namespace

std::span<const CommandEntry> AdminCommands() {
  static const CommandEntry kTable[] = {
      {"listDatabases", ListDatabases},
      {"dropDatabase", DropDatabase},
      {"listCollections", ListCollections},
      {"create", Create},
      {"collMod", CollMod},
      {"drop", Drop},
      {"renameCollection", RenameCollection},
      {"cloneCollectionAsCapped", CloneCollectionAsCapped},
      {"convertToCapped", ConvertToCapped},
      {"createIndexes", CreateIndexes},
      {"listIndexes", ListIndexes},
      {"dropIndexes", DropIndexes},
      {"deleteIndexes", DropIndexes},
      {"validate", Validate},
      {"serverStatus", ServerStatus},
  };
  return kTable;
}

}  // namespace micromongo::wire
