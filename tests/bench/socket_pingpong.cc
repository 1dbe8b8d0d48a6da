#include "socket_pingpong.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace micromongo::bench {
namespace {

constexpr size_t kMessage = 64;

// Reads or writes exactly kMessage bytes; false at EOF or on an error.
bool Full(int fd, char* buf, bool write_side) {
  size_t done = 0;
  while (done < kMessage) {
    ssize_t n = write_side ? ::write(fd, buf + done, kMessage - done)
                           : ::read(fd, buf + done, kMessage - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

SocketPingPong::SocketPingPong() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
    std::perror("socketpair");
    std::exit(1);
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid_ == 0) {
    ::close(fds[0]);
    char buf[kMessage];
    while (Full(fds[1], buf, false) && Full(fds[1], buf, true)) {
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  fd_ = fds[0];
}

SocketPingPong::~SocketPingPong() {
  ::close(fd_);  // the child reads EOF and exits
  int status;
  ::waitpid(pid_, &status, 0);
}

double SocketPingPong::RoundTripMicros() {
  char buf[kMessage] = {'p'};
  auto t = std::chrono::steady_clock::now();
  if (!Full(fd_, buf, true) || !Full(fd_, buf, false)) {
    std::fprintf(stderr, "socket ping-pong failed\n");
    std::exit(1);
  }
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace micromongo::bench
