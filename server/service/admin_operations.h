#pragma once

// The AdminService's operations over its request and reply messages, free of gRPC, shared
// by the gRPC service and the MongoDB wire protocol (see data_operations.h). Thread-safe.

#include <chrono>

#include "absl/status/status.h"
#include "micromongo/v1/micromongo.pb.h"
#include "service/cursor_manager.h"
#include "storage/engine.h"

namespace micromongo::service {

class AdminOperations {
 public:
  // Both must outlive this object; the server's uptime counts from its construction.
  AdminOperations(storage::Engine* engine, CursorManager* cursors)
      : engine_(engine), cursors_(cursors), start_(std::chrono::steady_clock::now()) {}

  // MongoDB's listDatabases and listCollections: the entries matching the request's filter
  // (errors: the filter's, as a find's).
  absl::Status ListDatabases(const v1::ListDatabasesRequest* req, v1::ListDatabasesReply* reply);
  absl::Status DropDatabase(const v1::DatabaseRequest* req, v1::DropReply* reply);
  absl::Status ListCollections(const v1::ListCollectionsRequest* req, v1::ListCollectionsReply* reply);
  absl::Status CreateCollection(const v1::CreateCollectionRequest* req, v1::Empty* reply);
  absl::Status ModifyCollection(const v1::ModifyCollectionRequest* req, v1::Empty* reply);
  absl::Status DropCollection(const v1::CollectionRequest* req, v1::DropReply* reply);
  absl::Status RenameCollection(const v1::RenameCollectionRequest* req, v1::Empty* reply);
  absl::Status CloneCollectionAsCapped(const v1::CappedCopyRequest* req, v1::Empty* reply);
  absl::Status ConvertToCapped(const v1::CappedCopyRequest* req, v1::Empty* reply);
  absl::Status ServerStatus(const v1::ServerStatusRequest* req, v1::ServerStatusReply* reply);

  storage::Engine* engine() const { return engine_; }

 private:
  storage::Engine* engine_;
  CursorManager* cursors_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace micromongo::service
