#include "service/server.h"

#include "service/indexes.h"
#include "service/slow_op_log.h"
#include "util/log.h"
#include "service/ttl_monitor.h"

#include <grpcpp/server.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/server_builder.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <cstdio>
#include <optional>
#include <thread>

#include "service/cursor_manager.h"
#include "service/grpc_listener.h"
#include "service/health_service.h"
#include "service/rpc_calls.h"
#include "service/rpc_handlers.h"
#include "service/rpc_threads.h"
#include "service/listener_security.h"
#include "service/services.h"
#include "service/ttl_monitor.h"
#include "service/pipeline_access.h"
#include "wire/listener.h"
#include "storage/engine.h"

namespace micromongo::service {
namespace {

// Signals SIGTERM/SIGINT, the Shutdown RPC and the watch pipe all end up here.
class ShutdownLatch {
 public:
  void Trigger() {
    std::lock_guard<std::mutex> l(mu_);
    triggered_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return triggered_; });
  }
  bool WaitFor(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, d, [&] { return triggered_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool triggered_ = false;
};

}  // namespace

int RunServer(const ServerOptions& options) {
  // Block termination signals before any thread starts; a dedicated thread takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  SetLogLevel(options.log_level);
  SetLogFormat(options.log_format);
  SetLogContext("main");
  SetSlowOpThreshold(std::chrono::milliseconds(options.slow_ms));
  storage::EngineOptions engine_options;
  engine_options.data_dir = options.data_dir;
  engine_options.kv.sync_writes = options.sync_writes;
  engine_options.kv.record_cache_bytes = options.record_cache_bytes;
  engine_options.on_open = [](storage::Database* db) {
    if (auto s = UpgradeIndexes(db); !s.ok()) return s;
    // Retryable writes' history outlives its session only as long as MongoDB keeps an idle
    // session (logicalSessionTimeoutMinutes).
    auto now = std::chrono::system_clock::now().time_since_epoch();
    return db->TrimRetryHistory(
        std::chrono::duration_cast<std::chrono::milliseconds>(now - kLogicalSessionTimeout).count());
  };
  auto engine = storage::Engine::Open(engine_options);
  if (!engine.ok()) {
    Log(LogSeverity::kError, LogComponent::kStorage, "Cannot open the data directory",
        Attrs({{"dataDir", options.data_dir}, {"error", std::string(engine.status().message())}}));
    return 1;
  }

  // Every database is checked now, so that damaged files stop the server at startup with
  // the database named, rather than failing requests later.
  if (auto s = (*engine)->CheckAll(); !s.ok()) {
    Log(LogSeverity::kError, LogComponent::kStorage, "Cannot open the data directory",
        Attrs({{"dataDir", options.data_dir}, {"error", std::string(s.message())}}));
    return 1;
  }

  ShutdownLatch latch;
  CursorManager cursors{std::chrono::milliseconds(options.cursor_timeout_ms)};
  // Spill files of queries interrupted by a crash (the files are unlinked while in use, so
  // normally nothing is left; this catches anything that was not).
  ClearSpillDirectory(**engine);
  // Logical sessions (transactions, retryable writes) of both protocols: a transaction
  // left open past its lifetime is aborted even when no request comes to notice, since it
  // holds up other writers meanwhile.
  SessionCatalog sessions;
  sessions.SetHistory(engine->get());
  PeriodicTask session_reaper(std::chrono::seconds(1), [&] { sessions.AbortExpired(); });

  // The MongoDB wire protocol runs the same operations as the gRPC services.
  DataOperations wire_data(engine->get(), &cursors);
  AdminOperations wire_admin(engine->get(), &cursors);
  wire::CommandRunner wire_runner(&wire_data, &wire_admin);
  // Snapshot reads of both protocols: a time one answered may be read again by the other.
  SnapshotHistory snapshots(engine->get());
  if (!options.repl_set.empty()) wire_runner.EnableReplicaSet(options.repl_set, &sessions, &snapshots);
  if (options.enable_test_commands) wire_runner.EnableTestCommands();
  DataServiceImpl data(engine->get(), &cursors, &sessions, &snapshots);
  // RunCommand runs the wire protocol's commands.
  AdminServiceImpl admin(engine->get(), &cursors, &sessions, &wire_runner, [&] { latch.Trigger(); });

  auto credentials = ListenerCredentials(options.listen, options.security);
  if (!credentials.ok()) {
    Log(LogSeverity::kError, LogComponent::kNetwork, "Cannot listen",
        Attrs({{"error", std::string(credentials.status().message())}}));
    return 1;
  }
  std::unique_ptr<wire::Listener> wire_listener;
  if (!options.mongodb_listen.empty()) {
    // The gRPC token is the password of the wire protocol's one user, so that one secret
    // guards both protocols.
    bool token = !options.security.auth_token_file.empty();
    if (token) {
      auto secret = ReadTokenFile(options.security.auth_token_file);
      absl::Status set = secret.ok() ? wire_runner.SetPassword(*secret) : secret.status();
      if (!set.ok()) {
        Log(LogSeverity::kError, LogComponent::kNetwork, "Cannot listen",
            Attrs({{"protocol", "mongodb"}, {"error", std::string(set.message())}}));
        return 1;
      }
    }
    auto started = wire::Listener::Start({.addresses = options.mongodb_listen,
                                          .tls_cert_file = options.security.tls_cert_file,
                                          .tls_key_file = options.security.tls_key_file,
                                          .tls_client_ca_file = options.security.tls_client_ca_file,
                                          .insecure = options.security.insecure,
                                          .require_authentication = token,
                                          .max_connections = options.mongodb_max_connections,
                                          .spin = std::chrono::microseconds(options.wire_spin_micros)},
                                         &wire_runner);
    if (!started.ok()) {
      Log(LogSeverity::kError, LogComponent::kNetwork, "Cannot listen",
          Attrs({{"protocol", "mongodb"}, {"error", std::string(started.status().message())}}));
      return 1;
    }
    wire_listener = *std::move(started);
  }
  grpc::ServerBuilder builder;
  auto listener = GrpcListener::Bind(
      {.addresses = options.listen, .credentials = *credentials, .max_connections = options.max_connections},
      &builder);
  if (!listener.ok()) {
    Log(LogSeverity::kError, LogComponent::kNetwork, "Cannot listen",
        Attrs({{"error", std::string(listener.status().message())}}));
    return 1;
  }
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  // Channelz keeps per-call statistics that nothing here reads.
  builder.AddChannelArgument(GRPC_ARG_ENABLE_CHANNELZ, 0);
  if (options.max_transport_memory_bytes > 0) {
    grpc::ResourceQuota quota("micromongo-server");
    quota.Resize(options.max_transport_memory_bytes);
    builder.SetResourceQuota(quota);
  }
  // Every method runs on the asynchronous API, served by RpcThreads (see rpc_threads.h for
  // why none may stay synchronous).
  RpcServices rpc;
  HealthService health;
  AddServices(&builder, &data, &admin, &health, &rpc);
  std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
  RunningCalls calls(options.max_concurrent_requests);
  // Beyond the threads of the requests allowed at once, the leader takes the request that
  // is refused and the standby watches it.
  RpcThreads rpc_threads(cq.get(), {.spin = std::chrono::microseconds(options.grpc_spin_micros),
                                    .max_threads = options.max_concurrent_requests > 0
                                                       ? options.max_concurrent_requests + 2
                                                       : 4096});
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    Log(LogSeverity::kError, LogComponent::kNetwork, "Cannot start the RPC server",
        Attrs({{"error", options.security.tls_cert_file.empty()
                             ? "gRPC refused the server's settings"
                             : "the TLS certificate and key do not match"}}));
    return 1;
  }
  if (auto s = (*listener)->Start(); !s.ok()) {
    Log(LogSeverity::kError, LogComponent::kNetwork, "Cannot listen",
        Attrs({{"error", std::string(s.message())}}));
    return 1;
  }
  rpc.Start(cq.get(), &rpc_threads, &calls);
  rpc_threads.Start();
  const std::vector<int>& ports = (*listener)->ports();
  {
    std::string addresses;
    for (size_t i = 0; i < options.listen.size(); ++i) {
      const std::string& l = options.listen[i];
      addresses += i > 0 ? " " : "";
      if (l.rfind("unix:", 0) != 0 && l.size() > 2 && l.substr(l.size() - 2) == ":0") {
        addresses += l.substr(0, l.size() - 1) + std::to_string(ports[i]);
      } else {
        addresses += l;
      }
    }
    std::string mongodb_addresses;
    if (wire_listener != nullptr) {
      for (const std::string& a : wire_listener->addresses()) {
        mongodb_addresses += (mongodb_addresses.empty() ? "" : " ") + a;
      }
    }
    Log(LogSeverity::kInfo, LogComponent::kNetwork, "Waiting for connections",
        Attrs({{"version", MICROMONGO_VERSION}, {"pid", std::to_string(getpid())},
               {"dataDir", options.data_dir}, {"listen", addresses},
               {"tls", options.security.tls_cert_file.empty() ? "off"
                       : options.security.tls_client_ca_file.empty() ? "on" : "mutual"},
               {"auth", options.security.auth_token_file.empty() ? "none" : "token"},
               {"mongodbListen", mongodb_addresses}}));
  }

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != 0) latch.Trigger();
  });
  signal_thread.detach();

  std::atomic<bool> orphaned{false};
  if (options.watch_fd >= 0) {
    std::thread([fd = options.watch_fd, &latch, &orphaned] {
      char buf[16];
      while (true) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno != EINTR)) break;
      }
      orphaned = true;
      latch.Trigger();  // the application that spawned us is gone
    }).detach();
  }

  std::thread reaper([&] {
    while (!latch.WaitFor(std::chrono::seconds(1))) cursors.Reap();
  });
  std::optional<TtlMonitor> ttl;
  if (options.ttl_monitor_secs > 0) {
    ttl.emplace(engine->get(), std::chrono::seconds(options.ttl_monitor_secs), LogEnabled(LogSeverity::kInfo));
  }

  std::optional<ChangeRetentionThread> retention;
  retention.emplace(engine->get(), options.change_retention);

  latch.Wait();
  Log(LogSeverity::kInfo, LogComponent::kControl, "Shutting down");
  listener->reset();  // no new connection; gRPC closes those it has
  // In-flight calls get up to 2 s; idle client connections do not hold shutdown longer.
  health.Shutdown();  // watchers hear NOT_SERVING; Check answers it while calls drain
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  calls.WaitIdle();  // no handler starts an operation on the queue after this
  cq->Shutdown();
  rpc_threads.Join();
  Log(LogSeverity::kDebug, LogComponent::kNetwork, "RPC server stopped");
  server->Wait();
  wire_listener.reset();  // closes its connections; a command in progress finishes first
  reaper.join();
  ttl.reset();
  retention.reset();
  Log(LogSeverity::kDebug, LogComponent::kControl, "Threads joined");
  cursors.Clear();
  engine->reset();  // closes every database; the WAL already holds acknowledged writes
  if (orphaned && !options.runtime_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(options.runtime_dir, ec);
  }
  // Nothing is left to release: the databases are closed and the WAL holds every
  // acknowledged write. gRPC's library shutdown (the ServerBuilder's destructor) can wait
  // up to ~10 s for an executor thread's poll after streams were cancelled; a worker that
  // was told to stop exits now.
  Log(LogSeverity::kInfo, LogComponent::kControl, "Now exiting");
  std::fflush(nullptr);
  std::_Exit(0);
}

}  // namespace micromongo::service
