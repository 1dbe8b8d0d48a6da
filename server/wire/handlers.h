#pragma once

// The command handlers of command_runner.cc, by family: crud_commands.cc (reads, writes,
// cursors, aggregate), admin_commands.cc (databases, collections, indexes, status),
// stats_commands.cc (collStats, dbStats), bulk_write_command.cc (MongoDB 8.0's bulkWrite),
// auth_commands.cc (logins),
// handshake_commands.cc (hello and what drivers and shells ask at connection time).
// Each appends its reply's fields (all but "ok") to `out`, or returns the error; a failed
// handler's `out` is discarded.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "document/builder.h"
#include "micromongo/v1/micromongo.pb.h"
#include "storage/retry_history.h"
#include "wire/command.h"
#include "wire/command_runner.h"

namespace micromongo::wire {

struct HandlerContext {
  service::DataOperations* data;
  service::AdminOperations* admin;
  ConnectionInfo* connection;
  std::string db;
  // The keys of kAuthUser; null when the server has no user (no --auth-token-file).
  const ScramCredentials* credentials = nullptr;
  // Set when the worker runs as a replica set (--replSet); null for a standalone.
  const ReplicaSetInfo* replica_set = nullptr;
  service::SessionCatalog* sessions = nullptr;
  // The command's checkout of its session (lsid), if it has one.
  service::Statement* statement = nullptr;
};

using Handler = absl::Status (*)(const HandlerContext&, const Command&, bson::Builder* out);

// A command's name (as MongoDB spells it; aliases have entries of their own) and handler.
using CommandEntry = std::pair<std::string_view, Handler>;

// Each family's commands.
std::span<const CommandEntry> HandshakeCommands();
std::span<const CommandEntry> AuthCommands();
std::span<const CommandEntry> CrudCommands();
std::span<const CommandEntry> AdminCommands();
std::span<const CommandEntry> StatsCommands();
std::span<const CommandEntry> BulkWriteCommands();
std::span<const CommandEntry> TransactionCommands();

// The reply to a retried insert, update, delete or findAndModify whose first run committed
// and whose reply was lost (service/retried_replies.h), as the command answers; nullopt
// when `outcome` does not determine it (the retry is then refused with 217).
std::optional<std::string> RetriedWriteReply(const HandlerContext& context, const Command& command,
                                             const storage::RetryOutcome& outcome);

// The handler of a command name; null if none.
Handler FindHandler(std::string_view name);
// Every command name, sorted (listCommands).
std::vector<std::string_view> AllCommandNames();
// Whether a command runs before the connection has logged in (when it must).
bool RunsWithoutAuthentication(std::string_view name);

// hello / isMaster, shared with the legacy OP_QUERY path; `legacy_name` answers
// "ismaster" instead of "isWritablePrimary".
void AppendHello(const HandlerContext& context, const Command& hello, bool legacy_name,
                 bool hello_ok, bson::Builder* out);
// hello's authentication fields (auth_commands.cc): saslSupportedMechs for the user it
// names, and speculativeAuthenticate (the first SASL step, saving a round trip).
void AppendHelloAuthentication(const HandlerContext& context, const Command& hello,
                               bson::Builder* out);

// ---- Helpers shared by the handler files ----

// A v1::Doc holding these BSON bytes.
inline void SetBson(v1::Doc* doc, bson::DocView view) { doc->set_bson(std::string(view.bytes())); }
inline constexpr size_t kMaxWriteStatements = 100'000;  // hello's maxWriteBatchSize

// The DataService answers in Extended JSON when none of a request's documents is BSON
// (for grpcurl); a wire request always sets its filter, empty or not, so that replies
// come back as BSON.
void SetEmptyFilter(v1::Doc* filter);
// An update's modifications (`field`): operators, a replacement document (then *replace),
// or a pipeline.
absl::Status SetUpdate(const Command& command, std::string_view field, const bson::ValueView& u,
                       v1::Doc* update, bool* replace,
                       google::protobuf::RepeatedPtrField<v1::Doc>* pipeline);
absl::Status SetArrayFilters(const Command& command, const bson::ValueView& v,
                             google::protobuf::RepeatedPtrField<v1::Doc>* out);
// A statement's hint field (inside updates/deletes) as a Hint.
absl::Status SetStatementHint(const bson::ValueView& v, v1::Hint* hint);
// A command's hint field (index name or key pattern) as the request's Hint.
absl::Status SetHint(const Command& command, v1::Hint* hint);
// The command's optional object field into a request Doc (14 when not an object).
absl::Status SetObject(const Command& command, std::string_view key, v1::Doc* doc,
                       bool* present = nullptr);
// {cursor: {<batch_name>: [...], postBatchResumeToken?, id, ns}} from a cursor reply.
void AppendCursor(const v1::CursorReply& reply, std::string_view batch_name, std::string_view ns,
                  bson::Builder* out);
// A write error {index, code, codeName?, errmsg, + the error's extra fields}.
void AppendWriteError(const v1::ErrorInfo& error, int index, bson::Builder* array, int position);
// 51024 for a negative value of a non-negative field, as MongoDB's IDL validators answer.
absl::Status CheckNonNegative(std::string_view key, int64_t value);

}  // namespace micromongo::wire
