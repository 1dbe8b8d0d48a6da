#pragma once

// The data operations behind the DataService, free of gRPC: inserts, queries, updates,
// deletes and counts over the storage engine. Every function is thread-safe; each write
// operation commits one atomic WriteUnit.

#include <chrono>
#include <functional>
#include <set>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "document/builder.h"
#include "pipeline/stages.h"
#include "query/matcher.h"
#include "query/projection.h"
#include "query/sort.h"
#include "storage/engine.h"
#include "update/update.h"

namespace micromongo::service {

// A server-side time limit (maxTimeMS). Scans call Check() as they go.
class Deadline {
 public:
  Deadline() = default;
  static Deadline After(int64_t millis) {
    Deadline d;
    if (millis > 0) d.at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(millis);
    return d;
  }
  // Code 50 (MaxTimeMSExpired) once passed; cheap enough to call every few documents.
  absl::Status Check() const;

 private:
  std::optional<std::chrono::steady_clock::time_point> at_;
};

struct WriteErrorInfo {
  int index = 0;
  absl::Status status;
};

struct InsertOutcome {
  int64_t inserted_count = 0;
  // The stored documents (_id first), by request index.
  std::vector<std::string> docs;
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

struct UpdateOutcome {
  int64_t matched_count = 0;
  int64_t modified_count = 0;
  std::optional<std::string> upserted_id;  // {_id: ...}
};

absl::StatusOr<UpdateOutcome> Update(storage::Engine* engine, std::string_view db,
                                     std::string_view coll, const query::Matcher& filter,
                                     const update::Update& update, bool multi, bool upsert,
                                     const Deadline& deadline = {},
                                     const WriteOptions& options = {});

absl::StatusOr<int64_t> Delete(storage::Engine* engine, std::string_view db,
                               std::string_view coll, const query::Matcher& filter, bool multi,
                               const Deadline& deadline = {});

absl::StatusOr<int64_t> Count(storage::Engine* engine, std::string_view db,
                              std::string_view coll, const query::Matcher& filter, int64_t skip,
                              int64_t limit, const Deadline& deadline = {});

struct FindAndModifySpec {
  const query::Matcher* filter = nullptr;
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

// A view resolved to the collection it reads and the pipeline that computes it (the
// definitions of views over views concatenated).
struct ResolvedView {
  std::string collection;
  std::vector<Document> stages;
};
// nullopt unless db.coll is a view. Errors: invalid names (73).
absl::StatusOr<std::optional<ResolvedView>> ResolveView(storage::Engine* engine,
                                                        std::string_view db,
                                                        std::string_view coll);

// The distinct values at `key` among matching documents ({"values": [...]}), unwinding
// arrays, each value once by MongoDB equality (1 and 1.0 are one value).
absl::StatusOr<std::string> Distinct(storage::Engine* engine, std::string_view db,
                                     std::string_view coll, std::string_view key,
                                     const query::Matcher& filter, const Deadline& deadline = {});

absl::StatusOr<int64_t> EstimatedCount(storage::Engine* engine, std::string_view db,
                                       std::string_view coll);

struct FindSpec {
  std::unique_ptr<query::Matcher> matcher;
  std::optional<query::SortSpec> sort;
  std::unique_ptr<query::Projection> projection;
  int64_t skip = 0;
  int64_t limit = 0;  // 0: none
  Deadline deadline;
};

// The documents of a collection, for an aggregation pipeline's source (empty if the
// collection does not exist).
absl::StatusOr<std::unique_ptr<pipeline::Stage>> CollectionScan(storage::Engine* engine,
                                                                std::string_view db,
                                                                std::string_view coll,
                                                                const Deadline& deadline);

// Runs `stages` over `source` to the end and returns the result documents; a final
// $out/$merge is described in *output (not performed).
absl::StatusOr<std::vector<std::string>> RunPipeline(
    std::unique_ptr<pipeline::Stage> source, const std::vector<Document>& stages,
    const pipeline::VariableMap* let, std::shared_ptr<const bson::Collator> collator,
    std::optional<pipeline::OutputSpec>* output);

// Creates an index ({v, key, name, ...} from index::IndexSpec::Build) over the existing
// documents and returns its name; an identical existing index is left alone. Errors: 11000
// when a unique index meets duplicates (nothing is created), 85/86 for a conflicting
// index of the same name or keys, 166 on a view.
absl::StatusOr<std::string> CreateIndex(storage::Engine* engine, std::string_view db,
                                        std::string_view coll, bson::DocView keys,
                                        bson::DocView options);
// The index documents of a collection, the _id index first; 26 if it does not exist.
absl::StatusOr<std::vector<std::string>> ListIndexes(storage::Engine* engine, std::string_view db,
                                                     std::string_view coll);
// Drops the index named `name` ("*": all but _id_), or with key pattern `keys` when
// `name` is empty. Errors: 27 (IndexNotFound), 72 for the _id index, 26.
absl::Status DropIndex(storage::Engine* engine, std::string_view db, std::string_view coll,
                       std::string_view name, bson::DocView keys);
// Whether a hint names an index of the collection (the _id index always exists).
bool IndexExists(storage::Engine* engine, std::string_view db, std::string_view coll,
                 std::string_view name, const bson::DocView* keys);

// Writes a pipeline's results as its final $out or $merge stage asks.
absl::Status WriteOutput(storage::Engine* engine, std::string_view db,
                         const pipeline::OutputSpec& spec, std::vector<std::string> docs,
                         const WriteOptions& options = {});

// A find's result stream. Not thread-safe; the cursor manager serialises access.
class FindCursor {
 public:
  // A cursor over documents already computed (an aggregation's results).
  static std::unique_ptr<FindCursor> FromDocuments(std::vector<std::string> docs);
  static absl::StatusOr<std::unique_ptr<FindCursor>> Open(storage::Engine* engine,
                                                          std::string_view db,
                                                          std::string_view coll, FindSpec spec);
  // Appends up to `max_docs` documents (projected) or about `max_bytes`, whichever first.
  absl::Status NextBatch(size_t max_docs, size_t max_bytes, std::vector<std::string>* out);
  bool exhausted() const { return exhausted_; }
  // A GetMore's own time limit replaces the find's.
  void set_deadline(const Deadline& d) { spec_.deadline = d; }

 private:
  // The next matching document (before skip/limit/projection), from the sorted buffer or
  // the scan; false at the end.
  absl::StatusOr<bool> NextMatch(std::string* doc);
  // The next document past skip: the lookahead, or the next match.
  absl::StatusOr<bool> NextUnskipped(std::string* doc);

  FindSpec spec_;
  std::shared_ptr<storage::Database> db_;
  std::unique_ptr<storage::KvIterator> it_;
  std::vector<std::string> sorted_;
  size_t sorted_pos_ = 0;
  bool use_sorted_ = false;
  int64_t skipped_ = 0;
  int64_t returned_ = 0;
  uint32_t scanned_ = 0;
  std::optional<std::string> pending_;  // one-document lookahead
  bool exhausted_ = false;
};

}  // namespace micromongo::service
