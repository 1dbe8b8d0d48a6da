#pragma once

// Change streams as MongoDB's commands serve them: aggregate [{$changeStream: {...}}, ...]
// opens a cursor whose getMores wait (up to their maxTimeMS, 1 s by default) for events,
// and every batch carries the postBatchResumeToken. The Watch RPC streams the same
// changes::ChangeStream; both read their options through ChangeStreamSpecOf.

#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "changes/change_stream.h"
#include "micromongo/v1/micromongo.pb.h"
#include "service/cursor.h"

namespace micromongo::service {

// The stream a WatchRequest describes (names checked, pipeline and options parsed).
absl::StatusOr<changes::ChangeStreamSpec> ChangeStreamSpecOf(const v1::WatchRequest& req);

// An aggregate whose first stage is $changeStream as the WatchRequest of that stream: the
// stage's options (fullDocument, fullDocumentBeforeChange, resumeAfter, startAfter,
// startAtOperationTime, showExpandedEvents, allChangesForCluster) and the later stages.
// A collectionless aggregate watches its database; on admin with allChangesForCluster,
// every database.
absl::StatusOr<v1::WatchRequest> WatchRequestOfAggregate(const v1::AggregateRequest& req);

class ChangeStreamCursor : public Cursor {
 public:
  explicit ChangeStreamCursor(std::unique_ptr<changes::ChangeStream> stream) : stream_(std::move(stream)) {}

  // The first batch returns at once; later ones wait up to the await time for an event.
  absl::Status NextBatch(size_t max_docs, size_t max_bytes, std::vector<std::string>* out) override;
  // Only an invalidate event ends a change stream.
  bool exhausted() const override { return stream_->invalidated(); }
  // A getMore's maxTimeMS is how long it waits for events (MongoDB's awaitData).
  void set_deadline(const Deadline& deadline) override;
  std::string ResumeToken() const override { return stream_->ResumeTokenBson(); }

 private:
  std::unique_ptr<changes::ChangeStream> stream_;
  bool first_ = true;
  std::chrono::milliseconds await_{1000};
};

}  // namespace micromongo::service
