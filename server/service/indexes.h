#pragma once

// Secondary index DDL: create (building entries over existing documents), list, drop,
// and whether a hint names an existing index. Entries of writes: open_namespace.h.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "storage/engine.h"

namespace micromongo::service {

// Creates an index ({v, key, name, ...} from index::IndexSpec::Build) over the existing
// documents and returns its name; an identical existing index is left alone. Errors: 11000
// when a unique index meets duplicates (nothing is created), 85/86 for a conflicting
// index of the same name or keys, 166 on a view.
absl::StatusOr<std::string> CreateIndex(storage::Engine* engine, std::string_view db,
                                        std::string_view coll, bson::DocView keys,
                                        bson::DocView options);
// MongoDB 6.3+: a new time series collection with a metaField gets an index on its
// metaField and timeField, {<metaField>: 1, <timeField>: 1}. `options`: the collection's
// stored options; nothing to do for other collections.
absl::Status CreateTimeseriesIndex(storage::Engine* engine, std::string_view db, std::string_view coll,
                                   bson::DocView options);
// The index documents of a collection, the _id index first; 26 if it does not exist.
// MongoDB's limit of indexes per collection, the _id index included.
inline constexpr size_t kMaxIndexesPerCollection = 64;

// Fails with 67 (CannotCreateIndex) if creating the indexes of these key patterns and
// options (those not already there) would pass kMaxIndexesPerCollection; checked before a
// batch so that it fails whole, as MongoDB's createIndexes does.
absl::Status CheckIndexLimit(storage::Engine* engine, std::string_view db, std::string_view coll,
                             const std::vector<std::pair<bson::DocView, bson::DocView>>& indexes);

// The _id index's listIndexes document: {v: 2, key: {_id: 1}, name: "_id_"}.
std::string IdIndexDocument();

absl::StatusOr<std::vector<std::string>> ListIndexes(storage::Engine* engine, std::string_view db,
                                                     std::string_view coll);
// Drops the index named `name` ("*": all but _id_), or with key pattern `keys` when
// `name` is empty. Errors: 27 (IndexNotFound), 72 for the _id index, 26.
absl::Status DropIndex(storage::Engine* engine, std::string_view db, std::string_view coll,
                       std::string_view name, bson::DocView keys);
// collMod's index option: {name | keyPattern, hidden: bool, expireAfterSeconds: n,
// prepareUnique: bool, unique: true} changes the index's stored document; `unique: true`
// converts a prepareUnique index to unique (its entries rebuilt in the unique layout), and
// with `dry_run` only checks that it could. Errors as MongoDB's: 27 (IndexNotFound), 72 for
// unknown fields, nothing to change, unique without prepareUnique, both at once or a dry
// run of anything else, 2 to change the _id index or for unique: false, 14 for wrongly
// typed values, 359 (CannotConvertIndexToUnique, with `violations`) when documents share
// a key, the expireAfterSeconds range of createIndexes.
absl::Status ModifyIndex(storage::Engine* engine, std::string_view db, std::string_view coll, bson::DocView change,
                         bool dry_run = false);
// Rebuilds the indexes of `db` whose entries predate storage::kIndexFormat (the engine's
// on_open hook: run as each database opens).
absl::Status UpgradeIndexes(storage::Database* db);
// Rebuilds every index of every collection from its records (--repair: after a store's
// repair the entries of lost records may remain, and entries may be lost).
absl::Status RebuildAllIndexes(storage::Database* db);
// The name of a clustered collection's cluster key index (its clusteredIndex option), or
// "" for other collections: listed and hinted in place of _id_.
std::string ClusteredIndexName(const storage::Collection& coll);
// Whether a hint names an index of the collection (the _id index always exists).
bool IndexExists(storage::Engine* engine, std::string_view db, std::string_view coll,
                 std::string_view name, const bson::DocView* keys);

}  // namespace micromongo::service
