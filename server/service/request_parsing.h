#pragma once

// Parsing of the DataService's request fields into the server's types, shared by the
// operations (data_operations.cc, explain_operation.cc): filters with let and collation,
// hints, updates, and the reads of views.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "micromongo/document.h"
#include "micromongo/v1/micromongo.pb.h"
#include "query/matcher.h"
#include "service/aggregation.h"
#include "service/query_planning.h"
#include "service/proto_docs.h"
#include "storage/engine.h"
#include "update/update.h"
#include "util/deadline.h"

namespace micromongo::service {

// A reply uses JSON unless the request carried BSON.
template <typename... Docs>
bool WantsJson(const Docs&... docs) {
  return ((docs.kind_case() != v1::Doc::kBson) && ...);
}

#define MM_ASSIGN_OR_RETURN_STATUS(lhs, expr) \
  auto lhs##_or = (expr);                     \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = *std::move(lhs##_or)

#define MM_CHECK_HINT_STATUS(msg)                                                       \
  if (auto hint_status = CheckHint(msg, engine_, req->database(), req->collection());   \
      !hint_status.ok())                                                                  \
  return hint_status

// A request's collation option (unset: none, binary comparison).
absl::StatusOr<std::shared_ptr<const bson::Collator>> ParseCollation(const v1::Doc& doc);
// A filter with the request's let variables and collation.
absl::StatusOr<std::unique_ptr<query::Matcher>> ParseFilter(const v1::Doc& doc, const v1::Doc& let,
                                                             const v1::Doc& collation);
// The planner's form of a request's hint.
absl::StatusOr<QueryHint> ToQueryHint(const v1::Hint& hint);
// The hint of a request CheckHint accepted.
QueryHint HintOf(const v1::Hint& hint);
// A hint must name an existing index (by name or key pattern) or be {$natural: 1|-1}.
absl::Status CheckHint(const v1::Hint& hint, storage::Engine* engine, std::string_view db, std::string_view coll);
// An update document, replacement or pipeline with its arrayFilters.
absl::StatusOr<std::unique_ptr<update::Update>> ParseUpdate(
    const v1::Doc& doc, bool replace, const google::protobuf::RepeatedPtrField<v1::Doc>& filters,
    const google::protobuf::RepeatedPtrField<v1::Doc>& pipeline, const query::Matcher& matcher);
// A read on a view: the view's pipeline over its collection, then `extra` stages (the
// read's filter, sort, skip, limit, projection as pipeline stages).
absl::StatusOr<AggregateCommand> ViewQuery(std::string_view db, std::string_view view,
                                           std::vector<Document> extra, const v1::Doc& let,
                                           const v1::Doc& collation, const Deadline& deadline);
absl::StatusOr<std::vector<std::string>> QueryView(storage::Engine* engine, std::string_view db,
                                                   std::string_view view, std::vector<Document> extra,
                                                   const v1::Doc& let, const v1::Doc& collation,
                                                   const Deadline& deadline);
// An AggregateRequest as the aggregation module takes it (the hint unchecked).
absl::StatusOr<AggregateCommand> ParseAggregate(const v1::AggregateRequest& req);

// {<name>: <the request's document>} as a pipeline stage, if the document is set.
absl::Status AddStage(std::vector<Document>* stages, const char* name, const v1::Doc& doc);
void AddSkipLimit(std::vector<Document>* stages, int64_t skip, int64_t limit);

}  // namespace micromongo::service
