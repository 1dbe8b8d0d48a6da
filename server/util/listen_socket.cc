#include "util/listen_socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "document/status.h"

namespace micromongo {
namespace {

constexpr int kBacklog = 128;

absl::Status Errno(std::string_view what, std::string_view address, int err) {
  return MongoError(kHostUnreachable, StrCat(what, " ", address, ": ", std::strerror(err)));
}

absl::StatusOr<ListenSockets> BindUnix(const std::string& address) {
  bool abstract = address.rfind("unix-abstract:", 0) == 0;
  std::string path = address.substr(abstract ? 14 : 5);
  if (!abstract && path.rfind("//", 0) == 0) path = path.substr(2);  // unix:///abs/path
  sockaddr_un un{};
  size_t room = sizeof un.sun_path - (abstract ? 1 : 0);
  if (path.empty() || path.size() >= room) {
    return MongoError(kBadValue, StrCat("unix socket path too long or empty: ", address));
  }
  if (!abstract) {
    // A socket file left by a worker that did not exit cleanly; MongoDB removes its own
    // /tmp/mongodb-<port>.sock the same way (and gRPC did for its unix listeners).
    struct stat st{};
    if (stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path.c_str());
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket", address, errno);
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path + (abstract ? 1 : 0), path.data(), path.size());
  socklen_t len = abstract ? static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + path.size())
                           : static_cast<socklen_t>(sizeof un);
  if (bind(fd, reinterpret_cast<sockaddr*>(&un), len) != 0 || listen(fd, kBacklog) != 0) {
    int err = errno;
    close(fd);
    return Errno("cannot listen on", address, err);
  }
  ListenSockets out;
  out.fds.push_back(fd);
  out.address = address;
  if (!abstract) out.unix_path = path;
  return out;
}

void SetPort(sockaddr* addr, uint16_t port) {
  if (addr->sa_family == AF_INET) reinterpret_cast<sockaddr_in*>(addr)->sin_port = htons(port);
  if (addr->sa_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(addr)->sin6_port = htons(port);
}

uint16_t PortOf(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

}  // namespace

std::string SockaddrString(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return StrCat(host, ":", ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return StrCat("[", host, "]:", ntohs(in6->sin6_port));
  }
  return "unix socket";
}

absl::StatusOr<ListenSockets> BindListenSockets(const std::string& address) {
  if (address.rfind("unix:", 0) == 0 || address.rfind("unix-abstract:", 0) == 0) return BindUnix(address);
  std::string_view rest = address;
  for (std::string_view scheme : {"ipv4:", "ipv6:", "dns:///", "dns:"}) {
    if (rest.rfind(scheme, 0) == 0) {
      rest.remove_prefix(scheme.size());
      break;
    }
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return MongoError(kBadValue, StrCat("expected host:port, got ", address));
  std::string host(rest.substr(0, colon));
  std::string port(rest.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return MongoError(kBadValue, StrCat("cannot resolve ", address, ": ", gai_strerror(rc)));
  }
  int count = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) ++count;
  ListenSockets out;
  uint16_t bound_port = 0;
  int first_error = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      if (first_error == 0) first_error = errno;
      continue;  // e.g. no IPv6 in this container: the other family serves
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // Beside an IPv4 socket on the same port, an IPv6 one takes IPv6 only.
    if (a->ai_family == AF_INET6 && count > 1) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bound_port != 0) SetPort(a->ai_addr, bound_port);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, kBacklog) != 0) {
      int err = errno;
      close(fd);
      // A second family that cannot have the port is skipped; any failure of the first
      // address is the listener's failure (the port is taken, or not ours to take).
      if (out.fds.empty() && (err == EADDRINUSE || err == EACCES)) {
        freeaddrinfo(found);
        return Errno("cannot listen on", address, err);
      }
      if (first_error == 0) first_error = err;
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    if (out.fds.empty()) {
      bound_port = PortOf(bound);
      out.address = SockaddrString(bound);
    }
    out.fds.push_back(fd);
  }
  freeaddrinfo(found);
  if (out.fds.empty()) return Errno("cannot listen on", address, first_error != 0 ? first_error : EADDRNOTAVAIL);
  return out;
}

}  // namespace micromongo
