// Collection: CRUD through the DataService.

#include "client_core.h"
#include "cursor_state.h"
#include "requests.h"
#include "session_state.h"
#include "document/builder.h"
#include "document/status.h"
#include "micromongo/error.h"

namespace micromongo {
namespace {

// The document with an _id, generated (ObjectId, first) if it had none.
Document WithId(const Document& doc) {
  if (doc.Has("_id")) return doc;
  Document out = doc;
  out.Insert(out.begin(), {"_id", ObjectId::Generate()});
  return out;
}

// {"<index>": _id, ...} -> index -> _id.
std::map<size_t, Value> IdsByIndex(const v1::Doc& doc) {
  std::map<size_t, Value> out;
  for (const auto& [k, v] : internal::FromDoc(doc)) out.emplace(std::stoul(k), v);
  return out;
}

std::vector<WriteError> ToWriteErrors(
    const google::protobuf::RepeatedPtrField<v1::ErrorInfo>& infos) {
  std::vector<WriteError> errors;
  for (const v1::ErrorInfo& e : infos) {
    errors.push_back({e.index(), e.code(), e.code_name(), e.message(), internal::DetailsOf(e.details())});
  }
  return errors;
}

// MongoDB's maxMessageSizeBytes (less room for the request's other fields) and
// maxWriteBatchSize: the most one insert request carries.
constexpr size_t kMaxInsertBatchBytes = 48'000'000 - 16 * 1024;
constexpr size_t kMaxWriteBatchSize = 100'000;

// An InsertMany request without its documents; throws for an empty batch.
v1::InsertRequest InsertManyRequest(const std::string& db, const std::string& coll, size_t count,
                                    const InsertManyOptions& options) {
  if (count == 0) {
    throw Error(kInvalidLength, ErrorCodeName(kInvalidLength),
                "InsertMany needs at least one document");
  }
  v1::InsertRequest request;
  request.set_database(db);
  request.set_collection(coll);
  request.set_unordered(!options.ordered);
  request.set_bypass_document_validation(options.bypass_document_validation);
  return request;
}

}  // namespace

InsertOneResult Collection::InsertOne(const Document& doc, const InsertOneOptions& options) {
  Document with_id = WithId(doc);
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::InsertRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  request.set_bypass_document_validation(options.bypass_document_validation);
  internal::SetBson(request.add_documents(), with_id);
  internal::SessionAccess::Attach(options.session, core_.get(), &request);
  v1::InsertReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncInsert, request, &reply);
  if (reply.write_errors_size() > 0) {
    const v1::ErrorInfo& e = reply.write_errors(0);
    internal::ThrowMongo(e.code(), e.code_name(), e.message(), internal::DetailsOf(e.details()));
  }
  return InsertOneResult{with_id.Get("_id")};
}

InsertManyResult Collection::InsertMany(const std::vector<Document>& docs,
                                        const InsertManyOptions& options) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  InsertManyRequest(db_, name_, docs.size(), options);  // throws for an empty batch
  std::vector<Value> ids;
  ids.reserve(docs.size());
  int64_t inserted_count = 0;
  std::map<size_t, Value> error_ids;                   // what the failed requests did insert
  std::vector<std::pair<size_t, size_t>> whole;        // requests inserted whole: [start, end)
  std::vector<WriteError> errors;
  // As MongoDB's drivers do, a large insert goes in several requests, each within
  // maxMessageSizeBytes and maxWriteBatchSize; an ordered one stops at the first request
  // with an error, an unordered one attempts them all. The documents travel as one BSON
  // document sequence, encoded straight into the request (no message per document).
  for (size_t start = 0; start < docs.size();) {
    v1::InsertRequest request = InsertManyRequest(db_, name_, docs.size(), options);
    std::string* sequence = request.mutable_document_sequence();
    size_t end = start;
    for (; end < docs.size() && end - start < kMaxWriteBatchSize; ++end) {
      const Document& d = docs[end];
      size_t before = sequence->size();
      const Value* id = d.Find("_id");
      Value generated;
      bson::Builder b(bson::Builder::AppendTo{sequence});
      if (id == nullptr) {
        generated = ObjectId::Generate();
        b.AppendValue("_id", generated);
      }
      for (const auto& [k, v] : d) b.AppendValue(k, v);
      std::move(b).Finish(bson::Builder::AppendTo{sequence});
      if (end > start && sequence->size() > kMaxInsertBatchBytes) {
        sequence->resize(before);  // goes first in the next request
        break;
      }
      ids.push_back(id != nullptr ? *id : std::move(generated));
    }
    internal::SessionAccess::Attach(options.session, core_.get(), &request);
    v1::InsertReply reply;
    rpc.Unary(&v1::DataService::Stub::AsyncInsert, request, &reply);
    inserted_count += reply.inserted_count();
    if (reply.write_errors_size() > 0) {
      if (reply.has_inserted_ids()) {
        for (auto& [i, id] : IdsByIndex(reply.inserted_ids())) error_ids.emplace(start + i, id);
      }
      for (WriteError& e : ToWriteErrors(reply.write_errors())) {
        e.index += static_cast<int>(start);
        errors.push_back(std::move(e));
      }
      if (options.ordered) break;
    } else {
      whole.emplace_back(start, end);
    }
    start = end;
  }
  if (!errors.empty()) {
    BulkWriteResult partial;
    partial.inserted_count = inserted_count;
    partial.inserted_ids = std::move(error_ids);
    for (auto [from, to] : whole) {
      for (size_t i = from; i < to; ++i) partial.inserted_ids.emplace(i, ids[i]);
    }
    throw BulkWriteError(std::move(errors), std::move(partial));
  }
  InsertManyResult result;
  result.inserted_count = inserted_count;
  for (size_t i = 0; i < ids.size(); ++i) result.inserted_ids.emplace_hint(result.inserted_ids.end(), i, std::move(ids[i]));
  return result;
}

InsertManyResult Collection::InsertManyBson(const std::vector<std::string>& documents,
                                            const InsertManyOptions& options) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::InsertRequest request = InsertManyRequest(db_, name_, documents.size(), options);
  size_t bytes = 0;
  for (const std::string& d : documents) bytes += d.size();
  std::string* sequence = request.mutable_document_sequence();
  sequence->reserve(bytes);
  for (const std::string& d : documents) sequence->append(d);
  internal::SessionAccess::Attach(options.session, core_.get(), &request);
  v1::InsertReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncInsert, request, &reply);
  std::map<size_t, Value> ids;
  if (reply.has_inserted_ids()) ids = IdsByIndex(reply.inserted_ids());
  if (reply.write_errors_size() > 0) {
    BulkWriteResult partial;
    partial.inserted_count = reply.inserted_count();
    partial.inserted_ids = std::move(ids);
    throw BulkWriteError(ToWriteErrors(reply.write_errors()), std::move(partial));
  }
  InsertManyResult result;
  result.inserted_count = reply.inserted_count();
  result.inserted_ids = std::move(ids);
  return result;
}

Cursor Collection::Find(const Document& filter, const FindOptions& options) {
  auto state = std::make_unique<internal::CursorState>();
  auto& rpc = core_->Rpc(&state->bridge);
  v1::FindRequest request = internal::FindRequestOf(db_, name_, filter, options);
  request.set_document_sequence(true);
  internal::SessionAccess::Attach(options.session, core_.get(), &request);
  v1::CursorReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncFind, request, &reply);
  internal::SessionAccess::Observe(options.session, reply);
  state->batch_size = options.batch_size;
  if (options.tailable && options.await_data) state->await_ms = options.max_await_time_ms;
  state->session = internal::SessionAccess::ForCursor(request.has_session() ? &request.session() : nullptr);
  // In a transaction a batch is read when asked for: a prefetch could run before or after
  // the transaction's next write, and see it or not.
  state->prefetch = !options.tailable && !(state->session && state->session->has_txn_number());
  state->Take(&reply);
  return Cursor(std::move(state));
}

Cursor Collection::Aggregate(const std::vector<Document>& pipeline,
                             const AggregateOptions& options) {
  auto state = std::make_unique<internal::CursorState>();
  auto& rpc = core_->Rpc(&state->bridge);
  v1::AggregateRequest request = internal::AggregateRequestOf(db_, name_, pipeline, options);
  request.set_document_sequence(true);
  internal::SessionAccess::Attach(options.session, core_.get(), &request);
  v1::CursorReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncAggregate, request, &reply);
  internal::SessionAccess::Observe(options.session, reply);
  state->batch_size = options.batch_size;
  state->session = internal::SessionAccess::ForCursor(request.has_session() ? &request.session() : nullptr);
  state->prefetch = !(state->session && state->session->has_txn_number());
  state->Take(&reply);
  return Cursor(std::move(state));
}

std::optional<Document> Collection::FindOne(const Document& filter, FindOptions options) {
  options.limit = 1;
  options.batch_size = 1;
  return Find(filter, options).Next();
}

int64_t Collection::CountDocuments(const Document& filter, const CountOptions& options) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::CountRequest request = internal::CountRequestOf(db_, name_, filter, options);
  internal::SessionAccess::Attach(options.session, core_.get(), &request);
  v1::CountReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncCount, request, &reply);
  internal::SessionAccess::Observe(options.session, reply);
  return reply.count();
}

int64_t Collection::EstimatedDocumentCount() {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::EstimatedCountRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  v1::CountReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncEstimatedCount, request, &reply);
  return reply.count();
}

UpdateResult Collection::DoUpdate(const Document& filter, const Document* update,
                                  const Pipeline* pipeline, bool multi, bool replace,
                                  const UpdateOptions& options) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::UpdateRequest request = internal::UpdateRequestOf(db_, name_, filter, update, pipeline, multi, replace, options);
  internal::SessionAccess::Attach(options.session, core_.get(), &request);
  v1::UpdateReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncUpdate, request, &reply);
  UpdateResult result;
  result.matched_count = reply.matched_count();
  result.modified_count = reply.modified_count();
  if (reply.has_upserted_id()) result.upserted_id = internal::FromDoc(reply.upserted_id()).Get("_id");
  return result;
}

UpdateResult Collection::UpdateOne(const Document& filter, const Document& update,
                                   const UpdateOptions& options) {
  return DoUpdate(filter, &update, nullptr, false, false, options);
}

UpdateResult Collection::UpdateOne(const Document& filter, const Pipeline& pipeline,
                                   const UpdateOptions& options) {
  return DoUpdate(filter, nullptr, &pipeline, false, false, options);
}

UpdateResult Collection::UpdateMany(const Document& filter, const Pipeline& pipeline,
                                    const UpdateOptions& options) {
  return DoUpdate(filter, nullptr, &pipeline, true, false, options);
}

UpdateResult Collection::UpdateMany(const Document& filter, const Document& update,
                                    const UpdateOptions& options) {
  return DoUpdate(filter, &update, nullptr, true, false, options);
}

UpdateResult Collection::ReplaceOne(const Document& filter, const Document& replacement,
                                    const ReplaceOptions& options) {
  return DoUpdate(filter, &replacement, nullptr, false, true,
                  {.upsert = options.upsert, .hint = options.hint, .let = options.let,
                   .collation = options.collation,
                   .bypass_document_validation = options.bypass_document_validation,
                   .max_time_ms = options.max_time_ms,
                   .session = options.session});
}

DeleteResult Collection::DoDelete(const Document& filter, bool multi,
                                  const DeleteOptions& options) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::DeleteRequest request = internal::DeleteRequestOf(db_, name_, filter, multi, options);
  internal::SessionAccess::Attach(options.session, core_.get(), &request);
  v1::DeleteReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncDelete, request, &reply);
  return DeleteResult{reply.deleted_count()};
}

DeleteResult Collection::DeleteOne(const Document& filter, const DeleteOptions& options) {
  return DoDelete(filter, false, options);
}
DeleteResult Collection::DeleteMany(const Document& filter, const DeleteOptions& options) {
  return DoDelete(filter, true, options);
}

static std::optional<Document> RunFindAndModify(internal::ClientCore* core, const std::string& db,
                                                const std::string& coll, const Document& filter,
                                                const internal::FindAndModifyArgs& a) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core->Rpc(&keep);
  v1::FindAndModifyRequest request = internal::FindAndModifyRequestOf(db, coll, filter, a);
  internal::SessionAccess::Attach(a.session, core, &request);
  v1::FindAndModifyReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncFindAndModify, request, &reply);
  if (!reply.has_value()) return std::nullopt;
  return internal::FromDoc(reply.value());
}

std::optional<Document> Collection::FindOneAndUpdate(const Document& filter, const Document& update,
                                                     const FindOneAndUpdateOptions& o) {
  return RunFindAndModify(core_.get(), db_, name_, filter, internal::UpdateArgs(&update, nullptr, o));
}

std::optional<Document> Collection::FindOneAndUpdate(const Document& filter, const Pipeline& pipeline,
                                                     const FindOneAndUpdateOptions& o) {
  return RunFindAndModify(core_.get(), db_, name_, filter, internal::UpdateArgs(nullptr, &pipeline, o));
}

std::optional<Document> Collection::FindOneAndReplace(const Document& filter,
                                                      const Document& replacement,
                                                      const FindOneAndReplaceOptions& o) {
  return RunFindAndModify(core_.get(), db_, name_, filter,
                          {.update = &replacement, .replace = true, .upsert = o.upsert,
                           .return_new = o.return_document == ReturnDocument::kAfter,
                           .projection = &o.projection, .sort = &o.sort,
                           .max_time_ms = o.max_time_ms, .hint = &o.hint, .let = &o.let, .collation = &o.collation,
                           .bypass_document_validation = o.bypass_document_validation,
                           .session = o.session});
}

std::optional<Document> Collection::FindOneAndDelete(const Document& filter,
                                                     const FindOneAndDeleteOptions& o) {
  return RunFindAndModify(core_.get(), db_, name_, filter, internal::DeleteArgs(o));
}

BulkWriteResult Collection::BulkWrite(const std::vector<WriteModel>& models,
                                      const BulkWriteOptions& options) {
  if (models.empty()) {
    throw Error(kInvalidLength, ErrorCodeName(kInvalidLength),
                "BulkWrite needs at least one model");
  }
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::BulkWriteRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  request.set_unordered(!options.ordered);
  request.set_bypass_document_validation(options.bypass_document_validation);
  if (options.let) internal::SetBson(request.mutable_let(), *options.let);
  std::map<size_t, Value> inserted_ids;
  for (size_t i = 0; i < models.size(); ++i) {
    v1::WriteModel* m = request.add_models();
    std::visit(
        [&](const auto& model) {
          using T = std::decay_t<decltype(model)>;
          if constexpr (std::is_same_v<T, InsertOneModel>) {
            Document doc = WithId(model.document);
            inserted_ids.emplace(i, doc.Get("_id"));
            internal::SetBson(m->mutable_insert_one()->mutable_document(), doc);
          } else if constexpr (std::is_same_v<T, DeleteOneModel> ||
                               std::is_same_v<T, DeleteManyModel>) {
            internal::SetBson(m->mutable_delete_()->mutable_filter(), model.filter);
            m->mutable_delete_()->set_multi(std::is_same_v<T, DeleteManyModel>);
            internal::SetHint(m->mutable_delete_()->mutable_hint(), model.hint);
            if (model.collation) {
              internal::SetBson(m->mutable_delete_()->mutable_collation(), *model.collation);
            }
          } else {
            auto* u = m->mutable_update();
            internal::SetBson(u->mutable_filter(), model.filter);
            u->set_upsert(model.upsert);
            internal::SetHint(u->mutable_hint(), model.hint);
            if (model.collation) internal::SetBson(u->mutable_collation(), *model.collation);
            if constexpr (std::is_same_v<T, ReplaceOneModel>) {
              internal::SetBson(u->mutable_update(), model.replacement);
              u->set_replace(true);
            } else {
              internal::SetBson(u->mutable_update(), model.update);
              for (const Document& stage : model.pipeline) internal::SetBson(u->add_pipeline(), stage);
              u->set_multi(std::is_same_v<T, UpdateManyModel>);
              for (const Document& f : model.array_filters) {
                internal::SetBson(u->add_array_filters(), f);
              }
            }
          }
        },
        models[i]);
  }
  internal::SessionAccess::Attach(options.session, core_.get(), &request);
  v1::BulkWriteReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncBulkWrite, request, &reply);
  BulkWriteResult result;
  result.inserted_count = reply.inserted_count();
  result.matched_count = reply.matched_count();
  result.modified_count = reply.modified_count();
  result.deleted_count = reply.deleted_count();
  result.upserted_count = reply.upserted_count();
  if (reply.has_inserted_ids()) result.inserted_ids = IdsByIndex(reply.inserted_ids());
  if (reply.has_upserted_ids()) result.upserted_ids = IdsByIndex(reply.upserted_ids());
  if (reply.write_errors_size() > 0) {
    throw BulkWriteError(ToWriteErrors(reply.write_errors()), std::move(result));
  }
  return result;
}

std::vector<Value> Collection::Distinct(std::string_view key, const Document& filter,
                                        const DistinctOptions& options) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::DistinctRequest request = internal::DistinctRequestOf(db_, name_, key, filter, options);
  internal::SessionAccess::Attach(options.session, core_.get(), &request);
  v1::DistinctReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncDistinct, request, &reply);
  internal::SessionAccess::Observe(options.session, reply);
  Document values = internal::FromDoc(reply.values());
  const Value* array = values.Find("values");
  return array != nullptr && array->type() == BsonType::kArray ? array->AsArray() : Array{};
}

std::string Collection::CreateIndex(const Document& keys, const IndexOptions& options) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::CreateIndexesRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  v1::IndexModel* model = request.add_indexes();
  internal::SetBson(model->mutable_keys(), keys);
  Document o;
  if (!options.name.empty()) o.Append("name", options.name);
  if (options.unique) o.Append("unique", true);
  if (options.sparse) o.Append("sparse", true);
  if (options.expire_after_seconds) o.Append("expireAfterSeconds", *options.expire_after_seconds);
  if (options.hidden) o.Append("hidden", true);
  if (options.prepare_unique) o.Append("prepareUnique", true);
  if (options.collation) o.Append("collation", *options.collation);
  if (options.partial_filter_expression) {
    o.Append("partialFilterExpression", *options.partial_filter_expression);
  }
  if (options.wildcard_projection) o.Append("wildcardProjection", *options.wildcard_projection);
  if (options.weights) o.Append("weights", *options.weights);
  if (!options.default_language.empty()) o.Append("default_language", options.default_language);
  if (!options.language_override.empty()) o.Append("language_override", options.language_override);
  if (options.min) o.Append("min", *options.min);
  if (options.max) o.Append("max", *options.max);
  if (options.bits) o.Append("bits", *options.bits);
  internal::SetBson(model->mutable_options(), o);
  internal::SessionAccess::Attach(options.session, core_.get(), &request);
  v1::CreateIndexesReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncCreateIndexes, request, &reply);
  return reply.names_size() > 0 ? reply.names(0) : std::string();
}

void Collection::ModifyIndex(const IndexModification& change) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::ModifyCollectionRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  Document index;
  if (!change.name.empty()) index.Append("name", change.name);
  if (change.key_pattern) index.Append("keyPattern", *change.key_pattern);
  if (change.hidden) index.Append("hidden", *change.hidden);
  if (change.expire_after_seconds) index.Append("expireAfterSeconds", *change.expire_after_seconds);
  if (change.prepare_unique) index.Append("prepareUnique", *change.prepare_unique);
  if (change.unique) index.Append("unique", true);
  internal::SetBson(request.mutable_index(), index);
  request.set_dry_run(change.dry_run);
  v1::Empty reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncModifyCollection, request, &reply);
}

std::vector<Document> Collection::ListIndexes(const ListIndexesOptions& options) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::ListIndexesRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  internal::SessionAccess::Attach(options.session, core_.get(), &request);
  v1::ListIndexesReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncListIndexes, request, &reply);
  std::vector<Document> out;
  for (const v1::Doc& d : reply.indexes()) out.push_back(internal::FromDoc(d));
  return out;
}

Document Collection::Validate(const ValidateOptions& options) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::ValidateRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  request.set_full(options.full);
  v1::ValidateReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncValidate, request, &reply);
  return internal::FromDoc(reply.result());
}

static void RunDropIndex(internal::ClientCore* core, const std::string& db, const std::string& coll,
                         std::string_view name, const Document* keys) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core->Rpc(&keep);
  v1::DropIndexRequest request;
  request.set_database(db);
  request.set_collection(coll);
  request.set_name(std::string(name));
  if (keys != nullptr) internal::SetBson(request.mutable_keys(), *keys);
  v1::Empty reply;
  rpc.Unary(&v1::DataService::Stub::AsyncDropIndex, request, &reply);
}

void Collection::DropIndex(std::string_view name) { RunDropIndex(core_.get(), db_, name_, name, nullptr); }
void Collection::DropIndex(const Document& keys) { RunDropIndex(core_.get(), db_, name_, "", &keys); }
void Collection::DropIndexes() { RunDropIndex(core_.get(), db_, name_, "*", nullptr); }

void Collection::Rename(std::string_view to, bool drop_target) {
  Database(core_, db_).RenameCollection(name_, to, drop_target);
}

bool Collection::Drop() {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::CollectionRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  v1::DropReply reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncDropCollection, request, &reply);
  return reply.dropped();
}

}  // namespace micromongo
