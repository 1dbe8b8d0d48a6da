#pragma once

// The MongoDB wire protocol listener of micromongo-server (--mongodb-listen): TCP and unix
// sockets, one thread per connection (MongoDB's own model), OP_MSG commands and the legacy
// OP_QUERY handshake run through a CommandRunner. A malformed message (bad length, unknown
// opcode, truncated section, failed checksum) closes that connection with a log line;
// every other connection keeps being served.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "wire/command_runner.h"

namespace micromongo::wire {

struct ListenerOptions {
  // "host:port" (port 0: any free port) or "unix:/path/to.sock".
  std::vector<std::string> addresses;
  // PEM certificate chain and private key (--tls-cert, --tls-key): both or neither. With
  // them every TCP listener speaks TLS (unix sockets stay plaintext, as with gRPC).
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM CA bundle (--tls-client-ca): TLS clients must present a certificate it signed.
  std::string tls_client_ca_file;
  // Without TLS, TCP listeners must bind a loopback address unless this is set.
  bool insecure = false;
  // TCP connections must authenticate (SCRAM-SHA-256 as kAuthUser, whose password the
  // runner knows: CommandRunner::SetPassword) before other commands run.
  bool require_authentication = false;
  // Connections open at once; one more is accepted and closed at once, with a log line.
  int max_connections = 1000;
  // How long a connection's thread polls for the client's next request before it blocks
  // (AdaptiveSpin; --setParameter wireSpinMicros). Zero: it blocks at once.
  std::chrono::microseconds spin{50};
};

class Listener {
 public:
  // Binds every address and starts accepting. `runner` must outlive the listener.
  static absl::StatusOr<std::unique_ptr<Listener>> Start(const ListenerOptions& options,
                                                         const CommandRunner* runner);
  // Stops accepting, closes every connection and joins their threads.
  ~Listener();

  // The bound addresses, in the order given, with TCP ports resolved ("127.0.0.1:41234").
  const std::vector<std::string>& addresses() const;

  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  class Impl;

 private:
  explicit Listener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace micromongo::wire
