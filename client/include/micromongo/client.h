#pragma once

// MongoClient -> Database -> Collection -> Cursor, after MongoDB's driver API.
//
// Thread safety: a MongoClient and the Database/Collection handles obtained from it may be
// used from many threads at once. A Cursor belongs to one thread at a time.
// Errors: every operation throws micromongo::Error (DuplicateKeyError, BulkWriteError,
// WorkerError, ...) carrying MongoDB's code.

#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "micromongo/change_stream.h"
#include "micromongo/document.h"
#include "micromongo/options.h"
#include "micromongo/results.h"
#include "micromongo/session.h"
#include "micromongo/worker_bridge.h"

namespace micromongo {

namespace internal {
struct ClientCore;
struct CursorState;
}  // namespace internal

// A stream of query results fetched lazily in batches. An input range:
//   for (const Document& d : coll.Find(filter)) ...
// Move-only; destroying an unfinished cursor releases it on the server.
class Cursor {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Document;
    using difference_type = std::ptrdiff_t;
    using pointer = const Document*;
    using reference = const Document&;

    iterator() = default;
    reference operator*() const;
    pointer operator->() const { return &**this; }
    iterator& operator++();
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) {
      return a.AtEnd() == b.AtEnd();
    }

   private:
    friend class Cursor;
    explicit iterator(Cursor* c) : cursor_(c) {}
    bool AtEnd() const;
    Cursor* cursor_ = nullptr;
  };

  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;
  ~Cursor();

  // Iterating starts where the cursor stands: a cursor is consumed once. A document is
  // consumed when an iterator moves past it (or Next()/ToVector() return it).
  iterator begin();
  iterator end() { return iterator(); }
  // The remaining documents.
  std::vector<Document> ToVector();
  // The next document, or nullopt at the end.
  std::optional<Document> Next();
  // The next document as the worker sent it, BSON bytes not decoded into a Document (for
  // tools that pass documents through: Document::BsonToJson, files of BSON). False at the
  // end.
  bool NextBson(std::string* bson);
  // True once the worker has ended the cursor and every document it sent was read: only a
  // tailable cursor can be not closed after Next() returned nullopt.
  bool closed() const;

 private:
  friend class Collection;
  friend class Database;
  explicit Cursor(std::unique_ptr<internal::CursorState> state);
  bool Fill();  // ensures a current document; false at the end
  std::unique_ptr<internal::CursorState> state_;
};

class Collection;

enum class ExplainVerbosity { kQueryPlanner, kExecutionStats, kAllPlansExecution };

// Explains operations on one collection without performing their writes, as mongosh's
// db.coll.explain(verbosity).<operation>(...). Each method returns MongoDB's explain
// document: queryPlanner {winningPlan, rejectedPlans} as stage trees (COLLSCAN, IXSCAN with
// indexName/keyPattern/indexBounds, FETCH, SORT, ...) and, at kExecutionStats and above,
// executionStats {nReturned, totalKeysExamined, totalDocsExamined, executionTimeMillis,
// executionStages}. Errors are the operation's own. Thread-safe like Collection.
class Explainer {
 public:
  Document Find(const Document& filter = {}, const FindOptions& options = {}) const;
  Document Aggregate(const std::vector<Document>& pipeline, const AggregateOptions& options = {}) const;
  Document CountDocuments(const Document& filter = {}, const CountOptions& options = {}) const;
  Document Distinct(std::string_view key, const Document& filter = {}, const DistinctOptions& options = {}) const;
  Document UpdateOne(const Document& filter, const Document& update, const UpdateOptions& options = {}) const;
  Document UpdateMany(const Document& filter, const Document& update, const UpdateOptions& options = {}) const;
  Document DeleteOne(const Document& filter, const DeleteOptions& options = {}) const;
  Document DeleteMany(const Document& filter, const DeleteOptions& options = {}) const;
  Document FindOneAndUpdate(const Document& filter, const Document& update,
                            const FindOneAndUpdateOptions& options = {}) const;
  Document FindOneAndDelete(const Document& filter, const FindOneAndDeleteOptions& options = {}) const;

 private:
  friend class Collection;
  Explainer(std::shared_ptr<internal::ClientCore> core, std::string db, std::string coll,
            ExplainVerbosity verbosity)
      : core_(std::move(core)), db_(std::move(db)), name_(std::move(coll)), verbosity_(verbosity) {}

  std::shared_ptr<internal::ClientCore> core_;
  std::string db_;
  std::string name_;
  ExplainVerbosity verbosity_;
};

class Collection {
 public:
  const std::string& name() const { return name_; }
  const std::string& database_name() const { return db_; }

  // Inserts one document; an ObjectId _id is generated here if it has none.
  InsertOneResult InsertOne(const Document& doc, const InsertOneOptions& options = {});
  // Throws BulkWriteError (with what was inserted) if some documents fail. Large inserts
  // go in several requests of at most 48 MB and 100,000 documents, as MongoDB's drivers
  // split them; ordered ones stop at the first failing request.
  InsertManyResult InsertMany(const std::vector<Document>& docs,
                              const InsertManyOptions& options = {});

  // InsertMany of documents given as BSON bytes (Document::ToBson, Document::JsonToBson, a
  // file of BSON), sent as they are, without building Documents (for tools that pass
  // documents through). The worker validates them (invalid BSON fails the whole call with
  // Error 22) and gives those without an _id an ObjectId; inserted_ids are the worker's.
  InsertManyResult InsertManyBson(const std::vector<std::string>& documents,
                                  const InsertManyOptions& options = {});

  Cursor Find(const Document& filter = {}, const FindOptions& options = {});
  std::optional<Document> FindOne(const Document& filter = {}, FindOptions options = {});
  // Runs an aggregation pipeline. Stages so far: $match, $sort, $skip, $limit, $project,
  // $addFields/$set, $unset, $replaceRoot/$replaceWith, $count, and a final $out or
  // $merge (whose cursor is then empty). Others fail with 238 (NotImplemented).
  Cursor Aggregate(const std::vector<Document>& pipeline, const AggregateOptions& options = {});
  int64_t CountDocuments(const Document& filter = {}, const CountOptions& options = {});
  // From collection metadata: no filter, no scan.
  int64_t EstimatedDocumentCount();

  UpdateResult UpdateOne(const Document& filter, const Document& update,
                         const UpdateOptions& options = {});
  UpdateResult UpdateMany(const Document& filter, const Document& update,
                          const UpdateOptions& options = {});
  UpdateResult UpdateOne(const Document& filter, const Pipeline& pipeline,
                         const UpdateOptions& options = {});
  UpdateResult UpdateMany(const Document& filter, const Pipeline& pipeline,
                          const UpdateOptions& options = {});
  UpdateResult ReplaceOne(const Document& filter, const Document& replacement,
                          const ReplaceOptions& options = {});
  DeleteResult DeleteOne(const Document& filter, const DeleteOptions& options = {});
  DeleteResult DeleteMany(const Document& filter, const DeleteOptions& options = {});

  // findAndModify: the first document by filter and sort, updated / replaced / deleted
  // atomically; returns it as it was before (default) or after, projected; nullopt if none.
  std::optional<Document> FindOneAndUpdate(const Document& filter, const Document& update,
                                           const FindOneAndUpdateOptions& options = {});
  std::optional<Document> FindOneAndUpdate(const Document& filter, const Pipeline& pipeline,
                                           const FindOneAndUpdateOptions& options = {});
  std::optional<Document> FindOneAndReplace(const Document& filter, const Document& replacement,
                                            const FindOneAndReplaceOptions& options = {});
  std::optional<Document> FindOneAndDelete(const Document& filter,
                                           const FindOneAndDeleteOptions& options = {});
  // Each model is applied as its own atomic write. Throws BulkWriteError (with the
  // partial result) if any fails.
  BulkWriteResult BulkWrite(const std::vector<WriteModel>& models,
                            const BulkWriteOptions& options = {});
  // The distinct values at a dotted path among matching documents (arrays unwound).
  std::vector<Value> Distinct(std::string_view key, const Document& filter = {},
                              const DistinctOptions& options = {});
  // Renames this collection within its database (error 48 if `to` exists unless
  // drop_target). This handle keeps naming the old name.
  void Rename(std::string_view to, bool drop_target = false);
  // Drops the collection; false if it did not exist.
  bool Drop();

  // Secondary indexes: keys such as {"a": 1, "b.c": -1} (single-field, compound, multikey).
  // Returns the index name; creating an identical index again is not an error. Throws
  // DuplicateKeyError if a unique index meets existing duplicates (nothing is created),
  // Error 85/86 for a conflicting index of the same name or keys.
  std::string CreateIndex(const Document& keys, const IndexOptions& options = {});
  // MongoDB's index documents ({v, key, name, unique, ...}), the _id index first.
  std::vector<Document> ListIndexes(const ListIndexesOptions& options = {});
  // Throws Error 27 (IndexNotFound) if there is no such index, 72 for the _id index.
  void DropIndex(std::string_view name);
  void DropIndex(const Document& keys);
  // Every index but _id's.
  void DropIndexes();
  // collMod's index option: hides or unhides an index, or changes a TTL index's expiry.
  // Errors: 27 (IndexNotFound), 72 for nothing to change, 2 for the _id index.
  void ModifyIndex(const IndexModification& change);

  // How the worker would run an operation (see Explainer):
  //   coll.Explain(ExplainVerbosity::kExecutionStats).Find(filter, options)
  Explainer Explain(ExplainVerbosity verbosity = ExplainVerbosity::kQueryPlanner) const {
    return Explainer(core_, db_, name_, verbosity);
  }

  // MongoDB's validate: walks the records and every index entry over one snapshot and
  // returns {ns, nInvalidDocuments, nNonCompliantDocuments, nrecords, nIndexes,
  // keysPerIndex, indexDetails, valid, repaired, warnings, errors, extraIndexEntries,
  // missingIndexEntries, corruptRecords}; `valid` is false for any inconsistency between
  // records and index entries, invalid records, or a wrong count (see errors). Writers
  // wait only while the snapshot is taken. Throws Error 26 (NamespaceNotFound) if the
  // collection does not exist, 166 on a view.
  Document Validate(const ValidateOptions& options = {});

  // The change events of this collection (see change_stream.h): its inserts, updates,
  // replaces and deletes, then drop or rename and an invalidate that ends the stream.
  // `pipeline`: $match $project $addFields $set $unset $replaceRoot $replaceWith $redact.
  ChangeStream Watch(const std::vector<Document>& pipeline = {}, const ChangeStreamOptions& options = {}) const;

 private:
  friend class Database;
  Collection(std::shared_ptr<internal::ClientCore> core, std::string db, std::string name)
      : core_(std::move(core)), db_(std::move(db)), name_(std::move(name)) {}
  UpdateResult DoUpdate(const Document& filter, const Document* update,
                        const Pipeline* pipeline, bool multi, bool replace,
                        const UpdateOptions& options);
  DeleteResult DoDelete(const Document& filter, bool multi, const DeleteOptions& options);

  std::shared_ptr<internal::ClientCore> core_;
  std::string db_;
  std::string name_;
};

class Database {
 public:
  const std::string& name() const { return name_; }
  micromongo::Collection operator[](std::string_view name) const { return Collection(name); }
  micromongo::Collection Collection(std::string_view name) const;
  // The names of the collections and views (those whose {name, type} matches the
  // options' filter), in name order.
  std::vector<std::string> ListCollectionNames(const ListCollectionsOptions& options = {}) const;
  // MongoDB's listCollections documents, by name: {name, type ("collection", "view" or
  // "timeseries"), options (the create options: validator settings, a view's viewOn and
  // pipeline, capped, ...), info: {readOnly}, idIndex}, or {name, type} with name_only.
  // Throws the filter's errors as Find does.
  std::vector<Document> ListCollections(const ListCollectionsOptions& options = {}) const;
  // Throws Error 48 (NamespaceExists) if it exists; 2 or 72 for invalid options.
  void CreateCollection(std::string_view name, const CollectionOptions& options = {}) const;
  // MongoDB's collMod: replaces the validator settings of a collection or the pipeline of
  // a view. Throws Error 26 (NamespaceNotFound) if there is no such collection.
  void ModifyCollection(std::string_view name, const CollectionOptions& options) const;
  // False if there was no such collection.
  bool DropCollection(std::string_view name) const;
  // Drops every collection of the database.
  void Drop() const;
  void RenameCollection(std::string_view from, std::string_view to, bool drop_target = false) const;
  // MongoDB's cloneCollectionAsCapped: a new capped collection `to` of `size` bytes holding
  // `from`'s documents in its natural order (the newest when not all fit). Throws Error 26
  // if `from` does not exist, 166 for a view, 48 if `to` exists.
  void CloneCollectionAsCapped(std::string_view from, std::string_view to, int64_t size) const;
  // MongoDB's convertToCapped: `name` becomes a capped collection of `size` bytes holding
  // its documents; its indexes other than _id are dropped, as in MongoDB. Errors as above.
  void ConvertToCapped(std::string_view name, int64_t size) const;
  // A database-level aggregation: the pipeline starts with a stage that needs no
  // collection ({$documents: [...]}), e.g. to $merge literal documents into a collection.
  // Errors as Collection::Aggregate; 73 (InvalidNamespace) if the first stage needs a
  // collection.
  Cursor Aggregate(const std::vector<Document>& pipeline, const AggregateOptions& options = {}) const;
  // MongoDB's runCommand: any command the worker's MongoDB wire protocol serves ("count",
  // "collStats", "dbStats", "explain", "listCommands", "buildInfo", ...), its name first,
  // answered with MongoDB's reply document ({..., ok: 1}). A reply with ok 0 throws Error
  // with its code, message, labels, and its other fields as details(). Cursor commands
  // (find, aggregate) return their first batch and cursor id as MongoDB does; getMore and
  // killCursors continue and end them.
  Document RunCommand(const Document& command, const RunCommandOptions& options = {}) const;
  // MongoDB's runCursorCommand: a command that answers with a cursor ({cursor: {id, ns,
  // firstBatch}}: find, aggregate, listCollections, listIndexes, ...), as a Cursor whose
  // further batches come by getMore (with the options' batch size and time limit, in the
  // options' session). Throws Error 2 (BadValue) when the reply holds no cursor, and what
  // RunCommand throws.
  Cursor RunCursorCommand(const Document& command, const RunCursorCommandOptions& options = {}) const;
  // The change events of every collection of the database; dropDatabase then invalidate
  // end the stream.
  ChangeStream Watch(const std::vector<Document>& pipeline = {}, const ChangeStreamOptions& options = {}) const;

 private:
  friend class MongoClient;
  friend class Collection;
  Database(std::shared_ptr<internal::ClientCore> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)) {}
  std::shared_ptr<internal::ClientCore> core_;
  std::string name_;
};

class MongoClient {
 public:
  // uri: mongodb://host[:port]/[database][?useWorker=true]. The worker is, in order:
  // ClientOptions::worker_bridge; the client's own one with useWorker=true; else the
  // server at host:port when the URI names a port. With useWorker=true,
  // mongodbListener=true makes the own worker speak MongoDB's wire protocol too
  // (worker_bridge()->mongodb_uri() is then the drivers' connection string). Throws
  // Error (code 72, InvalidOptions) on a malformed URI.
  explicit MongoClient(std::string_view uri, ClientOptions options = {});
  // Closes the client (terminating its own useWorker worker).
  ~MongoClient();
  MongoClient(const MongoClient&) = delete;
  MongoClient& operator=(const MongoClient&) = delete;

  // Starts the own worker (useWorker) or checks that the bridge's worker answers.
  // Operations connect implicitly too.
  void Connect();
  // One empty round trip to the worker (MongoDB's ping). Throws WorkerError if it does
  // not answer.
  void Ping();
  // Ends this client: later operations throw. Terminates only a worker the client owns
  // (useWorker=true); a shared bridge keeps running for its other clients.
  void Close();

  // The database named in the URI ("test" if none).
  Database Db() const;
  Database Db(std::string_view name) const;
  // The names of the worker's databases (those whose {name} matches the options' filter),
  // in name order.
  std::vector<std::string> ListDatabaseNames(const ListDatabasesOptions& options = {}) const;
  // MongoDB's listDatabases entries, by name: {name, sizeOnDisk, empty}, or {name} with
  // name_only. Throws the filter's errors as Find does.
  std::vector<Document> ListDatabases(const ListDatabasesOptions& options = {}) const;
  // The change events of every database of the worker (never invalidated).
  ChangeStream Watch(const std::vector<Document>& pipeline = {}, const ChangeStreamOptions& options = {}) const;
  // An online backup of every database of the worker into `directory`, a directory on the
  // worker's machine that does not exist or is empty, outside the worker's data directory
  // (relative paths are relative to the worker's working directory). The copy is of one
  // instant, for every database: exactly the writes acknowledged before it (writers wait
  // while the checkpoints are taken, readers do not). A worker started with --data-dir on
  // `directory` serves the copy. `progress` is called for each database copied. Returns
  // the last progress (the totals).
  // Errors: 2 (BadValue) for a non-empty or nested directory, WorkerError.
  BackupProgress Backup(const std::string& directory,
                        const std::function<void(const BackupProgress&)>& progress = {}) const;
  // MongoDB's serverStatus document for the worker: host, version, process, pid, uptime,
  // uptimeMillis, localTime, connections {current, available, totalCreated, rejected (of
  // the gRPC and wire protocol listeners together), active (requests executing)}, network {numRequests}, opcounters
  // {insert, query, update, delete, getmore, command}, mem {bits, resident, virtual (MiB)},
  // metrics {cursor {open {total}}, slowOperations}, storageEngine {name}, and micromongo
  // {dataDir, diskBytes, databases {<name>: {collections, views, objects, dataSize,
  // storageSize, indexes, indexSize}}} (sizes in bytes, approximate).
  Document ServerStatus() const;
  // A new logical session (session.h) for transactions, or for snapshot reads
  // (`options.snapshot`): operations run in it when their options name it. Throws after
  // Close().
  ClientSession StartSession(const SessionOptions& options = {});
  // The bridge in use: the shared one, or the client's own (after Connect()).
  std::shared_ptr<WorkerBridge> worker_bridge() const;

 private:
  std::shared_ptr<internal::ClientCore> core_;
};

}  // namespace micromongo
