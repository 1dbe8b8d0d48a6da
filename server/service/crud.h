#pragma once

// The data operations behind the DataService, free of gRPC: inserts, updates, deletes,
// counts, findAndModify and distinct over the storage engine. Every function is
// thread-safe; a write commits each document atomically (one WriteUnit per operation,
// or per chunk of a multi-document update or delete).

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "document/builder.h"
#include "query/field_path.h"
#include "query/matcher.h"
#include "query/projection.h"
#include "query/sort.h"
#include "service/query_planning.h"
#include "util/deadline.h"
#include "storage/engine.h"
#include "storage/retry_history.h"
#include "update/update.h"

namespace micromongo::service {

struct WriteErrorInfo {
  int index = 0;
  absl::Status status;
};

struct InsertOutcome {
  int64_t inserted_count = 0;
  // The stored documents (_id first), by request index: the caller's bytes, or `owned`
  // where the document was rewritten (its _id added or moved first) or handed over.
  std::vector<std::string_view> docs;
  std::deque<std::string> owned;  // a deque: the views into it stay valid as it grows
  // Request indexes of the inserted documents.
  std::vector<int> inserted;
  std::vector<WriteErrorInfo> write_errors;
};

// Options of the operations that store documents.
struct WriteOptions {
  // MongoDB's bypassDocumentValidation: the collection's validator is not applied.
  bool bypass_validation = false;
};

// Validated BSON documents in; _ids are generated where missing and moved first.
absl::StatusOr<InsertOutcome> Insert(storage::Engine* engine, std::string_view db,
                                     std::string_view coll, std::vector<std::string> docs,
                                     bool ordered, const WriteOptions& options = {});
// The same over documents the caller keeps alive until it is done with the outcome (a
// request's buffers): none is copied before it is written.
absl::StatusOr<InsertOutcome> InsertViews(storage::Engine* engine, std::string_view db,
                                          std::string_view coll, std::vector<std::string_view> docs,
                                          bool ordered, const WriteOptions& options = {});

struct UpdateOutcome {
  int64_t matched_count = 0;
  int64_t modified_count = 0;
  std::optional<std::string> upserted_id;  // {_id: ...}
};

// The outcome a resumed retryable write reports for a single-document update statement
// its first run committed (`done`: what that statement changed, RetryOutcome::OfStatement).
absl::StatusOr<UpdateOutcome> RetriedUpdateOutcome(const storage::RetryOutcome& done);

// In a retryable write (a storage::RetryScope bound), `multi` fails with 72 InvalidOptions
// as in MongoDB, and a statement its resumed run finds done is answered, not run again.
absl::StatusOr<UpdateOutcome> Update(storage::Engine* engine, std::string_view db,
                                     std::string_view coll, const query::Matcher& filter,
                                     const update::Update& update, bool multi, bool upsert,
                                     const Deadline& deadline = {},
                                     const WriteOptions& options = {}, const QueryHint& hint = {});

// Retryable writes: as Update (`multi`, MongoDB's limit 0, fails with 72).
absl::StatusOr<int64_t> Delete(storage::Engine* engine, std::string_view db,
                               std::string_view coll, const query::Matcher& filter, bool multi,
                               const Deadline& deadline = {}, const QueryHint& hint = {});

absl::StatusOr<int64_t> Count(storage::Engine* engine, std::string_view db,
                              std::string_view coll, const query::Matcher& filter, int64_t skip,
                              int64_t limit, const Deadline& deadline = {}, const QueryHint& hint = {});

struct FindAndModifySpec {
  const query::Matcher* filter = nullptr;
  QueryHint hint;
  const query::SortSpec* sort = nullptr;            // optional
  const query::Projection* projection = nullptr;    // optional
  const update::Update* update = nullptr;           // null: remove
  bool upsert = false;
  bool return_new = false;
  Deadline deadline;
  WriteOptions write_options;
};

struct FindAndModifyOutcome {
  std::optional<std::string> value;  // projected document, before or after
  bool updated_existing = false;
  // The found document changed (an update can leave it as it was).
  bool modified = false;
  std::optional<std::string> upserted_id;  // {_id: ...}
};

// Finds the first document by filter and sort and updates, replaces or removes it,
// atomically with respect to other writers of the collection.
absl::StatusOr<FindAndModifyOutcome> FindAndModify(storage::Engine* engine, std::string_view db,
                                                   std::string_view coll,
                                                   const FindAndModifySpec& spec);

// Collects the distinct values at a dotted path over documents ({"values": [...]}),
// unwinding arrays, each value once by MongoDB equality (1 and 1.0 are one value) or by
// the collator's.
class DistinctValues {
 public:
  DistinctValues(std::string key, const bson::Collator* collator);
  void Add(bson::DocView doc);
  std::string Finish() &&;

 private:
  using CollatedLess = std::function<bool(const std::string&, const std::string&)>;
  query::FieldPath path_;
  const bson::Collator* collator_;
  absl::flat_hash_set<std::string> seen_;
  std::set<std::string, CollatedLess> collated_seen_;
  bson::Builder out_;
  size_t values_ = 0;
  size_t n_ = 0;
};

// Code 2 for keys distinct cannot take (empty, $-prefixed).
absl::Status CheckDistinctKey(std::string_view key);

// The distinct values at `key` among matching documents ({"values": [...]}), unwinding
// arrays, each value once by MongoDB equality (1 and 1.0 are one value).
absl::StatusOr<std::string> Distinct(storage::Engine* engine, std::string_view db,
                                     std::string_view coll, std::string_view key,
                                     const query::Matcher& filter, const Deadline& deadline = {},
                                     const QueryHint& hint = {});

absl::StatusOr<int64_t> EstimatedCount(storage::Engine* engine, std::string_view db,
                                       std::string_view coll);

}  // namespace micromongo::service
