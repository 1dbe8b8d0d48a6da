// The DataService's gRPC methods: each unary one runs the operation of data_operations.h
// (Watch, a stream, is in watch_rpc.cc).

#include "service/grpc_status.h"
#include "service/services.h"

namespace micromongo::service {

#define MM_DATA_UNARY(Method, Request, Reply)                                           \
  grpc::Status DataServiceImpl::Method(grpc::ServerContext*, const v1::Request* req,     \
                                       v1::Reply* reply) {                              \
    return ToGrpc(ops_.Method(req, reply));                                             \
  }

MM_DATA_UNARY(Insert, InsertRequest, InsertReply)
MM_DATA_UNARY(Find, FindRequest, CursorReply)
MM_DATA_UNARY(GetMore, GetMoreRequest, CursorReply)
MM_DATA_UNARY(KillCursors, KillCursorsRequest, Empty)
MM_DATA_UNARY(Count, CountRequest, CountReply)
MM_DATA_UNARY(EstimatedCount, EstimatedCountRequest, CountReply)
MM_DATA_UNARY(Update, UpdateRequest, UpdateReply)
MM_DATA_UNARY(Delete, DeleteRequest, DeleteReply)
MM_DATA_UNARY(FindAndModify, FindAndModifyRequest, FindAndModifyReply)
MM_DATA_UNARY(Distinct, DistinctRequest, DistinctReply)
MM_DATA_UNARY(BulkWrite, BulkWriteRequest, BulkWriteReply)
MM_DATA_UNARY(Aggregate, AggregateRequest, CursorReply)
MM_DATA_UNARY(CreateIndexes, CreateIndexesRequest, CreateIndexesReply)
MM_DATA_UNARY(ListIndexes, ListIndexesRequest, ListIndexesReply)
MM_DATA_UNARY(DropIndex, DropIndexRequest, Empty)
MM_DATA_UNARY(Validate, ValidateRequest, ValidateReply)
MM_DATA_UNARY(Explain, ExplainRequest, ExplainReply)
#undef MM_DATA_UNARY

}  // namespace micromongo::service
