// The DataService's gRPC methods: each unary one runs the operation of data_operations.h in
// the request's session (session_rpc.h); Watch, a stream, is in watch_rpc.cc.

#include "service/services.h"
#include "service/session_rpc.h"

namespace micromongo::service {

// MongoDB's SHA-256 of "": the uid of a session without a user (gRPC has none).
constexpr char kNoUserUid[] =
    "\xe3\xb0\xc4\x42\x98\xfc\x1c\x14\x9a\xfb\xf4\xc8\x99\x6f\xb9\x24"
    "\x27\xae\x41\xe4\x64\x9b\x93\x4c\xa4\x95\x99\x1b\x78\x52\xb8\x55";

namespace {

// The catalog knows a session by its lsid.id's BSON value, as the wire protocol gives it
// (a UUID: length, subtype 4, bytes), so that a session's commands may come by either
// protocol (RunCommand brings them through the wire protocol's runner).
std::string SessionKey(std::string_view id) {
  std::string key("\x10\0\0\0\x04", 5);
  key += id;
  return key;
}

}  // namespace

bool ReadsAtSnapshot(std::string_view command) {
  return command == "find" || command == "aggregate" || command == "distinct";
}

absl::StatusOr<SessionFields> SessionFieldsOf(const v1::Session& session) {
  if (session.id().size() != 16) {
    return MongoError(kBadValue, StrCat("a session id is a UUID of 16 bytes, not ", session.id().size()));
  }
  auto optional_bool = [](bool has, bool value) { return has ? std::optional<bool>(value) : std::nullopt; };
  auto fields = MakeSessionFields(
      SessionKey(session.id()), LsidDocument(session.id(), std::string_view(kNoUserUid, 32)),
      session.has_txn_number() ? std::optional<int64_t>(session.txn_number()) : std::nullopt,
      optional_bool(session.has_autocommit(), session.autocommit()),
      optional_bool(session.start_transaction(), true));
  if (fields.ok()) fields->protocol = "grpc";
  return fields;
}

#define MM_DATA_UNARY(Method, Request, Reply, command)                                            \
  grpc::Status DataServiceImpl::Method(grpc::ServerContext*, const v1::Request* req, v1::Reply* reply) { \
    return RunInSession(sessions_, snapshots_, command, *req, reply, [&](Statement*) { return ops_.Method(req, reply); }); \
  }
#define MM_DATA_UNARY_NO_SESSION(Method, Request, Reply)                                          \
  grpc::Status DataServiceImpl::Method(grpc::ServerContext*, const v1::Request* req, v1::Reply* reply) { \
    return ToGrpc(ops_.Method(req, reply));                                                       \
  }

MM_DATA_UNARY(Insert, InsertRequest, InsertReply, "insert")
MM_DATA_UNARY(Find, FindRequest, CursorReply, "find")
MM_DATA_UNARY(GetMore, GetMoreRequest, CursorReply, "getMore")
MM_DATA_UNARY(KillCursors, KillCursorsRequest, Empty, "killCursors")
// Count is countDocuments, which MongoDB's drivers run as an aggregate: it may run in a
// transaction, where MongoDB's count command may not.
MM_DATA_UNARY(Count, CountRequest, CountReply, "aggregate")
MM_DATA_UNARY(Update, UpdateRequest, UpdateReply, "update")
MM_DATA_UNARY(Delete, DeleteRequest, DeleteReply, "delete")
MM_DATA_UNARY(FindAndModify, FindAndModifyRequest, FindAndModifyReply, "findAndModify")
MM_DATA_UNARY(Distinct, DistinctRequest, DistinctReply, "distinct")
MM_DATA_UNARY(BulkWrite, BulkWriteRequest, BulkWriteReply, "bulkWrite")
MM_DATA_UNARY(Aggregate, AggregateRequest, CursorReply, "aggregate")
MM_DATA_UNARY(CreateIndexes, CreateIndexesRequest, CreateIndexesReply, "createIndexes")
MM_DATA_UNARY_NO_SESSION(EstimatedCount, EstimatedCountRequest, CountReply)
MM_DATA_UNARY(ListIndexes, ListIndexesRequest, ListIndexesReply, "listIndexes")
MM_DATA_UNARY_NO_SESSION(DropIndex, DropIndexRequest, Empty)
MM_DATA_UNARY_NO_SESSION(Validate, ValidateRequest, ValidateReply)
MM_DATA_UNARY_NO_SESSION(Explain, ExplainRequest, ExplainReply)
#undef MM_DATA_UNARY
#undef MM_DATA_UNARY_NO_SESSION

namespace {

absl::Status NotInTransaction(std::string_view command) {
  return MongoError(kInvalidOptions, StrCat(command, " must be run within a transaction (a session with "
                                                     "txn_number and autocommit false)"));
}

}  // namespace

grpc::Status DataServiceImpl::CommitTransaction(grpc::ServerContext*, const v1::TransactionRequest* req,
                                                v1::Empty* reply) {
  return RunInSession(sessions_, snapshots_, "commitTransaction", *req, reply, [](Statement* statement) {
    if (statement == nullptr || !statement->in_transaction()) return NotInTransaction("commitTransaction");
    return statement->CommitTransaction();
  });
}

grpc::Status DataServiceImpl::AbortTransaction(grpc::ServerContext*, const v1::TransactionRequest* req,
                                               v1::Empty* reply) {
  return RunInSession(sessions_, snapshots_, "abortTransaction", *req, reply, [](Statement* statement) {
    if (statement == nullptr || !statement->in_transaction()) return NotInTransaction("abortTransaction");
    return statement->AbortTransaction();
  });
}

grpc::Status DataServiceImpl::EndSessions(grpc::ServerContext*, const v1::EndSessionsRequest* req, v1::Empty*) {
  for (const std::string& id : req->ids()) sessions_->End(SessionKey(id));
  return grpc::Status::OK;
}

}  // namespace micromongo::service
