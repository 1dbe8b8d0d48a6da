#include "wire/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "document/status.h"
#include "util/address.h"
#include "util/log.h"
#include "wire/message.h"
#include "wire/transport.h"

namespace micromongo::wire {
namespace {

std::atomic<int64_t> next_connection_id{1};

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

absl::Status Errno(std::string_view what, std::string_view address) {
  return MongoError(kHostUnreachable, StrCat(what, " ", address, ": ", std::strerror(errno)));
}

// Binds and listens; returns the socket and its resolved address.
absl::StatusOr<std::pair<int, std::string>> Bind(const std::string& address, bool tls, bool insecure) {
  if (IsUnixAddress(address)) {
    if (address.rfind("unix:", 0) != 0) {
      return MongoError(kBadValue, StrCat("unsupported listener address ", address));
    }
    std::string path = address.substr(5);
    sockaddr_un un{};
    if (path.empty() || path.size() >= sizeof un.sun_path) {
      return MongoError(kBadValue, StrCat("unix socket path too long or empty: ", path));
    }
    struct stat st{};
    // A socket file left by a worker that did not exit cleanly; MongoDB removes its own
    // /tmp/mongodb-<port>.sock the same way.
    if (stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path.c_str());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Errno("socket", address);
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    if (bind(fd, reinterpret_cast<sockaddr*>(&un), sizeof un) != 0 || listen(fd, 128) != 0) {
      absl::Status s = Errno("cannot listen on", address);
      close(fd);
      return s;
    }
    return std::pair{fd, address};
  }
  if (!tls && !insecure && !IsLoopbackAddress(address)) {
    return MongoError(kBadValue,
                      StrCat("--mongodb-listen ", address, " is not a loopback address: a TCP listener "
                             "elsewhere needs --tls-cert and --tls-key (or --insecure to serve "
                             "plaintext there anyway)"));
  }
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return MongoError(kBadValue, StrCat("expected host:port, got ", address));
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return MongoError(kBadValue, StrCat("cannot resolve ", address, ": ", gai_strerror(rc)));
  }
  int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool ok = fd >= 0 && bind(fd, found->ai_addr, found->ai_addrlen) == 0 && listen(fd, 128) == 0;
  freeaddrinfo(found);
  if (!ok) {
    absl::Status s = Errno("cannot listen on", address);
    if (fd >= 0) close(fd);
    return s;
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  return std::pair{fd, SockaddrString(bound)};
}

}  // namespace

class Listener::Impl {
 public:
  Impl(const ListenerOptions& options, const CommandRunner* runner)
      : options_(options), runner_(runner) {}

  ~Impl() {
    stopping_ = true;
    if (wake_[1] >= 0) {
      char c = 0;
      [[maybe_unused]] ssize_t n = write(wake_[1], &c, 1);
    }
    if (acceptor_.joinable()) acceptor_.join();
    for (int fd : sockets_) close(fd);
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Unblocks each connection's read; the threads then exit and close their sockets.
      for (auto& [fd, thread] : connections_) shutdown(fd, SHUT_RDWR);
    }
    while (true) {
      std::thread t;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (connections_.empty() && finished_.empty()) break;
        if (!finished_.empty()) {
          t = std::move(finished_.back());
          finished_.pop_back();
        } else {
          auto it = connections_.begin();
          t = std::move(it->second);
          connections_.erase(it);
        }
      }
      if (t.joinable()) t.join();
    }
    for (int fd : wake_) {
      if (fd >= 0) close(fd);
    }
    for (const std::string& a : addresses_) {
      if (a.rfind("unix:", 0) == 0) unlink(a.substr(5).c_str());
    }
  }

  absl::Status Start() {
    if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
      return MongoError(kBadValue, "--tls-cert and --tls-key go together");
    }
    if (!options_.tls_cert_file.empty()) {
      auto tls = TlsContext::Create(options_.tls_cert_file, options_.tls_key_file,
                                    options_.tls_client_ca_file);
      if (!tls.ok()) return tls.status();
      tls_ = *std::move(tls);
    }
    if (pipe2(wake_, O_CLOEXEC) != 0) return Errno("pipe", "");
    for (const std::string& address : options_.addresses) {
      auto bound = Bind(address, tls_ != nullptr, options_.insecure);
      if (!bound.ok()) return bound.status();
      sockets_.push_back(bound->first);
      addresses_.push_back(bound->second);
    }
    acceptor_ = std::thread([this] { AcceptLoop(); });
    return absl::OkStatus();
  }

  const std::vector<std::string>& addresses() const { return addresses_; }

 private:
  void AcceptLoop() {
    SetLogContext("listener");
    std::vector<pollfd> fds;
    for (int fd : sockets_) fds.push_back({fd, POLLIN, 0});
    fds.push_back({wake_[0], POLLIN, 0});
    while (!stopping_) {
      if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
      if (stopping_ || (fds.back().revents & POLLIN)) break;
      for (size_t i = 0; i + 1 < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        sockaddr_storage peer{};
        socklen_t len = sizeof peer;
        int conn = accept4(fds[i].fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (conn < 0) continue;
        Admit(conn, peer);
      }
      ReapFinished();
    }
  }

  void Admit(int fd, const sockaddr_storage& peer) {
    std::lock_guard<std::mutex> lock(mu_);
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      Log(LogSeverity::kWarning, LogComponent::kNetwork,
          "Connection refused because too many connections are open",
          Attrs({{"remote", SockaddrString(peer)},
                 {"max", std::to_string(options_.max_connections)}}));
      close(fd);
      return;
    }
    if (peer.ss_family != AF_UNIX) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    bool tcp = peer.ss_family != AF_UNIX;
    int64_t id = next_connection_id.fetch_add(1);
    std::string remote = SockaddrString(peer);
    connections_.emplace(fd, std::thread([this, fd, id, remote, tcp] {
      ConnectionInfo info{.id = id, .peer = remote, .auth_required = tcp && options_.require_authentication};
      Serve(fd, tcp, &info);
      std::lock_guard<std::mutex> lock(mu_);
      auto it = connections_.find(fd);
      if (it != connections_.end()) {
        finished_.push_back(std::move(it->second));
        connections_.erase(it);
      }
      close(fd);
    }));
  }

  // Threads of connections that ended are joined by the accept loop (or the destructor).
  void ReapFinished() {
    std::vector<std::thread> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      done.swap(finished_);
    }
    for (std::thread& t : done) t.join();
  }

  void Serve(int fd, bool tcp, ConnectionInfo* connection) {
    const ConnectionInfo& info = *connection;
    SetLogContext(StrCat("conn", info.id));
    std::unique_ptr<Transport> transport;
    if (tcp && tls_ != nullptr) {
      auto accepted = tls_->Accept(fd);
      if (!accepted.ok()) {
        Log(LogSeverity::kInfo, LogComponent::kNetwork, "Closing a connection whose TLS handshake failed",
            Attrs({{"remote", info.peer}, {"error", std::string(accepted.status().message())}}));
        return;
      }
      transport = *std::move(accepted);
    } else {
      transport = PlainTransport(fd);
    }
    int32_t next_request_id = 1;
    std::string message;
    while (!stopping_) {
      char header_bytes[kHeaderBytes];
      if (!transport->ReadFull(header_bytes, kHeaderBytes)) return;  // the client hung up
      auto header = ParseHeader(std::string_view(header_bytes, kHeaderBytes));
      if (!header.ok()) return Refuse(info, header.status());
      message.assign(header_bytes, kHeaderBytes);
      message.resize(static_cast<size_t>(header->length));
      if (!transport->ReadFull(message.data() + kHeaderBytes, message.size() - kHeaderBytes)) return;
      std::string reply;
      if (header->op_code == kOpMsg) {
        auto msg = ParseOpMsg(message);
        if (!msg.ok()) return Refuse(info, msg.status());
        std::string body = runner_->Run(Command(msg->body, &msg->sequences), connection);
        if (msg->flags & kMoreToCome) continue;  // the client wants no reply (w: 0)
        reply = BuildOpMsg(next_request_id++, header->request_id, 0, body);
      } else if (header->op_code == kOpQuery) {
        auto query = ParseOpQuery(message);
        if (!query.ok()) return Refuse(info, query.status());
        reply = BuildOpReply(next_request_id++, header->request_id,
                             runner_->RunLegacy(query->query, connection));
      } else {
        return Refuse(info, MongoError(kProtocolError, StrCat("unsupported opcode ", header->op_code)));
      }
      if (!transport->WriteFull(reply)) return;
    }
  }

  static void Refuse(const ConnectionInfo& info, const absl::Status& why) {
    Log(LogSeverity::kWarning, LogComponent::kNetwork, "Closing a connection after a malformed message",
        Attrs({{"remote", info.peer}, {"error", std::string(why.message())}}));
  }

  ListenerOptions options_;
  const CommandRunner* runner_;
  std::unique_ptr<TlsContext> tls_;
  std::vector<int> sockets_;
  std::vector<std::string> addresses_;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::unordered_map<int, std::thread> connections_;  // by socket
  std::vector<std::thread> finished_;
};

Listener::Listener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Listener::~Listener() = default;

absl::StatusOr<std::unique_ptr<Listener>> Listener::Start(const ListenerOptions& options,
                                                          const CommandRunner* runner) {
  auto impl = std::make_unique<Impl>(options, runner);
  if (absl::Status s = impl->Start(); !s.ok()) return s;
  return std::unique_ptr<Listener>(new Listener(std::move(impl)));
}

const std::vector<std::string>& Listener::addresses() const { return impl_->addresses(); }

}  // namespace micromongo::wire
