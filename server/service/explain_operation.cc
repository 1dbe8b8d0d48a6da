// DataService.Explain: each operation's request parsed as its own RPC parses it, then
// explained by explain.cc (reads) or aggregation.cc (pipelines and views).

#include <tuple>

#include "document/builder.h"
#include "document/status.h"
#include "query/sort.h"
#include "service/crud.h"
#include "service/explain.h"
#include "service/request_parsing.h"
#include "service/data_operations.h"
#include "service/views.h"

namespace micromongo::service {
namespace {

using bson::DocView;

// The request document (empty when unset).
absl::StatusOr<Document> DocOf(const v1::Doc& doc) {
  auto bytes = DocToBson(doc);
  if (!bytes.ok()) return bytes.status();
  return bson::Decode(DocView(*bytes));
}

void AddHint(const v1::Hint& hint, Document* command) {
  if (hint.kind_case() == v1::Hint::kName) command->Append("hint", hint.name());
  if (hint.kind_case() == v1::Hint::kKeys) {
    auto keys = DocOf(hint.keys());
    if (keys.ok()) command->Append("hint", *keys);
  }
}

// The parts every read shares: namespace, filter (with let and collation), hint.
absl::Status PrepareExplain(storage::Engine* engine, std::string_view db, std::string_view coll, const v1::Doc& filter,
                     const v1::Doc& let, const v1::Doc& collation, const v1::Hint& hint, ExplainedRead* r) {
  if (auto s = CheckHint(hint, engine, db, coll); !s.ok()) return s;
  auto matcher = ParseFilter(filter, let, collation);
  if (!matcher.ok()) return matcher.status();
  r->db = std::string(db);
  r->collection = std::string(coll);
  r->query.filter = std::shared_ptr<const query::Matcher>(*std::move(matcher));
  r->query.hint = HintOf(hint);
  r->command.Append("$db", std::string(db));
  return absl::OkStatus();
}

absl::Status SetSort(const v1::Doc& sort, ExplainedRead* r) {
  if (sort.kind_case() == v1::Doc::KIND_NOT_SET) return absl::OkStatus();
  auto bytes = DocToBson(sort);
  if (!bytes.ok()) return bytes.status();
  if (DocView(*bytes).empty()) return absl::OkStatus();
  auto parsed = query::SortSpec::Parse(DocView(*bytes), r->query.filter->shared_collator());
  if (!parsed.ok()) return parsed.status();
  r->sort = bson::Decode(DocView(*bytes));
  r->query.sort = *bytes;
  r->command.Append("sort", *r->sort);
  return absl::OkStatus();
}

absl::Status SetProjection(const v1::Doc& projection, ExplainedRead* r) {
  if (projection.kind_case() == v1::Doc::KIND_NOT_SET) return absl::OkStatus();
  auto bytes = DocToBson(projection);
  if (!bytes.ok()) return bytes.status();
  if (DocView(*bytes).empty()) return absl::OkStatus();
  pipeline::ParseContext context;
  context.let = r->query.filter->let();
  context.collator = r->query.filter->collator();
  auto parsed = query::Projection::ParseFind(DocView(*bytes), context);
  if (!parsed.ok()) return parsed.status();
  bool includes_id = true;
  r->query.projection_fields = (*parsed)->PlainInclusion(&includes_id);
  r->query.projection_includes_id = includes_id;
  r->projection_covered_shape = r->query.projection_fields.has_value();
  r->projection = bson::Decode(DocView(*bytes));
  r->command.Append("projection", *r->projection);
  return absl::OkStatus();
}

// find (or aggregate) on a view: the view's pipeline explained.
absl::StatusOr<Document> ExplainView(storage::Engine* engine, const v1::FindRequest& f) {
  std::vector<Document> extra;
  if (auto s = AddStage(&extra, "$match", f.filter()); !s.ok()) return s;
  if (auto s = AddStage(&extra, "$sort", f.sort()); !s.ok()) return s;
  AddSkipLimit(&extra, f.skip(), f.limit() < 0 ? -f.limit() : f.limit());
  if (auto s = AddStage(&extra, "$project", f.projection()); !s.ok()) return s;
  auto command = ViewQuery(f.database(), f.collection(), std::move(extra), f.let(), f.collation(),
                           Deadline::After(f.max_time_ms()));
  if (!command.ok()) return command.status();
  return ExplainAggregate(engine, *command);
}

absl::StatusOr<Document> ExplainFind(storage::Engine* engine, const v1::FindRequest& f, ExplainVerbosity v) {
  auto view = ResolveView(engine, f.database(), f.collection());
  if (!view.ok()) return view.status();
  if (*view) return ExplainView(engine, f);
  ExplainedRead r;
  r.command.Append("find", f.collection());
  if (auto s = PrepareExplain(engine, f.database(), f.collection(), f.filter(), f.let(), f.collation(), f.hint(), &r);
      !s.ok()) {
    return s;
  }
  r.command.Append("filter", bson::Decode(r.query.filter->filter()));
  if (auto s = SetSort(f.sort(), &r); !s.ok()) return s;
  if (auto s = SetProjection(f.projection(), &r); !s.ok()) return s;
  if (f.skip() < 0) return MongoError(kBadValue, "skip must be non-negative");
  r.skip = f.skip();
  r.limit = f.limit() < 0 ? -f.limit() : f.limit();
  if (r.skip > 0) r.command.Append("skip", r.skip);
  if (r.limit > 0) r.command.Append("limit", r.limit);
  if (r.limit > 0) r.query.results_target = std::min<int64_t>(101, r.skip + r.limit);
  AddHint(f.hint(), &r.command);
  for (auto [given, doc, name, out] : {std::tuple{f.has_min(), &f.min(), "min", &r.query.min},
                                       std::tuple{f.has_max(), &f.max(), "max", &r.query.max}}) {
    if (!given) continue;
    auto bson = DocToBson(*doc);
    if (!bson.ok()) return bson.status();
    *out = *std::move(bson);
    r.command.Append(name, bson::Decode(DocView(*out)));
  }
  r.deadline = Deadline::After(f.max_time_ms());
  return ExplainRead(engine, r, v);
}

absl::StatusOr<Document> ExplainCount(storage::Engine* engine, const v1::CountRequest& c, ExplainVerbosity v) {
  ExplainedRead r;
  r.op = ExplainedRead::Op::kCount;
  r.command.Append("count", c.collection());
  if (auto s = PrepareExplain(engine, c.database(), c.collection(), c.filter(), v1::Doc(), c.collation(), c.hint(), &r);
      !s.ok()) {
    return s;
  }
  r.command.Append("query", bson::Decode(r.query.filter->filter()));
  if (c.skip() < 0) return MongoError(kBadValue, "skip must be non-negative");
  if (c.limit() < 0) return MongoError(kBadValue, "limit must be non-negative");
  r.skip = c.skip();
  r.limit = c.limit();
  // A count needs no document: an index holding the filter's fields answers alone.
  r.query.projection_fields = std::vector<std::string>();
  r.query.count = true;
  r.query.projection_includes_id = false;
  AddHint(c.hint(), &r.command);
  r.deadline = Deadline::After(c.max_time_ms());
  return ExplainRead(engine, r, v);
}

absl::StatusOr<Document> ExplainDistinct(storage::Engine* engine, const v1::DistinctRequest& d, ExplainVerbosity v) {
  if (auto s = CheckDistinctKey(d.key()); !s.ok()) return s;
  ExplainedRead r;
  r.op = ExplainedRead::Op::kDistinct;
  r.command.Append("distinct", d.collection());
  r.command.Append("key", d.key());
  r.query.distinct_field = d.key();
  if (auto s = PrepareExplain(engine, d.database(), d.collection(), d.filter(), v1::Doc(), d.collation(), d.hint(), &r);
      !s.ok()) {
    return s;
  }
  r.command.Append("query", bson::Decode(r.query.filter->filter()));
  AddHint(d.hint(), &r.command);
  r.deadline = Deadline::After(d.max_time_ms());
  return ExplainRead(engine, r, v);
}

absl::StatusOr<Document> ExplainUpdate(storage::Engine* engine, const v1::UpdateRequest& u, ExplainVerbosity v) {
  ExplainedRead r;
  r.op = ExplainedRead::Op::kUpdate;
  r.multi = u.multi();
  r.command.Append("update", u.collection());
  if (auto s = PrepareExplain(engine, u.database(), u.collection(), u.filter(), u.let(), u.collation(), u.hint(), &r);
      !s.ok()) {
    return s;
  }
  // The update must parse as it would for the write.
  auto parsed = ParseUpdate(u.update(), u.replace(), u.array_filters(), u.pipeline(), *r.query.filter);
  if (!parsed.ok()) return parsed.status();
  auto update_doc = DocOf(u.update());
  if (!update_doc.ok()) return update_doc.status();
  r.command.Append("updates", Array{Document{{"q", bson::Decode(r.query.filter->filter())},
                                             {"u", *update_doc},
                                             {"multi", u.multi()},
                                             {"upsert", u.upsert()}}});
  return ExplainRead(engine, r, v);
}

absl::StatusOr<Document> ExplainDelete(storage::Engine* engine, const v1::DeleteRequest& d, ExplainVerbosity v) {
  ExplainedRead r;
  r.op = ExplainedRead::Op::kDelete;
  r.multi = d.multi();
  r.command.Append("delete", d.collection());
  if (auto s = PrepareExplain(engine, d.database(), d.collection(), d.filter(), d.let(), d.collation(), d.hint(), &r);
      !s.ok()) {
    return s;
  }
  r.command.Append("deletes", Array{Document{{"q", bson::Decode(r.query.filter->filter())},
                                             {"limit", d.multi() ? 0 : 1}}});
  return ExplainRead(engine, r, v);
}

absl::StatusOr<Document> ExplainFindAndModify(storage::Engine* engine, const v1::FindAndModifyRequest& f,
                                       ExplainVerbosity v) {
  ExplainedRead r;
  r.op = f.remove() ? ExplainedRead::Op::kDelete : ExplainedRead::Op::kUpdate;
  r.multi = false;
  r.command.Append("findAndModify", f.collection());
  if (auto s = PrepareExplain(engine, f.database(), f.collection(), f.filter(), f.let(), f.collation(), f.hint(), &r);
      !s.ok()) {
    return s;
  }
  r.command.Append("query", bson::Decode(r.query.filter->filter()));
  if (auto s = SetSort(f.sort(), &r); !s.ok()) return s;
  if (!f.remove()) {
    auto parsed = ParseUpdate(f.update(), f.replace(), f.array_filters(), f.pipeline(), *r.query.filter);
    if (!parsed.ok()) return parsed.status();
  }
  r.limit = r.sort ? 1 : 0;
  r.command.Append(f.remove() ? "remove" : "upsert", f.remove() ? true : f.upsert());
  r.deadline = Deadline::After(f.max_time_ms());
  return ExplainRead(engine, r, v);
}

}  // namespace

absl::Status DataOperations::Explain(const v1::ExplainRequest* req, v1::ExplainReply* reply) {
  MM_ASSIGN_OR_RETURN_STATUS(verbosity, ParseVerbosity(req->verbosity()));
  absl::StatusOr<Document> explained = MongoError(kFailedToParse, "explain needs an operation");
  bool json = true;
  switch (req->operation_case()) {
    case v1::ExplainRequest::kFind:
      json = WantsJson(req->find().filter());
      explained = ExplainFind(engine_, req->find(), verbosity);
      break;
    case v1::ExplainRequest::kCount:
      json = WantsJson(req->count().filter());
      explained = ExplainCount(engine_, req->count(), verbosity);
      break;
    case v1::ExplainRequest::kDistinct:
      json = WantsJson(req->distinct().filter());
      explained = ExplainDistinct(engine_, req->distinct(), verbosity);
      break;
    case v1::ExplainRequest::kUpdate:
      json = WantsJson(req->update().filter());
      explained = ExplainUpdate(engine_, req->update(), verbosity);
      break;
    case v1::ExplainRequest::kDelete:
      json = WantsJson(req->delete_().filter());
      explained = ExplainDelete(engine_, req->delete_(), verbosity);
      break;
    case v1::ExplainRequest::kFindAndModify:
      json = WantsJson(req->find_and_modify().filter());
      explained = ExplainFindAndModify(engine_, req->find_and_modify(), verbosity);
      break;
    case v1::ExplainRequest::kAggregate: {
      const v1::AggregateRequest& a = req->aggregate();
      json = a.pipeline_size() > 0 && a.pipeline(0).kind_case() != v1::Doc::kBson;
      auto command = ParseAggregate(a);
      if (!command.ok()) {
        explained = command.status();
        break;
      }
      if (auto s = CheckHint(a.hint(), engine_, a.database(), a.collection()); !s.ok()) {
        explained = s;
        break;
      }
      explained = ExplainAggregate(engine_, *command, verbosity != ExplainVerbosity::kQueryPlanner);
      break;
    }
    default:
      break;
  }
  if (!explained.ok()) return explained.status();
  SetDoc(reply->mutable_explain(), bson::Encode(*explained), json);
  return absl::OkStatus();
}

}  // namespace micromongo::service
