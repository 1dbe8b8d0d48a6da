#pragma once

// Runs MongoDB database commands over the worker's operations: each command is read into
// the request message of the same operation the gRPC services run
// (service::DataOperations, service::AdminOperations) and its reply written in MongoDB's
// reply shape. So the wire protocol has no implementation of its own of any operation.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>
#include <optional>
#include <string>
#include <string_view>

#include "service/admin_operations.h"
#include "service/data_operations.h"
#include "service/sessions.h"
#include "service/snapshot_reads.h"
#include "util/periodic.h"
#include "wire/fail_points.h"
#include "wire/command.h"
#include "wire/scram.h"

namespace micromongo::wire {

// The one user of a server with --auth-token-file: "micromongo" of the "admin" database,
// whose password is the token (the gRPC listeners take the same token as a bearer token).
inline constexpr std::string_view kAuthUser = "micromongo";
inline constexpr std::string_view kAuthDatabase = "admin";

// The connection a command arrived on (hello's connectionId, whatsmyuri) and its
// authentication state, which the runner updates.
struct ConnectionInfo {
  int64_t id = 0;
  std::string peer;  // "host:port", or the socket path
  // The address the client connected to ("127.0.0.1:27017", a socket's path): a replica
  // set's hello names it as the member's host.
  std::string local;
  // The client's name (hello's client.application.name), which fail points may target.
  std::string app_name;
  // Set by the runner: close the connection without a reply (a fail point's
  // closeConnection).
  bool close = false;
  // Set by the listener: only the handshake and authentication commands run before the
  // client authenticates (TCP connections of a server with --auth-token-file).
  bool auth_required = false;
  // The authenticated user ("" for none) and the SASL conversation in progress.
  std::string user;
  // The lsid uid of `uid_user` (the runner's cache: one SHA-256 per user, not per command).
  mutable std::string uid_user, uid;
  std::unique_ptr<ScramConversation> sasl;
  bool sasl_skip_empty_exchange = false;
  bool sasl_proved = false;  // the client's proof checked; an empty saslContinue ends it
};

// The single-node replica set a worker runs as (--replSet). Its one member is named by
// the address each client connected to (ConnectionInfo::local): a worker listening on a
// socket and a port is the same member under either name.
struct ReplicaSetInfo {
  std::string name;
  // The member's name when given (--replSet NAME/HOST:PORT, mongod's seed-list form): what
  // clients reach it by, where that is not the address they connected to (a DNS name, a
  // published port).
  std::string host;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // The member's name for a client on `connection`.
  std::string HostFor(const ConnectionInfo& connection) const { return host.empty() ? connection.local : host; }
};

class CommandRunner {
 public:
  // Both must outlive the runner.
  CommandRunner(service::DataOperations* data, service::AdminOperations* admin)
      : data_(data), admin_(admin) {}

  // Creates the user kAuthUser with this password (SCRAM-SHA-256 keys derived from it;
  // the password itself is not kept). Call before the first command. Connections with
  // `auth_required` then need to authenticate as that user; others may.
  absl::Status SetPassword(std::string_view password);

  // The reply body: {..., ok: 1} or MongoDB's error shape {ok: 0, errmsg, code,
  // codeName, ...}. Never fails otherwise. Commands of one connection run one at a time.
  // When it sets connection->close, the caller closes the connection without a reply.
  std::string Run(const Command& command, ConnectionInfo* connection) const;

  // Runs as a single-node replica set (mongod's --replSet: "NAME" or "NAME/HOST:PORT",
  // the member's advertised name): hello reports the set, replies carry $clusterTime and operationTime, and sessions keep transactions and
  // retryable writes. Call before the first command.
  // `sessions`: the worker's session catalog, shared with the gRPC services (must outlive
  // the runner; the caller expires its sessions); null: the runner keeps its own.
  // `snapshots`: the worker's snapshot read history, shared with gRPC (null: one of its own).
  void EnableReplicaSet(std::string name, service::SessionCatalog* sessions = nullptr,
                        service::SnapshotHistory* snapshots = nullptr);
  // MongoDB's test commands (--setParameter enableTestCommands=1): configureFailPoint with
  // the failCommand fail point (fail_points.h). Call before the first command.
  void EnableTestCommands();
  // Ends every session, aborting their transactions (tests and fuzzing: one input's
  // sessions must not hold locks into the next).
  void EndAllSessions() {
    if (sessions_ != nullptr) sessions_->EndAll();
  }

  // The answer to a legacy OP_QUERY command: only the handshake (hello, isMaster,
  // ismaster) is served that way; anything else gets 352 UnsupportedOpQueryCommand.
  std::string RunLegacy(bson::DocView query, ConnectionInfo* connection) const;

 private:
  // Whether getMore `command` names a change stream's cursor.
  bool IsChangeStreamCursor(const Command& command) const;
  // Run without the cluster time.
  std::string RunCommand(const Command& command, ConnectionInfo* connection) const;
  // A replica set's reply with $clusterTime and operationTime; a standalone's as it is.
  std::string WithClusterTime(std::string reply) const;

  service::DataOperations* data_;
  service::AdminOperations* admin_;
  std::optional<ScramCredentials> credentials_;
  std::unique_ptr<ReplicaSetInfo> replica_set_;
  service::SessionCatalog* sessions_ = nullptr;      // null on a standalone
  std::unique_ptr<service::SessionCatalog> own_sessions_;
  service::SnapshotHistory* snapshots_ = nullptr;
  std::unique_ptr<service::SnapshotHistory> own_snapshots_;
  std::unique_ptr<FailCommandPoint> fail_command_;
  std::unique_ptr<FailCommandPoint> fail_get_more_;  // failGetMoreAfterCursorCheckout
  // Aborts transactions past their lifetime even when no command comes to notice: their
  // locks hold up other writers meanwhile. Declared last: stopped first.
  std::unique_ptr<PeriodicTask> session_reaper_;
};

}  // namespace micromongo::wire
