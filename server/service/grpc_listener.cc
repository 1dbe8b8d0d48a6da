#include "service/grpc_listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpcpp/server_builder.h>

#include <mutex>
#include <unordered_map>

#include "document/status.h"
#include "util/accept_loop.h"
#include "util/address.h"
#include "util/connection_counts.h"
#include "util/listen_socket.h"
#include "util/log.h"

namespace micromongo::service {

class GrpcListener::Impl {
 public:
  explicit Impl(int max_connections)
      : max_connections_(max_connections),
        counts_source_(std::make_unique<ConnectionCountsSource>([this] { return Counts(); })) {}

  ~Impl() {
    counts_source_.reset();
    loop_.reset();  // no connection is handed over after this
    for (int fd : pending_fds_) close(fd);
    for (const std::string& path : unix_paths_) unlink(path.c_str());
  }

  absl::Status Bind(const GrpcListenerOptions& options, grpc::ServerBuilder* builder) {
    for (size_t i = 0; i < options.addresses.size(); ++i) {
      auto bound = BindListenSockets(options.addresses[i]);
      if (!bound.ok()) return bound.status();
      acceptors_.push_back(builder->experimental().AddExternalConnectionAcceptor(
          grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD, options.credentials[i]));
      for (int fd : bound->fds) acceptor_of_[fd] = acceptors_.back().get();
      pending_fds_.insert(pending_fds_.end(), bound->fds.begin(), bound->fds.end());
      if (!bound->unix_path.empty()) unix_paths_.push_back(bound->unix_path);
      ports_.push_back(IsUnixAddress(options.addresses[i])
                           ? 0
                           : std::stoi(bound->address.substr(bound->address.rfind(':') + 1)));
    }
    return absl::OkStatus();
  }

  absl::Status Start() {
    // gRPC reads the sockets it is given from its own pollers: they must not block.
    auto loop = AcceptLoop::Start(std::move(pending_fds_), SOCK_NONBLOCK, "grpcListener",
                                  [this](int fd, const sockaddr_storage& peer, int listen_fd) {
                                    Admit(fd, peer, listen_fd);
                                  });
    pending_fds_.clear();
    if (!loop.ok()) return loop.status();
    loop_ = *std::move(loop);
    return absl::OkStatus();
  }

  const std::vector<int>& ports() const { return ports_; }

  ConnectionCounts Counts() {
    std::lock_guard<std::mutex> l(mu_);
    Prune();
    return {.current = static_cast<int64_t>(open_.size()), .max = max_connections_,
            .total_created = created_, .rejected = rejected_};
  }

 private:
  // What identifies an open socket: its descriptor is reused once gRPC closes it.
  struct SocketId {
    dev_t dev;
    ino_t ino;
    bool operator==(const SocketId&) const = default;
  };

  static bool Identify(int fd, SocketId* id) {
    struct stat st{};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
    *id = {st.st_dev, st.st_ino};
    return true;
  }

  // Forgets the connections gRPC has closed: their descriptors are closed, or now name
  // something else.
  void Prune() {
    for (auto it = open_.begin(); it != open_.end();) {
      SocketId now;
      if (Identify(it->first, &now) && now == it->second) {
        ++it;
      } else {
        it = open_.erase(it);
      }
    }
  }

  void Admit(int fd, const sockaddr_storage& peer, int listen_fd) {
    SocketId id;
    {
      std::lock_guard<std::mutex> l(mu_);
      open_.erase(fd);  // the descriptor is free again, so its last connection is gone
      if (static_cast<int>(open_.size()) >= max_connections_) Prune();
      if (static_cast<int>(open_.size()) >= max_connections_ || !Identify(fd, &id)) {
        Log(LogSeverity::kWarning, LogComponent::kNetwork,
            "Connection refused because too many connections are open",
            Attrs({{"remote", SockaddrString(peer)}, {"max", std::to_string(max_connections_)}}));
        close(fd);
        ++rejected_;
        return;
      }
      open_[fd] = id;
      ++created_;
    }
    if (peer.ss_family != AF_UNIX) {
      // gRPC sets this on the sockets it accepts itself, not on those handed to it.
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters p;
    p.listener_fd = listen_fd;
    p.fd = fd;
    acceptor_of_.at(listen_fd)->HandleNewConnection(&p);
  }

  const int max_connections_;
  std::vector<std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor>> acceptors_;
  std::unordered_map<int, grpc::experimental::ExternalConnectionAcceptor*> acceptor_of_;  // by listening socket
  std::vector<int> pending_fds_;  // listening sockets until Start
  std::vector<std::string> unix_paths_;
  std::vector<int> ports_;
  std::unique_ptr<AcceptLoop> loop_;
  std::mutex mu_;
  std::unordered_map<int, SocketId> open_;  // connections handed to gRPC, by descriptor
  int64_t created_ = 0, rejected_ = 0;
  std::unique_ptr<ConnectionCountsSource> counts_source_;  // for serverStatus
};

GrpcListener::GrpcListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcListener::~GrpcListener() = default;

absl::StatusOr<std::unique_ptr<GrpcListener>> GrpcListener::Bind(const GrpcListenerOptions& options,
                                                                 grpc::ServerBuilder* builder) {
  if (options.credentials.size() != options.addresses.size()) {
    return MongoError(kInternalError, "one set of credentials per listener");
  }
  auto impl = std::make_unique<Impl>(options.max_connections);
  if (absl::Status s = impl->Bind(options, builder); !s.ok()) return s;
  return std::unique_ptr<GrpcListener>(new GrpcListener(std::move(impl)));
}

absl::Status GrpcListener::Start() { return impl_->Start(); }

const std::vector<int>& GrpcListener::ports() const { return impl_->ports(); }

}  // namespace micromongo::service
