#include "service/request_parsing.h"

#include "collation/collation.h"
#include "document/builder.h"
#include "document/status.h"
#include "service/indexes.h"

namespace micromongo::service {
namespace {

// The arrayFilters of a request as one BSON array, if any.
absl::StatusOr<std::optional<std::string>> ArrayFilters(
    const google::protobuf::RepeatedPtrField<v1::Doc>& docs) {
  if (docs.empty()) return std::optional<std::string>();
  bson::Builder array;
  char scratch[24];
  for (int i = 0; i < docs.size(); ++i) {
    auto f = DocToBson(docs[i]);
    if (!f.ok()) return f.status();
    array.AppendDocument(bson::ArrayKey(i, scratch), bson::DocView(*f));
  }
  return std::optional<std::string>(std::move(array).Finish());
}

}  // namespace

// A request's collation option (unset: none, binary comparison).
absl::StatusOr<std::shared_ptr<const bson::Collator>> ParseCollation(const v1::Doc& doc) {
  if (doc.kind_case() == v1::Doc::KIND_NOT_SET) return std::shared_ptr<const bson::Collator>();
  auto bytes = DocToBson(doc);
  if (!bytes.ok()) return bytes.status();
  return collation::Parse(bson::DocView(*bytes));
}

// The filter, with the request's let variables and collation (unset: none). The sort and
// update of the request share the Matcher's collator.
absl::StatusOr<std::unique_ptr<query::Matcher>> ParseFilter(const v1::Doc& doc,
                                                            const v1::Doc& let,
                                                            const v1::Doc& collation) {
  auto bytes = DocToBson(doc);
  if (!bytes.ok()) return bytes.status();
  auto collator = ParseCollation(collation);
  if (!collator.ok()) return collator.status();
  if (let.kind_case() == v1::Doc::KIND_NOT_SET) {
    return query::Matcher::Parse(*std::move(bytes), nullptr, *std::move(collator));
  }
  auto let_bytes = DocToBson(let);
  if (!let_bytes.ok()) return let_bytes.status();
  Document vars = bson::Decode(bson::DocView(*let_bytes));
  return query::Matcher::Parse(*std::move(bytes), &vars, *std::move(collator));
}

// The planner's form of a request's hint.
absl::StatusOr<QueryHint> ToQueryHint(const v1::Hint& hint) {
  QueryHint h;
  switch (hint.kind_case()) {
    case v1::Hint::kName:
      h.index_name = hint.name();
      break;
    case v1::Hint::kKeys: {
      auto keys = DocToBson(hint.keys());
      if (!keys.ok()) return keys.status();
      bson::Builder b;
      b.AppendDocument("", bson::DocView(*keys));
      std::string wrapped = std::move(b).Finish();
      return ParseHint(bson::DocView(wrapped).begin()->value);
    }
    default:
      break;
  }
  return h;
}

// The hint of a request CheckHint accepted.
QueryHint HintOf(const v1::Hint& hint) {
  auto h = ToQueryHint(hint);
  return h.ok() ? *std::move(h) : QueryHint{};
}

// A hint must name an existing index (by name or key pattern); it does not change results.
absl::Status CheckHint(const v1::Hint& hint, storage::Engine* engine, std::string_view db,
                       std::string_view coll) {
  switch (hint.kind_case()) {
    case v1::Hint::kName:
      if (IndexExists(engine, db, coll, hint.name(), nullptr)) return absl::OkStatus();
      break;
    case v1::Hint::kKeys: {
      auto keys = DocToBson(hint.keys());
      if (!keys.ok()) return keys.status();
      bson::DocView view(*keys);
      if (!view.empty() && view.begin()->key == "$natural") return ToQueryHint(hint).status();
      if (IndexExists(engine, db, coll, "", &view)) return absl::OkStatus();
      break;
    }
    default:
      return absl::OkStatus();
  }
  return MongoError(kBadValue, "hint provided does not correspond to an existing index");
}

absl::StatusOr<std::unique_ptr<update::Update>> ParseUpdate(
    const v1::Doc& doc, bool replace, const google::protobuf::RepeatedPtrField<v1::Doc>& filters,
    const google::protobuf::RepeatedPtrField<v1::Doc>& pipeline, const query::Matcher& matcher) {
  if (!pipeline.empty()) {
    std::vector<Document> stages;
    for (const v1::Doc& d : pipeline) {
      auto bytes = DocToBson(d);
      if (!bytes.ok()) return bytes.status();
      stages.push_back(bson::Decode(bson::DocView(*bytes)));
    }
    return update::Update::ParsePipeline(stages, matcher.let(), matcher.shared_collator());
  }
  auto bytes = DocToBson(doc);
  if (!bytes.ok()) return bytes.status();
  auto array_filters = ArrayFilters(filters);
  if (!array_filters.ok()) return array_filters.status();
  std::optional<bson::DocView> view;
  if (*array_filters) view = bson::DocView(**array_filters);
  return update::Update::Parse(bson::DocView(*bytes), replace, view, matcher.shared_collator());
}

// A read on a view: the view's pipeline over its collection, then `extra` stages (the
// read's filter, sort, skip, limit, projection as pipeline stages).
absl::StatusOr<AggregateCommand> ViewQuery(std::string_view db, std::string_view view,
                                           std::vector<Document> extra, const v1::Doc& let,
                                           const v1::Doc& collation, const Deadline& deadline) {
  AggregateCommand command;
  command.db = std::string(db);
  command.collection = std::string(view);
  command.pipeline = std::move(extra);
  if (let.kind_case() != v1::Doc::KIND_NOT_SET) {
    auto bytes = DocToBson(let);
    if (!bytes.ok()) return bytes.status();
    command.let = bson::Decode(bson::DocView(*bytes));
  }
  auto collator = ParseCollation(collation);
  if (!collator.ok()) return collator.status();
  command.collator = *std::move(collator);
  command.deadline = deadline;
  return command;
}

absl::StatusOr<std::vector<std::string>> QueryView(storage::Engine* engine, std::string_view db,
                                                   std::string_view view, std::vector<Document> extra,
                                                   const v1::Doc& let, const v1::Doc& collation,
                                                   const Deadline& deadline) {
  auto command = ViewQuery(db, view, std::move(extra), let, collation, deadline);
  if (!command.ok()) return command.status();
  return AggregateAll(engine, *command);
}

// {<name>: <the request's document>} as a pipeline stage, if the document is set.
absl::Status AddStage(std::vector<Document>* stages, const char* name, const v1::Doc& doc) {
  if (doc.kind_case() == v1::Doc::KIND_NOT_SET) return absl::OkStatus();
  auto bytes = DocToBson(doc);
  if (!bytes.ok()) return bytes.status();
  if (bson::DocView(*bytes).empty()) return absl::OkStatus();
  stages->push_back(Document{{name, bson::Decode(bson::DocView(*bytes))}});
  return absl::OkStatus();
}

void AddSkipLimit(std::vector<Document>* stages, int64_t skip, int64_t limit) {
  if (skip > 0) stages->push_back(Document{{"$skip", skip}});
  if (limit > 0) stages->push_back(Document{{"$limit", limit}});
}

absl::StatusOr<AggregateCommand> ParseAggregate(const v1::AggregateRequest& req) {
  AggregateCommand command;
  command.db = req.database();
  command.collection = req.collection();
  for (const v1::Doc& d : req.pipeline()) {
    auto bytes = DocToBson(d);
    if (!bytes.ok()) return bytes.status();
    command.pipeline.push_back(bson::Decode(bson::DocView(*bytes)));
  }
  if (req.has_let()) {
    auto let = DocToBson(req.let());
    if (!let.ok()) return let.status();
    command.let = bson::Decode(bson::DocView(*let));
  }
  auto collator = ParseCollation(req.collation());
  if (!collator.ok()) return collator.status();
  command.collator = *std::move(collator);
  command.hint = HintOf(req.hint());
  if (req.max_time_ms() < 0) return MongoError(kBadValue, "maxTimeMS must be non-negative");
  command.deadline = Deadline::After(req.max_time_ms());
  command.allow_disk_use = req.allow_disk_use();
  command.bypass_validation = req.bypass_document_validation();
  return command;
}

}  // namespace micromongo::service
