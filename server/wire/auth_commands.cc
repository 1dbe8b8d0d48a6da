// Authentication as MongoDB's drivers and shells do it: saslStart and saslContinue carrying a
// SCRAM-SHA-256 conversation (scram.h), logout, and hello's saslSupportedMechs and
// speculativeAuthenticate. The server's one user is kAuthUser of kAuthDatabase.

#include <cstring>

#include "document/status.h"
#include "util/log.h"
#include "wire/handlers.h"

namespace micromongo::wire {
namespace {

constexpr std::string_view kMechanism = "SCRAM-SHA-256";
constexpr int32_t kConversationId = 1;

// A SASL payload: binary (what drivers send) or a string (what MongoDB also accepts).
absl::StatusOr<std::string_view> Payload(const Command& command, std::string_view key) {
  std::optional<bson::ValueView> v = command.Get(key);
  if (!v) return MongoError(kNoSuchKey, StrCat("BSON field '", command.name(), ".", key, "' is missing but a required field"));
  if (v->type == BsonType::kString) return v->String();
  if (v->type == BsonType::kBinary) {
    int32_t len = bson::ReadInt32(v->data);
    return std::string_view(v->data + 5, static_cast<size_t>(len));
  }
  return command.WrongType(key, *v, "binData");
}

void AppendPayload(std::string_view key, std::string_view bytes, bson::Builder* out) {
  std::string raw(5 + bytes.size(), '\0');
  int32_t len = static_cast<int32_t>(bytes.size());
  std::memcpy(raw.data(), &len, 4);  // little-endian, as BSON is on every supported host
  raw[4] = 0;                        // subtype: generic binary
  std::memcpy(raw.data() + 5, bytes.data(), bytes.size());
  out->AppendView(key, bson::ValueView{BsonType::kBinary, raw.data(), static_cast<uint32_t>(raw.size())});
}

void LogFailure(const HandlerContext& context, std::string_view db, std::string_view reason) {
  Log(LogSeverity::kInfo, LogComponent::kNetwork, "Authentication failed",
      Attrs({{"mechanism", std::string(kMechanism)},
             {"remote", context.connection->peer},
             {"db", std::string(db)},
             {"reason", db == kAuthDatabase ? std::string(reason)
                                            : StrCat("the user ", kAuthUser, " is ", kAuthDatabase, "'s")}}));
}

// The first step of a conversation; `db` is the database the client authenticates against.
absl::Status StartConversation(const HandlerContext& context, std::string_view db, std::string_view mechanism,
                               std::string_view payload, bool skip_empty_exchange, bson::Builder* out) {
  ConnectionInfo* connection = context.connection;
  connection->sasl.reset();
  if (mechanism != kMechanism) {
    return MongoError(kMechanismUnavailable,
                      StrCat("Received authentication for mechanism ", mechanism,
                             " which is not enabled"));
  }
  // With no user configured (or in another database) the conversation fails at the
  // first step, the same way a wrong user name does.
  connection->sasl = std::make_unique<ScramConversation>(
      db == kAuthDatabase ? std::string(kAuthUser) : std::string(), context.credentials);
  connection->sasl_skip_empty_exchange = skip_empty_exchange;
  connection->sasl_proved = false;
  auto server_first = connection->sasl->Start(payload);
  if (!server_first.ok()) {
    LogFailure(context, db, connection->sasl->failure_reason());
    connection->sasl.reset();
    return server_first.status();
  }
  out->AppendInt32("conversationId", kConversationId);
  out->AppendBool("done", false);
  AppendPayload("payload", *server_first, out);
  return absl::OkStatus();
}

absl::Status SaslStart(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"mechanism", "payload", "autoAuthorize", "options"}); !s.ok()) return s;
  auto mechanism = command.String("mechanism", "");
  if (!mechanism.ok()) return mechanism.status();
  auto payload = Payload(command, "payload");
  if (!payload.ok()) return payload.status();
  bool skip_empty_exchange = false;
  auto options = command.Object("options");
  if (!options.ok()) return options.status();
  if (*options) {
    bson::ValueView v;
    if ((*options)->Find("skipEmptyExchange", &v) && v.type == BsonType::kBool) skip_empty_exchange = v.Bool();
  }
  return StartConversation(context, context.db, *mechanism, *payload, skip_empty_exchange, out);
}

absl::Status SaslContinue(const HandlerContext& context, const Command& command, bson::Builder* out) {
  if (auto s = command.CheckFields({"conversationId", "payload"}); !s.ok()) return s;
  auto payload = Payload(command, "payload");
  if (!payload.ok()) return payload.status();
  auto id = command.Integer("conversationId", kConversationId);
  if (!id.ok()) return id.status();
  ConnectionInfo* connection = context.connection;
  if (connection->sasl == nullptr || *id != kConversationId) {
    return MongoError(kProtocolError, "No SASL session state found");
  }
  if (connection->sasl_proved) {
    // The client's empty last message of a conversation without skipEmptyExchange.
    connection->user = connection->sasl->client_user();
    connection->sasl.reset();
    out->AppendInt32("conversationId", kConversationId);
    out->AppendBool("done", true);
    AppendPayload("payload", "", out);
    return absl::OkStatus();
  }
  auto server_final = connection->sasl->Finish(*payload);
  if (!server_final.ok()) {
    LogFailure(context, kAuthDatabase, connection->sasl->failure_reason());
    connection->sasl.reset();
    return server_final.status();
  }
  bool done = connection->sasl_skip_empty_exchange;
  if (done) {
    connection->user = connection->sasl->client_user();
    connection->sasl.reset();
  } else {
    connection->sasl_proved = true;
  }
  out->AppendInt32("conversationId", kConversationId);
  out->AppendBool("done", done);
  AppendPayload("payload", *server_final, out);
  return absl::OkStatus();
}

absl::Status Logout(const HandlerContext& context, const Command&, bson::Builder*) {
  context.connection->user.clear();
  context.connection->sasl.reset();
  return absl::OkStatus();
}

}  // namespace

void AppendHelloAuthentication(const HandlerContext& context, const Command& hello, bson::Builder* out) {
  if (context.credentials == nullptr) return;
  // saslSupportedMechs: "<db>.<user>" asks which mechanisms that user has; MongoDB leaves
  // the field out for a user that does not exist.
  auto asked = hello.String("saslSupportedMechs", "");
  if (asked.ok() && *asked == StrCat(kAuthDatabase, ".", kAuthUser)) {
    auto at = out->StartArray("saslSupportedMechs");
    out->AppendString("0", kMechanism);
    out->End(at);
  }
  // speculativeAuthenticate: {saslStart: 1, mechanism, payload, db, options?}. Its answer is
  // saslStart's; on failure the field is left out and the client authenticates as usual.
  auto speculative = hello.Object("speculativeAuthenticate");
  if (!speculative.ok() || !*speculative) return;
  Command start(**speculative, nullptr);
  if (start.name() != "saslStart") return;
  auto mechanism = start.String("mechanism", "");
  auto payload = Payload(start, "payload");
  auto db = start.String("db", "");
  if (!mechanism.ok() || !payload.ok() || !db.ok()) return;
  bool skip_empty_exchange = false;
  auto options = start.Object("options");
  if (options.ok() && *options) {
    bson::ValueView v;
    if ((*options)->Find("skipEmptyExchange", &v) && v.type == BsonType::kBool) skip_empty_exchange = v.Bool();
  }
  bson::Builder reply;
  if (!StartConversation(context, *db, *mechanism, *payload, skip_empty_exchange, &reply).ok()) return;
  std::string bytes = std::move(reply).Finish();
  out->AppendDocument("speculativeAuthenticate", bson::DocView(bytes));
}

std::span<const CommandEntry> AuthCommands() {
  static const CommandEntry kTable[] = {
      {"saslStart", SaslStart},
      {"saslContinue", SaslContinue},
      {"logout", Logout},
  };
  return kTable;
}

}  // namespace micromongo::wire
