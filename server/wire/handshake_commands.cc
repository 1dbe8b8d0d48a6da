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
#include "wire/handlers.h"

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
  auto at = out->StartArray("hosts");
  out->AppendString("0", connection.local);
  out->End(at);
  out->AppendString("setName", set.name);
  out->AppendInt32("setVersion", 1);
  out->AppendBool("secondary", false);
  out->AppendString("primary", connection.local);
  out->AppendString("me", connection.local);
  // One term forever: the set never elects another primary.
  out->AppendValue("electionId", Value(ObjectId::FromHex("7fffffff0000000000000001")));
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
      {"getParameter", GetParameter},
      {"getLog", GetLog},
      {"getCmdLineOpts", GetCmdLineOpts},
      {"connectionStatus", ConnectionStatus},
      {"whatsmyuri", WhatsMyUri},
      {"hostInfo", HostInfo},
      {"listCommands", ListCommands},
  };
  return kTable;
}

}  // namespace micromongo::wire
