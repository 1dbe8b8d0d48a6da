#include "service/change_stream_cursor.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "document/builder.h"
#include "document/status.h"
#include "service/proto_docs.h"
#include "service/request_parsing.h"
#include "storage/namespace.h"

namespace micromongo::service {

absl::StatusOr<changes::ChangeStreamSpec> ChangeStreamSpecOf(const v1::WatchRequest& req) {
  changes::ChangeStreamSpec spec;
  if (!req.database().empty()) {
    if (auto s = storage::ValidateDatabaseName(req.database()); !s.ok()) return s;
  }
  if (!req.collection().empty()) {
    if (req.database().empty()) return MongoError(kInvalidNamespace, "a collection to watch needs its database");
    if (auto s = storage::ValidateCollectionName(req.database(), req.collection()); !s.ok()) return s;
  }
  spec.db = req.database();
  spec.coll = req.collection();
  for (const v1::Doc& d : req.pipeline()) {
    auto stage = DocToBson(d);
    if (!stage.ok()) return stage.status();
    spec.pipeline.push_back(bson::Decode(bson::DocView(*stage)));
  }
  auto full = changes::ParseFullDocument(req.full_document());
  if (!full.ok()) return full.status();
  spec.full_document = *full;
  auto before = changes::ParseFullDocumentBeforeChange(req.full_document_before_change());
  if (!before.ok()) return before.status();
  spec.before_change = *before;
  if (req.has_resume_after()) {
    auto token = DocToBson(req.resume_after());
    if (!token.ok()) return token.status();
    spec.resume_after = bson::Decode(bson::DocView(*token));
  }
  if (req.has_start_after()) {
    auto token = DocToBson(req.start_after());
    if (!token.ok()) return token.status();
    spec.start_after = bson::Decode(bson::DocView(*token));
  }
  if (req.has_start_at_operation_time()) {
    spec.start_at_operation_time = Timestamp{req.start_at_operation_time().t(), req.start_at_operation_time().i()};
  }
  spec.show_expanded_events = req.show_expanded_events();
  auto collator = ParseCollation(req.collation());
  if (!collator.ok()) return collator.status();
  spec.collator = *std::move(collator);
  return spec;
}

absl::StatusOr<v1::WatchRequest> WatchRequestOfAggregate(const v1::AggregateRequest& req) {
  v1::WatchRequest watch;
  auto first = DocToBson(req.pipeline(0));
  if (!first.ok()) return first.status();
  bson::ValueView options = bson::DocView(*first).begin()->value;
  if (options.type != BsonType::kDocument) {
    return MongoError(50808, "$changeStream stage expects a document as argument");
  }
  bool all_changes_for_cluster = false;
  for (const bson::ElementView& e : options.Doc()) {
    auto wrong = [&](std::string_view expected) {
      return MongoError(kTypeMismatch, StrCat("BSON field '$changeStream.", e.key, "' is the wrong type '",
                                              BsonTypeName(e.value.type), "', expected type '", expected, "'"));
    };
    if (e.key == "fullDocument" || e.key == "fullDocumentBeforeChange") {
      if (e.value.type != BsonType::kString) return wrong("string");
      if (e.key == "fullDocument") watch.set_full_document(std::string(e.value.String()));
      else watch.set_full_document_before_change(std::string(e.value.String()));
    } else if (e.key == "resumeAfter" || e.key == "startAfter") {
      if (e.value.type != BsonType::kDocument) return wrong("object");
      (e.key == "resumeAfter" ? watch.mutable_resume_after() : watch.mutable_start_after())
          ->set_bson(std::string(e.value.Doc().bytes()));
    } else if (e.key == "startAtOperationTime") {
      if (e.value.type != BsonType::kTimestamp) return wrong("timestamp");
      uint32_t increment, seconds;
      std::memcpy(&increment, e.value.data, 4);
      std::memcpy(&seconds, e.value.data + 4, 4);
      watch.mutable_start_at_operation_time()->set_t(seconds);
      watch.mutable_start_at_operation_time()->set_i(increment);
    } else if (e.key == "showExpandedEvents" || e.key == "allChangesForCluster") {
      if (e.value.type != BsonType::kBool) return wrong("bool");
      if (e.key == "showExpandedEvents") watch.set_show_expanded_events(e.value.Bool());
      else all_changes_for_cluster = e.value.Bool();
    } else {
      return MongoError(40415, StrCat("BSON field '$changeStream.", e.key, "' is an unknown field."));
    }
  }
  if (all_changes_for_cluster) {
    if (req.database() != "admin" || !req.collection().empty()) {
      return MongoError(kInvalidOptions,
                        "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' "
                        "database, and with no collection name");
    }
  } else {
    if (req.database() == "admin" && req.collection().empty()) {
      return MongoError(kInvalidOptions,
                        "$changeStream may not be opened on the internal admin database without "
                        "'allChangesForCluster: true'");
    }
    watch.set_database(req.database());
    watch.set_collection(req.collection());
  }
  for (int i = 1; i < req.pipeline_size(); ++i) *watch.add_pipeline() = req.pipeline(i);
  if (req.has_collation()) *watch.mutable_collation() = req.collation();
  return watch;
}

namespace {
std::atomic<int64_t> await_limit_ms{-1};  // SetAwaitLimitForTesting; -1: none
}  // namespace

void SetAwaitLimitForTesting(std::chrono::milliseconds limit) {
  await_limit_ms.store(limit.count(), std::memory_order_relaxed);
}

std::chrono::milliseconds BoundedAwait(std::chrono::milliseconds wait) {
  if (int64_t limit = await_limit_ms.load(std::memory_order_relaxed); limit >= 0) {
    wait = std::min(wait, std::chrono::milliseconds(limit));
  }
  return wait;
}

absl::Status ChangeStreamCursor::NextBatch(size_t max_docs, size_t, std::vector<std::string>* out) {
  // Events are small and a batch is bounded by count; MongoDB's default is 101.
  std::chrono::milliseconds wait = BoundedAwait(first_ ? std::chrono::milliseconds(0) : await_);
  first_ = false;
  return stream_->Next(max_docs > 0 ? max_docs : 101, wait, out);
}

void ChangeStreamCursor::set_deadline(const Deadline& deadline) {
  int64_t left = deadline.RemainingMillis();
  await_ = std::chrono::milliseconds(left == INT64_MAX ? 1000 : std::max<int64_t>(left, 0));
}

}  // namespace micromongo::service
