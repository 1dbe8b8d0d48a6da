#pragma once

namespace micromongo::bench {

// A child process answering 64-byte messages over a socket pair: the floor of any
// cross-process call (two context switches and two socket copies each way), for the
// serving-path ratios. Fork it before starting threads; the child only reads and writes.
class SocketPingPong {
 public:
  SocketPingPong();
  ~SocketPingPong();
  SocketPingPong(const SocketPingPong&) = delete;
  SocketPingPong& operator=(const SocketPingPong&) = delete;

  // One 64-byte round trip, in microseconds.
  double RoundTripMicros();

 private:
  int fd_ = -1;
  int pid_ = -1;
};

}  // namespace micromongo::bench
