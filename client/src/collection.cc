// Collection: CRUD through the DataService.

#include "client_core.h"
#include "cursor_state.h"
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

std::vector<WriteError> ToWriteErrors(const v1::InsertReply& reply) {
  std::vector<WriteError> errors;
  for (const v1::ErrorInfo& e : reply.write_errors()) {
    errors.push_back({e.index(), e.code(), e.code_name(), e.message()});
  }
  return errors;
}

}  // namespace

InsertOneResult Collection::InsertOne(const Document& doc) {
  Document with_id = WithId(doc);
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::InsertRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  internal::SetBson(request.add_documents(), with_id);
  v1::InsertReply reply;
  rpc.Call([&](const auto& s, grpc::ClientContext* c) { return s.data->Insert(c, request, &reply); });
  if (reply.write_errors_size() > 0) {
    const v1::ErrorInfo& e = reply.write_errors(0);
    internal::ThrowMongo(e.code(), e.code_name(), e.message());
  }
  return InsertOneResult{with_id.Get("_id")};
}

InsertManyResult Collection::InsertMany(const std::vector<Document>& docs,
                                        const InsertManyOptions& options) {
  if (docs.empty()) {
    throw Error(kInvalidLength, std::string(ErrorCodeName(kInvalidLength)),
                "InsertMany needs at least one document");
  }
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::InsertRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  request.set_unordered(!options.ordered);
  std::vector<Value> ids;
  ids.reserve(docs.size());
  for (const Document& d : docs) {
    if (const Value* id = d.Find("_id")) {
      ids.push_back(*id);
      internal::SetBson(request.add_documents(), d);
    } else {
      Document with_id = WithId(d);
      ids.push_back(with_id.Get("_id"));
      internal::SetBson(request.add_documents(), with_id);
    }
  }
  v1::InsertReply reply;
  rpc.Call([&](const auto& s, grpc::ClientContext* c) { return s.data->Insert(c, request, &reply); });
  if (reply.write_errors_size() > 0) {
    throw BulkWriteError(ToWriteErrors(reply), reply.inserted_count());
  }
  InsertManyResult result;
  result.inserted_count = reply.inserted_count();
  for (size_t i = 0; i < ids.size(); ++i) result.inserted_ids.emplace(i, std::move(ids[i]));
  return result;
}

Cursor Collection::Find(const Document& filter, const FindOptions& options) {
  auto state = std::make_unique<internal::CursorState>();
  auto& rpc = core_->Rpc(&state->bridge);
  v1::FindRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  internal::SetBson(request.mutable_filter(), filter);
  if (options.projection) internal::SetBson(request.mutable_projection(), *options.projection);
  if (options.sort) internal::SetBson(request.mutable_sort(), *options.sort);
  request.set_skip(options.skip);
  request.set_limit(options.limit);
  request.set_batch_size(options.batch_size);
  v1::CursorReply reply;
  rpc.Call([&](const auto& s, grpc::ClientContext* c) { return s.data->Find(c, request, &reply); });
  state->batch_size = options.batch_size;
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
  v1::CountRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  internal::SetBson(request.mutable_filter(), filter);
  request.set_skip(options.skip);
  request.set_limit(options.limit);
  v1::CountReply reply;
  rpc.Call([&](const auto& s, grpc::ClientContext* c) { return s.data->Count(c, request, &reply); });
  return reply.count();
}

int64_t Collection::EstimatedDocumentCount() {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::EstimatedCountRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  v1::CountReply reply;
  rpc.Call([&](const auto& s, grpc::ClientContext* c) { return s.data->EstimatedCount(c, request, &reply); });
  return reply.count();
}

UpdateResult Collection::DoUpdate(const Document& filter, const Document& update, bool multi,
                                  bool upsert, bool replace) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::UpdateRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  internal::SetBson(request.mutable_filter(), filter);
  internal::SetBson(request.mutable_update(), update);
  request.set_multi(multi);
  request.set_upsert(upsert);
  request.set_replace(replace);
  v1::UpdateReply reply;
  rpc.Call([&](const auto& s, grpc::ClientContext* c) { return s.data->Update(c, request, &reply); });
  UpdateResult result;
  result.matched_count = reply.matched_count();
  result.modified_count = reply.modified_count();
  if (reply.has_upserted_id()) result.upserted_id = internal::FromDoc(reply.upserted_id()).Get("_id");
  return result;
}

UpdateResult Collection::UpdateOne(const Document& filter, const Document& update,
                                   const UpdateOptions& options) {
  return DoUpdate(filter, update, false, options.upsert, false);
}

UpdateResult Collection::UpdateMany(const Document& filter, const Document& update,
                                    const UpdateOptions& options) {
  return DoUpdate(filter, update, true, options.upsert, false);
}

UpdateResult Collection::ReplaceOne(const Document& filter, const Document& replacement,
                                    const ReplaceOptions& options) {
  return DoUpdate(filter, replacement, false, options.upsert, true);
}

DeleteResult Collection::DoDelete(const Document& filter, bool multi) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::DeleteRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  internal::SetBson(request.mutable_filter(), filter);
  request.set_multi(multi);
  v1::DeleteReply reply;
  rpc.Call([&](const auto& s, grpc::ClientContext* c) { return s.data->Delete(c, request, &reply); });
  return DeleteResult{reply.deleted_count()};
}

DeleteResult Collection::DeleteOne(const Document& filter) { return DoDelete(filter, false); }
DeleteResult Collection::DeleteMany(const Document& filter) { return DoDelete(filter, true); }

bool Collection::Drop() {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::CollectionRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  v1::DropReply reply;
  rpc.Call([&](const auto& s, grpc::ClientContext* c) { return s.admin->DropCollection(c, request, &reply); });
  return reply.dropped();
}

}  // namespace micromongo
