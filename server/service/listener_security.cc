#include "service/listener_security.h"

#include <arpa/inet.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpcpp/security/server_credentials.h>
#include <strings.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "document/status.h"
#include "wire/transport.h"

namespace micromongo::service {
namespace {

constexpr std::string_view kBearer = "Bearer ";

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        StrCat("cannot read ", what, " ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Server credentials made of a core grpc_server_credentials object. gRPC's C++ API only
// lets TLS credentials carry an AuthMetadataProcessor; the core API lets plaintext ones
// carry it too, so that a token protects a loopback TCP listener without TLS as well.
class CoreServerCredentials final : public grpc::ServerCredentials {
 public:
  explicit CoreServerCredentials(grpc_server_credentials* creds) : creds_(creds) {}
  ~CoreServerCredentials() override { grpc_server_credentials_release(creds_); }

  // The processor is set on the core object (ListenerCredentials) before any port exists.
  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }

  grpc_server_credentials* creds_;
};

struct TokenProcessorState {
  std::string token;
  SecurityOptions options;
};

std::string_view SliceView(const grpc_slice& s) {
  return {reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(s)), GRPC_SLICE_LENGTH(s)};
}

// Runs inline on gRPC's thread before the call reaches any service (health and reflection
// included): a rejected call never runs a handler.
void ProcessToken(void* state, grpc_auth_context* /*context*/, const grpc_metadata* md,
                  size_t num_md, grpc_process_auth_metadata_done_cb cb, void* user_data) {
  const auto* s = static_cast<const TokenProcessorState*>(state);
  std::string_view path;
  std::string_view authorization;
  for (size_t i = 0; i < num_md; ++i) {
    std::string_view key = SliceView(md[i].key);
    if (key == ":path") path = SliceView(md[i].value);
    if (key == "authorization") authorization = SliceView(md[i].value);
  }
  absl::Status status = CheckToken(path, authorization, s->token, s->options);
  if (status.ok()) {
    cb(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_OK, nullptr);
  } else {
    // The message is copied by gRPC before cb returns.
    std::string message(status.message());
    cb(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_UNAUTHENTICATED, message.c_str());
  }
}

void DestroyTokenState(void* state) { delete static_cast<TokenProcessorState*>(state); }

}  // namespace

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of the longer input is visited whatever the contents; only the lengths
  // (not secret: a token's length is no help in guessing it) affect the time.
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path, "the token file");
  if (!text.ok()) return text.status();
  std::string token = std::move(*text);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' ||
                            token.back() == ' ' || token.back() == '\t')) {
    token.pop_back();
  }
  if (token.empty()) return absl::InvalidArgumentError(StrCat("the token file ", path, " is empty"));
  for (char c : token) {
    // It travels as an HTTP/2 header value after "Bearer ".
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(StrCat(
          "the token in ", path, " must be printable ASCII without spaces"));
    }
  }
  return token;
}

absl::Status CheckToken(std::string_view method, std::string_view authorization,
                        std::string_view token, const SecurityOptions& options) {
  if (options.exempt_health && method.rfind("/grpc.health.v1.Health/", 0) == 0) {
    return absl::OkStatus();
  }
  if (options.exempt_reflection &&
      (method.rfind("/grpc.reflection.v1alpha.ServerReflection/", 0) == 0 ||
       method.rfind("/grpc.reflection.v1.ServerReflection/", 0) == 0)) {
    return absl::OkStatus();
  }
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "[18 AuthenticationFailed] this server requires a token: send the metadata "
        "'authorization: Bearer <token>'");
  }
  if (authorization.size() < kBearer.size() ||
      strncasecmp(authorization.data(), kBearer.data(), kBearer.size()) != 0 ||
      !ConstantTimeEquals(authorization.substr(kBearer.size()), token)) {
    return absl::UnauthenticatedError("[18 AuthenticationFailed] the token is not valid");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::shared_ptr<grpc::ServerCredentials>>> ListenerCredentials(
    const std::vector<std::string>& listen, const SecurityOptions& options) {
  bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (tls && (options.tls_cert_file.empty() || options.tls_key_file.empty())) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!tls && !options.tls_client_ca_file.empty()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  bool any_tcp = false;
  for (const std::string& l : listen) {
    if (IsUnixAddress(l)) continue;
    any_tcp = true;
    if (!tls && !options.insecure && !IsLoopbackAddress(l)) {
      return absl::InvalidArgumentError(StrCat(
          "listening on ", l, " (not a loopback address) needs TLS (--tls-cert and "
          "--tls-key) or an explicit --insecure"));
    }
  }

  std::shared_ptr<grpc::ServerCredentials> tcp;
  if (any_tcp) {
    grpc_server_credentials* core = nullptr;
    if (tls) {
      absl::StatusOr<std::string> cert = ReadFile(options.tls_cert_file, "the TLS certificate");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadFile(options.tls_key_file, "the TLS key");
      if (!key.ok()) return key.status();
      std::string client_ca;
      if (!options.tls_client_ca_file.empty()) {
        absl::StatusOr<std::string> ca = ReadFile(options.tls_client_ca_file, "the client CA");
        if (!ca.ok()) return ca.status();
        client_ca = std::move(*ca);
      }
      if (cert->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        return absl::InvalidArgumentError(StrCat(options.tls_cert_file, " holds no PEM certificate"));
      }
      if (key->find("PRIVATE KEY-----") == std::string::npos) {
        return absl::InvalidArgumentError(StrCat(options.tls_key_file, " holds no PEM private key"));
      }
      // gRPC finds a key that is not the certificate's only when it adds the port, and
      // for a port of accepted connections it logs that and serves nothing: checked here,
      // so that the server stops at startup naming the file.
      if (auto checked = wire::TlsContext::Create(options.tls_cert_file, options.tls_key_file,
                                                  options.tls_client_ca_file);
          !checked.ok()) {
        return checked.status();
      }
      grpc_ssl_pem_key_cert_pair pair{key->c_str(), cert->c_str()};
      core = grpc_ssl_server_credentials_create_ex(
          client_ca.empty() ? nullptr : client_ca.c_str(), &pair, 1,
          client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
          nullptr);
    } else {
      core = grpc_insecure_server_credentials_create();
    }
    if (core == nullptr) return absl::InvalidArgumentError("gRPC refused the TLS credentials");
    if (!options.auth_token_file.empty()) {
      absl::StatusOr<std::string> token = ReadTokenFile(options.auth_token_file);
      if (!token.ok()) {
        grpc_server_credentials_release(core);
        return token.status();
      }
      auto* state = new TokenProcessorState{std::move(*token), options};
      grpc_server_credentials_set_auth_metadata_processor(
          core, grpc_auth_metadata_processor{ProcessToken, DestroyTokenState, state});
    }
    tcp = std::make_shared<CoreServerCredentials>(core);
  }

  std::vector<std::shared_ptr<grpc::ServerCredentials>> out;
  std::shared_ptr<grpc::ServerCredentials> local = grpc::InsecureServerCredentials();
  for (const std::string& l : listen) out.push_back(IsUnixAddress(l) ? local : tcp);
  return out;
}

}  // namespace micromongo::service
