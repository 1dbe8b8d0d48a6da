#pragma once

// MongoDB's validate command for one collection: walks its records and the entries of
// every index over one storage snapshot and reports each inconsistency.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "storage/engine.h"

namespace micromongo::service {

struct ValidateOptions {
  // Also read every table file of the database and check its block checksums (MongoDB's
  // {full: true} checks the storage engine's structures too).
  bool full = false;
};

// Returns MongoDB's validate reply without `ok`: {ns, nInvalidDocuments,
// nNonCompliantDocuments, nrecords, nIndexes, keysPerIndex, indexDetails, valid, repaired,
// warnings, errors, extraIndexEntries, missingIndexEntries, corruptRecords}.
//
// `valid` is false when a record is not valid BSON or is stored under a key that is not
// its _id's, when an index lacks an entry a record needs or holds one no record needs (or
// one of an index the catalog does not name), when a document has an array along a key
// field that the index does not know is multikey, when the collection's count differs from
// its records, or (full) when a checksum does not match. Documents that do not satisfy the
// collection's validator are counted and warned about; they do not make it invalid.
//
// Writers to the database wait only while the snapshot is taken; readers never wait.
// Errors: 26 (NamespaceNotFound) for a missing database or collection, 166 for a view, 73.
absl::StatusOr<std::string> ValidateCollection(storage::Engine* engine, std::string_view db,
                                               std::string_view coll, const ValidateOptions& options);

}  // namespace micromongo::service
