#include <sys/resource.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "document/builder.h"
#include "document/status.h"
#include "service/collection_options.h"
#include "service/indexes.h"
#include "service/server_log.h"
#include "service/services.h"
#include "service/views.h"
#include "service/wire.h"
#include "storage/namespace.h"

namespace micromongo::service {
namespace {

// The name of a collection being created or modified, and for a view that its
// definition closes no cycle.
absl::Status CheckTarget(storage::Engine* engine, const std::string& db, const std::string& coll,
                         const v1::CollectionOptions& options) {
  if (auto s = storage::ValidateCollectionName(db, coll); !s.ok()) return s;
  if (options.view_on().empty()) return absl::OkStatus();
  return CheckViewCycle(engine, db, coll, options.view_on());
}

}  // namespace

grpc::Status AdminServiceImpl::Ping(grpc::ServerContext*, const v1::Empty*, v1::Empty*) {
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::ListDatabases(grpc::ServerContext*, const v1::Empty*,
                                             v1::ListDatabasesReply* reply) {
  for (const std::string& name : engine_->DatabaseNames()) reply->add_names(name);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::DropDatabase(grpc::ServerContext*, const v1::DatabaseRequest* req,
                                            v1::DropReply* reply) {
  auto dropped = engine_->DropDatabase(req->database());
  if (!dropped.ok()) return ToGrpc(dropped.status());
  reply->set_dropped(*dropped);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::ListCollections(grpc::ServerContext*,
                                               const v1::DatabaseRequest* req,
                                               v1::ListCollectionsReply* reply) {
  auto db = engine_->GetDatabase(req->database(), /*create=*/false);
  if (!db.ok()) return ToGrpc(db.status());
  if (*db == nullptr) return grpc::Status::OK;
  for (const std::string& name : (*db)->CollectionNames()) {
    std::shared_ptr<storage::Collection> coll = (*db)->FindCollection(name);
    if (coll == nullptr) continue;  // dropped meanwhile
    reply->add_names(name);
    bson::Builder doc;
    doc.AppendString("name", name);
    doc.AppendString("type", coll->is_view() ? "view" : "collection");
    doc.AppendDocument("options", coll->options());
    SetDoc(reply->add_collections(), std::move(doc).Finish(), req->json());
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::CreateCollection(grpc::ServerContext*,
                                                const v1::CreateCollectionRequest* req,
                                                v1::Empty*) {
  if (auto s = CheckTarget(engine_, req->database(), req->collection(), req->options()); !s.ok()) {
    return ToGrpc(s);
  }
  auto options = BuildCollectionOptions(req->database(), req->options(), nullptr);
  if (!options.ok()) return ToGrpc(options.status());
  auto db = engine_->GetDatabase(req->database(), /*create=*/true);
  if (!db.ok()) return ToGrpc(db.status());
  return ToGrpc((*db)->CreateCollection(req->collection(), *options));
}

grpc::Status AdminServiceImpl::ModifyCollection(grpc::ServerContext*,
                                                const v1::ModifyCollectionRequest* req,
                                                v1::Empty*) {
  if (req->has_index()) {
    auto change = DocToBson(req->index());
    if (!change.ok()) return ToGrpc(change.status());
    return ToGrpc(ModifyIndex(engine_, req->database(), req->collection(), bson::DocView(*change)));
  }
  if (auto s = CheckTarget(engine_, req->database(), req->collection(), req->options()); !s.ok()) {
    return ToGrpc(s);
  }
  auto db = engine_->GetDatabase(req->database(), /*create=*/false);
  if (!db.ok()) return ToGrpc(db.status());
  if (*db == nullptr) {
    return ToGrpc(MongoError(kNamespaceNotFound, StrCat("ns does not exist: ", req->database(), ".",
                                                        req->collection())));
  }
  return ToGrpc((*db)->ChangeCollectionOptions(
      req->collection(), [&](bson::DocView current) {
        return BuildCollectionOptions(req->database(), req->options(), &current);
      }));
}

grpc::Status AdminServiceImpl::DropCollection(grpc::ServerContext*,
                                              const v1::CollectionRequest* req,
                                              v1::DropReply* reply) {
  if (auto s = storage::ValidateCollectionName(req->database(), req->collection()); !s.ok()) {
    return ToGrpc(s);
  }
  auto db = engine_->GetDatabase(req->database(), /*create=*/false);
  if (!db.ok()) return ToGrpc(db.status());
  if (*db == nullptr) return grpc::Status::OK;
  auto dropped = (*db)->DropCollection(req->collection());
  if (!dropped.ok()) return ToGrpc(dropped.status());
  reply->set_dropped(*dropped);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::RenameCollection(grpc::ServerContext*,
                                                const v1::RenameCollectionRequest* req,
                                                v1::Empty*) {
  for (const std::string& name : {req->from(), req->to()}) {
    if (auto s = storage::ValidateCollectionName(req->database(), name); !s.ok()) return ToGrpc(s);
  }
  auto db = engine_->GetDatabase(req->database(), /*create=*/false);
  if (!db.ok()) return ToGrpc(db.status());
  if (*db == nullptr) {
    return ToGrpc(MongoError(kNamespaceNotFound, StrCat("source namespace ", req->database(), ".",
                                                        req->from(), " does not exist")));
  }
  return ToGrpc((*db)->RenameCollection(req->from(), req->to(), req->drop_target()));
}

grpc::Status AdminServiceImpl::ServerStatus(grpc::ServerContext*, const v1::Empty*,
                                            v1::ServerStatusReply* reply) {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  reply->set_pid(getpid());
  reply->set_version(MICROMONGO_VERSION);
  reply->set_uptime_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start_)
                           .count());
  reply->set_data_dir(engine_->data_dir());
  reply->set_peak_rss_bytes(static_cast<int64_t>(usage.ru_maxrss) * 1024);
  reply->set_open_cursors(static_cast<int64_t>(cursors_->size()));
  reply->set_disk_bytes(static_cast<int64_t>(engine_->DiskBytes()));
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Backup(grpc::ServerContext*, const v1::BackupRequest* req,
                                      grpc::ServerWriter<v1::BackupProgress>* writer) {
  Log(LogSeverity::kInfo, absl::StrCat("backup into ", req->directory(), " started"));
  v1::BackupProgress last;
  absl::Status s = engine_->Backup(req->directory(), [&](const storage::Engine::BackupProgress& p) {
    last.set_database(p.database);
    last.set_databases_done(p.databases_done);
    last.set_databases_total(p.databases_total);
    last.set_bytes(static_cast<int64_t>(p.bytes));
    Log(LogSeverity::kInfo, absl::StrCat("backup: database '", p.database, "' copied (",
                                         p.databases_done, "/", p.databases_total, ", ",
                                         p.bytes, " bytes)"));
    writer->Write(last);  // a client that went away does not stop the backup
  });
  if (!s.ok()) {
    Log(LogSeverity::kError, absl::StrCat("backup into ", req->directory(), " failed: ", s.message()));
    return ToGrpc(s);
  }
  last.set_done(true);
  writer->Write(last);
  Log(LogSeverity::kInfo, absl::StrCat("backup into ", req->directory(), " done: ",
                                       last.databases_total(), " databases, ", last.bytes(), " bytes"));
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Shutdown(grpc::ServerContext*, const v1::Empty*, v1::Empty*) {
  request_shutdown_();
  return grpc::Status::OK;
}

}  // namespace micromongo::service
