#pragma once

// Internal to the service layer: opening a namespace for an operation (database and
// collection held against concurrent DDL, validator and indexes loaded for writes), the
// candidate records of a filter, and helpers shared by the write paths.

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "index/index_key.h"
#include "query/matcher.h"
#include "service/crud.h"
#include "service/query_planning.h"
#include "util/deadline.h"
#include "service/validation.h"
#include "storage/engine.h"
#include "storage/key_codec.h"

namespace micromongo::service {

// An open namespace: the database held against concurrent DDL for the operation's length.
struct Namespace {
  std::shared_ptr<storage::Database> db;
  std::shared_lock<std::shared_mutex> ddl;
  std::shared_lock<std::shared_mutex> write_gate;  // writes only (Database::write_gate)
  std::shared_ptr<storage::Collection> coll;  // null if the collection does not exist
  // For writes: the collection's document validator (null: none) and secondary indexes.
  std::unique_ptr<DocumentValidator> validator;
  struct Index {
    uint32_t id;
    index::IndexSpec spec;
    const storage::IndexDef* def = nullptr;  // null while the index is being built
  };
  std::vector<Index> indexes;
  std::string db_name, coll_name;

  // A document about to be stored, replacing `old_doc` (null for inserts).
  absl::Status CheckValid(bson::DocView doc, const bson::DocView* old_doc) const {
    if (auto s = update::ValidateStorable(doc); !s.ok()) return s;
    return validator == nullptr ? absl::OkStatus() : validator->Check(doc, old_doc);
  }

  // Puts into `unit` the index entry changes of one document write to the record keyed
  // `record_key`: `old_doc` replaced by `new_doc` (null: insert / delete). Nothing is added
  // on error: 11000 when a unique index already holds a new key for another document, 171
  // for parallel arrays.
  absl::Status WriteIndexEntries(storage::WriteUnit* unit, std::string_view record_key,
                                 const bson::DocView* old_doc, const bson::DocView* new_doc) const;
};

enum class Access { kRead, kWrite };

// `create`: create the database and collection if missing. Writes to a view fail with 166
// (CommandNotSupportedOnView) and load the collection's validator.
// `create`: create the database and collection if missing. Writes to a view fail with 166
// (CommandNotSupportedOnView) and load the collection's validator (unless bypassed) and
// indexes.
absl::StatusOr<Namespace> OpenNamespace(storage::Engine* engine, std::string_view db_name,
                                        std::string_view coll_name, bool create,
                                        Access access = Access::kRead,
                                        const WriteOptions& options = {});

// {_id: id}
std::string IdDocument(const bson::ValueView& id);
// MongoDB's DuplicateKey error on the _id index, with keyPattern and keyValue.
absl::Status DuplicateKey(std::string_view db, std::string_view coll, const bson::ValueView& id);
// Puts _id first, generating an ObjectId if the document has none (`generated`, when
// given, is that ObjectId's bytes).
std::string WithIdFirst(std::string doc, const std::array<uint8_t, 12>* generated = nullptr);

// The documents a filter matches, in the order of the plan the planner picks for it (the
// _id point lookup, index scans or a collection scan, over one storage snapshot).
class Candidates {
 public:
  // `db`, `coll`, `m` and `deadline` must outlive the Candidates.
  // `documents`: false when the caller only counts, so that an index holding every field
  // the filter reads answers without fetching (the documents returned are then made of key
  // values, or empty from a COUNT_SCAN).
  // `distinct_field`: distinct's key, which may get a DISTINCT_SCAN (see distinct_scan()).
  Candidates(storage::Database* db, const storage::Collection& coll, const query::Matcher& m,
             const Deadline& deadline = Deadline::None(), const QueryHint& hint = {}, bool documents = true,
             std::string_view distinct_field = {});

  // The next matching record; false at the end.
  absl::StatusOr<bool> Next(std::string* key, std::string* doc) {
    if (!status_.ok()) return status_;
    return exec_->Next(key, doc);
  }
  // The plan is a DISTINCT_SCAN: one document per value of the distinct field, made of key
  // values, where documents missing the field show as null.
  bool distinct_scan() const {
    return exec_ != nullptr && exec_->solution().root->kind == planner::NodeKind::kDistinctScan;
  }

 private:
  absl::Status status_;
  std::unique_ptr<exec::PlanExecutor> exec_;
};

}  // namespace micromongo::service
