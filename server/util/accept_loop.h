#pragma once

// A thread that accepts connections on listening sockets and hands each to a callback:
// the server's listeners (gRPC's and the MongoDB wire protocol's) accept their own
// connections so that each can count and cap them.

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace micromongo {

class AcceptLoop {
 public:
  // Called on the loop's thread with each accepted socket (close-on-exec, plus
  // `accept_flags` such as SOCK_NONBLOCK), which the callback then owns, the peer's
  // address and the listening socket it came from.
  using OnAccept = std::function<void(int fd, const sockaddr_storage& peer, int listen_fd)>;

  // Takes the listening sockets, which the loop closes when destroyed, and starts the
  // thread. `log_context` names the thread in log lines.
  static absl::StatusOr<std::unique_ptr<AcceptLoop>> Start(std::vector<int> listen_fds, int accept_flags,
                                                           std::string log_context, OnAccept on_accept);
  // Stops accepting and joins the thread: no callback runs once it returns.
  ~AcceptLoop();

  AcceptLoop(const AcceptLoop&) = delete;
  AcceptLoop& operator=(const AcceptLoop&) = delete;

 private:
  AcceptLoop() = default;
  void Run();

  std::vector<int> listen_fds_;
  int accept_flags_ = 0;
  std::string log_context_;
  OnAccept on_accept_;
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace micromongo
