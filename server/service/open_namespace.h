#pragma once

// Internal to the service layer: opening a namespace for an operation (database and
// collection held against concurrent DDL, validator and indexes loaded for writes), the
// candidate records of a filter, and helpers shared by the write paths.

#include <algorithm>
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
#include "util/deadline.h"
#include "service/validation.h"
#include "storage/engine.h"
#include "storage/key_codec.h"

namespace micromongo::service {

// An open namespace: the database held against concurrent DDL for the operation's length.
struct Namespace {
  std::shared_ptr<storage::Database> db;
  std::shared_lock<std::shared_mutex> ddl;
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

  // Puts into `unit` the index entry changes of one document write: `old_doc` replaced by
  // `new_doc` (null: insert / delete). Nothing is added on error: 11000 when a unique
  // index already holds a new key for another document, 171 for parallel arrays.
  absl::Status WriteIndexEntries(storage::WriteUnit* unit, const bson::DocView* old_doc,
                                 const bson::DocView* new_doc) const;
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
// Puts _id first, generating an ObjectId if the document has none.
std::string WithIdFirst(std::string doc);

// A lookup a secondary index can serve: a top-level condition on the index's first,
// ascending field — equality ({field: v}, {$eq: v}), {$in: [...]}, or one bound of a range
// ($gt/$gte, else $lt/$lte, within the value's type bracket; with a multikey index two
// bounds may be met by different elements, so only one is used). Every document the
// condition can match has an entry in the ranges; the matcher then checks each.
struct IndexLookup {
  uint32_t index_id = 0;
  // Key-string ranges [first, second) after the index prefix.
  std::vector<std::pair<std::string, std::string>> ranges;
};

// Whether an equality on `v` can be looked up in an index by its key string: scalars other
// than null (missing fields index as null), regexes and MinKey/MaxKey; strings only without
// a collation.
bool IndexLookupScalar(const bson::ValueView& v, const bson::Collator* collator);
// The key string of `v`, and the smallest string above every string it prefixes.
std::string KeyOf(const bson::ValueView& v);
std::string PrefixSuccessor(std::string prefix);

// Chooses an index for `m`, or nullopt (then records are scanned). Only lookups that find
// every matching document qualify: scalars other than null (missing fields are indexed
// as null, sparse indexes skip them), not arrays or documents (which equal arrays, not
// their elements), no partial indexes, no numeric path components, and no strings under
// a collation.
// Whether `spec` is a plain ascending index led by `field` that equality and range
// lookups can use directly.
bool SimpleLeadingField(const index::IndexSpec& spec, std::string_view field);
std::optional<IndexLookup> ChooseIndex(const storage::Collection& coll, const query::Matcher& m);

// Candidates for a filter: one record for {_id: v}; the records an index lookup names (in
// _id order, as a scan yields them); else every record. The matcher decides in each case.
class Candidates {
 public:
  // `deadline` must outlive the Candidates.
  Candidates(storage::Database* db, const storage::Collection& coll, const query::Matcher& m,
             const Deadline& deadline = Deadline::None())
      : Candidates(db, coll, m, deadline,
                   m.id_equality() != nullptr ? std::nullopt : ChooseIndex(coll, m)) {}
  // With the index lookup already chosen (nullopt: point lookup or scan).
  Candidates(storage::Database* db, const storage::Collection& coll, const query::Matcher& m,
             const Deadline& deadline, const std::optional<IndexLookup>& lookup)
      : db_(db), coll_(coll), matcher_(m), deadline_(&deadline) {
    if (const bson::ValueView* id = m.id_equality()) {
      point_ = true;
      key_ = storage::RecordKey(coll.id(), *id);
    } else if (lookup) {
      LoadIndexed(*lookup);
    } else {
      it_ = db->ScanRecords(coll);
    }
  }

  // The next matching record; false at the end.
  absl::StatusOr<bool> Next(std::string* key, std::string* doc) {
    if (!status_.ok()) return status_;
    if (point_) {
      if (done_) return false;
      done_ = true;
      auto found = db_->GetRecord(coll_, key_, doc);
      if (!found.ok()) return found.status();
      if (!*found) return false;
      auto matched = matcher_.Evaluate(bson::DocView(*doc));
      if (!matched.ok() || !*matched) return matched;
      *key = key_;
      return true;
    }
    if (indexed_) {
      while (next_indexed_ < indexed_keys_.size()) {
        if ((++scanned_ & 255) == 0) {
          if (auto s = deadline_->Check(); !s.ok()) return s;
        }
        const std::string& record_key = indexed_keys_[next_indexed_++];
        auto found = db_->GetRecord(coll_, record_key, doc);
        if (!found.ok()) return found.status();
        if (!*found) continue;
        auto matched = matcher_.Evaluate(bson::DocView(*doc));
        if (!matched.ok()) return matched.status();
        if (!*matched) continue;
        *key = record_key;
        return true;
      }
      return false;
    }
    for (; it_->Valid(); it_->Next()) {
      if ((++scanned_ & 255) == 0) {
        if (auto s = deadline_->Check(); !s.ok()) return s;
      }
      std::string_view value = it_->value();
      auto matched = matcher_.Evaluate(bson::DocView(value.data()));
      if (!matched.ok()) return matched.status();
      if (!*matched) continue;
      key->assign(it_->key());
      doc->assign(value);
      it_->Next();
      return true;
    }
    if (!it_->status().ok()) return it_->status();
    return false;
  }

 private:
  // The record keys the lookup's entries name, sorted and without repeats (a multikey
  // document has one entry per distinct element).
  void LoadIndexed(const IndexLookup& lookup);

  storage::Database* db_;
  const storage::Collection& coll_;
  const query::Matcher& matcher_;
  const Deadline* deadline_;  // the caller's: it may be extended while the scan runs
  uint32_t scanned_ = 0;
  bool point_ = false;
  bool done_ = false;
  bool indexed_ = false;
  absl::Status status_;
  std::vector<std::string> indexed_keys_;
  size_t next_indexed_ = 0;
  std::string key_;
  std::unique_ptr<storage::KvIterator> it_;
};

}  // namespace micromongo::service
