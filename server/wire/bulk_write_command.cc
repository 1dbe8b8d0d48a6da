// MongoDB 8.0's bulkWrite command (the drivers' client.bulkWrite): inserts, updates and
// deletes across collections in one command, run against admin. Each operation is read into
// the request of the Insert, Update or Delete operation the gRPC services run; the reply
// has MongoDB's counts and a cursor of per-operation results (only the errors with
// errorsOnly).

#include "document/status.h"
#include "service/proto_docs.h"
#include "service/request_counters.h"
#include "storage/retry_history.h"
#include "util/deadline.h"
#include "wire/handlers.h"

namespace micromongo::wire {
namespace {

struct Totals {
  int64_t inserted = 0, matched = 0, modified = 0, upserted = 0, deleted = 0, errors = 0;
};

// One operation's outcome, or the error it failed with.
struct OpResult {
  absl::Status status;
  int64_t n = 0;
  int64_t n_modified = -1;  // updates only
  std::string upserted_id;  // {_id: ...} of an upsert
};

// The namespace an op names by its index into nsInfo.
absl::StatusOr<std::pair<std::string, std::string>> OpNamespace(const bson::ValueView& index,
                                                                const std::vector<bson::DocView>& ns_info) {
  if (!index.IsNumber()) return MongoError(kTypeMismatch, "BulkWrite op's namespace index must be a number");
  double i = index.AsDouble();
  if (i < 0 || i >= static_cast<double>(ns_info.size()) || i != static_cast<int64_t>(i)) {
    return MongoError(kBadValue, StrCat("BulkWrite ops entry has an invalid nsInfo index ", static_cast<int64_t>(i)));
  }
  bson::ValueView ns;
  if (!ns_info[static_cast<size_t>(i)].Find("ns", &ns) || ns.type != BsonType::kString) {
    return MongoError(kNoSuchKey, "BSON field 'bulkWrite.nsInfo.ns' is missing but a required field");
  }
  std::string_view text = ns.String();
  size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size()) {
    return MongoError(kInvalidNamespace, StrCat("Invalid namespace specified '", text, "'"));
  }
  return std::pair{std::string(text.substr(0, dot)), std::string(text.substr(dot + 1))};
}

OpResult RunInsert(const HandlerContext& context, const Command& op, const std::pair<std::string, std::string>& ns,
                   bool bypass) {
  OpResult r;
  auto document = op.Object("document");
  if (!document.ok()) return {document.status()};
  if (!*document) return {MongoError(kNoSuchKey, "BSON field 'bulkWrite.ops.document' is missing but a required field")};
  v1::InsertRequest req;
  req.set_database(ns.first);
  req.set_collection(ns.second);
  req.set_bypass_document_validation(bypass);
  SetBson(req.add_documents(), **document);
  v1::InsertReply reply;
  r.status = context.data->Insert(&req, &reply);
  if (r.status.ok() && reply.write_errors_size() > 0) {
    const v1::ErrorInfo& e = reply.write_errors(0);
    r.status = MongoError(e.code(), e.message(), e.details());
  }
  if (r.status.ok()) r.n = 1;
  service::GlobalRequestCounters().insert.fetch_add(r.n, std::memory_order_relaxed);
  return r;
}

OpResult RunUpdate(const HandlerContext& context, const Command& op, const std::pair<std::string, std::string>& ns,
                   bool bypass, const v1::Doc& let, int64_t max_time_ms) {
  v1::UpdateRequest req;
  req.set_database(ns.first);
  req.set_collection(ns.second);
  req.set_bypass_document_validation(bypass);
  *req.mutable_let() = let;
  req.set_max_time_ms(max_time_ms);
  bool has_filter = false, has_mods = false;
  for (const bson::ElementView& e : op.body()) {
    absl::Status s;
    if (e.key == "update") {
      continue;
    } else if (e.key == "filter") {
      has_filter = true;
      if (e.value.type != BsonType::kDocument) s = op.WrongType("filter", e.value, "object");
      else SetBson(req.mutable_filter(), e.value.Doc());
    } else if (e.key == "updateMods") {
      has_mods = true;
      bool replace = false;
      s = SetUpdate(op, "updateMods", e.value, req.mutable_update(), &replace, req.mutable_pipeline());
      req.set_replace(replace);
    } else if (e.key == "multi" || e.key == "upsert") {
      bool b = e.value.type == BsonType::kBool ? e.value.Bool() : e.value.IsNumber() && e.value.AsDouble() != 0;
      if (e.key == "multi") req.set_multi(b); else req.set_upsert(b);
    } else if (e.key == "arrayFilters") {
      s = SetArrayFilters(op, e.value, req.mutable_array_filters());
    } else if (e.key == "hint") {
      s = SetStatementHint(e.value, req.mutable_hint());
    } else if (e.key == "collation" || e.key == "sort") {
      if (e.value.type != BsonType::kDocument) s = op.WrongType(e.key, e.value, "object");
      else SetBson(e.key == "sort" ? req.mutable_sort() : req.mutable_collation(), e.value.Doc());
    } else if (e.key != "upsertSupplied") {
      s = MongoError(kUnknownBsonField, StrCat("BSON field 'bulkWrite.ops.", e.key, "' is an unknown field."));
    }
    if (!s.ok()) return {s};
  }
  if (!has_filter) return {MongoError(kNoSuchKey, "BSON field 'bulkWrite.ops.filter' is missing but a required field")};
  if (!has_mods) return {MongoError(kNoSuchKey, "BSON field 'bulkWrite.ops.updateMods' is missing but a required field")};
  if (req.multi() && req.replace()) {
    return {MongoError(kFailedToParse, "multi update is not supported for replacement-style update")};
  }
  v1::UpdateReply reply;
  OpResult r;
  r.status = context.data->Update(&req, &reply);
  service::GlobalRequestCounters().update.fetch_add(1, std::memory_order_relaxed);
  if (!r.status.ok()) return r;
  r.n = reply.matched_count() + (reply.has_upserted_id() ? 1 : 0);
  r.n_modified = reply.modified_count();
  if (reply.has_upserted_id()) r.upserted_id = reply.upserted_id().bson();
  return r;
}

OpResult RunDelete(const HandlerContext& context, const Command& op, const std::pair<std::string, std::string>& ns,
                   const v1::Doc& let, int64_t max_time_ms) {
  v1::DeleteRequest req;
  req.set_database(ns.first);
  req.set_collection(ns.second);
  *req.mutable_let() = let;
  req.set_max_time_ms(max_time_ms);
  bool has_filter = false;
  for (const bson::ElementView& e : op.body()) {
    absl::Status s;
    if (e.key == "delete") {
      continue;
    } else if (e.key == "filter") {
      has_filter = true;
      if (e.value.type != BsonType::kDocument) s = op.WrongType("filter", e.value, "object");
      else SetBson(req.mutable_filter(), e.value.Doc());
    } else if (e.key == "multi") {
      req.set_multi(e.value.type == BsonType::kBool ? e.value.Bool() : e.value.IsNumber() && e.value.AsDouble() != 0);
    } else if (e.key == "hint") {
      s = SetStatementHint(e.value, req.mutable_hint());
    } else if (e.key == "collation") {
      if (e.value.type != BsonType::kDocument) s = op.WrongType("collation", e.value, "object");
      else SetBson(req.mutable_collation(), e.value.Doc());
    } else {
      s = MongoError(kUnknownBsonField, StrCat("BSON field 'bulkWrite.ops.", e.key, "' is an unknown field."));
    }
    if (!s.ok()) return {s};
  }
  if (!has_filter) return {MongoError(kNoSuchKey, "BSON field 'bulkWrite.ops.filter' is missing but a required field")};
  v1::DeleteReply reply;
  OpResult r;
  r.status = context.data->Delete(&req, &reply);
  service::GlobalRequestCounters().remove.fetch_add(1, std::memory_order_relaxed);
  if (r.status.ok()) r.n = reply.deleted_count();
  return r;
}

void AppendResult(const OpResult& r, size_t idx, bson::Builder* batch, int position) {
  char key[24];
  auto at = batch->StartDocument(bson::ArrayKey(position, key));
  if (r.status.ok()) {
    batch->AppendDouble("ok", 1);
    batch->AppendInt32("idx", static_cast<int32_t>(idx));
    batch->AppendInt32("n", static_cast<int32_t>(r.n));
    if (r.n_modified >= 0) batch->AppendInt32("nModified", static_cast<int32_t>(r.n_modified));
    if (!r.upserted_id.empty()) batch->AppendDocument("upserted", bson::DocView(r.upserted_id));
  } else {
    v1::ErrorInfo info;
    service::FillErrorInfo(r.status, static_cast<int>(idx), &info);
    batch->AppendDouble("ok", 0);
    batch->AppendInt32("idx", static_cast<int32_t>(idx));
    batch->AppendInt32("code", info.code());
    batch->AppendString("codeName", ErrorCodeName(info.code()));
    batch->AppendString("errmsg", info.message());
    if (!info.details().empty()) {
      for (const bson::ElementView& e : bson::DocView(info.details())) batch->AppendView(e.key, e.value);
    }
  }
  batch->End(at);
}

absl::Status BulkWrite(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"ops", "nsInfo", "ordered", "bypassDocumentValidation", "errorsOnly",
                                    "let", "cursor"});
      !s.ok()) {
    return s;
  }
  if (context.db != "admin") {
    return MongoError(kUnauthorized, "The bulkWrite command may only be run against the admin database.");
  }
  auto ops = command.Objects("ops");
  auto ns_info = command.Objects("nsInfo");
  if (!ops.ok()) return ops.status();
  if (!ns_info.ok()) return ns_info.status();
  // IDL's 40414 for a required field that is absent from the body and the sequences.
  for (std::string_view required : {"ops", "nsInfo"}) {
    if (!command.HasFieldOrSequence(required)) {
      return MongoError(40414, StrCat("BSON field 'bulkWrite.", required, "' is missing but a required field"));
    }
  }
  if (ops->empty() || ops->size() > kMaxWriteStatements) {
    return MongoError(kInvalidLength, StrCat("Write batch sizes must be between 1 and 100000. Got ",
                                             ops->size(), " operations."));
  }
  auto ordered = command.Bool("ordered", true);
  auto bypass = command.Bool("bypassDocumentValidation", false);
  auto errors_only = command.Bool("errorsOnly", false);
  auto max_time = command.Integer("maxTimeMS", 0);
  for (const auto* v : {&ordered, &bypass, &errors_only}) {
    if (!v->ok()) return v->status();
  }
  if (!max_time.ok()) return max_time.status();
  if (auto s = CheckNonNegative("maxTimeMS", *max_time); !s.ok()) return s;
  v1::Doc let;
  if (auto s = SetObject(command, "let", &let); !s.ok()) return s;

  Totals totals;
  bson::Builder batch;
  int in_batch = 0;
  Deadline deadline = Deadline::After(*max_time);
  for (size_t i = 0; i < ops->size(); ++i) {
    int64_t left = *max_time > 0 ? deadline.RemainingMillis() : 0;
    // Like the other write commands, running out of time fails the whole command.
    if (*max_time > 0 && left <= 0) return MongoError(kMaxTimeMSExpired, "operation exceeded time limit");
    Command op((*ops)[i], nullptr);
    OpResult r;
    // In a retryable write, op i is statement i (MongoDB's stmtId): what its commits are
    // recorded as, and what a resumed retry finds done.
    storage::SetRetryStatement(static_cast<int32_t>(i));
    auto ns = OpNamespace(op.value(), *ns_info);
    if (!ns.ok()) {
      r.status = ns.status();
    } else if (op.name() == "insert") {
      r = RunInsert(context, op, *ns, *bypass);
      if (r.status.ok()) totals.inserted += r.n;
    } else if (op.name() == "update") {
      r = RunUpdate(context, op, *ns, *bypass, let, left);
      if (r.status.ok()) {
        totals.matched += r.n - (r.upserted_id.empty() ? 0 : 1);
        totals.modified += r.n_modified;
        totals.upserted += r.upserted_id.empty() ? 0 : 1;
      }
    } else if (op.name() == "delete") {
      r = RunDelete(context, op, *ns, let, left);
      if (r.status.ok()) totals.deleted += r.n;
    } else {
      return MongoError(kFailedToParse, StrCat("Unrecognized bulkWrite op '", op.name(),
                                               "': expected insert, update or delete"));
    }
    if (MongoCodeOf(r.status) == kMaxTimeMSExpired) return r.status;
    if (!r.status.ok()) ++totals.errors;
    if (!r.status.ok() || !*errors_only) AppendResult(r, i, &batch, in_batch++);
    if (!r.status.ok() && *ordered) break;
  }
  out->AppendInt32("nErrors", static_cast<int32_t>(totals.errors));
  out->AppendInt32("nInserted", static_cast<int32_t>(totals.inserted));
  out->AppendInt32("nMatched", static_cast<int32_t>(totals.matched));
  out->AppendInt32("nModified", static_cast<int32_t>(totals.modified));
  out->AppendInt32("nUpserted", static_cast<int32_t>(totals.upserted));
  out->AppendInt32("nDeleted", static_cast<int32_t>(totals.deleted));
  auto cursor = out->StartDocument("cursor");
  out->AppendInt64("id", 0);
  out->AppendArray("firstBatch", bson::DocView(std::move(batch).Finish()));
  out->AppendString("ns", "admin.$cmd.bulkWrite");
  out->End(cursor);
  return absl::OkStatus();
}

}  // namespace

std::span<const CommandEntry> BulkWriteCommands() {
  static const CommandEntry kTable[] = {{"bulkWrite", BulkWrite}};
  return kTable;
}

}  // namespace micromongo::wire
