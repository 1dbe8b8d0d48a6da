#pragma once

// Runs a worker server: storage engine, gRPC services, health and reflection, and the
// shutdown paths (SIGTERM/SIGINT, the admin Shutdown RPC, the parent's watch pipe closing).

#include <string>

#include "util/log.h"
#include <vector>

#include "service/change_retention.h"
#include "service/listener_security.h"

namespace micromongo::service {

struct ServerOptions {
  std::vector<std::string> listen;  // "unix:/path" or "host:port"
  // MongoDB wire protocol listeners (--mongodb-listen), same address forms; none by default.
  std::vector<std::string> mongodb_listen;
  // The single-node replica set the wire protocol presents (--replSet): MongoDB's clients
  // then use sessions, transactions and retryable writes. Empty (--standalone): a
  // standalone mongod's answers.
  std::string repl_set = "rs0";
  // MongoDB's test commands on the wire protocol (configureFailPoint), as mongod's
  // --setParameter enableTestCommands=1. Off by default.
  bool enable_test_commands = false;
  // Wire protocol connections open at once (--mongodb-max-connections).
  int mongodb_max_connections = 1000;
  // How long a wire protocol connection's thread polls for the next request before it
  // sleeps, in microseconds (--setParameter wireSpinMicros; common/adaptive_spin.h).
  int wire_spin_micros = 150;
  // How long the thread polling gRPC's completion queue polls before it sleeps, in
  // microseconds (--setParameter grpcSpinMicros; rpc_threads.h).
  int grpc_spin_micros = 150;
  std::string data_dir = "./micromongo-data";
  bool sync_writes = false;
  // The record cache's bytes, shared by every database (--record-cache-mb; 0: none).
  size_t record_cache_bytes = 32 << 20;
  int watch_fd = -1;  // exit when this fd reads EOF (the spawning application died)
  // The spawning bridge's private directory: removed by the worker when it exits because
  // the application died (nobody else is left to remove it).
  std::string runtime_dir;
  int cursor_timeout_ms = 10 * 60 * 1000;
  LogSeverity log_level = LogSeverity::kInfo;  // the most verbose severity logged
  LogFormat log_format = LogFormat::kText;       // --log-format text|json
  // Requests at least this slow are logged with their plan and counts (--slow-ms).
  int slow_ms = 100;
  // Seconds between passes of the TTL monitor (MongoDB's ttlMonitorSleepSecs); 0: none.
  int ttl_monitor_secs = 60;
  // How much change history each database keeps (server parameters changeLogMaxBytes,
  // changeLogMaxAgeSecs, changeLogTrimIntervalSecs).
  ChangeRetention change_retention;
  // TLS, token and the loopback rule for TCP listeners (listener_security.h).
  SecurityOptions security;
  // Limits against abuse. Requests larger than this are refused (RESOURCE_EXHAUSTED) before
  // they are parsed; replies are bounded likewise.
  int max_message_bytes = 64 << 20;
  // gRPC connections open at once across the --listen addresses (--max-connections).
  int max_connections = 1000;
  // HTTP/2 streams (calls) one connection may have open at once.
  int max_concurrent_streams = 100;
  // Requests executing at once (threads of the synchronous server); more are refused with
  // RESOURCE_EXHAUSTED rather than queued without bound. 0: gRPC's default (unbounded).
  int max_concurrent_requests = 0;
  // Memory gRPC may use for connections and buffered messages across all clients; new
  // connections and reads wait or are refused past it. 0: gRPC's default.
  int64_t max_transport_memory_bytes = 0;
};

// Blocks until shutdown, then ends the process (exit code 0) once the databases are
// closed. Startup failures are printed to stderr (the spawning client quotes them) and
// return non-zero.
int RunServer(const ServerOptions& options);

}  // namespace micromongo::service
