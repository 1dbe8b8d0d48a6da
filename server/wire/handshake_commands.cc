// hello and the commands drivers, shells and tools send when they connect: ping,
// buildInfo, endSessions, getParameter, getLog, getCmdLineOpts, connectionStatus,
// whatsmyuri, hostInfo, listCommands.

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "document/status.h"
#include "micromongo/document.h"
#include "storage/engine.h"
#include "wire/handlers.h"
#include "wire/scram.h"

namespace micromongo::wire {
namespace {

// The MongoDB release whose behaviour the worker follows (its expression operators are
// 8.0's); drivers read these to choose the commands they send.
constexpr const char* kEmulatedVersion = "8.0.0";
constexpr int kEmulatedVersionArray[] = {8, 0, 0, 0};
constexpr int kMaxWireVersion = 25;
constexpr int kLogicalSessionTimeoutMinutes = 30;
constexpr int kMaxWriteBatchSize = 100'000;

Value Now() {
  return Value(DateTime{std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count()});
}

// The fields of a single-node replica set's primary: drivers then use sessions,
// transactions and retryable writes (and their change stream support checks pass).
void AppendReplicaSetHello(const ReplicaSetInfo& set, const ConnectionInfo& connection, bson::Builder* out) {
  std::string host = set.HostFor(connection);
  auto at = out->StartArray("hosts");
  out->AppendString("0", host);
  out->End(at);
  out->AppendString("setName", set.name);
  out->AppendInt32("setVersion", 1);
  out->AppendBool("secondary", false);
  out->AppendString("primary", host);
  out->AppendString("me", host);
  // One term forever: the set never elects another primary.
  out->AppendValue("electionId", Value(ObjectId::FromHex("7fffffff0000000000000001")));
}

constexpr int kNoReplicationEnabled = 76;

absl::Status RequireReplicaSet(const HandlerContext& context) {
  if (context.replica_set != nullptr) return absl::OkStatus();
  return MongoError(kNoReplicationEnabled, "not running with --replSet");
}

// rs.status(): the one member, primary since the server started.
absl::Status ReplSetGetStatus(const HandlerContext& context, const Command&, bson::Builder* out) {
  if (auto s = RequireReplicaSet(context); !s.ok()) return s;
  const ReplicaSetInfo& set = *context.replica_set;
  uint64_t now_ts = context.data->engine()->change_clock().Visible();
  Value optime_ts(Timestamp{static_cast<uint32_t>(now_ts >> 32), static_cast<uint32_t>(now_ts)});
  auto optime = [&](std::string_view key) {
    auto at = out->StartDocument(key);
    out->AppendValue("ts", optime_ts);
    out->AppendInt64("t", 1);
    out->End(at);
  };
  out->AppendString("set", set.name);
  out->AppendValue("date", Now());
  out->AppendInt32("myState", 1);
  out->AppendInt64("term", 1);
  out->AppendInt32("heartbeatIntervalMillis", 2000);
  out->AppendInt32("majorityVoteCount", 1);
  out->AppendInt32("writeMajorityCount", 1);
  out->AppendInt32("votingMembersCount", 1);
  out->AppendInt32("writableVotingMembersCount", 1);
  auto optimes = out->StartDocument("optimes");
  optime("lastCommittedOpTime");
  optime("appliedOpTime");
  optime("durableOpTime");
  out->End(optimes);
  auto members = out->StartArray("members");
  auto m = out->StartDocument("0");
  out->AppendInt32("_id", 0);
  out->AppendString("name", set.HostFor(*context.connection));
  out->AppendDouble("health", 1);
  out->AppendInt32("state", 1);
  out->AppendString("stateStr", "PRIMARY");
  out->AppendInt64("uptime", std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now() - set.started).count());
  optime("optime");
  out->AppendValue("optimeDate", Now());
  out->AppendInt32("configVersion", 1);
  out->AppendInt32("configTerm", 1);
  out->AppendBool("self", true);
  out->End(m);
  out->End(members);
  return absl::OkStatus();
}

// rs.conf(): a one-member configuration.
absl::Status ReplSetGetConfig(const HandlerContext& context, const Command&, bson::Builder* out) {
  if (auto s = RequireReplicaSet(context); !s.ok()) return s;
  const ReplicaSetInfo& set = *context.replica_set;
  auto config = out->StartDocument("config");
  out->AppendString("_id", set.name);
  out->AppendInt32("version", 1);
  out->AppendInt32("term", 1);
  auto members = out->StartArray("members");
  auto m = out->StartDocument("0");
  out->AppendInt32("_id", 0);
  out->AppendString("host", set.HostFor(*context.connection));
  out->AppendBool("arbiterOnly", false);
  out->AppendBool("buildIndexes", true);
  out->AppendBool("hidden", false);
  out->AppendDouble("priority", 1);
  auto tags = out->StartDocument("tags");
  out->End(tags);
  out->AppendInt64("secondaryDelaySecs", 0);
  out->AppendInt32("votes", 1);
  out->End(m);
  out->End(members);
  out->AppendInt64("protocolVersion", 1);
  out->AppendBool("writeConcernMajorityJournalDefault", true);
  out->End(config);
  return absl::OkStatus();
}

absl::Status Hello(const HandlerContext& context, const Command& command, bson::Builder* out) {
  auto hello_ok = command.Bool("helloOk", false);
  if (!hello_ok.ok()) return hello_ok.status();
  AppendHello(context, command, command.name() != "hello", *hello_ok, out);
  return absl::OkStatus();
}

absl::Status Ping(const HandlerContext&, const Command&, bson::Builder*) {
  return absl::OkStatus();
}

absl::Status BuildInfo(const HandlerContext&, const Command&, bson::Builder* out) {
  out->AppendString("version", kEmulatedVersion);
  auto at = out->StartArray("versionArray");
  char key[24];
  for (size_t i = 0; i < std::size(kEmulatedVersionArray); ++i) {
    out->AppendInt32(bson::ArrayKey(static_cast<int>(i), key), kEmulatedVersionArray[i]);
  }
  out->End(at);
  out->AppendString("gitVersion", "micromongo-" MICROMONGO_VERSION);
  out->AppendString("micromongoVersion", MICROMONGO_VERSION);
  out->AppendInt32("bits", 64);
  out->AppendBool("debug", false);
  out->AppendInt32("maxBsonObjectSize", static_cast<int32_t>(kMaxBsonObjectSize));
  auto storage = out->StartArray("storageEngines");
  out->AppendString("0", "rocksdb");
  out->End(storage);
  auto modules = out->StartArray("modules");
  out->End(modules);
  return absl::OkStatus();
}

absl::Status EndSessions(const HandlerContext& context, const Command& command, bson::Builder*) {
  // A standalone keeps no session state; a replica set's sessions end with their
  // transactions aborted.
  if (context.sessions == nullptr || command.value().type != BsonType::kArray) return absl::OkStatus();
  for (const bson::ElementView& e : command.value().Doc()) {
    if (e.value.type != BsonType::kDocument) continue;
    bson::ValueView id;
    if (e.value.Doc().Find("id", &id)) context.sessions->End(id.bytes());
  }
  return absl::OkStatus();
}

// killSessions [{id}, ...] ends those sessions (as endSessions); killAllSessions [] (or a
// list of users: this server has at most one) ends every session. Test runners send it
// before each test so that no transaction of an earlier one holds locks.
absl::Status KillAllSessions(const HandlerContext& context, const Command& command, bson::Builder*) {
  if (command.value().type != BsonType::kArray) return command.WrongType(command.name(), command.value(), "array");
  if (context.sessions != nullptr) context.sessions->EndAll();
  return absl::OkStatus();
}

// startSession: a new logical session id, for clients that ask the server for one (the
// legacy shell); drivers make their own.
absl::Status StartSession(const HandlerContext&, const Command&, bson::Builder* out) {
  std::string uuid = RandomBytes(16);
  uuid[6] = static_cast<char>((uuid[6] & 0x0f) | 0x40);  // version 4
  uuid[8] = static_cast<char>((uuid[8] & 0x3f) | 0x80);  // RFC 4122 variant
  auto id = out->StartDocument("id");
  out->AppendValue("id", Value(Binary{4, uuid}));
  out->End(id);
  out->AppendInt32("timeoutMinutes", kLogicalSessionTimeoutMinutes);
  return absl::OkStatus();
}

// refreshSessions: sessions here last while they are used (30 minutes idle).
absl::Status RefreshSessions(const HandlerContext&, const Command&, bson::Builder*) { return absl::OkStatus(); }

absl::Status GetParameter(const HandlerContext&, const Command& command, bson::Builder* out) {
  bool any = false;
  for (const bson::ElementView& e : command.body()) {
    if (e.key == "featureCompatibilityVersion") {
      auto at = out->StartDocument("featureCompatibilityVersion");
      out->AppendString("version", "8.0");
      out->End(at);
      any = true;
    }
  }
  if (!any) return MongoError(kInvalidOptions, "no option found to get");
  return absl::OkStatus();
}

absl::Status GetLog(const HandlerContext&, const Command& command, bson::Builder* out) {
  if (command.value().type != BsonType::kString) return command.WrongType("getLog", command.value(), "string");
  std::string_view which = command.value().String();
  if (which == "*") {
    auto at = out->StartArray("names");
    out->AppendString("0", "startupWarnings");
    out->End(at);
    return absl::OkStatus();
  }
  if (which != "startupWarnings") {
    // The worker's log goes to stderr (JSON lines); only startup warnings are kept.
    return MongoError(kInvalidOptions, StrCat("no RamLog named: ", which));
  }
  out->AppendInt32("totalLinesWritten", 0);
  auto at = out->StartArray("log");
  out->End(at);
  return absl::OkStatus();
}

absl::Status GetCmdLineOpts(const HandlerContext&, const Command&, bson::Builder* out) {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto at = out->StartArray("argv");
  char key[24];
  int i = 0;
  for (size_t start = 0; start < all.size();) {
    size_t end = all.find('\0', start);
    if (end == std::string::npos) end = all.size();
    out->AppendString(bson::ArrayKey(i++, key), std::string_view(all).substr(start, end - start));
    start = end + 1;
  }
  out->End(at);
  auto parsed = out->StartDocument("parsed");
  out->End(parsed);
  return absl::OkStatus();
}

absl::Status ConnectionStatus(const HandlerContext& context, const Command&, bson::Builder* out) {
  // The one user may do everything: MongoDB calls that role "root".
  bool authenticated = !context.connection->user.empty();
  auto info = out->StartDocument("authInfo");
  auto users = out->StartArray("authenticatedUsers");
  if (authenticated) {
    auto user = out->StartDocument("0");
    out->AppendString("user", context.connection->user);
    out->AppendString("db", kAuthDatabase);
    out->End(user);
  }
  out->End(users);
  auto roles = out->StartArray("authenticatedUserRoles");
  if (authenticated) {
    auto role = out->StartDocument("0");
    out->AppendString("role", "root");
    out->AppendString("db", "admin");
    out->End(role);
  }
  out->End(roles);
  out->End(info);
  return absl::OkStatus();
}

absl::Status WhatsMyUri(const HandlerContext& context, const Command&, bson::Builder* out) {
  out->AppendString("you", context.connection->peer);
  return absl::OkStatus();
}

absl::Status ListCommands(const HandlerContext&, const Command&, bson::Builder* out) {
  auto commands = out->StartDocument("commands");
  for (std::string_view name : AllCommandNames()) {
    auto at = out->StartDocument(name);
    out->AppendString("help", "");
    out->AppendBool("requiresAuth", !RunsWithoutAuthentication(name));
    out->AppendBool("secondaryOk", true);
    out->AppendBool("adminOnly", name == "renameCollection" || name == "listDatabases");
    auto versions = out->StartArray("apiVersions");
    out->End(versions);
    auto deprecated = out->StartArray("deprecatedApiVersions");
    out->End(deprecated);
    out->End(at);
  }
  out->End(commands);
  return absl::OkStatus();
}

absl::Status HostInfo(const HandlerContext&, const Command&, bson::Builder* out) {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  utsname uts{};
  uname(&uts);
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  auto system = out->StartDocument("system");
  out->AppendValue("currentTime", Now());
  out->AppendString("hostname", host);
  out->AppendInt32("cpuAddrSize", 64);
  out->AppendInt64("memSizeMB", static_cast<int64_t>(pages) * page >> 20);
  out->AppendInt32("numCores", static_cast<int32_t>(std::thread::hardware_concurrency()));
  out->AppendString("cpuArch", uts.machine);
  out->End(system);
  auto os = out->StartDocument("os");
  out->AppendString("type", uts.sysname);
  out->AppendString("name", uts.sysname);
  out->AppendString("version", uts.release);
  out->End(os);
  auto extra = out->StartDocument("extra");
  out->End(extra);
  return absl::OkStatus();
}

}  // namespace

void AppendHello(const HandlerContext& context, const Command& hello, bool legacy_name,
                 bool hello_ok, bson::Builder* out) {
  // The client's application name (fail points may target it).
  bson::ValueView client, application, name;
  if (hello.body().Find("client", &client) && client.type == BsonType::kDocument &&
      client.Doc().Find("application", &application) && application.type == BsonType::kDocument &&
      application.Doc().Find("name", &name) && name.type == BsonType::kString) {
    context.connection->app_name = std::string(name.String());
  }
  if (hello_ok) out->AppendBool("helloOk", true);
  out->AppendBool(legacy_name ? "ismaster" : "isWritablePrimary", true);
  if (context.replica_set != nullptr) AppendReplicaSetHello(*context.replica_set, *context.connection, out);
  out->AppendInt32("maxBsonObjectSize", static_cast<int32_t>(kMaxBsonObjectSize));
  out->AppendInt32("maxMessageSizeBytes", kMaxMessageBytes);
  out->AppendInt32("maxWriteBatchSize", kMaxWriteBatchSize);
  out->AppendValue("localTime", Now());
  out->AppendInt32("logicalSessionTimeoutMinutes", kLogicalSessionTimeoutMinutes);
  out->AppendInt64("connectionId", context.connection->id);
  out->AppendInt32("minWireVersion", 0);
  out->AppendInt32("maxWireVersion", kMaxWireVersion);
  out->AppendBool("readOnly", false);
  AppendHelloAuthentication(context, hello, out);
}

std::span<const CommandEntry> HandshakeCommands() {
  static const CommandEntry kTable[] = {
      {"hello", Hello},
      {"isMaster", Hello},
      {"ismaster", Hello},
      {"ping", Ping},
      {"buildInfo", BuildInfo},
      {"buildinfo", BuildInfo},
      {"endSessions", EndSessions},
      {"killSessions", EndSessions},
      {"killAllSessions", KillAllSessions},
      {"startSession", StartSession},
      {"refreshSessions", RefreshSessions},
      {"getParameter", GetParameter},
      {"getLog", GetLog},
      {"getCmdLineOpts", GetCmdLineOpts},
      {"connectionStatus", ConnectionStatus},
      {"whatsmyuri", WhatsMyUri},
      {"hostInfo", HostInfo},
      {"replSetGetStatus", ReplSetGetStatus},
      {"replSetGetConfig", ReplSetGetConfig},
      {"listCommands", ListCommands},
  };
  return kTable;
}

}  // namespace micromongo::wire
