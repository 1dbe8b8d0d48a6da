#pragma once

// Who may reach a listener: TLS (optionally mutual) and bearer-token authentication for TCP
// listeners, and the rule that only loopback listeners may go without TLS unless the
// operator says --insecure. Unix-socket listeners are private to the machine (a
// WorkerBridge's socket lives in a 0700 directory) and need neither.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/address.h"

namespace grpc {
class ServerCredentials;
}

namespace micromongo::service {

struct SecurityOptions {
  // PEM files of the server's certificate chain and private key (--tls-cert, --tls-key):
  // both or neither. With them every TCP listener speaks TLS.
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM CA bundle (--tls-client-ca): clients must present a certificate it signed.
  std::string tls_client_ca_file;
  // --insecure: allow plaintext TCP listeners on non-loopback addresses.
  bool insecure = false;
  // --auth-token-file: every RPC on a TCP listener needs "authorization: Bearer <token>".
  std::string auth_token_file;
  // Services that need no token (--auth-exempt): the health check by default, so that
  // orchestrators' probes work without the secret; reflection needs the token by default.
  bool exempt_health = true;
  bool exempt_reflection = false;
};


// Compares in time that depends only on the lengths, not on where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The token of a token file: its content without trailing whitespace. Errors name the file.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// Whether a call to `method` ("/pkg.Service/Method") with the given value of its
// `authorization` metadata (empty when absent) may proceed. The error is UNAUTHENTICATED
// with MongoDB's 18 AuthenticationFailed in its message.
absl::Status CheckToken(std::string_view method, std::string_view authorization,
                        std::string_view token, const SecurityOptions& options);

// Checks the options against the listeners (TLS files given in pairs and readable,
// non-loopback TCP listeners only with TLS or --insecure) and builds the credentials of
// each listener, in order. The returned objects must outlive the server's start.
absl::StatusOr<std::vector<std::shared_ptr<grpc::ServerCredentials>>> ListenerCredentials(
    const std::vector<std::string>& listen, const SecurityOptions& options);

}  // namespace micromongo::service
