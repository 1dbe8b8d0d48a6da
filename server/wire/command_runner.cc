#include "wire/command_runner.h"

#include "document/status.h"
#include "service/request_counters.h"
#include "service/slow_op_log.h"
#include "util/op_debug.h"
#include "wire/handlers.h"

namespace micromongo::wire {
namespace {

// A reply must be valid BSON, and messages can quote what the client sent; bytes of
// invalid UTF-8 are shown as '?'.
std::string ValidUtf8(std::string_view text) {
  std::string out(text);
  if (!bson::IsValidUtf8(out)) {
    for (char& c : out) {
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    }
  }
  return out;
}

std::string ErrorReply(const absl::Status& status) {
  int code = MongoCodeOf(status);
  bson::Builder out;
  out.AppendDouble("ok", 0);
  out.AppendString("errmsg", ValidUtf8(std::string(status.message())));
  out.AppendInt32("code", code);
  out.AppendString("codeName", ErrorCodeName(code));
  // keyPattern/keyValue of a duplicate key, errInfo of a validation failure.
  std::string details = ErrorDetailsOf(status);
  if (!details.empty()) {
    for (const bson::ElementView& e : bson::DocView(details)) out.AppendView(e.key, e.value);
  }
  return std::move(out).Finish();
}

void Count(std::string_view name) {
  auto& c = service::GlobalRequestCounters();
  c.total.fetch_add(1, std::memory_order_relaxed);
  if (name == "find") {
    c.query.fetch_add(1, std::memory_order_relaxed);
  } else if (name == "getMore") {
    c.getmore.fetch_add(1, std::memory_order_relaxed);
  } else if (name != "insert" && name != "update" && name != "delete") {
    // Writes count their documents and statements in their handlers.
    c.command.fetch_add(1, std::memory_order_relaxed);
  }
}

// A slow command's log line: its namespace (the collection it names, or getMore's
// "collection") and filter ("filter", or findAndModify's "query").
void LogSlow(const OpDebug& op, const Command& command, const std::string& db, const absl::Status& status) {
  std::string ns = db;
  bson::ValueView coll = command.value();
  if (coll.type != BsonType::kString) {
    if (auto c = command.Get("collection")) coll = *c;
  }
  if (coll.type == BsonType::kString) ns = StrCat(db, ".", coll.String());
  std::string_view filter;
  for (std::string_view key : {"filter", "query"}) {
    auto f = command.Get(key);
    if (f && f->type == BsonType::kDocument) {
      filter = f->Doc().bytes();
      break;
    }
  }
  std::string_view name = command.name();
  bool returns = name == "find" || name == "getMore" || name == "aggregate";
  service::LogSlowOperation(op, "op_msg", name, ns, filter, returns, status);
}

}  // namespace

absl::Status CommandRunner::SetPassword(std::string_view password) {
  auto credentials = ScramCredentials::Derive(password);
  if (!credentials.ok()) return credentials.status();
  credentials_ = *std::move(credentials);
  return absl::OkStatus();
}

std::string CommandRunner::Run(const Command& command, ConnectionInfo* connection) const {
  auto& counters = service::GlobalRequestCounters();
  counters.in_flight.fetch_add(1, std::memory_order_relaxed);
  struct Done {
    ~Done() { service::GlobalRequestCounters().in_flight.fetch_sub(1, std::memory_order_relaxed); }
  } done;
  Count(command.name());
  if (command.name().empty()) return ErrorReply(MongoError(kFailedToParse, "Empty command"));
  Handler handler = FindHandler(command.name());
  if (handler == nullptr) {
    return ErrorReply(MongoError(kCommandNotFound,
                                 StrCat("no such command: '", command.name(), "'")));
  }
  auto db = command.Database();
  if (!db.ok()) return ErrorReply(db.status());
  if (connection->auth_required && connection->user.empty() &&
      !RunsWithoutAuthentication(command.name())) {
    return ErrorReply(MongoError(kUnauthorized,
                                 StrCat("Command ", command.name(), " requires authentication")));
  }
  if (command.Has("startTransaction") || command.Has("txnNumber")) {
    return ErrorReply(MongoError(kIllegalOperation,
                                 "Transaction numbers are only allowed on a replica set member "
                                 "or mongos"));
  }
  HandlerContext context{data_, admin_, connection, *std::move(db),
                         credentials_ ? &*credentials_ : nullptr};
  // The query executors report what they examined into the thread's current OpDebug, for
  // the slow-operation log, as under gRPC.
  auto op = std::make_shared<OpDebug>();
  op->slow = service::SlowOpThreshold();
  SetCurrentOpDebug(op);
  bson::Builder out;
  absl::Status status = handler(context, command, &out);
  op->Finish();
  SetCurrentOpDebug(nullptr);
  if (op->is_slow()) LogSlow(*op, command, context.db, status);
  if (!status.ok()) return ErrorReply(status);
  out.AppendDouble("ok", 1);
  return std::move(out).Finish();
}

std::string CommandRunner::RunLegacy(bson::DocView query, ConnectionInfo* connection) const {
  // Drivers wrap the command as {$query: {...}, $readPreference: ...} on some paths.
  bson::ValueView inner;
  if (query.Find("$query", &inner) && inner.type == BsonType::kDocument) query = inner.Doc();
  Command command(query, nullptr);
  std::string_view name = command.name();
  if (name != "hello" && name != "isMaster" && name != "ismaster") {
    return ErrorReply(MongoError(kUnsupportedOpQueryCommand,
                                 StrCat("Unsupported OP_QUERY command: ", name,
                                        ". The client driver may require an upgrade.")));
  }
  Count(name);
  HandlerContext context{data_, admin_, connection, "admin", credentials_ ? &*credentials_ : nullptr};
  bson::Builder out;
  auto hello_ok = command.Bool("helloOk", false);
  AppendHello(context, command, name != "hello", hello_ok.ok() && *hello_ok, &out);
  out.AppendDouble("ok", 1);
  return std::move(out).Finish();
}

}  // namespace micromongo::wire
