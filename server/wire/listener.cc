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
#include "util/accept_loop.h"
#include "util/address.h"
#include "util/connection_counts.h"
#include "util/listen_socket.h"
#include "util/log.h"
#include "common/adaptive_spin.h"
#include "wire/message.h"
#include "wire/transport.h"

namespace micromongo::wire {
namespace {

std::atomic<int64_t> next_connection_id{1};

// Binds and listens, after the loopback rule for plaintext TCP listeners.
absl::StatusOr<ListenSockets> Bind(const std::string& address, bool tls, bool insecure) {
  if (IsUnixAddress(address) && address.rfind("unix:", 0) != 0) {
    return MongoError(kBadValue, StrCat("unsupported listener address ", address));
  }
  if (!IsUnixAddress(address) && !tls && !insecure && !IsLoopbackAddress(address)) {
    return MongoError(kBadValue,
                      StrCat("--mongodb-listen ", address, " is not a loopback address: a TCP listener "
                             "elsewhere needs --tls-cert and --tls-key (or --insecure to serve "
                             "plaintext there anyway)"));
  }
  return BindListenSockets(address);
}

}  // namespace

class Listener::Impl {
 public:
  Impl(const ListenerOptions& options, const CommandRunner* runner)
      : options_(options),
        runner_(runner),
        counts_source_(std::make_unique<ConnectionCountsSource>([this] {
          std::lock_guard<std::mutex> lock(mu_);
          return ConnectionCounts{.current = static_cast<int64_t>(connections_.size()),
                                  .max = options_.max_connections, .total_created = created_,
                                  .rejected = rejected_};
        })) {}

  ~Impl() {
    counts_source_.reset();
    stopping_ = true;
    loop_.reset();  // no connection is admitted after this
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
    for (const std::string& path : unix_paths_) unlink(path.c_str());
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
    std::vector<int> fds;
    for (const std::string& address : options_.addresses) {
      auto bound = Bind(address, tls_ != nullptr, options_.insecure);
      if (!bound.ok()) {
        for (int fd : fds) close(fd);
        return bound.status();
      }
      fds.insert(fds.end(), bound->fds.begin(), bound->fds.end());
      addresses_.push_back(bound->address);
      if (!bound->unix_path.empty()) unix_paths_.push_back(bound->unix_path);
    }
    auto loop = AcceptLoop::Start(std::move(fds), 0, "listener",
                                  [this](int fd, const sockaddr_storage& peer, int) { Admit(fd, peer); });
    if (!loop.ok()) return loop.status();
    loop_ = *std::move(loop);
    return absl::OkStatus();
  }

  const std::vector<std::string>& addresses() const { return addresses_; }

 private:
  void Admit(int fd, const sockaddr_storage& peer) {
    ReapFinished();
    std::lock_guard<std::mutex> lock(mu_);
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      Log(LogSeverity::kWarning, LogComponent::kNetwork,
          "Connection refused because too many connections are open",
          Attrs({{"remote", SockaddrString(peer)},
                 {"max", std::to_string(options_.max_connections)}}));
      close(fd);
      ++rejected_;
      return;
    }
    ++created_;
    if (peer.ss_family != AF_UNIX) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    bool tcp = peer.ss_family != AF_UNIX;
    int64_t id = next_connection_id.fetch_add(1);
    std::string remote = SockaddrString(peer);
    std::string local = LocalAddress(fd);
    connections_.emplace(fd, std::thread([this, fd, id, remote, local, tcp] {
      ConnectionInfo info{.id = id, .peer = remote, .local = local,
                          .auth_required = tcp && options_.require_authentication};
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

  // The address the client reached: host:port, or a unix socket's path (as drivers name
  // hosts).
  static std::string LocalAddress(int fd) {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) return "";
    if (local.ss_family == AF_UNIX) {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&local);
      return std::string(un->sun_path, strnlen(un->sun_path, sizeof un->sun_path));
    }
    return SockaddrString(local);
  }

  // Threads of connections that ended are joined when the next connection comes (or by the
  // destructor).
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
    AdaptiveSpin spin(options_.spin);
    while (!stopping_) {
      char header_bytes[kHeaderBytes];
      spin.Wait([&] { return transport->InputReady(); });
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
        if (connection->close) return;  // a fail point's closeConnection
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
  std::vector<std::string> addresses_;
  std::vector<std::string> unix_paths_;  // removed when the listener stops
  std::atomic<bool> stopping_{false};
  std::unique_ptr<AcceptLoop> loop_;
  std::mutex mu_;
  std::unordered_map<int, std::thread> connections_;  // by socket
  std::vector<std::thread> finished_;
  int64_t created_ = 0, rejected_ = 0;  // under mu_
  std::unique_ptr<ConnectionCountsSource> counts_source_;  // for serverStatus
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
