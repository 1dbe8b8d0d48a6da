#include "requests.h"

#include "client_core.h"

namespace micromongo::internal {

v1::FindRequest FindRequestOf(const std::string& db, const std::string& coll, const Document& filter,
                              const FindOptions& options) {
  v1::FindRequest request;
  request.set_database(db);
  request.set_collection(coll);
  SetBson(request.mutable_filter(), filter);
  if (options.projection) SetBson(request.mutable_projection(), *options.projection);
  if (options.sort) SetBson(request.mutable_sort(), *options.sort);
  request.set_skip(options.skip);
  request.set_limit(options.limit);
  if (options.batch_size > 0) request.set_batch_size(options.batch_size);
  request.set_max_time_ms(options.max_time_ms);
  request.set_comment(options.comment);
  request.set_allow_disk_use(options.allow_disk_use);
  request.set_no_cursor_timeout(options.no_cursor_timeout);
  if (options.hint) SetHint(request.mutable_hint(), options.hint);
  if (options.let) SetBson(request.mutable_let(), *options.let);
  if (options.collation) SetBson(request.mutable_collation(), *options.collation);
  if (options.min) SetBson(request.mutable_min(), *options.min);
  request.set_return_key(options.return_key);
  request.set_show_record_id(options.show_record_id);
  request.set_tailable(options.tailable);
  request.set_await_data(options.await_data);
  if (options.max) SetBson(request.mutable_max(), *options.max);
  return request;
}

v1::AggregateRequest AggregateRequestOf(const std::string& db, const std::string& coll,
                                        const std::vector<Document>& pipeline, const AggregateOptions& options) {
  v1::AggregateRequest request;
  request.set_database(db);
  request.set_collection(coll);
  for (const Document& stage : pipeline) SetBson(request.add_pipeline(), stage);
  if (options.batch_size > 0) request.set_batch_size(options.batch_size);
  request.set_max_time_ms(options.max_time_ms);
  request.set_comment(options.comment);
  request.set_allow_disk_use(options.allow_disk_use);
  request.set_explain(options.explain);
  request.set_bypass_document_validation(options.bypass_document_validation);
  if (options.let) SetBson(request.mutable_let(), *options.let);
  if (options.hint) SetHint(request.mutable_hint(), options.hint);
  if (options.collation) SetBson(request.mutable_collation(), *options.collation);
  return request;
}

v1::CountRequest CountRequestOf(const std::string& db, const std::string& coll, const Document& filter,
                                const CountOptions& options) {
  v1::CountRequest request;
  request.set_database(db);
  request.set_collection(coll);
  SetBson(request.mutable_filter(), filter);
  request.set_skip(options.skip);
  request.set_limit(options.limit);
  request.set_max_time_ms(options.max_time_ms);
  if (options.hint) SetHint(request.mutable_hint(), options.hint);
  if (options.collation) SetBson(request.mutable_collation(), *options.collation);
  return request;
}

v1::DistinctRequest DistinctRequestOf(const std::string& db, const std::string& coll, std::string_view key,
                                      const Document& filter, const DistinctOptions& options) {
  v1::DistinctRequest request;
  request.set_database(db);
  request.set_collection(coll);
  request.set_key(std::string(key));
  SetBson(request.mutable_filter(), filter);
  request.set_max_time_ms(options.max_time_ms);
  if (options.hint) SetHint(request.mutable_hint(), options.hint);
  if (options.collation) SetBson(request.mutable_collation(), *options.collation);
  return request;
}

v1::UpdateRequest UpdateRequestOf(const std::string& db, const std::string& coll, const Document& filter,
                                  const Document* update, const Pipeline* pipeline, bool multi, bool replace,
                                  const UpdateOptions& options) {
  v1::UpdateRequest request;
  request.set_database(db);
  request.set_collection(coll);
  SetBson(request.mutable_filter(), filter);
  if (update != nullptr) SetBson(request.mutable_update(), *update);
  if (pipeline != nullptr) {
    for (const Document& stage : pipeline->stages) SetBson(request.add_pipeline(), stage);
  }
  request.set_multi(multi);
  request.set_upsert(options.upsert);
  request.set_replace(replace);
  for (const Document& f : options.array_filters) SetBson(request.add_array_filters(), f);
  if (options.hint) SetHint(request.mutable_hint(), options.hint);
  if (options.let) SetBson(request.mutable_let(), *options.let);
  if (options.collation) SetBson(request.mutable_collation(), *options.collation);
  request.set_bypass_document_validation(options.bypass_document_validation);
  request.set_max_time_ms(options.max_time_ms);
  return request;
}

v1::DeleteRequest DeleteRequestOf(const std::string& db, const std::string& coll, const Document& filter,
                                  bool multi, const DeleteOptions& options) {
  v1::DeleteRequest request;
  request.set_database(db);
  request.set_collection(coll);
  SetBson(request.mutable_filter(), filter);
  request.set_multi(multi);
  if (options.hint) SetHint(request.mutable_hint(), options.hint);
  if (options.let) SetBson(request.mutable_let(), *options.let);
  if (options.collation) SetBson(request.mutable_collation(), *options.collation);
  request.set_max_time_ms(options.max_time_ms);
  return request;
}

v1::FindAndModifyRequest FindAndModifyRequestOf(const std::string& db, const std::string& coll,
                                                const Document& filter, const FindAndModifyArgs& a) {
  v1::FindAndModifyRequest request;
  request.set_database(db);
  request.set_collection(coll);
  SetBson(request.mutable_filter(), filter);
  if (a.update != nullptr) SetBson(request.mutable_update(), *a.update);
  if (a.pipeline != nullptr) {
    for (const Document& stage : a.pipeline->stages) SetBson(request.add_pipeline(), stage);
  }
  if (a.projection != nullptr && *a.projection) SetBson(request.mutable_projection(), **a.projection);
  if (a.sort != nullptr && *a.sort) SetBson(request.mutable_sort(), **a.sort);
  if (a.array_filters != nullptr) {
    for (const Document& f : *a.array_filters) SetBson(request.add_array_filters(), f);
  }
  request.set_replace(a.replace);
  request.set_remove(a.remove);
  request.set_upsert(a.upsert);
  request.set_return_new(a.return_new);
  request.set_max_time_ms(a.max_time_ms);
  request.set_bypass_document_validation(a.bypass_document_validation);
  if (a.hint != nullptr) SetHint(request.mutable_hint(), *a.hint);
  if (a.let != nullptr && *a.let) SetBson(request.mutable_let(), **a.let);
  if (a.collation != nullptr && *a.collation) SetBson(request.mutable_collation(), **a.collation);
  return request;
}

FindAndModifyArgs UpdateArgs(const Document* update, const Pipeline* pipeline, const FindOneAndUpdateOptions& o) {
  return {.update = update, .pipeline = pipeline, .upsert = o.upsert,
          .return_new = o.return_document == ReturnDocument::kAfter, .projection = &o.projection,
          .sort = &o.sort, .array_filters = &o.array_filters, .max_time_ms = o.max_time_ms, .hint = &o.hint,
          .let = &o.let, .collation = &o.collation, .bypass_document_validation = o.bypass_document_validation,
          .session = o.session};
}

FindAndModifyArgs DeleteArgs(const FindOneAndDeleteOptions& o) {
  return {.remove = true, .projection = &o.projection, .sort = &o.sort, .max_time_ms = o.max_time_ms,
          .hint = &o.hint, .let = &o.let, .collation = &o.collation, .session = o.session};
}

}  // namespace micromongo::internal
