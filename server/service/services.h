#pragma once

// The gRPC services of the worker: DataService (CRUD and cursors) and AdminService
// (databases, collections, status, shutdown). Both are thread-safe; rpc_calls.h calls them
// from its threads. Their unary methods adapt DataOperations and
// AdminOperations, which the MongoDB wire protocol runs too.

#include <atomic>
#include <chrono>
#include <functional>

#include <grpcpp/server_context.h>

#include "micromongo/v1/micromongo.pb.h"
#include "service/admin_operations.h"
#include "service/data_operations.h"
#include "service/cursor_manager.h"
#include "service/sessions.h"
#include "service/snapshot_reads.h"
#include "service/stream_writer.h"
#include "storage/engine.h"

namespace micromongo::wire {
class CommandRunner;
}  // namespace micromongo::wire

namespace micromongo::service {

class DataServiceImpl final {
 public:
  // `sessions`: the worker's logical sessions (shared with the wire protocol).
  DataServiceImpl(storage::Engine* engine, CursorManager* cursors, SessionCatalog* sessions,
                  SnapshotHistory* snapshots)
      : engine_(engine), cursors_(cursors), sessions_(sessions), snapshots_(snapshots), ops_(engine, cursors) {}

  grpc::Status Insert(grpc::ServerContext*, const v1::InsertRequest*, v1::InsertReply*);
  grpc::Status Find(grpc::ServerContext*, const v1::FindRequest*, v1::CursorReply*);
  grpc::Status GetMore(grpc::ServerContext*, const v1::GetMoreRequest*,
                       v1::CursorReply*);
  grpc::Status KillCursors(grpc::ServerContext*, const v1::KillCursorsRequest*,
                           v1::Empty*);
  grpc::Status Count(grpc::ServerContext*, const v1::CountRequest*, v1::CountReply*);
  grpc::Status EstimatedCount(grpc::ServerContext*, const v1::EstimatedCountRequest*,
                              v1::CountReply*);
  grpc::Status Update(grpc::ServerContext*, const v1::UpdateRequest*, v1::UpdateReply*);
  grpc::Status Delete(grpc::ServerContext*, const v1::DeleteRequest*, v1::DeleteReply*);
  grpc::Status FindAndModify(grpc::ServerContext*, const v1::FindAndModifyRequest*,
                             v1::FindAndModifyReply*);
  grpc::Status Distinct(grpc::ServerContext*, const v1::DistinctRequest*,
                        v1::DistinctReply*);
  grpc::Status BulkWrite(grpc::ServerContext*, const v1::BulkWriteRequest*,
                         v1::BulkWriteReply*);
  grpc::Status Aggregate(grpc::ServerContext*, const v1::AggregateRequest*,
                         v1::CursorReply*);
  grpc::Status CreateIndexes(grpc::ServerContext*, const v1::CreateIndexesRequest*,
                             v1::CreateIndexesReply*);
  grpc::Status ListIndexes(grpc::ServerContext*, const v1::ListIndexesRequest*,
                           v1::ListIndexesReply*);
  grpc::Status DropIndex(grpc::ServerContext*, const v1::DropIndexRequest*, v1::Empty*);
  grpc::Status Explain(grpc::ServerContext*, const v1::ExplainRequest*, v1::ExplainReply*);
  grpc::Status Validate(grpc::ServerContext*, const v1::ValidateRequest*, v1::ValidateReply*);
  // In watch_rpc.cc.
  grpc::Status Watch(grpc::ServerContext*, const v1::WatchRequest*, StreamWriter<v1::WatchReply>*);
  grpc::Status CommitTransaction(grpc::ServerContext*, const v1::TransactionRequest*, v1::Empty*);
  grpc::Status AbortTransaction(grpc::ServerContext*, const v1::TransactionRequest*, v1::Empty*);
  grpc::Status EndSessions(grpc::ServerContext*, const v1::EndSessionsRequest*, v1::Empty*);

 private:
  storage::Engine* engine_;
  CursorManager* cursors_;
  SessionCatalog* sessions_;
  SnapshotHistory* snapshots_;  // snapshot sessions' reads (shared with the wire protocol)
  DataOperations ops_;
};

class AdminServiceImpl final {
 public:
  // `commands`: the MongoDB wire protocol's command runner, which RunCommand calls (null:
  // RunCommand answers 59 CommandNotFound).
  AdminServiceImpl(storage::Engine* engine, CursorManager* cursors, SessionCatalog* sessions,
                   const wire::CommandRunner* commands, std::function<void()> request_shutdown)
      : sessions_(sessions), commands_(commands), ops_(engine, cursors),
        request_shutdown_(std::move(request_shutdown)) {}

  grpc::Status Ping(grpc::ServerContext*, const v1::Empty*, v1::Empty*);
  grpc::Status ListDatabases(grpc::ServerContext*, const v1::ListDatabasesRequest*,
                             v1::ListDatabasesReply*);
  grpc::Status DropDatabase(grpc::ServerContext*, const v1::DatabaseRequest*,
                            v1::DropReply*);
  grpc::Status ListCollections(grpc::ServerContext*, const v1::ListCollectionsRequest*,
                               v1::ListCollectionsReply*);
  grpc::Status CreateCollection(grpc::ServerContext*, const v1::CreateCollectionRequest*,
                                v1::Empty*);
  grpc::Status ModifyCollection(grpc::ServerContext*, const v1::ModifyCollectionRequest*,
                                v1::Empty*);
  grpc::Status DropCollection(grpc::ServerContext*, const v1::CollectionRequest*,
                              v1::DropReply*);
  grpc::Status RenameCollection(grpc::ServerContext*, const v1::RenameCollectionRequest*,
                                v1::Empty*);
  grpc::Status CloneCollectionAsCapped(grpc::ServerContext*, const v1::CappedCopyRequest*, v1::Empty*);
  grpc::Status ConvertToCapped(grpc::ServerContext*, const v1::CappedCopyRequest*, v1::Empty*);
  grpc::Status ServerStatus(grpc::ServerContext*, const v1::ServerStatusRequest*,
                            v1::ServerStatusReply*);
  grpc::Status Backup(grpc::ServerContext*, const v1::BackupRequest*,
                      StreamWriter<v1::BackupProgress>*);
  grpc::Status Shutdown(grpc::ServerContext*, const v1::Empty*, v1::Empty*);
  // In run_command_rpc.cc.
  grpc::Status RunCommand(grpc::ServerContext*, const v1::RunCommandRequest*, v1::RunCommandReply*);

 private:
  SessionCatalog* sessions_;
  const wire::CommandRunner* commands_;
  AdminOperations ops_;
  std::function<void()> request_shutdown_;
};

}  // namespace micromongo::service
