// insert, update, delete, find, getMore, killCursors, count, distinct, findAndModify,
// aggregate and explain: each read into the DataService request of the same operation, its reply
// written as MongoDB's.

#include "document/status.h"
#include "service/proto_docs.h"
#include "service/retried_replies.h"
#include "storage/retry_history.h"
#include "service/request_counters.h"
#include "util/deadline.h"
#include "wire/handlers.h"

namespace micromongo::wire {
namespace {

std::string Namespace(const HandlerContext& context, std::string_view coll) {
  return StrCat(context.db, ".", coll);
}

// The statements of a write command (its "updates" or "deletes"), 1 to 100,000 of them.
absl::StatusOr<std::vector<bson::DocView>> Statements(const Command& command, std::string_view field) {
  auto statements = command.Objects(field);
  if (!statements.ok()) return statements.status();
  if (statements->empty() || statements->size() > kMaxWriteStatements) {
    return MongoError(kInvalidLength, StrCat("Write batch sizes must be between 1 and 100000. Got ",
                                             statements->size(), " operations."));
  }
  return statements;
}

// The fields update and delete statements share: q, hint, collation. False when `e` is
// none of them.
template <typename Request>
bool ReadSharedStatementField(const Command& statement, const bson::ElementView& e, Request* req,
                              bool* has_q, absl::Status* status) {
  if (e.key == "q") {
    *has_q = true;
    if (e.value.type != BsonType::kDocument) *status = statement.WrongType("q", e.value, "object");
    else SetBson(req->mutable_filter(), e.value.Doc());
  } else if (e.key == "hint") {
    *status = SetStatementHint(e.value, req->mutable_hint());
  } else if (e.key == "collation") {
    if (e.value.type != BsonType::kDocument) *status = statement.WrongType("collation", e.value, "object");
    else SetBson(req->mutable_collation(), e.value.Doc());
  } else {
    return false;
  }
  return true;
}

// Runs each request through `run` (an operation returning absl::Status); a failure becomes
// a write error, and stops an ordered command. Appends "writeErrors" when there were any.
//
// maxTimeMS bounds the whole command: each statement gets what is left of it, and running
// out fails the whole command with 50 (an interruption is never a write error in MongoDB,
// ordered or not); the statements that ran before stay applied.
template <typename Request, typename Run>
absl::Status RunStatements(std::vector<Request>& requests, bool ordered, int64_t max_time_ms, Run run,
                           bson::Builder* out) {
  bson::Builder errors;
  int n_errors = 0;
  Deadline deadline = Deadline::After(max_time_ms);
  for (size_t i = 0; i < requests.size(); ++i) {
    if (max_time_ms > 0) {
      int64_t left = deadline.RemainingMillis();
      if (left <= 0) return MongoError(kMaxTimeMSExpired, "operation exceeded time limit");
      requests[i].set_max_time_ms(left);
    }
    // In a retryable write, statement i is MongoDB's stmtId i: what its commits are
    // recorded as, and what a resumed retry finds done.
    storage::SetRetryStatement(static_cast<int32_t>(i));
    absl::Status status = run(i, &requests[i]);
    if (status.ok()) continue;
    if (MongoCodeOf(status) == kMaxTimeMSExpired) return status;
    v1::ErrorInfo info;
    service::FillErrorInfo(status, static_cast<int>(i), &info);
    AppendWriteError(info, static_cast<int>(i), &errors, n_errors++);
    if (ordered) break;
  }
  if (n_errors > 0) out->AppendArray("writeErrors", bson::DocView(std::move(errors).Finish()));
  return absl::OkStatus();
}

// Appends every field of `doc` to `out` (the writeErrors RunStatements built, if any).
void AppendAllFields(const std::string& doc, bson::Builder* out) {
  for (const bson::ElementView& e : bson::DocView(doc)) out->AppendView(e.key, e.value);
}

absl::Status Insert(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"documents", "ordered", "bypassDocumentValidation"}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  auto documents = command.Objects("documents");
  if (!documents.ok()) return documents.status();
  if (documents->empty()) return MongoError(kInvalidLength, "Write batch sizes must be between 1 and 100000. Got 0 operations.");
  if (documents->size() > kMaxWriteStatements) {
    return MongoError(kInvalidLength, StrCat("Write batch sizes must be between 1 and 100000. Got ",
                                             documents->size(), " operations."));
  }
  auto ordered = command.Bool("ordered", true);
  if (!ordered.ok()) return ordered.status();
  auto bypass = command.Bool("bypassDocumentValidation", false);
  if (!bypass.ok()) return bypass.status();
  v1::InsertRequest req;
  req.set_database(context.db);
  req.set_collection(*coll);
  req.set_unordered(!*ordered);
  req.set_bypass_document_validation(*bypass);
  // One buffer for all documents (the worker writes from it without copying each).
  size_t bytes = 0;
  for (bson::DocView d : *documents) bytes += d.size();
  std::string* sequence = req.mutable_document_sequence();
  sequence->reserve(bytes);
  for (bson::DocView d : *documents) sequence->append(d.data(), d.size());
  v1::InsertReply reply;
  if (auto s = context.data->Insert(&req, &reply); !s.ok()) return s;
  service::GlobalRequestCounters().insert.fetch_add(reply.inserted_count(), std::memory_order_relaxed);
  out->AppendInt32("n", static_cast<int32_t>(reply.inserted_count()));
  if (reply.write_errors_size() > 0) {
    auto at = out->StartArray("writeErrors");
    for (int i = 0; i < reply.write_errors_size(); ++i) {
      AppendWriteError(reply.write_errors(i), reply.write_errors(i).index(), out, i);
    }
    out->End(at);
  }
  return absl::OkStatus();
}

// The statements of an update command, each as the request of one Update operation.
absl::Status ReadUpdates(const HandlerContext& context, const Command& command,
                         std::vector<v1::UpdateRequest>* requests_out, bool* ordered_out) {
  if (auto s = command.CheckFields({"updates", "ordered", "bypassDocumentValidation", "let"}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  auto updates = Statements(command, "updates");
  if (!updates.ok()) return updates.status();
  auto ordered = command.Bool("ordered", true);
  if (!ordered.ok()) return ordered.status();
  *ordered_out = *ordered;
  auto bypass = command.Bool("bypassDocumentValidation", false);
  if (!bypass.ok()) return bypass.status();
  v1::Doc let;
  if (auto s = SetObject(command, "let", &let); !s.ok()) return s;
  // Statements are all parsed before any runs: a malformed one fails the whole command,
  // as MongoDB's parser does; only execution errors become writeErrors.
  std::vector<v1::UpdateRequest>& requests = *requests_out;
  requests.resize(updates->size());
  for (size_t i = 0; i < updates->size(); ++i) {
    Command statement((*updates)[i], nullptr);
    v1::UpdateRequest& req = requests[i];
    req.set_database(context.db);
    req.set_collection(*coll);
    req.set_bypass_document_validation(*bypass);
    *req.mutable_let() = let;
    absl::Status status;
    bool has_q = false, has_u = false;
    for (const bson::ElementView& e : (*updates)[i]) {
      if (!status.ok()) break;
      if (ReadSharedStatementField(statement, e, &req, &has_q, &status)) {
        continue;
      } else if (e.key == "u") {
        has_u = true;
        bool replace = false;
        status = SetUpdate(statement, "u", e.value, req.mutable_update(), &replace, req.mutable_pipeline());
        req.set_replace(replace);
      } else if (e.key == "upsert" || e.key == "multi") {
        bool b = e.value.type == BsonType::kBool ? e.value.Bool() : e.value.IsNumber() && e.value.AsDouble() != 0;
        if (e.key == "upsert") req.set_upsert(b); else req.set_multi(b);
      } else if (e.key == "arrayFilters") {
        status = SetArrayFilters(statement, e.value, req.mutable_array_filters());
      } else if (e.key == "sort") {
        if (e.value.type != BsonType::kDocument) status = statement.WrongType("sort", e.value, "object");
        else SetBson(req.mutable_sort(), e.value.Doc());
      } else if (e.key != "c" && e.key != "upsertSupplied") {
        status = MongoError(kUnknownBsonField, StrCat("BSON field 'update.updates.", e.key, "' is an unknown field."));
      }
    }
    if (status.ok() && !has_q) status = MongoError(kNoSuchKey, "BSON field 'update.updates.q' is missing but a required field");
    if (status.ok() && !has_u) status = MongoError(kNoSuchKey, "BSON field 'update.updates.u' is missing but a required field");
    if (status.ok() && req.multi() && req.replace()) {
      status = MongoError(kFailedToParse, "multi update is not supported for replacement-style update");
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Update(const HandlerContext& context, const Command& command, bson::Builder* out) {
  std::vector<v1::UpdateRequest> requests;
  bool ordered = true;
  if (auto s = ReadUpdates(context, command, &requests, &ordered); !s.ok()) return s;
  int64_t n = 0, modified = 0;
  bson::Builder upserted;
  int n_upserted = 0;
  char key[24];
  bson::Builder errors_out;
  auto max_time = command.Integer("maxTimeMS", 0);
  if (!max_time.ok()) return max_time.status();
  if (auto s = CheckNonNegative("maxTimeMS", *max_time); !s.ok()) return s;
  absl::Status run = RunStatements(requests, ordered, *max_time, [&](size_t i, v1::UpdateRequest* req) {
    v1::UpdateReply reply;
    absl::Status status = context.data->Update(req, &reply);
    service::GlobalRequestCounters().update.fetch_add(1, std::memory_order_relaxed);
    if (!status.ok()) return status;
    n += reply.matched_count();
    modified += reply.modified_count();
    if (reply.has_upserted_id()) {
      ++n;
      auto at = upserted.StartDocument(bson::ArrayKey(n_upserted++, key));
      upserted.AppendInt32("index", static_cast<int32_t>(i));
      bson::DocView id(reply.upserted_id().bson());
      if (id.begin() != id.end()) upserted.AppendView("_id", id.begin()->value);
      upserted.End(at);
    }
    return absl::OkStatus();
  }, &errors_out);
  if (!run.ok()) return run;
  out->AppendInt32("n", static_cast<int32_t>(n));
  out->AppendInt32("nModified", static_cast<int32_t>(modified));
  if (n_upserted > 0) out->AppendArray("upserted", bson::DocView(std::move(upserted).Finish()));
  AppendAllFields(std::move(errors_out).Finish(), out);
  return absl::OkStatus();
}

// The statements of a delete command, each as the request of one Delete operation.
absl::Status ReadDeletes(const HandlerContext& context, const Command& command,
                         std::vector<v1::DeleteRequest>* requests_out, bool* ordered_out) {
  if (auto s = command.CheckFields({"deletes", "ordered", "let"}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  auto deletes = Statements(command, "deletes");
  if (!deletes.ok()) return deletes.status();
  auto ordered = command.Bool("ordered", true);
  if (!ordered.ok()) return ordered.status();
  *ordered_out = *ordered;
  v1::Doc let;
  if (auto s = SetObject(command, "let", &let); !s.ok()) return s;
  std::vector<v1::DeleteRequest>& requests = *requests_out;
  requests.resize(deletes->size());
  for (size_t i = 0; i < deletes->size(); ++i) {
    Command statement((*deletes)[i], nullptr);
    v1::DeleteRequest& req = requests[i];
    req.set_database(context.db);
    req.set_collection(*coll);
    *req.mutable_let() = let;
    absl::Status status;
    bool has_q = false, has_limit = false;
    for (const bson::ElementView& e : (*deletes)[i]) {
      if (!status.ok()) break;
      if (ReadSharedStatementField(statement, e, &req, &has_q, &status)) {
        continue;
      } else if (e.key == "limit") {
        has_limit = true;
        double limit = e.value.IsNumber() ? e.value.AsDouble() : -1;
        if (limit != 0 && limit != 1) {
          status = e.value.IsNumber()
                       ? MongoError(kFailedToParse, StrCat("The limit field in delete objects must be 0 or 1. Got ", limit))
                       : statement.WrongType("limit", e.value, "number");
        }
        req.set_multi(limit == 0);
      } else {
        status = MongoError(kUnknownBsonField, StrCat("BSON field 'delete.deletes.", e.key, "' is an unknown field."));
      }
    }
    if (status.ok() && !has_q) status = MongoError(kNoSuchKey, "BSON field 'delete.deletes.q' is missing but a required field");
    if (status.ok() && !has_limit) status = MongoError(kNoSuchKey, "BSON field 'delete.deletes.limit' is missing but a required field");
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Delete(const HandlerContext& context, const Command& command, bson::Builder* out) {
  std::vector<v1::DeleteRequest> requests;
  bool ordered = true;
  if (auto s = ReadDeletes(context, command, &requests, &ordered); !s.ok()) return s;
  int64_t n = 0;
  bson::Builder errors_out;
  auto max_time = command.Integer("maxTimeMS", 0);
  if (!max_time.ok()) return max_time.status();
  if (auto s = CheckNonNegative("maxTimeMS", *max_time); !s.ok()) return s;
  absl::Status run = RunStatements(requests, ordered, *max_time, [&](size_t, v1::DeleteRequest* req) {
    v1::DeleteReply reply;
    absl::Status status = context.data->Delete(req, &reply);
    service::GlobalRequestCounters().remove.fetch_add(1, std::memory_order_relaxed);
    if (status.ok()) n += reply.deleted_count();
    return status;
  }, &errors_out);
  if (!run.ok()) return run;
  out->AppendInt32("n", static_cast<int32_t>(n));
  AppendAllFields(std::move(errors_out).Finish(), out);
  return absl::OkStatus();
}

absl::Status ReadFind(const HandlerContext& context, const Command& command, v1::FindRequest* request) {
  if (auto s = command.CheckFields({"filter", "sort", "projection", "hint", "skip", "limit",
                                    "batchSize", "singleBatch", "allowDiskUse", "noCursorTimeout",
                                    "collation", "let", "min", "max", "returnKey", "showRecordId",
                                    "tailable", "awaitData", "oplogReplay", "allowPartialResults",
                                    "readOnce", "ntoreturn"});
      !s.ok()) {
    return s;
  }
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  v1::FindRequest& req = *request;
  SetEmptyFilter(req.mutable_filter());
  req.set_database(context.db);
  req.set_collection(*coll);
  for (auto [key, doc] : {std::pair{"filter", req.mutable_filter()}, {"sort", req.mutable_sort()},
                          {"projection", req.mutable_projection()}, {"let", req.mutable_let()},
                          {"collation", req.mutable_collation()}}) {
    if (auto s = SetObject(command, key, doc); !s.ok()) return s;
  }
  bool has_min = false, has_max = false;
  if (auto s = SetObject(command, "min", req.mutable_min(), &has_min); !s.ok()) return s;
  if (!has_min) req.clear_min();
  if (auto s = SetObject(command, "max", req.mutable_max(), &has_max); !s.ok()) return s;
  if (!has_max) req.clear_max();
  if (auto s = SetHint(command, req.mutable_hint()); !s.ok()) return s;
  for (auto [key, setter] : {std::pair<const char*, void (v1::FindRequest::*)(bool)>{
                                 "tailable", &v1::FindRequest::set_tailable},
                             {"awaitData", &v1::FindRequest::set_await_data}}) {
    auto b = command.Bool(key, false);
    if (!b.ok()) return b.status();
    (req.*setter)(*b);
  }
  auto skip = command.Integer("skip", 0);
  auto limit = command.Integer("limit", 0);
  auto batch = command.Integer("batchSize", 101);
  auto max_time = command.Integer("maxTimeMS", 0);
  for (const auto* v : {&skip, &limit, &batch, &max_time}) {
    if (!v->ok()) return v->status();
  }
  if (auto s = CheckNonNegative("skip", *skip); !s.ok()) return s;
  if (auto s = CheckNonNegative("limit", *limit); !s.ok()) return s;
  if (auto s = CheckNonNegative("batchSize", *batch); !s.ok()) return s;
  if (auto s = CheckNonNegative("maxTimeMS", *max_time); !s.ok()) return s;
  req.set_skip(*skip);
  req.set_limit(*limit);
  req.set_batch_size(static_cast<int32_t>(std::min<int64_t>(*batch, INT32_MAX)));
  req.set_max_time_ms(*max_time);
  for (auto [key, setter] : {std::pair<const char*, void (v1::FindRequest::*)(bool)>{
                                 "allowDiskUse", &v1::FindRequest::set_allow_disk_use},
                             {"noCursorTimeout", &v1::FindRequest::set_no_cursor_timeout},
                             {"returnKey", &v1::FindRequest::set_return_key},
                             {"showRecordId", &v1::FindRequest::set_show_record_id}}) {
    auto b = command.Bool(key, false);
    if (!b.ok()) return b.status();
    (req.*setter)(*b);
  }
  auto single = command.Bool("singleBatch", false);
  if (!single.ok()) return single.status();
  if (*single && req.tailable()) {
    return MongoError(kBadValue, "cannot use tailable option with the 'singleBatch' option");
  }
  return absl::OkStatus();
}

absl::Status Find(const HandlerContext& context, const Command& command, bson::Builder* out) {
  v1::FindRequest req;
  if (auto s = ReadFind(context, command, &req); !s.ok()) return s;
  bool single = *command.Bool("singleBatch", false);  // ReadFind checked its type
  const std::string& coll = req.collection();
  v1::CursorReply reply;
  if (auto s = context.data->Find(&req, &reply); !s.ok()) return s;
  if (single && reply.cursor_id() != 0) {
    context.data->cursors()->Kill(reply.cursor_id());
    reply.set_cursor_id(0);
  }
  AppendCursor(reply, "firstBatch", Namespace(context, coll), out);
  return absl::OkStatus();
}

absl::Status GetMore(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"collection", "batchSize", "maxTimeMS", "term", "lastKnownCommittedOpTime"}); !s.ok()) return s;
  if (command.value().type != BsonType::kInt64) return command.WrongType("getMore", command.value(), "long");
  auto coll = command.String("collection", "");
  if (!coll.ok()) return coll.status();
  if (!command.Has("collection")) {
    return MongoError(kNoSuchKey, "BSON field 'getMore.collection' is missing but a required field");
  }
  auto batch = command.Integer("batchSize", 0);
  if (!batch.ok()) return batch.status();
  if (auto s = CheckNonNegative("batchSize", *batch); !s.ok()) return s;
  auto max_time = command.Integer("maxTimeMS", 0);
  if (!max_time.ok()) return max_time.status();
  v1::GetMoreRequest req;
  req.set_cursor_id(command.value().Int64());
  req.set_batch_size(static_cast<int32_t>(std::min<int64_t>(*batch, INT32_MAX)));
  req.set_max_time_ms(*max_time);
  v1::CursorReply reply;
  if (auto s = context.data->GetMore(&req, &reply); !s.ok()) return s;
  AppendCursor(reply, "nextBatch", Namespace(context, *coll), out);
  return absl::OkStatus();
}

absl::Status KillCursors(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"cursors"}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  auto cursors = command.Get("cursors");
  if (!cursors) return MongoError(kNoSuchKey, "BSON field 'killCursors.cursors' is missing but a required field");
  if (cursors->type != BsonType::kArray) return command.WrongType("cursors", *cursors, "array");
  bson::Builder killed, not_found;
  int nk = 0, nn = 0;
  char key[24];
  for (const bson::ElementView& e : cursors->Doc()) {
    if (e.value.type != BsonType::kInt64) return command.WrongType("cursors", e.value, "long");
    // The CursorManager is the one DataOperations::KillCursors uses; asked directly so
    // that the reply can tell killed cursors from unknown ones, as MongoDB's does.
    if (context.data->cursors()->Kill(e.value.Int64())) {
      killed.AppendInt64(bson::ArrayKey(nk++, key), e.value.Int64());
    } else {
      not_found.AppendInt64(bson::ArrayKey(nn++, key), e.value.Int64());
    }
  }
  out->AppendArray("cursorsKilled", bson::DocView(std::move(killed).Finish()));
  out->AppendArray("cursorsNotFound", bson::DocView(std::move(not_found).Finish()));
  auto alive = out->StartArray("cursorsAlive");
  out->End(alive);
  auto unknown = out->StartArray("cursorsUnknown");
  out->End(unknown);
  return absl::OkStatus();
}

absl::Status ReadCount(const HandlerContext& context, const Command& command, v1::CountRequest* request) {
  if (auto s = command.CheckFields({"query", "limit", "skip", "hint", "collation", "fields"}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  v1::CountRequest& req = *request;
  SetEmptyFilter(req.mutable_filter());
  req.set_database(context.db);
  req.set_collection(*coll);
  if (auto s = SetObject(command, "query", req.mutable_filter()); !s.ok()) return s;
  if (auto s = SetObject(command, "collation", req.mutable_collation()); !s.ok()) return s;
  if (auto s = SetHint(command, req.mutable_hint()); !s.ok()) return s;
  auto skip = command.Integer("skip", 0);
  auto limit = command.Integer("limit", 0);
  auto max_time = command.Integer("maxTimeMS", 0);
  for (const auto* v : {&skip, &limit, &max_time}) {
    if (!v->ok()) return v->status();
  }
  if (*skip < 0) return MongoError(kFailedToParse, "skip value is negative in count query");
  req.set_skip(*skip);
  req.set_limit(*limit < 0 ? -*limit : *limit);  // MongoDB's count takes |limit|
  req.set_max_time_ms(*max_time);
  return absl::OkStatus();
}

absl::Status CountCommand(const HandlerContext& context, const Command& command, bson::Builder* out) {
  v1::CountRequest req;
  if (auto s = ReadCount(context, command, &req); !s.ok()) return s;
  v1::CountReply reply;
  if (auto s = context.data->Count(&req, &reply); !s.ok()) return s;
  if (reply.count() <= INT32_MAX) {
    out->AppendInt32("n", static_cast<int32_t>(reply.count()));
  } else {
    out->AppendInt64("n", reply.count());
  }
  return absl::OkStatus();
}

absl::Status ReadDistinct(const HandlerContext& context, const Command& command, v1::DistinctRequest* request) {
  if (auto s = command.CheckFields({"key", "query", "collation", "hint"}); !s.ok()) return s;
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  auto key = command.String("key", "");
  if (!key.ok()) return key.status();
  if (!command.Has("key")) return MongoError(kNoSuchKey, "BSON field 'distinct.key' is missing but a required field");
  v1::DistinctRequest& req = *request;
  SetEmptyFilter(req.mutable_filter());
  req.set_database(context.db);
  req.set_collection(*coll);
  req.set_key(*key);
  if (auto s = SetObject(command, "query", req.mutable_filter()); !s.ok()) return s;
  if (auto s = SetObject(command, "collation", req.mutable_collation()); !s.ok()) return s;
  if (auto s = SetHint(command, req.mutable_hint()); !s.ok()) return s;
  auto max_time = command.Integer("maxTimeMS", 0);
  if (!max_time.ok()) return max_time.status();
  req.set_max_time_ms(*max_time);
  return absl::OkStatus();
}

absl::Status Distinct(const HandlerContext& context, const Command& command, bson::Builder* out) {
  v1::DistinctRequest req;
  if (auto s = ReadDistinct(context, command, &req); !s.ok()) return s;
  v1::DistinctReply reply;
  if (auto s = context.data->Distinct(&req, &reply); !s.ok()) return s;
  bson::DocView values(reply.values().bson());
  bson::ValueView array;
  if (values.Find("values", &array)) {
    out->AppendView("values", array);
  } else {
    auto at = out->StartArray("values");
    out->End(at);
  }
  return absl::OkStatus();
}

absl::Status ReadFindAndModify(const HandlerContext& context, const Command& command, v1::FindAndModifyRequest* request) {
  if (auto s = command.CheckFields({"query", "sort", "remove", "update", "new", "fields", "upsert",
                                    "bypassDocumentValidation", "arrayFilters", "hint", "collation",
                                    "let"});
      !s.ok()) {
    return s;
  }
  auto coll = command.Collection();
  if (!coll.ok()) return coll.status();
  v1::FindAndModifyRequest& req = *request;
  SetEmptyFilter(req.mutable_filter());
  req.set_database(context.db);
  req.set_collection(*coll);
  bool has_sort = false, has_fields = false;
  if (auto s = SetObject(command, "query", req.mutable_filter()); !s.ok()) return s;
  if (auto s = SetObject(command, "sort", req.mutable_sort(), &has_sort); !s.ok()) return s;
  if (!has_sort) req.clear_sort();
  if (auto s = SetObject(command, "fields", req.mutable_projection(), &has_fields); !s.ok()) return s;
  if (!has_fields) req.clear_projection();
  if (auto s = SetObject(command, "collation", req.mutable_collation()); !s.ok()) return s;
  if (auto s = SetObject(command, "let", req.mutable_let()); !s.ok()) return s;
  if (auto s = SetHint(command, req.mutable_hint()); !s.ok()) return s;
  auto remove = command.Bool("remove", false);
  auto is_new = command.Bool("new", false);
  auto upsert = command.Bool("upsert", false);
  auto bypass = command.Bool("bypassDocumentValidation", false);
  for (const auto* v : {&remove, &is_new, &upsert, &bypass}) {
    if (!v->ok()) return v->status();
  }
  auto max_time = command.Integer("maxTimeMS", 0);
  if (!max_time.ok()) return max_time.status();
  req.set_remove(*remove);
  req.set_return_new(*is_new);
  req.set_upsert(*upsert);
  req.set_bypass_document_validation(*bypass);
  req.set_max_time_ms(*max_time);
  auto update = command.Get("update");
  if (update) {
    if (*remove) return MongoError(kFailedToParse, "Cannot specify both an update and remove=true");
    bool replace = false;
    if (auto s = SetUpdate(command, "update", *update, req.mutable_update(), &replace, req.mutable_pipeline()); !s.ok()) return s;
    req.set_replace(replace);
  } else if (!*remove) {
    return MongoError(kFailedToParse, "Either an update or remove=true must be specified");
  }
  if (auto filters = command.Get("arrayFilters")) {
    if (auto s = SetArrayFilters(command, *filters, req.mutable_array_filters()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// lastErrorObject and value, as MongoDB's findAndModify answers.
void AppendFindAndModifyReply(const v1::FindAndModifyRequest& req, const v1::FindAndModifyReply& reply,
                              bson::Builder* out);

absl::Status FindAndModify(const HandlerContext& context, const Command& command, bson::Builder* out) {
  v1::FindAndModifyRequest req;
  if (auto s = ReadFindAndModify(context, command, &req); !s.ok()) return s;
  v1::FindAndModifyReply reply;
  if (auto s = context.data->FindAndModify(&req, &reply); !s.ok()) return s;
  AppendFindAndModifyReply(req, reply, out);
  return absl::OkStatus();
}

void AppendFindAndModifyReply(const v1::FindAndModifyRequest& req, const v1::FindAndModifyReply& reply,
                              bson::Builder* out) {
  bool remove = req.remove();
  bool upserted = reply.has_upserted_id();
  bool found = reply.has_value() || reply.updated_existing() || upserted;
  auto at = out->StartDocument("lastErrorObject");
  out->AppendInt32("n", found ? 1 : 0);
  if (!remove) out->AppendBool("updatedExisting", reply.updated_existing());
  if (upserted) {
    bson::DocView id(reply.upserted_id().bson());
    if (id.begin() != id.end()) out->AppendView("upserted", id.begin()->value);
  }
  out->End(at);
  if (reply.has_value()) {
    out->AppendDocument("value", bson::DocView(reply.value().bson()));
  } else {
    out->AppendNull("value");
  }
}

absl::Status ReadAggregate(const HandlerContext& context, const Command& command, v1::AggregateRequest* request) {
  if (auto s = command.CheckFields({"pipeline", "cursor", "explain", "allowDiskUse",
                                    "bypassDocumentValidation", "collation", "hint", "let"});
      !s.ok()) {
    return s;
  }
  v1::AggregateRequest& req = *request;
  req.set_database(context.db);
  std::string coll;
  if (command.value().type == BsonType::kString) {
    coll = std::string(command.value().String());
  } else if (!(command.value().IsNumber() && command.value().AsDouble() == 1)) {
    return MongoError(kFailedToParse, "Invalid command format: the 'aggregate' field must specify a "
                                      "collection name or 1");
  }
  req.set_collection(coll);
  auto pipeline = command.Objects("pipeline");
  if (!pipeline.ok()) return pipeline.status();
  if (!command.Has("pipeline")) return MongoError(kNoSuchKey, "BSON field 'aggregate.pipeline' is missing but a required field");
  for (bson::DocView stage : *pipeline) SetBson(req.add_pipeline(), stage);
  if (auto s = SetObject(command, "collation", req.mutable_collation()); !s.ok()) return s;
  if (auto s = SetObject(command, "let", req.mutable_let()); !s.ok()) return s;
  if (auto s = SetHint(command, req.mutable_hint()); !s.ok()) return s;
  auto explain = command.Bool("explain", false);
  auto disk = command.Bool("allowDiskUse", false);
  auto bypass = command.Bool("bypassDocumentValidation", false);
  for (const auto* v : {&explain, &disk, &bypass}) {
    if (!v->ok()) return v->status();
  }
  auto cursor = command.Object("cursor");
  if (!cursor.ok()) return cursor.status();
  if (!*cursor && !*explain) {
    return MongoError(kFailedToParse, "The 'cursor' option is required, except for aggregate with "
                                      "the explain argument");
  }
  int64_t batch = 101;
  if (*cursor) {
    Command cursor_options(**cursor, nullptr);
    auto b = cursor_options.Integer("batchSize", 101);
    if (!b.ok()) return b.status();
    if (auto s = CheckNonNegative("cursor.batchSize", *b); !s.ok()) return s;
    batch = *b;
  }
  auto max_time = command.Integer("maxTimeMS", 0);
  if (!max_time.ok()) return max_time.status();
  req.set_batch_size(static_cast<int32_t>(std::min<int64_t>(batch, INT32_MAX)));
  req.set_max_time_ms(*max_time);
  req.set_explain(*explain);
  req.set_allow_disk_use(*disk);
  req.set_bypass_document_validation(*bypass);
  return absl::OkStatus();
}

// MongoDB refuses a pipeline that writes ($out, $merge) under linearizable read concern.
absl::Status CheckWritingPipelineReadConcern(const Command& command) {
  auto rc = command.Get("readConcern");
  bson::ValueView level, pipeline;
  if (!rc || rc->type != BsonType::kDocument || !rc->Doc().Find("level", &level) ||
      level.type != BsonType::kString || level.String() != "linearizable") {
    return absl::OkStatus();
  }
  if (!command.body().Find("pipeline", &pipeline) || pipeline.type != BsonType::kArray) return absl::OkStatus();
  for (const bson::ElementView& stage : pipeline.Doc()) {
    if (stage.value.type != BsonType::kDocument || stage.value.Doc().empty()) continue;
    std::string_view name = stage.value.Doc().begin()->key;
    if (name == "$out" || name == "$merge") {
      return MongoError(kInvalidOptions, StrCat(name, " cannot be used with a 'linearizable' read concern level"));
    }
  }
  return absl::OkStatus();
}

absl::Status Aggregate(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = CheckWritingPipelineReadConcern(command); !s.ok()) return s;
  v1::AggregateRequest req;
  if (auto s = ReadAggregate(context, command, &req); !s.ok()) return s;
  bool explain = req.explain();
  const std::string& coll = req.collection();
  v1::CursorReply reply;
  if (auto s = context.data->Aggregate(&req, &reply); !s.ok()) return s;
  if (explain) {
    if (reply.documents_size() > 0) {
      for (const bson::ElementView& e : bson::DocView(reply.documents(0).bson())) {
        out->AppendView(e.key, e.value);
      }
    }
    return absl::OkStatus();
  }
  AppendCursor(reply, "firstBatch",
               coll.empty() ? StrCat(context.db, ".$cmd.aggregate") : Namespace(context, coll), out);
  return absl::OkStatus();
}

// {explain: {<find | aggregate | count | distinct | findAndModify | update | delete>},
// verbosity}: the inner command read as for its own handler, explained by the same
// Explain operation the gRPC service runs.
absl::Status Explain(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"verbosity"}); !s.ok()) return s;
  if (command.value().type != BsonType::kDocument) return command.WrongType("explain", command.value(), "object");
  auto verbosity = command.String("verbosity", "allPlansExecution");
  if (!verbosity.ok()) return verbosity.status();
  Command inner(command.value().Doc(), nullptr);
  v1::ExplainRequest req;
  req.set_verbosity(*verbosity);
  absl::Status read;
  std::string_view name = inner.name();
  if (name == "find") {
    read = ReadFind(context, inner, req.mutable_find());
  } else if (name == "aggregate") {
    read = ReadAggregate(context, inner, req.mutable_aggregate());
  } else if (name == "count") {
    read = ReadCount(context, inner, req.mutable_count());
  } else if (name == "distinct") {
    read = ReadDistinct(context, inner, req.mutable_distinct());
  } else if (name == "findAndModify" || name == "findandmodify") {
    read = ReadFindAndModify(context, inner, req.mutable_find_and_modify());
  } else if (name == "update" || name == "delete") {
    bool ordered = true;
    if (name == "update") {
      std::vector<v1::UpdateRequest> statements;
      read = ReadUpdates(context, inner, &statements, &ordered);
      if (read.ok() && statements.size() != 1) {
        return MongoError(kInvalidLength, "explained update commands must have exactly one statement");
      }
      if (read.ok()) *req.mutable_update() = std::move(statements[0]);
    } else {
      std::vector<v1::DeleteRequest> statements;
      read = ReadDeletes(context, inner, &statements, &ordered);
      if (read.ok() && statements.size() != 1) {
        return MongoError(kInvalidLength, "explained delete commands must have exactly one statement");
      }
      if (read.ok()) *req.mutable_delete_() = std::move(statements[0]);
    }
  } else {
    return MongoError(kCommandNotFound, StrCat("Explain failed due to unknown command: ", name));
  }
  if (!read.ok()) return read;
  v1::ExplainReply reply;
  if (auto s = context.data->Explain(&req, &reply); !s.ok()) return s;
  for (const bson::ElementView& e : bson::DocView(reply.explain().bson())) out->AppendView(e.key, e.value);
  return absl::OkStatus();
}

// The retried reply of an update or delete command of one statement (`read` parses its
// statements); false for several statements or counts that do not determine the reply.
template <typename Request, typename Reply>
bool RetriedSingleStatement(const HandlerContext& context, const Command& command,
                            absl::Status (*read)(const HandlerContext&, const Command&, std::vector<Request>*, bool*),
                            const storage::RetryOutcome& outcome, Reply* reply) {
  std::vector<Request> requests;
  bool ordered = true;
  return read(context, command, &requests, &ordered).ok() && requests.size() == 1 &&
         service::RetriedReply(outcome, requests[0], reply);
}

}  // namespace

std::optional<std::string> RetriedWriteReply(const HandlerContext& context, const Command& command,
                                             const storage::RetryOutcome& outcome) {
  bson::Builder out;
  if (command.name() == "insert") {
    auto documents = command.Objects("documents");
    if (!documents.ok() || documents->empty() || outcome.inserted != static_cast<int64_t>(documents->size()) ||
        outcome.updated != 0 || outcome.deleted != 0) {
      return std::nullopt;
    }
    out.AppendInt32("n", static_cast<int32_t>(documents->size()));
  } else if (command.name() == "update") {
    v1::UpdateReply reply;
    if (!RetriedSingleStatement(context, command, ReadUpdates, outcome, &reply)) return std::nullopt;
    out.AppendInt32("n", 1);
    out.AppendInt32("nModified", static_cast<int32_t>(reply.modified_count()));
    if (reply.has_upserted_id()) {
      bson::DocView id(reply.upserted_id().bson());
      auto list = out.StartArray("upserted");
      auto entry = out.StartDocument("0");
      out.AppendInt32("index", 0);
      out.AppendView("_id", id.begin()->value);
      out.End(entry);
      out.End(list);
    }
  } else if (command.name() == "findAndModify" || command.name() == "findandmodify") {
    v1::FindAndModifyRequest req;
    v1::FindAndModifyReply reply;
    if (!ReadFindAndModify(context, command, &req).ok() || !service::RetriedReply(outcome, req, &reply)) {
      return std::nullopt;
    }
    AppendFindAndModifyReply(req, reply, &out);
  } else if (command.name() == "delete") {
    v1::DeleteReply reply;
    if (!RetriedSingleStatement(context, command, ReadDeletes, outcome, &reply)) return std::nullopt;
    out.AppendInt32("n", 1);
  } else {
    return std::nullopt;
  }
  out.AppendDouble("ok", 1);
  return std::move(out).Finish();
}

std::span<const CommandEntry> CrudCommands() {
  static const CommandEntry kTable[] = {
      {"insert", Insert},
      {"update", Update},
      {"delete", Delete},
      {"find", Find},
      {"getMore", GetMore},
      {"killCursors", KillCursors},
      {"count", CountCommand},
      {"distinct", Distinct},
      {"findAndModify", FindAndModify},
      {"findandmodify", FindAndModify},
      {"aggregate", Aggregate},
      {"explain", Explain},
  };
  return kTable;
}

}  // namespace micromongo::wire
