#pragma once

// A change stream: the events of one collection, one database or the whole worker, read
// from the change logs that every write commits with (storage/FORMAT.md), shaped as
// MongoDB's change events and passed through the stream's pipeline.
//
// A stream starts after the last visible change (or where a resume token or operation
// time says), so it sees every event committed after it opened, in cluster-time order,
// each once. Not thread-safe: one reader per stream.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "changes/resume_token.h"
#include "micromongo/document.h"
#include "pipeline/pipeline.h"
#include "storage/engine.h"

namespace micromongo::changes {

enum class FullDocument { kDefault, kUpdateLookup, kWhenAvailable, kRequired };
enum class FullDocumentBeforeChange { kOff, kWhenAvailable, kRequired };

struct ChangeStreamSpec {
  std::string db;    // empty: every database (a worker-wide stream)
  std::string coll;  // empty: every collection of `db`
  // $match $project $addFields $set $unset $replaceRoot $replaceWith $redact only.
  std::vector<Document> pipeline;
  FullDocument full_document = FullDocument::kDefault;
  FullDocumentBeforeChange before_change = FullDocumentBeforeChange::kOff;
  std::optional<Document> resume_after;
  std::optional<Document> start_after;
  std::optional<Timestamp> start_at_operation_time;
  bool show_expanded_events = false;
  std::shared_ptr<const bson::Collator> collator;
};

// Parses MongoDB's option strings ("updateLookup", ...); 2 (BadValue) for others.
absl::StatusOr<FullDocument> ParseFullDocument(std::string_view s);
absl::StatusOr<FullDocumentBeforeChange> ParseFullDocumentBeforeChange(std::string_view s);

class ChangeStream {
 public:
  // Errors: 40674 (more than one of resume_after, start_after, start_at_operation_time),
  // 9 (a malformed token), 260 (resume_after an invalidate: use start_after), 286 (the
  // log no longer holds the start), 20 (IllegalOperation: a stage not allowed in a change
  // stream) and the pipeline's own.
  static absl::StatusOr<std::unique_ptr<ChangeStream>> Open(storage::Engine* engine, ChangeStreamSpec spec);

  // Appends up to `max` events (BSON) to *events, waiting up to `wait` for the first when
  // none is there. Errors: 286 when the stream fell behind the log's retention, 280 when
  // the pipeline changed an event's _id, 47 when a required pre- or post-image is missing.
  absl::Status Next(size_t max, std::chrono::milliseconds wait, std::vector<std::string>* events);

  // The token to resume after everything returned so far: the last event's, or a
  // high-water mark when the stream read past events it did not return.
  std::string ResumeTokenBson() const;
  // After an invalidate event: the stream returns nothing more.
  bool invalidated() const { return invalidated_; }

 private:
  struct Raw {
    uint64_t time;
    std::shared_ptr<storage::Database> db;
    std::string record;
  };
  ChangeStream(storage::Engine* engine, ChangeStreamSpec spec) : engine_(engine), spec_(std::move(spec)) {}
  std::vector<std::shared_ptr<storage::Database>> Databases();
  // Reads the change records in (cursor_, *upto], at most a batch; lowers *upto to the
  // last time read when a database had more.
  absl::Status Gather(uint64_t* upto, std::vector<Raw>* out);
  // The events one change record makes for this stream (none, one, or one and an
  // invalidate).
  absl::Status Process(const Raw& raw, std::vector<std::string>* events);
  absl::StatusOr<std::string> Shape(const Raw& raw, bson::DocView record, std::string_view op);
  absl::StatusOr<std::optional<std::string>> ApplyPipeline(std::string event, std::string_view token);

  storage::Engine* engine_;
  ChangeStreamSpec spec_;
  pipeline::Pipeline pipeline_;
  uint64_t cursor_ = 0;  // every change up to this time has been read
  ResumeToken last_token_;
  bool invalidated_ = false;
  bool listed_all_ = false;  // a worker-wide stream listed the data root
  std::shared_ptr<void> keep_open_;  // a worker-wide stream's Engine::KeepDatabasesOpen
};

}  // namespace micromongo::changes
