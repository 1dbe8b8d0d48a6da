#include "collation/collation.h"
#include "document/builder.h"
#include "document/status.h"
#include "pipeline/pipeline.h"
#include "service/aggregation.h"
#include "service/crud.h"
#include "service/indexes.h"
#include "service/views.h"
#include "storage/namespace.h"
#include "service/data_operations.h"

#include <deque>

#include "service/change_stream_cursor.h"
#include "service/tailable_cursor.h"
#include "service/validate.h"
#include "service/request_parsing.h"
#include "util/op_debug.h"

namespace micromongo::service {
namespace {

constexpr size_t kDefaultFirstBatch = 101;
// A batch ends past this many bytes (unless its batch size is reached first): small enough
// that the client decodes one batch while the worker produces the next (the client
// prefetches), large enough that the per-call cost stays below a percent.
constexpr size_t kMaxBatchBytes = 1 << 20;

// `sequence`: the request asked for CursorReply.document_sequence (BSON replies only).
absl::Status FillBatch(Cursor* cursor, size_t batch_size, bool json, bool sequence, v1::CursorReply* reply) {
  std::vector<std::string> docs;
  if (auto s = cursor->NextBatch(batch_size, kMaxBatchBytes, &docs); !s.ok()) return (s);
  if (OpDebug* op = CurrentOpDebug()) op->nreturned += static_cast<int64_t>(docs.size());
  if (sequence && !json) {
    size_t bytes = 0;
    for (const std::string& d : docs) bytes += d.size();
    std::string* out = reply->mutable_document_sequence();
    out->reserve(bytes);
    for (const std::string& d : docs) out->append(d);
    return absl::OkStatus();
  }
  for (std::string& d : docs) SetDoc(reply->add_documents(), std::move(d), json);
  return absl::OkStatus();
}

// A find's projection (null when it has none), with the filter's let and collation;
// *reads_text_score: whether it asks for {$meta: "textScore"}.
absl::StatusOr<std::shared_ptr<const query::Projection>> ParseFindProjection(const v1::FindRequest& req,
                                                                             const query::Matcher& filter,
                                                                             bool* reads_text_score) {
  if (!req.has_projection()) return nullptr;
  auto bytes = DocToBson(req.projection());
  if (!bytes.ok()) return bytes.status();
  if (bson::DocView(*bytes).empty()) return nullptr;
  pipeline::ParseContext context;
  context.let = filter.let();
  context.collator = filter.collator();
  auto projection = query::Projection::ParseFind(bson::DocView(*bytes), context);
  if (!projection.ok()) return projection.status();
  *reads_text_score = ReadsTextScore(Value(bson::Decode(bson::DocView(*bytes))));
  return std::shared_ptr<const query::Projection>(*std::move(projection));
}

}  // namespace

absl::Status DataOperations::Insert(const v1::InsertRequest* req,
                                     v1::InsertReply* reply) {
  bool json = req->documents_size() > 0 && req->documents(0).kind_case() == v1::Doc::kJson;
  // BSON is written from the request's own bytes; only Extended JSON is converted.
  std::vector<std::string_view> docs;
  std::deque<std::string> converted;
  docs.reserve(req->documents_size());
  for (const v1::Doc& d : req->documents()) {
    if (d.kind_case() == v1::Doc::kBson) {
      if (auto s = CheckBsonDoc(d.bson()); !s.ok()) return s;
      docs.push_back(d.bson());
      continue;
    }
    auto bytes = DocToBson(d);
    if (!bytes.ok()) return (bytes.status());
    docs.push_back(converted.emplace_back(*std::move(bytes)));
  }
  if (auto s = SplitDocumentSequence(req->document_sequence(), &docs); !s.ok()) return s;
  auto outcome = service::InsertViews(engine_, req->database(), req->collection(), std::move(docs),
                                      !req->unordered(),
                                      {.bypass_validation = req->bypass_document_validation()});
  if (!outcome.ok()) return (outcome.status());
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
  return absl::OkStatus();
}

absl::Status DataOperations::Find(const v1::FindRequest* req,
                                   v1::CursorReply* reply) {
  MM_CHECK_HINT_STATUS(req->hint());
  bool json = WantsJson(req->filter(), req->projection(), req->sort());
  if (req->max_time_ms() < 0) return (MongoError(kBadValue, "maxTimeMS must be non-negative"));
  if (req->batch_size() < 0) return (MongoError(kBadValue, "batchSize must be non-negative"));
  if (req->await_data() && !req->tailable()) {
    return MongoError(kFailedToParse, "Cannot set 'awaitData' without also setting 'tailable'");
  }
  if (req->tailable()) return FindTailable(*req, json, reply);
  MM_ASSIGN_OR_RETURN_STATUS(view, ResolveView(engine_, req->database(), req->collection()));
  std::unique_ptr<Cursor> cursor;
  if (view) {
    std::vector<Document> extra;
    if (auto s = AddStage(&extra, "$match", req->filter()); !s.ok()) return (s);
    if (auto s = AddStage(&extra, "$sort", req->sort()); !s.ok()) return (s);
    AddSkipLimit(&extra, req->skip(), req->limit());
    if (auto s = AddStage(&extra, "$project", req->projection()); !s.ok()) return (s);
    MM_ASSIGN_OR_RETURN_STATUS(command, ViewQuery(req->database(), req->collection(), std::move(extra), req->let(),
                                                req->collation(), Deadline::After(req->max_time_ms())));
    command.allow_disk_use = req->allow_disk_use();
    MM_ASSIGN_OR_RETURN_STATUS(c, OpenAggregate(engine_, command));
    cursor = std::move(c);
  } else {
    FindCommand command;
    command.db = req->database();
    command.collection = req->collection();
    MM_ASSIGN_OR_RETURN_STATUS(matcher, ParseFilter(req->filter(), req->let(), req->collation()));
    command.filter = std::shared_ptr<const query::Matcher>(std::move(matcher));
    MM_ASSIGN_OR_RETURN_STATUS(projection, ParseFindProjection(*req, *command.filter,
                                                               &command.projection_reads_text_score));
    command.projection = std::move(projection);
    if (req->has_sort()) {
      MM_ASSIGN_OR_RETURN_STATUS(sort_bytes, DocToBson(req->sort()));
      command.sort = bson::Decode(bson::DocView(sort_bytes));
    }
    if (req->skip() < 0) return (MongoError(kBadValue, "skip must be non-negative"));
    command.skip = req->skip();
    command.limit = req->limit() < 0 ? -req->limit() : req->limit();
    command.deadline = Deadline::After(req->max_time_ms());
    command.allow_disk_use = req->allow_disk_use();
    MM_ASSIGN_OR_RETURN_STATUS(hint, ToQueryHint(req->hint()));
    command.hint = std::move(hint);
    if (req->has_min()) {
      MM_ASSIGN_OR_RETURN_STATUS(min, DocToBson(req->min()));
      command.min = std::move(min);
    }
    if (req->has_max()) {
      MM_ASSIGN_OR_RETURN_STATUS(max, DocToBson(req->max()));
      command.max = std::move(max);
    }
    command.return_key = req->return_key();
    command.show_record_id = req->show_record_id();
    MM_ASSIGN_OR_RETURN_STATUS(c, OpenFind(engine_, command));
    cursor = std::move(c);
  }
  // batchSize 0 (set, and 0): nothing is read yet; the cursor is opened for GetMore.
  bool empty_first = req->has_batch_size() && req->batch_size() == 0;
  size_t batch = req->batch_size() > 0 ? req->batch_size() : kDefaultFirstBatch;
  if (!empty_first) {
    if (auto s = FillBatch(cursor.get(), batch, json, req->document_sequence(), reply); !s.ok()) return s;
  }
  if (!cursor->exhausted()) {
    reply->set_cursor_id(cursors_->Add(std::move(cursor), json, req->no_cursor_timeout()));
  }
  return absl::OkStatus();
}

absl::Status DataOperations::FindTailable(const v1::FindRequest& req, bool json, v1::CursorReply* reply) {
  TailableFind find;
  find.db = req.database();
  find.collection = req.collection();
  find.await_data = req.await_data();
  if (req.has_sort()) {
    MM_ASSIGN_OR_RETURN_STATUS(sort_bytes, DocToBson(req.sort()));
    bson::DocView sort(sort_bytes);
    bson::ValueView natural;
    if (!sort.empty() && !(sort.CountElements() == 1 && sort.Find("$natural", &natural) && natural.IsNumber() &&
                           natural.AsDouble() == 1)) {
      return MongoError(kBadValue, "cannot use tailable option with a sort other than {$natural: 1}");
    }
  }
  if (req.has_min() || req.has_max() || req.return_key() || req.show_record_id()) {
    return MongoError(kBadValue, "a tailable cursor reads the capped collection in insertion order: "
                                 "min, max, returnKey and showRecordId do not apply");
  }
  MM_ASSIGN_OR_RETURN_STATUS(matcher, ParseFilter(req.filter(), req.let(), req.collation()));
  find.filter = std::shared_ptr<const query::Matcher>(std::move(matcher));
  bool reads_text_score = false;
  MM_ASSIGN_OR_RETURN_STATUS(projection, ParseFindProjection(req, *find.filter, &reads_text_score));
  find.projection = std::move(projection);
  if (req.skip() < 0) return MongoError(kBadValue, "skip must be non-negative");
  find.skip = req.skip();
  find.limit = req.limit() < 0 ? -req.limit() : req.limit();
  MM_ASSIGN_OR_RETURN_STATUS(opened, OpenTailable(engine_, std::move(find)));
  std::unique_ptr<TailableCursor> cursor = std::move(opened);
  bool empty_first = req.has_batch_size() && req.batch_size() == 0;
  size_t batch = req.batch_size() > 0 ? req.batch_size() : kDefaultFirstBatch;
  if (!empty_first) {
    if (auto s = FillBatch(cursor.get(), batch, json, req.document_sequence(), reply); !s.ok()) return s;
  }
  // As MongoDB's, a tailable cursor on a collection that was empty is not kept.
  if (!cursor->exhausted() && !cursor->empty_at_open()) {
    reply->set_cursor_id(cursors_->Add(std::move(cursor), json, req.no_cursor_timeout()));
  }
  return absl::OkStatus();
}

absl::Status DataOperations::GetMore(const v1::GetMoreRequest* req,
                                      v1::CursorReply* reply) {
  bool json = false;
  std::unique_ptr<Cursor> cursor = cursors_->CheckOut(req->cursor_id(), &json);
  if (cursor == nullptr) {
    return (MongoError(kCursorNotFound, StrCat("cursor id ", req->cursor_id(), " not found")));
  }
  if (req->max_time_ms() > 0) cursor->set_deadline(Deadline::After(req->max_time_ms()));
  size_t batch = req->batch_size() > 0 ? req->batch_size() : 0;
  absl::Status s = FillBatch(cursor.get(), batch, json, req->document_sequence(), reply);
  if (std::string token = cursor->ResumeToken(); s.ok() && !token.empty()) {
    SetDoc(reply->mutable_post_batch_resume_token(), std::move(token), json);
  }
  bool done = !s.ok() || cursor->exhausted();
  if (done) {
    cursors_->Kill(req->cursor_id());
  } else {
    reply->set_cursor_id(req->cursor_id());
    cursors_->CheckIn(req->cursor_id(), std::move(cursor));
  }
  return s;
}

absl::Status DataOperations::KillCursors(const v1::KillCursorsRequest* req,
                                          v1::Empty*) {
  for (int64_t id : req->cursor_ids()) cursors_->Kill(id);
  return absl::OkStatus();
}

absl::Status DataOperations::Count(const v1::CountRequest* req,
                                    v1::CountReply* reply) {
  MM_CHECK_HINT_STATUS(req->hint());
  MM_ASSIGN_OR_RETURN_STATUS(matcher, ParseFilter(req->filter(), v1::Doc(), req->collation()));
  if (req->skip() < 0 || req->limit() < 0) {
    return (MongoError(kBadValue, "skip and limit must be non-negative"));
  }
  MM_ASSIGN_OR_RETURN_STATUS(view, ResolveView(engine_, req->database(), req->collection()));
  if (view) {
    std::vector<Document> extra;
    if (auto s = AddStage(&extra, "$match", req->filter()); !s.ok()) return (s);
    AddSkipLimit(&extra, req->skip(), req->limit());
    MM_ASSIGN_OR_RETURN_STATUS(docs, QueryView(engine_, req->database(), req->collection(), std::move(extra),
                                             v1::Doc(), req->collation(),
                                             Deadline::After(req->max_time_ms())));
    reply->set_count(static_cast<int64_t>(docs.size()));
    return absl::OkStatus();
  }
  MM_ASSIGN_OR_RETURN_STATUS(n, service::Count(engine_, req->database(), req->collection(),
                                             *matcher, req->skip(), req->limit(),
                                             Deadline::After(req->max_time_ms()), HintOf(req->hint())));
  reply->set_count(n);
  return absl::OkStatus();
}

absl::Status DataOperations::EstimatedCount(const v1::EstimatedCountRequest* req,
                                             v1::CountReply* reply) {
  MM_ASSIGN_OR_RETURN_STATUS(view, ResolveView(engine_, req->database(), req->collection()));
  if (view) {
    // A view has no stored count: its pipeline runs.
    MM_ASSIGN_OR_RETURN_STATUS(docs, QueryView(engine_, req->database(), req->collection(), {}, v1::Doc(),
                                             v1::Doc(), Deadline()));
    reply->set_count(static_cast<int64_t>(docs.size()));
    return absl::OkStatus();
  }
  MM_ASSIGN_OR_RETURN_STATUS(n, service::EstimatedCount(engine_, req->database(), req->collection()));
  reply->set_count(n);
  return absl::OkStatus();
}

absl::Status DataOperations::Update(const v1::UpdateRequest* req,
                                     v1::UpdateReply* reply) {
  MM_CHECK_HINT_STATUS(req->hint());
  bool json = WantsJson(req->filter(), req->update());
  MM_ASSIGN_OR_RETURN_STATUS(matcher, ParseFilter(req->filter(), req->let(), req->collation()));
  MM_ASSIGN_OR_RETURN_STATUS(update, ParseUpdate(req->update(), req->replace(), req->array_filters(), req->pipeline(), *matcher));
  if (req->has_sort()) {
    // A sorted single-document update chooses its document as findAndModify does; it runs
    // as one, without returning the document.
    if (req->multi()) return MongoError(kInvalidOptions, "Cannot specify sort with multi=true");
    MM_ASSIGN_OR_RETURN_STATUS(sort_bytes, DocToBson(req->sort()));
    MM_ASSIGN_OR_RETURN_STATUS(sort, query::SortSpec::Parse(bson::DocView(sort_bytes), matcher->shared_collator()));
    FindAndModifySpec spec;
    spec.filter = matcher.get();
    spec.hint = HintOf(req->hint());
    spec.sort = &sort;
    spec.update = update.get();
    spec.upsert = req->upsert();
    spec.write_options.bypass_validation = req->bypass_document_validation();
    spec.deadline = Deadline::After(req->max_time_ms());
    if (std::optional<storage::RetryOutcome> done = storage::RetriedStatement()) {
      // Done by a resumed retryable write's first run: answered, not run again.
      MM_ASSIGN_OR_RETURN_STATUS(retried, RetriedUpdateOutcome(*done));
      reply->set_matched_count(retried.matched_count);
      reply->set_modified_count(retried.modified_count);
      if (retried.upserted_id) SetDoc(reply->mutable_upserted_id(), *retried.upserted_id, json);
      return absl::OkStatus();
    }
    MM_ASSIGN_OR_RETURN_STATUS(found, service::FindAndModify(engine_, req->database(), req->collection(), spec));
    reply->set_matched_count(found.updated_existing ? 1 : 0);
    reply->set_modified_count(found.modified ? 1 : 0);
    if (found.upserted_id) SetDoc(reply->mutable_upserted_id(), *found.upserted_id, json);
    return absl::OkStatus();
  }
  MM_ASSIGN_OR_RETURN_STATUS(outcome, service::Update(engine_, req->database(), req->collection(),
                                                    *matcher, *update, req->multi(),
                                                    req->upsert(), Deadline::After(req->max_time_ms()),
                                                    {.bypass_validation = req->bypass_document_validation()},
                                                    HintOf(req->hint())));
  reply->set_matched_count(outcome.matched_count);
  reply->set_modified_count(outcome.modified_count);
  if (outcome.upserted_id) SetDoc(reply->mutable_upserted_id(), *outcome.upserted_id, json);
  return absl::OkStatus();
}

absl::Status DataOperations::Delete(const v1::DeleteRequest* req,
                                     v1::DeleteReply* reply) {
  MM_CHECK_HINT_STATUS(req->hint());
  MM_ASSIGN_OR_RETURN_STATUS(matcher, ParseFilter(req->filter(), req->let(), req->collation()));
  MM_ASSIGN_OR_RETURN_STATUS(n, service::Delete(engine_, req->database(), req->collection(),
                                              *matcher, req->multi(), Deadline::After(req->max_time_ms()),
                                              HintOf(req->hint())));
  reply->set_deleted_count(n);
  return absl::OkStatus();
}

absl::Status DataOperations::FindAndModify(const v1::FindAndModifyRequest* req,
                                            v1::FindAndModifyReply* reply) {
  MM_CHECK_HINT_STATUS(req->hint());
  bool json = WantsJson(req->filter(), req->update(), req->sort(), req->projection());
  MM_ASSIGN_OR_RETURN_STATUS(matcher, ParseFilter(req->filter(), req->let(), req->collation()));
  FindAndModifySpec spec;
  spec.filter = matcher.get();
  spec.hint = HintOf(req->hint());
  std::optional<query::SortSpec> sort;
  if (req->has_sort()) {
    MM_ASSIGN_OR_RETURN_STATUS(sort_bytes, DocToBson(req->sort()));
    MM_ASSIGN_OR_RETURN_STATUS(parsed, query::SortSpec::Parse(bson::DocView(sort_bytes),
                                                            matcher->shared_collator()));
    sort = std::move(parsed);
    spec.sort = &*sort;
  }
  std::unique_ptr<query::Projection> projection;
  if (req->has_projection()) {
    MM_ASSIGN_OR_RETURN_STATUS(proj_bytes, DocToBson(req->projection()));
    if (!bson::DocView(proj_bytes).empty()) {
      pipeline::ParseContext context;
      context.let = matcher->let();
      context.collator = matcher->collator();
      MM_ASSIGN_OR_RETURN_STATUS(parsed, query::Projection::ParseFind(bson::DocView(proj_bytes), context));
      projection = std::move(parsed);
      spec.projection = projection.get();
    }
  }
  std::unique_ptr<update::Update> update;
  if (req->remove()) {
    if (req->upsert() || req->return_new()) {
      return (MongoError(kFailedToParse, "remove cannot be combined with upsert or new"));
    }
  } else {
    MM_ASSIGN_OR_RETURN_STATUS(parsed, ParseUpdate(req->update(), req->replace(), req->array_filters(), req->pipeline(), *matcher));
    update = std::move(parsed);
    spec.update = update.get();
  }
  spec.upsert = req->upsert();
  spec.return_new = req->return_new();
  spec.deadline = Deadline::After(req->max_time_ms());
  spec.write_options.bypass_validation = req->bypass_document_validation();
  MM_ASSIGN_OR_RETURN_STATUS(outcome, service::FindAndModify(engine_, req->database(),
                                                           req->collection(), spec));
  if (outcome.value) SetDoc(reply->mutable_value(), *std::move(outcome.value), json);
  reply->set_updated_existing(outcome.updated_existing);
  if (outcome.upserted_id) SetDoc(reply->mutable_upserted_id(), *outcome.upserted_id, json);
  return absl::OkStatus();
}

absl::Status DataOperations::Distinct(const v1::DistinctRequest* req,
                                       v1::DistinctReply* reply) {
  MM_CHECK_HINT_STATUS(req->hint());
  bool json = WantsJson(req->filter());
  MM_ASSIGN_OR_RETURN_STATUS(matcher, ParseFilter(req->filter(), v1::Doc(), req->collation()));
  MM_ASSIGN_OR_RETURN_STATUS(view, ResolveView(engine_, req->database(), req->collection()));
  if (view) {
    if (auto s = CheckDistinctKey(req->key()); !s.ok()) return (s);
    std::vector<Document> extra;
    if (auto s = AddStage(&extra, "$match", req->filter()); !s.ok()) return (s);
    MM_ASSIGN_OR_RETURN_STATUS(docs, QueryView(engine_, req->database(), req->collection(), std::move(extra),
                                             v1::Doc(), req->collation(),
                                             Deadline::After(req->max_time_ms())));
    DistinctValues values(req->key(), matcher->collator());
    for (const std::string& d : docs) values.Add(bson::DocView(d));
    SetDoc(reply->mutable_values(), std::move(values).Finish(), json);
    return absl::OkStatus();
  }
  MM_ASSIGN_OR_RETURN_STATUS(values, service::Distinct(engine_, req->database(), req->collection(),
                                                     req->key(), *matcher,
                                                     Deadline::After(req->max_time_ms()), HintOf(req->hint())));
  SetDoc(reply->mutable_values(), std::move(values), json);
  return absl::OkStatus();
}

absl::Status DataOperations::BulkWrite(const v1::BulkWriteRequest* req,
                                        v1::BulkWriteReply* reply) {
  bool json = false;
  for (const v1::WriteModel& m : req->models()) {
    if (m.has_insert_one()) json = m.insert_one().document().kind_case() == v1::Doc::kJson;
    if (m.has_update()) json = m.update().filter().kind_case() == v1::Doc::kJson;
    if (m.has_delete_()) json = m.delete_().filter().kind_case() == v1::Doc::kJson;
    break;
  }
  bson::Builder inserted_ids, upserted_ids;
  char scratch[24];
  const WriteOptions write_options{.bypass_validation = req->bypass_document_validation()};
  // Each model is its own atomic write, as in MongoDB; an ordered bulk stops at the first
  // failure, an unordered one reports every failure.
  for (int i = 0; i < req->models_size(); ++i) {
    const v1::WriteModel& m = req->models(i);
    // In a retryable write, model i is statement i (MongoDB's stmtId).
    storage::SetRetryStatement(i);
    absl::Status status;
    if (m.has_insert_one()) {
      auto doc = DocToBson(m.insert_one().document());
      if (!doc.ok()) {
        status = doc.status();
      } else {
        std::vector<std::string> docs;
        docs.push_back(*std::move(doc));
        auto outcome = service::Insert(engine_, req->database(), req->collection(), std::move(docs), true,
                                       write_options);
        if (!outcome.ok()) {
          status = outcome.status();
        } else if (!outcome->write_errors.empty()) {
          status = outcome->write_errors[0].status;
        } else {
          reply->set_inserted_count(reply->inserted_count() + 1);
          inserted_ids.AppendView(bson::ArrayKey(i, scratch),
                                  bson::DocView(outcome->docs[0]).begin()->value);
        }
      }
    } else if (m.has_update()) {
      const auto& u = m.update();
      status = CheckHint(u.hint(), engine_, req->database(), req->collection());
      auto matcher = status.ok() ? ParseFilter(u.filter(), req->let(), u.collation())
                                 : absl::StatusOr<std::unique_ptr<query::Matcher>>(status);
      auto update = matcher.ok() ? ParseUpdate(u.update(), u.replace(), u.array_filters(), u.pipeline(), **matcher)
                                 : absl::StatusOr<std::unique_ptr<update::Update>>(matcher.status());
      if (!update.ok()) {
        status = update.status();
      } else {
        auto outcome = service::Update(engine_, req->database(), req->collection(), **matcher,
                                       **update, u.multi(), u.upsert(), Deadline(), write_options,
                                       HintOf(u.hint()));
        if (!outcome.ok()) {
          status = outcome.status();
        } else {
          reply->set_matched_count(reply->matched_count() + outcome->matched_count);
          reply->set_modified_count(reply->modified_count() + outcome->modified_count);
          if (outcome->upserted_id) {
            reply->set_upserted_count(reply->upserted_count() + 1);
            upserted_ids.AppendView(bson::ArrayKey(i, scratch),
                                    bson::DocView(*outcome->upserted_id).begin()->value);
          }
        }
      }
    } else if (m.has_delete_()) {
      status = CheckHint(m.delete_().hint(), engine_, req->database(), req->collection());
      auto matcher = status.ok() ? ParseFilter(m.delete_().filter(), req->let(), m.delete_().collation())
                                 : absl::StatusOr<std::unique_ptr<query::Matcher>>(status);
      if (!matcher.ok()) {
        status = matcher.status();
      } else {
        auto n = service::Delete(engine_, req->database(), req->collection(), **matcher,
                                 m.delete_().multi(), Deadline(), HintOf(m.delete_().hint()));
        if (!n.ok()) {
          status = n.status();
        } else {
          reply->set_deleted_count(reply->deleted_count() + *n);
        }
      }
    } else {
      status = MongoError(kFailedToParse, "empty write model");
    }
    if (!status.ok()) {
      FillErrorInfo(status, i, reply->add_write_errors());
      if (!req->unordered()) break;
    }
  }
  SetDoc(reply->mutable_inserted_ids(), std::move(inserted_ids).Finish(), json);
  SetDoc(reply->mutable_upserted_ids(), std::move(upserted_ids).Finish(), json);
  return absl::OkStatus();
}

absl::Status DataOperations::Aggregate(const v1::AggregateRequest* req,
                                        v1::CursorReply* reply) {
  MM_CHECK_HINT_STATUS(req->hint());
  bool json = req->pipeline_size() > 0 && req->pipeline(0).kind_case() != v1::Doc::kBson;
  if (req->pipeline_size() > 0 && !req->explain()) {
    MM_ASSIGN_OR_RETURN_STATUS(first, DocToBson(req->pipeline(0)));
    bson::DocView stage(first);
    if (stage.begin() != stage.end() && stage.begin()->key == "$changeStream") {
      return OpenChangeStream(*req, json, reply);
    }
  }
  MM_ASSIGN_OR_RETURN_STATUS(command, ParseAggregate(*req));
  if (req->explain()) {
    MM_ASSIGN_OR_RETURN_STATUS(explained, ExplainAggregate(engine_, command));
    SetDoc(reply->add_documents(), bson::Encode(explained), json);
    return absl::OkStatus();
  }
  MM_ASSIGN_OR_RETURN_STATUS(cursor, OpenAggregate(engine_, command));
  bool empty_first = req->has_batch_size() && req->batch_size() == 0;
  size_t batch = req->batch_size() > 0 ? req->batch_size() : kDefaultFirstBatch;
  if (!empty_first) {
    if (auto s = FillBatch(cursor.get(), batch, json, req->document_sequence(), reply); !s.ok()) return s;
  }
  if (!cursor->exhausted()) reply->set_cursor_id(cursors_->Add(std::move(cursor), json));
  return absl::OkStatus();
}

absl::Status DataOperations::OpenChangeStream(const v1::AggregateRequest& req, bool json,
                                              v1::CursorReply* reply) {
  MM_ASSIGN_OR_RETURN_STATUS(watch, WatchRequestOfAggregate(req));
  MM_ASSIGN_OR_RETURN_STATUS(spec, ChangeStreamSpecOf(watch));
  MM_ASSIGN_OR_RETURN_STATUS(stream, changes::ChangeStream::Open(engine_, std::move(spec)));
  std::unique_ptr<Cursor> cursor = std::make_unique<ChangeStreamCursor>(std::move(stream));
  bool empty_first = req.has_batch_size() && req.batch_size() == 0;
  if (!empty_first) {
    size_t batch = req.batch_size() > 0 ? req.batch_size() : kDefaultFirstBatch;
    if (auto s = FillBatch(cursor.get(), batch, json, req.document_sequence(), reply); !s.ok()) return s;
  }
  SetDoc(reply->mutable_post_batch_resume_token(), cursor->ResumeToken(), json);
  // A change stream stays open until it is invalidated (or killed, or idle too long).
  if (!cursor->exhausted()) reply->set_cursor_id(cursors_->Add(std::move(cursor), json));
  return absl::OkStatus();
}

absl::Status DataOperations::CreateIndexes(const v1::CreateIndexesRequest* req,
                                            v1::CreateIndexesReply* reply) {
  if (req->indexes().empty()) {
    return (MongoError(kBadValue, "Must specify at least one index to create"));
  }
  std::vector<std::pair<std::string, std::string>> models;
  for (const v1::IndexModel& model : req->indexes()) {
    MM_ASSIGN_OR_RETURN_STATUS(keys, DocToBson(model.keys()));
    MM_ASSIGN_OR_RETURN_STATUS(options, DocToBson(model.options()));
    models.emplace_back(std::move(keys), std::move(options));
  }
  if (models.size() > 1) {
    std::vector<std::pair<bson::DocView, bson::DocView>> views;
    for (const auto& [keys, options] : models) views.emplace_back(bson::DocView(keys), bson::DocView(options));
    if (auto s = CheckIndexLimit(engine_, req->database(), req->collection(), views); !s.ok()) {
      return (s);
    }
  }
  for (const auto& [keys, options] : models) {
    MM_ASSIGN_OR_RETURN_STATUS(name, CreateIndex(engine_, req->database(), req->collection(),
                                               bson::DocView(keys), bson::DocView(options)));
    reply->add_names(name);
  }
  return absl::OkStatus();
}

absl::Status DataOperations::ListIndexes(const v1::ListIndexesRequest* req,
                                          v1::ListIndexesReply* reply) {
  MM_ASSIGN_OR_RETURN_STATUS(specs, service::ListIndexes(engine_, req->database(), req->collection()));
  for (std::string& spec : specs) SetDoc(reply->add_indexes(), std::move(spec), req->json());
  return absl::OkStatus();
}

absl::Status DataOperations::DropIndex(const v1::DropIndexRequest* req,
                                        v1::Empty*) {
  MM_ASSIGN_OR_RETURN_STATUS(keys, DocToBson(req->keys()));
  return (service::DropIndex(engine_, req->database(), req->collection(), req->name(),
                                   bson::DocView(keys)));
}

absl::Status DataOperations::Validate(const v1::ValidateRequest* req,
                                       v1::ValidateReply* reply) {
  MM_ASSIGN_OR_RETURN_STATUS(result, service::ValidateCollection(engine_, req->database(), req->collection(),
                                                                {.full = req->full()}));
  SetDoc(reply->mutable_result(), std::move(result), req->json());
  return absl::OkStatus();
}

}  // namespace micromongo::service
