#pragma once

// Listening sockets for the server's listeners, gRPC's (--listen) and the MongoDB wire
// protocol's (--mongodb-listen): both accept their own connections, so that each can count
// and cap them.

#include <sys/socket.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace micromongo {

struct ListenSockets {
  // Listening, close-on-exec sockets: one per address a TCP host resolves to ("localhost"
  // gives both 127.0.0.1 and ::1 where the machine has IPv6; all on the same port), one
  // for a unix socket.
  std::vector<int> fds;
  // The address as bound, with a TCP port 0 resolved: "127.0.0.1:41234",
  // "[::1]:41234", "unix:/run/x.sock".
  std::string address;
  // The unix socket's file, removed by the listener when it stops; empty otherwise.
  std::string unix_path;
};

// Binds and listens on "host:port" (port 0: any free port; "ipv4:", "ipv6:" and "dns:"
// prefixes as gRPC accepts them), "unix:/path" (a socket file left by a process that died
// is replaced) or "unix-abstract:name". Errors (HostUnreachable, BadValue) name the address.
absl::StatusOr<ListenSockets> BindListenSockets(const std::string& address);

// "127.0.0.1:5000", "[::1]:5000", or "unix socket".
std::string SockaddrString(const sockaddr_storage& addr);

}  // namespace micromongo
