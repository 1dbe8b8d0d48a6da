#pragma once

// Option aggregates of the client API, meant for designated initializers:
//   MongoClient client(uri, {.worker_bridge = bridge});
//   coll.Find(filter, {.sort = Document{{"age", -1}}, .limit = 10});

#include <chrono>
#include <cstdint>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "micromongo/document.h"

namespace micromongo {

class WorkerBridge;
class ClientSession;

// An index hint: an index name ("_id_", "a_1") or its key pattern ({_id: 1}, {a: 1}). It
// must name an existing index (else error 2); results are the same with or without it.
struct Hint {
  Hint(const char* name) : name(name) {}
  Hint(std::string name) : name(std::move(name)) {}
  Hint(Document keys) : keys(std::move(keys)) {}
  std::string name;
  std::optional<Document> keys;
};

// How WorkerBridge::Create starts a worker.
struct WorkerOptions {
  // Data root of the worker (one directory per database inside). Empty: the server's
  // default, ./micromongo-data relative to the application's working directory.
  std::string data_dir;
  // The micromongo-server binary. Empty: $MICROMONGO_SERVER, then next to the running
  // executable, then the build tree, then the install prefix.
  std::string server_path;
  // How long Create() waits for the worker to report SERVING on its health check.
  std::chrono::milliseconds startup_timeout{15000};
  // fsync the worker's write-ahead log on every commit.
  bool sync_writes = false;
  // Memory for records read or written lately, served without a storage lookup
  // (--record-cache-mb; shared by every database). Negative: the server's default (32).
  int record_cache_mb = -1;
  // Server parameters, as mongod's --setParameter: internalQueryMaxBlockingSortMemoryUsageBytes
  // (what a $sort or other blocking stage may hold in memory, default 100 MiB) and
  // internalDocumentSourceGroupMaxMemoryBytes (the same for $group).
  std::map<std::string, std::string> server_parameters;
  // Also speak MongoDB's wire protocol, on a unix socket in the worker's private runtime
  // directory: MongoDB's own clients (drivers, mongosh) then reach the same worker through
  // WorkerBridge::mongodb_uri().
  bool mongodb_listener = false;
};

// How WorkerBridge::Connect reaches a server started elsewhere (not needed for a unix
// socket or a server without --tls-cert and --auth-token-file).
struct ConnectOptions {
  // How long Connect waits for the server's health check to answer.
  std::chrono::milliseconds timeout{5000};
  // Sent as "authorization: Bearer <token>" with every call, for a server started with
  // --auth-token-file. A missing or wrong token fails calls with Error 18
  // (AuthenticationFailed).
  std::string auth_token;
  // TLS, for a server started with --tls-cert/--tls-key. On when `tls` is true or any
  // file below is set.
  bool tls = false;
  // PEM CA bundle the server's certificate must chain to. Empty: the system's roots.
  std::string tls_ca_file;
  // PEM file with the client's certificate and private key, for a server that requires
  // client certificates (--tls-client-ca); MongoDB's tlsCertificateKeyFile.
  std::string tls_certificate_key_file;
  // The name the server's certificate must carry. Empty: the host of the address.
  std::string tls_server_name;
};

struct ClientOptions {
  // The worker to use (shared between clients). Ignored when the URI says useWorker=true.
  std::shared_ptr<WorkerBridge> worker_bridge;
  // For ?useWorker=true: how to start the client's own worker.
  WorkerOptions worker_options;
  // For a URI naming a server's host:port: token and TLS. The URI's options authToken,
  // authTokenFile, tls (or ssl), tlsCAFile and tlsCertificateKeyFile fill what is unset here.
  ConnectOptions connect_options;
};

// Options of Database::CreateCollection and Database::ModifyCollection (MongoDB's create
// and collMod). A view has view_on and pipeline and nothing else; ModifyCollection leaves
// unset fields as they are.
struct CollectionOptions {
  // A query filter ($jsonSchema and $expr allowed) that inserted and updated documents
  // must match, else Error 121 (DocumentValidationFailure) whose details() hold errInfo.
  std::optional<Document> validator;
  std::string validation_level;   // "strict" (default), "moderate" or "off"
  std::string validation_action;  // "error" (default) or "warn" (accept and log)
  // Makes the collection a read-only view of `view_on` (a collection or view of the same
  // database) through `pipeline`. Writes to a view fail with Error 166.
  std::string view_on;
  std::vector<Document> pipeline;
  // MongoDB's changeStreamPreAndPostImages: change events keep each document as it was
  // before and after the change, for ChangeStreamOptions::full_document_before_change and
  // full_document kWhenAvailable/kRequired. Unset: off, or unchanged by ModifyCollection.
  std::optional<bool> change_stream_pre_and_post_images;
  // CreateCollection only: MongoDB's clusteredIndex, {key: {_id: 1}, unique: true} and an
  // optional name. Records are kept in _id order (as every micro-mongo collection's are);
  // ListIndexes shows this index ({..., clustered: true}) in place of _id_.
  std::optional<Document> clustered_index;
  // A clustered collection's TTL: the worker's TTL monitor deletes documents whose _id is a
  // date older than this many seconds (other _ids never expire). ModifyCollection changes it.
  std::optional<int64_t> expire_after_seconds;
  // CreateCollection: a capped collection (MongoDB's capped: true) of at most capped_size
  // bytes of BSON (create's size: required, 1 to 1 PB) and capped_max documents (create's
  // max; <= 0: no limit). An insert past a cap removes the oldest documents; a Find
  // without a sort returns insertion order ({$natural: -1} the reverse); FindOptions::
  // tailable follows it. ModifyCollection changes capped_size and capped_max of a capped
  // collection (MongoDB's cappedSize and cappedMax; excess documents go at the next insert).
  std::optional<bool> capped;
  std::optional<int64_t> capped_size;
  std::optional<int64_t> capped_max;
  // CreateCollection: a time series collection, MongoDB's timeseries {timeField, metaField,
  // granularity} (or bucketMaxSpanSeconds with bucketRoundingSeconds). Every document
  // needs a date in its timeField (else Error 2), _ids may repeat, expire_after_seconds
  // expires documents by their time. Listed with type "timeseries". No secondary indexes
  // yet (Error 72).
  std::optional<Document> timeseries;
  // CreateCollection only: the session to run in (see FindOptions::session); in a
  // transaction the collection appears when it commits. ModifyCollection refuses one
  // (Error 72): collMod runs in no session.
  ClientSession* session = nullptr;
};

// Options of Collection::CreateIndex.
struct IndexOptions {
  std::string name;  // empty: MongoDB's default ("a_1_b_-1")
  // No two documents may have the same key (a missing field counts as null); violations
  // fail with DuplicateKeyError (11000) whose details() hold keyPattern and keyValue.
  bool unique = false;
  bool sparse = false;  // documents missing every key field are not indexed
  // Only documents matching this filter are indexed (and constrained by unique).
  std::optional<Document> partial_filter_expression;
  // A TTL index (single field): documents whose date there (or earliest date of an array)
  // is older than this many seconds are deleted by the worker's TTL monitor.
  std::optional<int64_t> expire_after_seconds;
  // Maintained but never used by the query planner (nor by hints).
  bool hidden = false;
  // New keys that another document already has are refused (DuplicateKeyError), while
  // the documents already there may share keys: the first step of converting the index
  // to unique (IndexModification).
  bool prepare_unique = false;
  // The index's collation: its string keys order as this collation does, and queries with
  // the same collation use it for string bounds.
  std::optional<Document> collation;
  // For a {"$**": 1} wildcard index: the fields it indexes ({a: 1, "b.c": 1}) or leaves
  // out ({a: 0}); _id only when named with 1.
  std::optional<Document> wildcard_projection;
  // For a text index ({field: "text"}, {"$**": "text"}): each field's weight (default 1;
  // 1 to 99999), the language of documents that name none (default "english"; "none": no
  // stemming or stop words), and the field in which a document names its language
  // (default "language").
  std::optional<Document> weights;
  std::string default_language;
  std::string language_override;
  // For a 2d index ({loc: "2d"}): the coordinate range [min, max) of both axes (default
  // [-180, 180)) and the grid's precision in bits per axis (1 to 32, default 26).
  std::optional<double> min;
  std::optional<double> max;
  std::optional<int32_t> bits;
  // The session to run in (see FindOptions::session): in a transaction, only on a
  // collection that does not exist yet or was made in the same transaction, as in MongoDB.
  ClientSession* session = nullptr;
};

// Collection::ModifyIndex (collMod's index option): the index by name or key pattern, and
// what changes.
struct IndexModification {
  std::string name;                       // or
  std::optional<Document> key_pattern;
  std::optional<bool> hidden;             // hide from (or return to) the query planner
  std::optional<int64_t> expire_after_seconds;  // a TTL index's expiry (or make one TTL)
  // prepareUnique: from now on refuse new keys that another document has (documents
  // that already share a key stay), the step before `unique`.
  std::optional<bool> prepare_unique;
  // Convert a prepareUnique index to unique. Fails with code 359
  // (CannotConvertIndexToUnique) while documents share a key; Error::details() then holds
  // `violations`: [{ids: [_id, ...]}, ...].
  bool unique = false;
  // With `unique` alone: only check that the conversion would succeed (the same error if not).
  bool dry_run = false;
};

struct FindOptions {
  std::optional<Document> projection;
  std::optional<Document> sort;
  int64_t skip = 0;
  int64_t limit = 0;       // 0: no limit
  int32_t batch_size = 0;  // 0: the server's default (101 first, then up to 1 MiB)
  // Server-side time limit for the query and each GetMore (error 50 when exceeded).
  int64_t max_time_ms = 0;
  std::string comment;
  // A sort past its memory limit (100 MiB) spills to temporary files instead of failing
  // with 292 (QueryExceededMemoryLimitNoDiskUseAllowed).
  bool allow_disk_use = false;
  bool no_cursor_timeout = false;  // never reclaim the server cursor for idleness
  std::optional<Hint> hint;
  // Variables {name: expression} that $expr in the filter reads as $$name.
  std::optional<Document> let;
  // Collation for string comparisons ({"locale": "en_US", "strength": 2}: case-insensitive);
  // unset or {"locale": "simple"}: binary. Errors as MongoDB's (2, 40414, 40415).
  std::optional<Document> collation;
  // Only index keys from `min` (inclusive) to `max` (exclusive) of the hinted index, each a
  // document naming every key field in order ({a: 1, b: "x"}); needs `hint` (51173),
  // fields matching its key pattern (51174), and min before max (51175).
  std::optional<Document> min;
  std::optional<Document> max;
  // Each result is only the index key it was found by ({field: value} per key field of the
  // index; {} when no index was used); the projection is ignored.
  bool return_key = false;
  // Each result gets a "$recordId" field: the record's id, BinData of its _id's key string
  // (records are clustered by _id, as in MongoDB's clustered collections).
  bool show_record_id = false;
  // A tailable cursor over a capped collection (Error 2 on others, or with a sort other
  // than {$natural: 1}): at the end of the collection it stays open, and later reads return
  // the documents inserted since. Cursor::Next() then returns nullopt while nothing new has
  // come (call it again later); Cursor::closed() tells when the worker ended the cursor
  // (limit reached, collection dropped, or Error 136 when capped deletes overtook it). Not
  // kept open when the collection was empty.
  bool tailable = false;
  // With tailable: each read of the worker waits up to max_await_time_ms (0: 1 s) for an
  // insert before Next() returns nullopt.
  bool await_data = false;
  int64_t max_await_time_ms = 0;
  // The session to run in (session.h): inside its transaction when one is in progress.
  // Null: none. Must belong to the same MongoClient.
  ClientSession* session = nullptr;
};

struct AggregateOptions {
  int32_t batch_size = 0;
  int64_t max_time_ms = 0;
  std::string comment;
  // Blocking stages ($group, $sort, $bucketAuto, $setWindowFields, ...) past their memory
  // limit (100 MiB) spill to temporary files under the data directory instead of failing
  // with 292 (QueryExceededMemoryLimitNoDiskUseAllowed).
  bool allow_disk_use = false;
  // Instead of running the pipeline, return one document describing how it would run:
  // {stages: [{$cursor: {queryPlanner: {winningPlan: {stage: "IXSCAN", ...}}}}, ...]}.
  bool explain = false;
  std::optional<Document> let;
  std::optional<Hint> hint;
  std::optional<Document> collation;  // see FindOptions::collation
  bool bypass_document_validation = false;  // see InsertOneOptions
  ClientSession* session = nullptr;  // see FindOptions::session
};

struct CountOptions {
  int64_t skip = 0;
  int64_t limit = 0;
  int64_t max_time_ms = 0;
  std::optional<Hint> hint;
  std::optional<Document> collation;  // see FindOptions::collation
  ClientSession* session = nullptr;  // see FindOptions::session
};

struct DeleteOptions {
  std::optional<Hint> hint;
  std::optional<Document> let;
  std::optional<Document> collation;  // see FindOptions::collation
  // Server-side time limit for finding the documents (MongoDB's maxTimeMS); 0: none.
  // Exceeding it throws Error 50 (MaxTimeMSExpired); what was deleted stays deleted.
  int64_t max_time_ms = 0;
  ClientSession* session = nullptr;  // see FindOptions::session
};

struct DistinctOptions {
  std::optional<Hint> hint;
  int64_t max_time_ms = 0;
  std::optional<Document> collation;  // see FindOptions::collation
  ClientSession* session = nullptr;  // see FindOptions::session
};

struct InsertOneOptions {
  // MongoDB's bypassDocumentValidation: the collection's validator is not applied.
  bool bypass_document_validation = false;
  ClientSession* session = nullptr;  // see FindOptions::session
};

struct InsertManyOptions {
  // Ordered inserts stop at the first failure; unordered ones attempt every document.
  bool ordered = true;
  bool bypass_document_validation = false;  // see InsertOneOptions
  ClientSession* session = nullptr;  // see FindOptions::session
};

// An update pipeline: [{$set: ...}, {$unset: ...}, {$replaceWith: ...}, ...], whose
// expressions see the document being updated.
struct Pipeline {
  std::vector<Document> stages;
};

struct UpdateOptions {
  bool upsert = false;
  // Filters for $[<identifier>] path components: {"elem.grade": {"$gte": 85}}.
  std::vector<Document> array_filters;
  std::optional<Hint> hint;
  // Variables for $expr in the filter and for update pipelines.
  std::optional<Document> let;
  std::optional<Document> collation;  // see FindOptions::collation
  bool bypass_document_validation = false;  // see InsertOneOptions
  // Server-side time limit for finding the documents (MongoDB's maxTimeMS); 0: none.
  // Exceeding it throws Error 50 (MaxTimeMSExpired); what was updated stays updated.
  int64_t max_time_ms = 0;
  ClientSession* session = nullptr;  // see FindOptions::session
};

struct ReplaceOptions {
  bool upsert = false;
  std::optional<Hint> hint;
  std::optional<Document> let;
  std::optional<Document> collation;  // see FindOptions::collation
  bool bypass_document_validation = false;  // see InsertOneOptions
  int64_t max_time_ms = 0;  // see UpdateOptions
  ClientSession* session = nullptr;  // see FindOptions::session
};

enum class ReturnDocument { kBefore, kAfter };

struct FindOneAndUpdateOptions {
  std::optional<Document> projection;
  std::optional<Document> sort;
  bool upsert = false;
  ReturnDocument return_document = ReturnDocument::kBefore;
  std::vector<Document> array_filters;
  int64_t max_time_ms = 0;
  std::optional<Hint> hint;
  std::optional<Document> let;
  std::optional<Document> collation;  // see FindOptions::collation
  bool bypass_document_validation = false;  // see InsertOneOptions
  ClientSession* session = nullptr;  // see FindOptions::session
};

struct FindOneAndReplaceOptions {
  std::optional<Document> projection;
  std::optional<Document> sort;
  bool upsert = false;
  ReturnDocument return_document = ReturnDocument::kBefore;
  int64_t max_time_ms = 0;
  std::optional<Hint> hint;
  std::optional<Document> let;
  std::optional<Document> collation;  // see FindOptions::collation
  bool bypass_document_validation = false;  // see InsertOneOptions
  ClientSession* session = nullptr;  // see FindOptions::session
};

struct FindOneAndDeleteOptions {
  std::optional<Document> projection;
  std::optional<Document> sort;
  int64_t max_time_ms = 0;
  std::optional<Hint> hint;
  std::optional<Document> let;
  std::optional<Document> collation;  // see FindOptions::collation
  ClientSession* session = nullptr;  // see FindOptions::session
};

struct BulkWriteOptions {
  // Ordered bulk writes stop at the first failing model; unordered ones attempt all.
  bool ordered = true;
  // Variables for every model's filter and update pipeline.
  std::optional<Document> let;
  bool bypass_document_validation = false;  // see InsertOneOptions
  ClientSession* session = nullptr;  // see FindOptions::session
};

// Options of MongoClient::ListDatabases and ListDatabaseNames (MongoDB's listDatabases).
struct ListDatabasesOptions {
  // Only the databases whose entry ({name, sizeOnDisk, empty}) matches this query filter.
  std::optional<Document> filter;
  // Entries of {name} only, without the sizes the worker otherwise measures (the filter
  // then sees only name).
  bool name_only = false;
  // The session to run in (see FindOptions::session). Not in a transaction: Error 263
  // (which aborts it); not in a snapshot session: Error 72, as MongoDB answers.
  ClientSession* session = nullptr;
};

// Options of Database::ListCollections and ListCollectionNames (MongoDB's listCollections).
struct ListCollectionsOptions {
  // Only the collections whose listCollections document matches this query filter:
  // {name: "orders"}, {type: "view"}, {"options.capped": true}, ...
  std::optional<Document> filter;
  // Documents of {name, type} only (the filter then sees only those fields).
  bool name_only = false;
  ClientSession* session = nullptr;  // see ListDatabasesOptions::session
};

// Options of Collection::ListIndexes.
struct ListIndexesOptions {
  ClientSession* session = nullptr;  // see ListDatabasesOptions::session
};

// Options of Database::RunCommand.
struct RunCommandOptions {
  // The session to run in (see FindOptions::session): the command gets its lsid and,
  // inside a transaction, txnNumber, autocommit and startTransaction, as drivers add them.
  ClientSession* session = nullptr;
};

// Options of Database::RunCursorCommand.
struct RunCursorCommandOptions {
  ClientSession* session = nullptr;  // see RunCommandOptions::session
  int32_t batch_size = 0;            // each getMore's batchSize (0: the worker's default)
  // Each getMore's maxTimeMS (for a tailable awaitData cursor: how long it waits for new
  // documents); 0: none.
  int64_t max_time_ms = 0;
  // The command opened a tailable cursor: Next() returns nullopt at its current end and
  // later reads continue (see FindOptions::tailable).
  bool tailable = false;
};

// Options of Collection::Validate (MongoDB's validate command).
struct ValidateOptions {
  // Also read every stored table file of the database and check its block checksums.
  bool full = false;
};

}  // namespace micromongo
