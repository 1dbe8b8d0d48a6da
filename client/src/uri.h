#pragma once

// mongodb:// connection strings, as far as micro-mongo uses them.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace micromongo::internal {

struct ParsedUri {
  std::string host;         // first host, without port
  int port = 0;             // 0 if the URI names none
  std::string database;     // the path's database, "test" if none
  bool use_worker = false;  // ?useWorker=true
  // ?mongodbListener=true: the own worker (useWorker) also speaks MongoDB's wire protocol
  // (WorkerOptions::mongodb_listener). Unset: as ClientOptions::worker_options says.
  std::optional<bool> mongodb_listener;
  // Options of a connection to a server's host:port (ConnectOptions): tls (or ssl),
  // tlsCAFile, tlsCertificateKeyFile, authToken, authTokenFile (the token read from a file).
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_certificate_key_file;
  std::string auth_token;
  std::string auth_token_file;
};

// Throws Error (code 72, InvalidOptions) on malformed URIs.
ParsedUri ParseUri(std::string_view uri);

}  // namespace micromongo::internal
