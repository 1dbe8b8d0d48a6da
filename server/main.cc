// micromongo-server: flags and startup only; everything else is in service/.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/synchronization/mutex.h"

#include "service/health_probe.h"
#include "service/pipeline_cursor.h"
#include "service/repair.h"
#include "service/server.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: micromongo-server [--listen ADDR]... [--data-dir DIR] [--sync]\n"
               "                         [--log-level error|warning|info|debug]\n"
               "                         [--log-format text|json] [--slow-ms N]\n"
               "       micromongo-server --health-check ADDR [--auth-token-file FILE]\n"
               "  --listen ADDR    unix:/path/to.sock or host:port (repeatable;\n"
               "                   default 127.0.0.1:50051)\n"
               "  --mongodb-listen ADDR  also speak MongoDB's wire protocol (mongosh, the\n"
               "                   drivers) on unix:/path/to.sock or host:port (repeatable;\n"
               "                   the same TLS, loopback and token rules as --listen;\n"
               "                   the token is the password of the user micromongo)\n"
               "  --replSet NAME[/HOST:PORT]  the single-node replica set the wire protocol\n"
               "                   presents (default rs0; HOST:PORT: the member's name for\n"
               "                   clients, by default the address each connected to):\n"
               "                   drivers use sessions, transactions and retryable writes\n"
               "  --standalone     answer the wire protocol as a standalone mongod instead\n"
               "                   (no transactions, retryable writes or snapshot reads)\n"
               "  --mongodb-max-connections N  wire protocol connections open at once\n"
               "                   (default 1000)\n"
               "  --data-dir DIR   data root, one directory per database\n"
               "                   (default ./micromongo-data)\n"
               "  --sync           fsync the write-ahead log on every commit\n"
               "  --record-cache-mb N  memory for records read or written lately, served\n"
               "                   without a storage lookup (default 32, shared by every\n"
               "                   database; 0: none)\n"
               "  --repair         rebuild damaged databases of --data-dir from their readable\n"
               "                   files, rebuild every index, validate, and exit (0: all\n"
               "                   valid); run it on a stopped server's data directory\n"
               "  --cursor-timeout-ms N  reclaim idle cursors after N ms (default 600000)\n"
               "  --log-level L    error, warning, info (default) or debug\n"
               "  --log-format F   text (default) or json: one JSON object per line, as\n"
               "                   MongoDB's log {t, s, c, ctx, msg, attr}\n"
               "  --slow-ms N      log requests that take at least N ms with their plan\n"
               "                   and counts (default 100)\n"
               "  --setParameter NAME=VALUE  a server parameter:\n"
               "                   internalQueryMaxBlockingSortMemoryUsageBytes (sorts and other\n"
               "                   blocking stages) or internalDocumentSourceGroupMaxMemoryBytes\n"
               "                   ($group), both 104857600 by default; ttlMonitorSleepSecs (seconds\n"
               "                   between passes of the TTL monitor, 60 by default);\n"
               "                   changeLogMaxBytes and changeLogMaxAgeSecs (change history kept\n"
               "                   per database: 1073741824 bytes and 86400 s by default) and\n"
               "                   changeLogTrimIntervalSecs (10 by default); enableTestCommands=1\n"
               "                   (configureFailPoint on the wire protocol, for driver tests);\n"
               "                   wireSpinMicros (how long a wire protocol connection polls\n"
               "                   for its client's next request before sleeping: 150 by\n"
               "                   default, at most 10000, 0: never); grpcSpinMicros (the same\n"
               "                   for the thread that polls gRPC's requests)\n"
               "  --tls-cert FILE, --tls-key FILE  PEM certificate chain and private key:\n"
               "                   TCP listeners speak TLS\n"
               "  --tls-client-ca FILE  PEM CA bundle; clients must present a certificate\n"
               "                   it signed (mutual TLS)\n"
               "  --insecure       allow plaintext TCP listeners on non-loopback addresses\n"
               "                   (without it they need --tls-cert and --tls-key)\n"
               "  --auth-token-file FILE  every call on a TCP listener needs the metadata\n"
               "                   'authorization: Bearer <token>' with the file's token, and\n"
               "                   every wire protocol connection over TCP must authenticate\n"
               "                   (SCRAM-SHA-256) as user micromongo with the token as password\n"
               "                   (unix sockets are private to the machine and need neither)\n"
               "  --auth-exempt LIST  services callable without the token: health,\n"
               "                   reflection, both, or none (default health)\n"
               "  --max-message-bytes N  largest request or reply (default 67108864)\n"
               "  --max-connections N  gRPC connections open at once; one more is accepted\n"
               "                   and closed at once (default 1000)\n"
               "  --max-concurrent-streams N  calls open at once per connection (default 100)\n"
               "  --max-concurrent-requests N  requests executing at once; more are refused\n"
               "                   with RESOURCE_EXHAUSTED (default unbounded)\n"
               "  --max-transport-memory-bytes N  memory gRPC may hold for connections and\n"
               "                   buffered messages (default unbounded)\n"
               "  --health-check ADDR  ask the server at ADDR whether it is serving; exit 0\n"
               "                   if so, 1 if not (for container health checks)\n"
               "  (--watch-fd and --runtime-dir are set by WorkerBridge::Create)\n");
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which turns on the deadlock detector of every
  // absl::Mutex: a lock-order graph updated on each lock, a cost on every request.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  micromongo::service::ServerOptions options;
  std::string health_check;
  bool repair = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    auto take = [&](const char* name) -> bool {
      std::string flag = std::string("--") + name;
      if (arg == flag) {
        if (i + 1 >= argc) {
          std::fprintf(stderr, "micromongo-server: %s needs a value\n", flag.c_str());
          std::exit(2);
        }
        value = argv[++i];
        return true;
      }
      if (arg.rfind(flag + "=", 0) == 0) {
        value = arg.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    if (take("health-check")) {
      health_check = value;
    } else if (take("listen")) {
      options.listen.push_back(value);
    } else if (take("mongodb-listen")) {
      options.mongodb_listen.push_back(value);
    } else if (take("replSet")) {
      options.repl_set = value;
    } else if (take("data-dir")) {
      options.data_dir = value;
    } else if (take("watch-fd")) {
      options.watch_fd = std::atoi(value.c_str());
    } else if (take("runtime-dir")) {
      options.runtime_dir = value;
    } else if (take("cursor-timeout-ms")) {
      options.cursor_timeout_ms = std::atoi(value.c_str());
    } else if (take("log-level")) {
      using micromongo::LogSeverity;
      if (value == "error") {
        options.log_level = LogSeverity::kError;
      } else if (value == "warning") {
        options.log_level = LogSeverity::kWarning;
      } else if (value == "info") {
        options.log_level = LogSeverity::kInfo;
      } else if (value == "debug") {
        options.log_level = LogSeverity::kDebug;
      } else {
        std::fprintf(stderr, "micromongo-server: unknown log level '%s'\n", value.c_str());
        return 2;
      }
    } else if (take("log-format")) {
      if (value == "text") {
        options.log_format = micromongo::LogFormat::kText;
      } else if (value == "json") {
        options.log_format = micromongo::LogFormat::kJson;
      } else {
        std::fprintf(stderr, "micromongo-server: unknown log format '%s'\n", value.c_str());
        return 2;
      }
    } else if (take("slow-ms")) {
      char* end = nullptr;
      long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 0) {
        std::fprintf(stderr, "micromongo-server: --slow-ms needs a non-negative number\n");
        return 2;
      }
      options.slow_ms = static_cast<int>(std::min<long>(n, 1L << 30));
    } else if (take("setParameter")) {
      size_t eq = value.find('=');
      std::string name = value.substr(0, eq);
      long long n = eq == std::string::npos ? 0 : std::atoll(value.c_str() + eq + 1);
      if ((name == "wireSpinMicros" || name == "grpcSpinMicros") && eq != std::string::npos &&
          value.substr(eq + 1) == "0") {
        // the parameters whose zero means something: no spin
        (name == "wireSpinMicros" ? options.wire_spin_micros : options.grpc_spin_micros) = 0;
        continue;
      }
      if (n <= 0) {
        std::fprintf(stderr, "micromongo-server: --setParameter %s needs a positive value\n", name.c_str());
        return 2;
      }
      if (name == "enableTestCommands") {
        options.enable_test_commands = true;
      } else if (name == "internalQueryMaxBlockingSortMemoryUsageBytes") {
        micromongo::service::GlobalQueryLimits().blocking_sort_bytes = n;
      } else if (name == "internalDocumentSourceGroupMaxMemoryBytes") {
        micromongo::service::GlobalQueryLimits().group_bytes = n;
      } else if (name == "ttlMonitorSleepSecs") {
        options.ttl_monitor_secs = static_cast<int>(std::min<long long>(n, 1 << 30));
      } else if (name == "changeLogMaxBytes") {
        options.change_retention.max_bytes = static_cast<uint64_t>(n);
      } else if (name == "changeLogMaxAgeSecs") {
        options.change_retention.max_age = std::chrono::seconds(n);
      } else if (name == "wireSpinMicros") {
        options.wire_spin_micros = static_cast<int>(std::min<long long>(n, 10'000));
      } else if (name == "grpcSpinMicros") {
        options.grpc_spin_micros = static_cast<int>(std::min<long long>(n, 10'000));
      } else if (name == "changeLogTrimIntervalSecs") {
        options.change_retention.interval = std::chrono::seconds(n);
      } else {
        std::fprintf(stderr, "micromongo-server: unknown server parameter '%s'\n", name.c_str());
        return 2;
      }
    } else if (take("tls-cert")) {
      options.security.tls_cert_file = value;
    } else if (take("tls-key")) {
      options.security.tls_key_file = value;
    } else if (take("tls-client-ca")) {
      options.security.tls_client_ca_file = value;
    } else if (take("auth-token-file")) {
      options.security.auth_token_file = value;
    } else if (take("auth-exempt")) {
      if (value != "health" && value != "reflection" && value != "both" && value != "none") {
        std::fprintf(stderr, "micromongo-server: --auth-exempt takes health, reflection, both or none\n");
        return 2;
      }
      options.security.exempt_health = value == "health" || value == "both";
      options.security.exempt_reflection = value == "reflection" || value == "both";
    } else if (take("record-cache-mb")) {
      char* end = nullptr;
      long long n = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 0 || n > (1LL << 20)) {
        std::fprintf(stderr, "micromongo-server: --record-cache-mb needs a number of MiB (0: none)\n");
        return 2;
      }
      options.record_cache_bytes = static_cast<size_t>(n) << 20;
    } else if (take("mongodb-max-connections") || take("max-connections")) {
      char* end = nullptr;
      long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n <= 0 || n > (1 << 20)) {
        std::fprintf(stderr, "micromongo-server: %s needs a positive number\n", arg.c_str());
        return 2;
      }
      (arg.find("mongodb-") != std::string::npos ? options.mongodb_max_connections : options.max_connections) =
          static_cast<int>(n);
    } else if (take("max-message-bytes") || take("max-concurrent-streams") ||
               take("max-concurrent-requests") || take("max-transport-memory-bytes")) {
      char* end = nullptr;
      long long n = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n <= 0 || n > (1LL << 40)) {
        std::fprintf(stderr, "micromongo-server: %s needs a positive number\n", arg.c_str());
        return 2;
      }
      if (arg.find("max-message-bytes") != std::string::npos) {
        options.max_message_bytes = static_cast<int>(std::min<long long>(n, 1LL << 30));
      } else if (arg.find("max-concurrent-streams") != std::string::npos) {
        options.max_concurrent_streams = static_cast<int>(std::min<long long>(n, 1 << 20));
      } else if (arg.find("max-concurrent-requests") != std::string::npos) {
        options.max_concurrent_requests = static_cast<int>(std::min<long long>(n, 1 << 20));
      } else {
        options.max_transport_memory_bytes = n;
      }
    } else if (arg == "--repair") {
      repair = true;
    } else if (arg == "--insecure") {
      options.security.insecure = true;
    } else if (arg == "--standalone") {
      options.repl_set.clear();
    } else if (arg == "--sync") {
      options.sync_writes = true;
    } else if (arg == "--help" || arg == "-h") {
      Usage();
      return 0;
    } else {
      std::fprintf(stderr, "micromongo-server: unknown argument '%s'\n", arg.c_str());
      Usage();
      return 2;
    }
  }
  if (!health_check.empty()) {
    std::string token;
    if (!options.security.auth_token_file.empty()) {
      auto t = micromongo::service::ReadTokenFile(options.security.auth_token_file);
      if (!t.ok()) {
        std::fprintf(stderr, "micromongo-server: %s\n", std::string(t.status().message()).c_str());
        return 2;
      }
      token = *t;
    }
    return micromongo::service::ProbeHealth(health_check, std::chrono::seconds(2), token);
  }
  if (repair) {
    micromongo::SetLogLevel(options.log_level);
    micromongo::SetLogFormat(options.log_format);
    micromongo::storage::EngineOptions engine_options;
    engine_options.data_dir = options.data_dir;
    engine_options.kv.sync_writes = true;
    return micromongo::service::RepairDataDirectory(engine_options);
  }
  if (options.listen.empty()) options.listen.push_back("127.0.0.1:50051");
  return micromongo::service::RunServer(options);
}
