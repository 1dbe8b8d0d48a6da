#include "service/rpc_handlers.h"

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "micromongo/v1/micromongo.grpc.pb.h"
#include "document/status.h"
#include "service/grpc_status.h"
#include "service/reflection_service.h"
#include "service/rpc_typed.h"

namespace micromongo::service {
namespace {

constexpr char kData[] = "micromongo.v1.DataService";
constexpr char kAdmin[] = "micromongo.v1.AdminService";
constexpr char kHealth[] = "grpc.health.v1.Health";
constexpr char kReflection[] = "grpc.reflection.v1alpha.ServerReflection";

std::string Path(const char* service, const char* method) {
  return std::string("/") + service + "/" + method;
}

}  // namespace

grpc::Status UnparsableRequest(std::string_view method) {
  return ToGrpc(MongoError(kBadValue, StrCat("the request to ", method,
                                             " is not a valid protobuf message (string fields must be UTF-8)")));
}

void AddServices(grpc::ServerBuilder* builder, DataServiceImpl* data, AdminServiceImpl* admin,
                 HealthService* health, RpcServices* services) {
#define MM_UNARY(impl, service, Method, Request, Reply)                                               \
  {#Method, TypedUnary<Request, Reply>(Path(service, #Method),                                       \
                                       [impl](grpc::ServerContext* c, const Request* r, Reply* o) {   \
                                         return impl->Method(c, r, o);                                \
                                       })}
#define MM_STREAM(impl, service, Method, Request, Reply)                                              \
  {#Method, TypedServerStream<Request, Reply>(                                                       \
                Path(service, #Method), [impl](grpc::ServerContext* c, const Request* r,              \
                                               StreamWriter<Reply>* w) { return impl->Method(c, r, w); })}
#define MM_DATA(Method, Request, Reply) MM_UNARY(data, kData, Method, v1::Request, v1::Reply)
#define MM_ADMIN(Method, Request, Reply) MM_UNARY(admin, kAdmin, Method, v1::Request, v1::Reply)
  ServiceHandlers d{.full_name = kData};
  d.unary = {
      MM_DATA(Insert, InsertRequest, InsertReply),
      MM_DATA(Find, FindRequest, CursorReply),
      MM_DATA(GetMore, GetMoreRequest, CursorReply),
      MM_DATA(KillCursors, KillCursorsRequest, Empty),
      MM_DATA(Count, CountRequest, CountReply),
      MM_DATA(EstimatedCount, EstimatedCountRequest, CountReply),
      MM_DATA(Update, UpdateRequest, UpdateReply),
      MM_DATA(Delete, DeleteRequest, DeleteReply),
      MM_DATA(FindAndModify, FindAndModifyRequest, FindAndModifyReply),
      MM_DATA(Distinct, DistinctRequest, DistinctReply),
      MM_DATA(BulkWrite, BulkWriteRequest, BulkWriteReply),
      MM_DATA(Aggregate, AggregateRequest, CursorReply),
      MM_DATA(CreateIndexes, CreateIndexesRequest, CreateIndexesReply),
      MM_DATA(ListIndexes, ListIndexesRequest, ListIndexesReply),
      MM_DATA(DropIndex, DropIndexRequest, Empty),
      MM_DATA(Explain, ExplainRequest, ExplainReply),
      MM_DATA(Validate, ValidateRequest, ValidateReply),
      MM_DATA(CommitTransaction, TransactionRequest, Empty),
      MM_DATA(AbortTransaction, TransactionRequest, Empty),
      MM_DATA(EndSessions, EndSessionsRequest, Empty),
  };
  d.server_stream = {MM_STREAM(data, kData, Watch, v1::WatchRequest, v1::WatchReply)};
  services->Add<v1::DataService::Service>(builder, std::move(d));

  ServiceHandlers a{.full_name = kAdmin};
  a.unary = {
      MM_ADMIN(Ping, Empty, Empty),
      MM_ADMIN(ListDatabases, ListDatabasesRequest, ListDatabasesReply),
      MM_ADMIN(DropDatabase, DatabaseRequest, DropReply),
      MM_ADMIN(ListCollections, ListCollectionsRequest, ListCollectionsReply),
      MM_ADMIN(CreateCollection, CreateCollectionRequest, Empty),
      MM_ADMIN(ModifyCollection, ModifyCollectionRequest, Empty),
      MM_ADMIN(DropCollection, CollectionRequest, DropReply),
      MM_ADMIN(RenameCollection, RenameCollectionRequest, Empty),
      MM_ADMIN(CloneCollectionAsCapped, CappedCopyRequest, Empty),
      MM_ADMIN(ConvertToCapped, CappedCopyRequest, Empty),
      MM_ADMIN(ServerStatus, ServerStatusRequest, ServerStatusReply),
      MM_ADMIN(Shutdown, Empty, Empty),
      MM_ADMIN(RunCommand, RunCommandRequest, RunCommandReply),
  };
  a.server_stream = {MM_STREAM(admin, kAdmin, Backup, v1::BackupRequest, v1::BackupProgress)};
  services->Add<v1::AdminService::Service>(builder, std::move(a));
#undef MM_DATA
#undef MM_ADMIN

  using grpc::health::v1::HealthCheckRequest;
  using grpc::health::v1::HealthCheckResponse;
  ServiceHandlers h{.full_name = kHealth};
  h.unary = {MM_UNARY(health, kHealth, Check, HealthCheckRequest, HealthCheckResponse)};
  h.server_stream = {MM_STREAM(health, kHealth, Watch, HealthCheckRequest, HealthCheckResponse)};
  services->Add<grpc::health::v1::Health::Service>(builder, std::move(h));
#undef MM_UNARY
#undef MM_STREAM

  ServiceHandlers r{.full_name = kReflection};
  r.bidi = {{"ServerReflectionInfo", ReflectionHandler({kData, kAdmin, kHealth, kReflection})}};
  services->Add<grpc::reflection::v1alpha::ServerReflection::Service>(builder, std::move(r));
}

}  // namespace micromongo::service
