#pragma once

// A gRPC request in its logical session (v1::Session), with MongoDB's rules: the session is
// checked out of the worker's catalog for the request's duration (requests of one session
// run one at a time), a transaction's statement runs inside its transaction, a retried
// retryable write answers the first run's reply without writing again, a transaction whose
// statement failed is aborted, and errors carry MongoDB's labels.

#include <optional>
#include <string_view>

#include <grpcpp/support/status.h>

#include "absl/status/statusor.h"
#include "document/status.h"
#include "micromongo/v1/micromongo.pb.h"
#include "service/error_labels.h"
#include "service/grpc_status.h"
#include "service/retried_replies.h"
#include "service/sessions.h"
#include "service/snapshot_reads.h"

namespace micromongo::service {

// The session fields of a request's Session (errors as MakeSessionFields; 2 BadValue for an
// id that is not 16 bytes).
absl::StatusOr<SessionFields> SessionFieldsOf(const v1::Session& session);

// Whether MongoDB command `command` reads at a snapshot session's time (find, aggregate,
// distinct; countDocuments is an aggregate). A snapshot session's other requests fail
// with 72, as MongoDB refuses those commands with a snapshot read concern; its cursors'
// GetMore and KillCursors carry no read concern.
bool ReadsAtSnapshot(std::string_view command);

// Runs `run(Statement*)` (the statement null when the request names no session) for the
// request of MongoDB command `command` ("insert", "find", "commitTransaction", ...) and
// answers its gRPC status. `reply` is what `run` fills. A snapshot session's read runs in a
// view of `snapshots` (null: snapshot reads are refused).
template <typename Request, typename Reply, typename Run>
grpc::Status RunInSession(SessionCatalog* sessions, SnapshotHistory* snapshots, std::string_view command,
                          const Request& request, Reply* reply, Run&& run) {
  if (!request.has_session()) return ToGrpc(run(static_cast<Statement*>(nullptr)));
  auto fields = SessionFieldsOf(request.session());
  if (!fields.ok()) return ToGrpc(fields.status());
  if constexpr (requires { request.database(); }) fields->database = request.database();
  std::optional<SnapshotHistory::View> view;
  if (request.session().snapshot() && command != "getMore" && command != "killCursors") {
    if (fields->in_transaction) {
      return ToGrpc(MongoError(kInvalidOptions, "a snapshot session's reads cannot be part of a transaction"));
    }
    // As MongoDB answers a command other than find, aggregate and distinct that carries a
    // snapshot session's readConcern (writes included).
    if (!ReadsAtSnapshot(command)) {
      return ToGrpc(MongoError(
          kInvalidOptions, StrCat("Command ", command, " does not support { readConcern: { level: \"snapshot\" } }")));
    }
    if constexpr (requires {
                    reply->set_at_cluster_time(0);
                    request.database();
                  }) {
      if (snapshots == nullptr) return ToGrpc(MongoError(kInvalidOptions, "snapshot reads are not available here"));
      uint64_t at = request.session().at_cluster_time();
      auto v = at == 0 ? snapshots->Now(request.database()) : snapshots->At(at, request.database());
      if (!v.ok()) return ToGrpc(v.status());
      view = *std::move(v);
    }
  }
  LabelContext labels{.in_transaction = fields->in_transaction,
                      .retryable_write = fields->txn_number.has_value() && !fields->in_transaction,
                      .commit_or_abort = command == "commitTransaction" || command == "abortTransaction"};
  auto statement = sessions->Begin(*fields, command);
  if (!statement.ok()) return ToGrpc(statement.status(), ServerLabels(MongoCodeOf(statement.status()), 0, labels));
  if (const std::string* retried = statement->retried_reply()) {
    if (reply->ParseFromString(*retried)) return grpc::Status::OK;
  }
  if (const storage::RetryOutcome* lost = statement->retried_outcome()) {
    // The reply was lost: answered from what the first run's commits changed, or resumed
    // (its statements done answered, the rest run), or refused.
    if constexpr (requires { RetriedReply(*lost, request, reply); }) {
      if (RetriedReply(*lost, request, reply)) return grpc::Status::OK;
    }
    if (!statement->ResumeRetriedWrite(command)) {
      absl::Status s = IncompleteHistory(statement->txn_number());
      return ToGrpc(s, ServerLabels(MongoCodeOf(s), 0, labels));
    }
  }
  std::optional<storage::TransactionScope> snapshot_scope;
  if (view) snapshot_scope.emplace(view->txn.get());
  absl::Status status = run(&*statement);
  if constexpr (requires { reply->set_at_cluster_time(0); }) {
    if (view && status.ok()) reply->set_at_cluster_time(view->time);
  }
  if constexpr (requires { reply->write_errors(); }) {
    // A write error aborts the transaction; a write conflict is the whole request's error,
    // labelled for the client to run the transaction again (as MongoDB answers).
    if (status.ok() && statement->in_transaction() && reply->write_errors_size() > 0) {
      statement->Failed();
      for (const v1::ErrorInfo& e : reply->write_errors()) {
        if (e.code() == kWriteConflict) status = MongoError(kWriteConflict, "Write conflict in a transaction");
      }
    }
  }
  if (!status.ok()) {
    statement->Failed();
    return ToGrpc(status, ServerLabels(MongoCodeOf(status), 0, labels));
  }
  if (labels.retryable_write) {
    if (absl::Status s = statement->RememberReply(reply->SerializeAsString()); !s.ok()) {
      return ToGrpc(s, ServerLabels(MongoCodeOf(s), 0, labels));
    }
  }
  return grpc::Status::OK;
}

}  // namespace micromongo::service
