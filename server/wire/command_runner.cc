#include "wire/command_runner.h"

#include "document/status.h"
#include "service/request_counters.h"
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
  bson::Builder out;
  if (absl::Status s = handler(context, command, &out); !s.ok()) return ErrorReply(s);
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
