// The AdminService's gRPC methods: the operations of admin_operations.h, plus the two
// that only this transport offers (a streamed backup, a shutdown request).

#include "document/builder.h"
#include "service/grpc_status.h"
#include "service/services.h"
#include "service/session_rpc.h"
#include "util/log.h"

namespace micromongo::service {

#define MM_ADMIN_UNARY(Method, Request, Reply)                                          \
  grpc::Status AdminServiceImpl::Method(grpc::ServerContext*, const v1::Request* req,    \
                                        v1::Reply* reply) {                             \
    return ToGrpc(ops_.Method(req, reply));                                             \
  }

MM_ADMIN_UNARY(DropDatabase, DatabaseRequest, DropReply)
MM_ADMIN_UNARY(ModifyCollection, ModifyCollectionRequest, Empty)
MM_ADMIN_UNARY(DropCollection, CollectionRequest, DropReply)
MM_ADMIN_UNARY(RenameCollection, RenameCollectionRequest, Empty)
MM_ADMIN_UNARY(CloneCollectionAsCapped, CappedCopyRequest, Empty)
MM_ADMIN_UNARY(ConvertToCapped, CappedCopyRequest, Empty)
MM_ADMIN_UNARY(ServerStatus, ServerStatusRequest, ServerStatusReply)
#undef MM_ADMIN_UNARY

// The listings run in the request's session: MongoDB refuses them in a transaction (263,
// which aborts it) and with a snapshot session's read concern (72).
grpc::Status AdminServiceImpl::ListDatabases(grpc::ServerContext*, const v1::ListDatabasesRequest* req,
                                             v1::ListDatabasesReply* reply) {
  return RunInSession(sessions_, nullptr, "listDatabases", *req, reply,
                      [&](Statement*) { return ops_.ListDatabases(req, reply); });
}

grpc::Status AdminServiceImpl::ListCollections(grpc::ServerContext*, const v1::ListCollectionsRequest* req,
                                               v1::ListCollectionsReply* reply) {
  return RunInSession(sessions_, nullptr, "listCollections", *req, reply,
                      [&](Statement*) { return ops_.ListCollections(req, reply); });
}

// create may be a statement of a transaction (it makes a new collection there).
grpc::Status AdminServiceImpl::CreateCollection(grpc::ServerContext*, const v1::CreateCollectionRequest* req,
                                                v1::Empty* reply) {
  return RunInSession(sessions_, nullptr, "create", *req, reply, [&](Statement*) { return ops_.CreateCollection(req, reply); });
}

grpc::Status AdminServiceImpl::Ping(grpc::ServerContext*, const v1::Empty*, v1::Empty*) {
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Backup(grpc::ServerContext*, const v1::BackupRequest* req,
                                      StreamWriter<v1::BackupProgress>* writer) {
  Log(LogSeverity::kInfo, LogComponent::kStorage, "Backup: started", Attrs({{"directory", req->directory()}}));
  v1::BackupProgress last;
  absl::Status s = ops_.engine()->Backup(req->directory(), [&](const storage::Engine::BackupProgress& p) {
    last.set_database(p.database);
    last.set_databases_done(p.databases_done);
    last.set_databases_total(p.databases_total);
    last.set_bytes(static_cast<int64_t>(p.bytes));
    bson::Builder attr;
    attr.AppendString("db", p.database);
    attr.AppendInt32("databasesDone", p.databases_done);
    attr.AppendInt32("databasesTotal", p.databases_total);
    attr.AppendInt64("bytes", static_cast<int64_t>(p.bytes));
    Log(LogSeverity::kInfo, LogComponent::kStorage, "Backup: database copied", std::move(attr).Finish());
    writer->Write(last);  // a client that went away does not stop the backup
  });
  if (!s.ok()) {
    Log(LogSeverity::kError, LogComponent::kStorage, "Backup: failed",
        Attrs({{"directory", req->directory()}, {"error", std::string(s.message())}}));
    return ToGrpc(s);
  }
  last.set_done(true);
  writer->Write(last);
  bson::Builder attr;
  attr.AppendString("directory", req->directory());
  attr.AppendInt32("databases", last.databases_total());
  attr.AppendInt64("bytes", last.bytes());
  Log(LogSeverity::kInfo, LogComponent::kStorage, "Backup: done", std::move(attr).Finish());
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Shutdown(grpc::ServerContext*, const v1::Empty*, v1::Empty*) {
  request_shutdown_();
  return grpc::Status::OK;
}

}  // namespace micromongo::service
