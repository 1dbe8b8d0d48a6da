#include "document/builder.h"
#include "document/status.h"
#include "service/crud.h"
#include "service/services.h"
#include "service/wire.h"

namespace micromongo::service {
namespace {

constexpr size_t kDefaultFirstBatch = 101;
constexpr size_t kMaxBatchBytes = 8 << 20;

// A reply uses JSON unless the request carried BSON.
template <typename... Docs>
bool WantsJson(const Docs&... docs) {
  return ((docs.kind_case() != v1::Doc::kBson) && ...);
}

#define MM_ASSIGN_OR_RETURN_GRPC(lhs, expr) \
  auto lhs##_or = (expr);                   \
  if (!lhs##_or.ok()) return ToGrpc(lhs##_or.status()); \
  auto lhs = *std::move(lhs##_or)

absl::StatusOr<std::unique_ptr<query::Matcher>> ParseFilter(const v1::Doc& doc) {
  auto bytes = DocToBson(doc);
  if (!bytes.ok()) return bytes.status();
  return query::Matcher::Parse(*std::move(bytes));
}

grpc::Status FillBatch(FindCursor* cursor, size_t batch_size, bool json, v1::CursorReply* reply) {
  std::vector<std::string> docs;
  if (auto s = cursor->NextBatch(batch_size, kMaxBatchBytes, &docs); !s.ok()) return ToGrpc(s);
  for (std::string& d : docs) SetDoc(reply->add_documents(), std::move(d), json);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status DataServiceImpl::Insert(grpc::ServerContext*, const v1::InsertRequest* req,
                                     v1::InsertReply* reply) {
  bool json = req->documents_size() > 0 && req->documents(0).kind_case() == v1::Doc::kJson;
  std::vector<std::string> docs;
  docs.reserve(req->documents_size());
  for (const v1::Doc& d : req->documents()) {
    auto bytes = DocToBson(d);
    if (!bytes.ok()) return ToGrpc(bytes.status());
    docs.push_back(*std::move(bytes));
  }
  auto outcome = service::Insert(engine_, req->database(), req->collection(), std::move(docs),
                                 !req->unordered());
  if (!outcome.ok()) return ToGrpc(outcome.status());
  reply->set_inserted_count(outcome->inserted_count);
  bson::Builder ids;
  char scratch[24];
  for (int index : outcome->inserted) {
    ids.AppendView(bson::ArrayKey(index, scratch), bson::DocView(outcome->docs[index]).begin()->value);
  }
  SetDoc(reply->mutable_inserted_ids(), std::move(ids).Finish(), json);
  for (const WriteErrorInfo& e : outcome->write_errors) {
    FillErrorInfo(e.status, e.index, reply->add_write_errors());
  }
  return grpc::Status::OK;
}

grpc::Status DataServiceImpl::Find(grpc::ServerContext*, const v1::FindRequest* req,
                                   v1::CursorReply* reply) {
  bool json = WantsJson(req->filter(), req->projection(), req->sort());
  FindSpec spec;
  MM_ASSIGN_OR_RETURN_GRPC(matcher, ParseFilter(req->filter()));
  spec.matcher = std::move(matcher);
  if (req->has_projection()) {
    MM_ASSIGN_OR_RETURN_GRPC(proj_bytes, DocToBson(req->projection()));
    if (!bson::DocView(proj_bytes).empty()) {
      MM_ASSIGN_OR_RETURN_GRPC(projection, query::Projection::Parse(bson::DocView(proj_bytes)));
      spec.projection = std::move(projection);
    }
  }
  if (req->has_sort()) {
    MM_ASSIGN_OR_RETURN_GRPC(sort_bytes, DocToBson(req->sort()));
    MM_ASSIGN_OR_RETURN_GRPC(sort, query::SortSpec::Parse(bson::DocView(sort_bytes)));
    spec.sort = std::move(sort);
  }
  spec.skip = req->skip();
  spec.limit = req->limit();
  if (req->batch_size() < 0) return ToGrpc(MongoError(kBadValue, "batchSize must be non-negative"));
  MM_ASSIGN_OR_RETURN_GRPC(cursor, FindCursor::Open(engine_, req->database(), req->collection(),
                                                    std::move(spec)));
  size_t batch = req->batch_size() > 0 ? req->batch_size() : kDefaultFirstBatch;
  if (auto s = FillBatch(cursor.get(), batch, json, reply); !s.ok()) return s;
  if (!cursor->exhausted()) {
    reply->set_cursor_id(cursors_->Add(std::move(cursor), json));
  }
  return grpc::Status::OK;
}

grpc::Status DataServiceImpl::GetMore(grpc::ServerContext*, const v1::GetMoreRequest* req,
                                      v1::CursorReply* reply) {
  bool json = false;
  std::unique_ptr<FindCursor> cursor = cursors_->CheckOut(req->cursor_id(), &json);
  if (cursor == nullptr) {
    return ToGrpc(MongoError(kCursorNotFound, StrCat("cursor id ", req->cursor_id(), " not found")));
  }
  size_t batch = req->batch_size() > 0 ? req->batch_size() : 0;
  grpc::Status s = FillBatch(cursor.get(), batch, json, reply);
  bool done = !s.ok() || cursor->exhausted();
  if (done) {
    cursors_->Kill(req->cursor_id());
  } else {
    reply->set_cursor_id(req->cursor_id());
    cursors_->CheckIn(req->cursor_id(), std::move(cursor));
  }
  return s;
}

grpc::Status DataServiceImpl::KillCursors(grpc::ServerContext*, const v1::KillCursorsRequest* req,
                                          v1::Empty*) {
  for (int64_t id : req->cursor_ids()) cursors_->Kill(id);
  return grpc::Status::OK;
}

grpc::Status DataServiceImpl::Count(grpc::ServerContext*, const v1::CountRequest* req,
                                    v1::CountReply* reply) {
  MM_ASSIGN_OR_RETURN_GRPC(matcher, ParseFilter(req->filter()));
  MM_ASSIGN_OR_RETURN_GRPC(n, service::Count(engine_, req->database(), req->collection(),
                                             *matcher, req->skip(), req->limit()));
  reply->set_count(n);
  return grpc::Status::OK;
}

grpc::Status DataServiceImpl::EstimatedCount(grpc::ServerContext*,
                                             const v1::EstimatedCountRequest* req,
                                             v1::CountReply* reply) {
  MM_ASSIGN_OR_RETURN_GRPC(n, service::EstimatedCount(engine_, req->database(), req->collection()));
  reply->set_count(n);
  return grpc::Status::OK;
}

grpc::Status DataServiceImpl::Update(grpc::ServerContext*, const v1::UpdateRequest* req,
                                     v1::UpdateReply* reply) {
  bool json = WantsJson(req->filter(), req->update());
  MM_ASSIGN_OR_RETURN_GRPC(matcher, ParseFilter(req->filter()));
  MM_ASSIGN_OR_RETURN_GRPC(update_bytes, DocToBson(req->update()));
  std::optional<std::string> filters;
  if (req->array_filters_size() > 0) {
    bson::Builder array;
    char scratch[24];
    for (int i = 0; i < req->array_filters_size(); ++i) {
      MM_ASSIGN_OR_RETURN_GRPC(f, DocToBson(req->array_filters(i)));
      array.AppendDocument(bson::ArrayKey(i, scratch), bson::DocView(f));
    }
    filters = std::move(array).Finish();
  }
  MM_ASSIGN_OR_RETURN_GRPC(
      update, update::Update::Parse(bson::DocView(update_bytes), req->replace(),
                                    filters ? std::optional(bson::DocView(*filters)) : std::nullopt));
  MM_ASSIGN_OR_RETURN_GRPC(outcome, service::Update(engine_, req->database(), req->collection(),
                                                    *matcher, *update, req->multi(),
                                                    req->upsert()));
  reply->set_matched_count(outcome.matched_count);
  reply->set_modified_count(outcome.modified_count);
  if (outcome.upserted_id) SetDoc(reply->mutable_upserted_id(), *outcome.upserted_id, json);
  return grpc::Status::OK;
}

grpc::Status DataServiceImpl::Delete(grpc::ServerContext*, const v1::DeleteRequest* req,
                                     v1::DeleteReply* reply) {
  MM_ASSIGN_OR_RETURN_GRPC(matcher, ParseFilter(req->filter()));
  MM_ASSIGN_OR_RETURN_GRPC(n, service::Delete(engine_, req->database(), req->collection(),
                                              *matcher, req->multi()));
  reply->set_deleted_count(n);
  return grpc::Status::OK;
}

}  // namespace micromongo::service
