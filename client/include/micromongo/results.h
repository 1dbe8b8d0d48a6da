#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "micromongo/document.h"
#include "micromongo/options.h"

namespace micromongo {

struct InsertOneResult {
  Value inserted_id;
};

struct InsertManyResult {
  int64_t inserted_count = 0;
  // Index in the request -> _id.
  std::map<size_t, Value> inserted_ids;
};

struct UpdateResult {
  int64_t matched_count = 0;
  // Documents that really changed.
  int64_t modified_count = 0;
  // The _id of the document an upsert inserted.
  std::optional<Value> upserted_id;
};

struct DeleteResult {
  int64_t deleted_count = 0;
};

struct BulkWriteResult {
  int64_t inserted_count = 0;
  int64_t matched_count = 0;
  int64_t modified_count = 0;
  int64_t deleted_count = 0;
  int64_t upserted_count = 0;
  // Model index -> _id.
  std::map<size_t, Value> inserted_ids;
  std::map<size_t, Value> upserted_ids;
};

// MongoClient::Backup's progress: reported after each database is copied.
struct BackupProgress {
  std::string database;  // the database just copied
  int databases_done = 0;
  int databases_total = 0;
  int64_t bytes = 0;     // bytes of the copy so far
};

// The models of Collection::BulkWrite.
struct InsertOneModel {
  Document document;
};
// `update` holds operators; a non-empty `pipeline` is an update pipeline instead.
struct UpdateOneModel {
  Document filter;
  Document update;
  bool upsert = false;
  std::vector<Document> array_filters;
  std::vector<Document> pipeline;
  std::optional<Hint> hint;
  std::optional<Document> collation;  // see FindOptions::collation
};
struct UpdateManyModel {
  Document filter;
  Document update;
  bool upsert = false;
  std::vector<Document> array_filters;
  std::vector<Document> pipeline;
  std::optional<Hint> hint;
  std::optional<Document> collation;  // see FindOptions::collation
};
struct ReplaceOneModel {
  Document filter;
  Document replacement;
  bool upsert = false;
  std::optional<Hint> hint;
  std::optional<Document> collation;  // see FindOptions::collation
};
struct DeleteOneModel {
  Document filter;
  std::optional<Hint> hint;
  std::optional<Document> collation;  // see FindOptions::collation
};
struct DeleteManyModel {
  Document filter;
  std::optional<Hint> hint;
  std::optional<Document> collation;  // see FindOptions::collation
};
using WriteModel = std::variant<InsertOneModel, UpdateOneModel, UpdateManyModel, ReplaceOneModel,
                                DeleteOneModel, DeleteManyModel>;

}  // namespace micromongo
