#include "util/accept_loop.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "document/status.h"
#include "util/log.h"

namespace micromongo {

absl::StatusOr<std::unique_ptr<AcceptLoop>> AcceptLoop::Start(std::vector<int> listen_fds, int accept_flags,
                                                               std::string log_context, OnAccept on_accept) {
  std::unique_ptr<AcceptLoop> loop(new AcceptLoop());
  loop->listen_fds_ = std::move(listen_fds);
  loop->accept_flags_ = accept_flags;
  loop->log_context_ = std::move(log_context);
  loop->on_accept_ = std::move(on_accept);
  if (pipe2(loop->wake_, O_CLOEXEC) != 0) {
    return MongoError(kInternalError, StrCat("pipe: ", std::strerror(errno)));
  }
  loop->thread_ = std::thread([l = loop.get()] { l->Run(); });
  return loop;
}

AcceptLoop::~AcceptLoop() {
  if (wake_[1] >= 0) {
    char c = 0;
    [[maybe_unused]] ssize_t n = write(wake_[1], &c, 1);
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : listen_fds_) close(fd);
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

void AcceptLoop::Run() {
  SetLogContext(log_context_);
  std::vector<pollfd> fds;
  for (int fd : listen_fds_) fds.push_back({fd, POLLIN, 0});
  fds.push_back({wake_[0], POLLIN, 0});
  while (true) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      Log(LogSeverity::kError, LogComponent::kNetwork, "Stopped accepting connections",
          Attrs({{"error", std::strerror(errno)}}));
      return;
    }
    if (fds.back().revents != 0) return;  // the destructor's wake-up
    for (size_t i = 0; i + 1 < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      int conn = accept4(fds[i].fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC | accept_flags_);
      if (conn < 0) {
        if (errno == EMFILE || errno == ENFILE) {
          // Out of descriptors: the pending connection stays queued; wait rather than spin.
          Log(LogSeverity::kWarning, LogComponent::kNetwork, "Cannot accept a connection",
              Attrs({{"error", std::strerror(errno)}}));
          poll(nullptr, 0, 100);
        }
        continue;
      }
      on_accept_(conn, peer, fds[i].fd);
    }
  }
}

}  // namespace micromongo
