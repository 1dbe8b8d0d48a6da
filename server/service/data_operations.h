#pragma once

// The DataService's operations over its request and reply messages, free of gRPC: the
// gRPC service (services.h) and the MongoDB wire protocol (server/wire) both run requests
// through these, so each operation has one implementation whatever the transport.
// Thread-safe. Errors carry MongoDB's codes (document/status.h); a failed operation may
// have filled part of the reply, which the caller then discards.

#include "absl/status/status.h"
#include "micromongo/v1/micromongo.pb.h"
#include "service/cursor_manager.h"
#include "storage/engine.h"

namespace micromongo::service {

class DataOperations {
 public:
  // Both must outlive this object.
  DataOperations(storage::Engine* engine, CursorManager* cursors)
      : engine_(engine), cursors_(cursors) {}

  absl::Status Insert(const v1::InsertRequest* req, v1::InsertReply* reply);
  // A cursor left open by Find or Aggregate is in the CursorManager under reply->cursor_id().
  absl::Status Find(const v1::FindRequest* req, v1::CursorReply* reply);
  absl::Status GetMore(const v1::GetMoreRequest* req, v1::CursorReply* reply);
  absl::Status KillCursors(const v1::KillCursorsRequest* req, v1::Empty* reply);
  absl::Status Count(const v1::CountRequest* req, v1::CountReply* reply);
  absl::Status EstimatedCount(const v1::EstimatedCountRequest* req, v1::CountReply* reply);
  absl::Status Update(const v1::UpdateRequest* req, v1::UpdateReply* reply);
  absl::Status Delete(const v1::DeleteRequest* req, v1::DeleteReply* reply);
  absl::Status FindAndModify(const v1::FindAndModifyRequest* req, v1::FindAndModifyReply* reply);
  absl::Status Distinct(const v1::DistinctRequest* req, v1::DistinctReply* reply);
  // Each model is its own atomic write; failures are write errors in the reply.
  absl::Status BulkWrite(const v1::BulkWriteRequest* req, v1::BulkWriteReply* reply);
  // A pipeline starting with $changeStream opens a change stream cursor: its GetMores wait
  // for events (up to their max_time_ms, 1 s by default) and every reply carries
  // post_batch_resume_token.
  absl::Status Aggregate(const v1::AggregateRequest* req, v1::CursorReply* reply);
  absl::Status CreateIndexes(const v1::CreateIndexesRequest* req, v1::CreateIndexesReply* reply);
  absl::Status ListIndexes(const v1::ListIndexesRequest* req, v1::ListIndexesReply* reply);
  absl::Status DropIndex(const v1::DropIndexRequest* req, v1::Empty* reply);
  absl::Status Validate(const v1::ValidateRequest* req, v1::ValidateReply* reply);
  // In explain_operation.cc.
  absl::Status Explain(const v1::ExplainRequest* req, v1::ExplainReply* reply);

  storage::Engine* engine() const { return engine_; }
  CursorManager* cursors() const { return cursors_; }

 private:
  // Find with tailable (tailable_cursor.h).
  absl::Status FindTailable(const v1::FindRequest& req, bool json, v1::CursorReply* reply);
  absl::Status OpenChangeStream(const v1::AggregateRequest& req, bool json, v1::CursorReply* reply);

  storage::Engine* engine_;
  CursorManager* cursors_;
};

}  // namespace micromongo::service
