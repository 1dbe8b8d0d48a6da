#pragma once

// The sockets of gRPC's listeners (--listen), accepted here rather than by gRPC: gRPC 1.51
// has no bound on the connections a server holds open, so each accepted connection is
// counted, and handed to gRPC through the ServerBuilder's external connection acceptor,
// which runs the listener's own credentials (TLS and the token work as on gRPC's ports).
// One connection past the cap is accepted and closed at once, with a log line, as the
// wire protocol's listener does. serverStatus counts the connections (connection_counts.h).

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace grpc {
class ServerBuilder;
class ServerCredentials;
}  // namespace grpc

namespace micromongo::service {

struct GrpcListenerOptions {
  // "host:port" (port 0: any free port), "unix:/path" or "unix-abstract:name".
  std::vector<std::string> addresses;
  // One per address (ListenerCredentials).
  std::vector<std::shared_ptr<grpc::ServerCredentials>> credentials;
  // Connections open at once across the listeners (--max-connections).
  int max_connections = 1000;
};

class GrpcListener {
 public:
  // Binds every address and registers its acceptor with `builder`; Start() after the
  // server it builds has started.
  static absl::StatusOr<std::unique_ptr<GrpcListener>> Bind(const GrpcListenerOptions& options,
                                                            grpc::ServerBuilder* builder);
  // Stops accepting and removes unix socket files; connections handed to gRPC stay
  // gRPC's until the server shuts down.
  ~GrpcListener();

  // Starts accepting. The server must have started: gRPC closes what it gets before.
  absl::Status Start();

  // The TCP port each address bound (0 for unix sockets), in the order given.
  const std::vector<int>& ports() const;

  GrpcListener(const GrpcListener&) = delete;
  GrpcListener& operator=(const GrpcListener&) = delete;

  class Impl;

 private:
  explicit GrpcListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace micromongo::service
