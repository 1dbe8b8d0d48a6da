#pragma once

// WorkerBridge: the connection to one micromongo worker server.
//
//   auto bridge = WorkerBridge::Create();           // spawns and owns a worker process
//   auto remote = WorkerBridge::Connect("unix:/run/mm.sock");  // attaches to one
//
// Any number of MongoClients may share a bridge (one process, one gRPC channel).
// Thread-safe. Errors are micromongo::WorkerError.

#include <memory>
#include <string>

#include "micromongo/options.h"

namespace micromongo {

namespace internal {
class BridgeAccess;
}

class WorkerBridge {
 public:
  // Spawns micromongo-server on a unix socket in a private (0700) runtime directory and
  // waits until its health check reports SERVING. The worker exits when the application
  // does, even if the application is killed. Throws WorkerError quoting the server's own
  // output if it cannot start.
  static std::shared_ptr<WorkerBridge> Create(const WorkerOptions& options = {});
  // Attaches to a server started elsewhere ("host:port" or "unix:/path"), checking that it
  // answers. Terminate() then only drops the connection.
  static std::shared_ptr<WorkerBridge> Connect(const std::string& address,
                                               std::chrono::milliseconds timeout =
                                                   std::chrono::milliseconds(5000));
  // The same with a token and TLS (ConnectOptions). Throws Error 18 if the server refuses
  // the token, WorkerError if nothing answers (a TLS handshake failure included).
  static std::shared_ptr<WorkerBridge> Connect(const std::string& address,
                                               const ConnectOptions& options);

  // Stops an owned worker (graceful, then SIGKILL after 5 s) or disconnects an attached
  // one. Idempotent. Afterwards every call through this bridge fails at once with
  // WorkerError.
  void Terminate();
  // An owned worker: its process is running. Attached: the server answers a health check.
  bool IsAlive() const;
  // The owned worker's pid; 0 for attached bridges.
  int pid() const;
  bool owns_worker() const;
  // The gRPC target ("unix:/tmp/.../worker.sock").
  const std::string& address() const;
  // A MongoDB connection string for the worker's wire protocol listener
  // ("mongodb://%2Ftmp%2F...%2Fmongodb.sock/?directConnection=true"), for a worker created
  // with WorkerOptions::mongodb_listener; empty otherwise.
  std::string mongodb_uri() const;
  // That listener's socket path; empty without one.
  const std::string& mongodb_socket_path() const;

  // Terminates an owned worker.
  ~WorkerBridge();
  WorkerBridge(const WorkerBridge&) = delete;
  WorkerBridge& operator=(const WorkerBridge&) = delete;

  class Impl;

 private:
  friend class internal::BridgeAccess;
  explicit WorkerBridge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace micromongo
