#pragma once

// A spawned micromongo-server process: discovery of the binary, a private runtime
// directory, the watch pipe that ends the worker when the application dies, and stopping.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "micromongo/options.h"

namespace micromongo::internal {

class WorkerProcess {
 public:
  // Starts the server listening on a unix socket in a fresh 0700 directory. Does not wait
  // for readiness. Throws WorkerError if the binary cannot be found or started.
  static std::unique_ptr<WorkerProcess> Spawn(const WorkerOptions& options);
  ~WorkerProcess();

  pid_t pid() const { return pid_; }
  const std::string& address() const { return address_; }
  const std::string& socket_path() const { return socket_path_; }
  // The wire protocol listener's socket (WorkerOptions::mongodb_listener); empty without.
  const std::string& mongodb_socket_path() const { return mongodb_socket_path_; }
  const std::string& server_path() const { return server_path_; }
  // False once the process has exited (reaps it).
  bool Running();
  // "exited with status 1", "was killed by signal 9".
  std::string ExitDescription();
  // The tail of the worker's stderr/stdout.
  std::string LogTail() const;
  // SIGTERM, up to `grace` for a clean exit, then SIGKILL; removes the runtime directory.
  void Stop(std::chrono::milliseconds grace);

 private:
  WorkerProcess() = default;
  std::mutex mu_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_status_ = 0;
  int watch_fd_ = -1;  // write end of the watch pipe
  std::string runtime_dir_, socket_path_, address_, log_path_, server_path_;
  std::string mongodb_socket_path_;
};

// Where WorkerBridge::Create finds micromongo-server (see WorkerOptions::server_path).
// Throws WorkerError listing the places tried.
std::string FindServerBinary(const WorkerOptions& options);

}  // namespace micromongo::internal
