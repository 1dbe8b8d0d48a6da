#pragma once

// The byte stream of one wire protocol connection: the socket itself, or TLS over it
// (OpenSSL, which only transport.cc sees). Blocking, one thread per connection.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace micromongo::wire {

class Transport {
 public:
  virtual ~Transport() = default;
  // Reads exactly n bytes; false when the peer hung up or the connection failed.
  virtual bool ReadFull(char* p, size_t n) = 0;
  // Writes all of `bytes`; false when the connection failed.
  virtual bool WriteFull(std::string_view bytes) = 0;
  // Whether a read would find bytes (or the end) without waiting. Never blocks.
  virtual bool InputReady() = 0;
};

// The socket as it is. Does not own `fd`.
std::unique_ptr<Transport> PlainTransport(int fd);

// A server's TLS configuration: certificate chain, private key and, for mutual TLS, the CA
// bundle that client certificates must chain to (then a client without one is refused).
// TLS 1.2 or newer. Thread-safe: one context serves every connection.
class TlsContext {
 public:
  static absl::StatusOr<std::unique_ptr<TlsContext>> Create(const std::string& cert_file,
                                                            const std::string& key_file,
                                                            const std::string& client_ca_file);
  ~TlsContext();

  // Runs the server side of the handshake on a connected socket (giving up after
  // `timeout_ms` without progress); the error says why, for the log. The transport does
  // not own `fd`.
  absl::StatusOr<std::unique_ptr<Transport>> Accept(int fd, int timeout_ms = 30'000) const;

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

 private:
  struct Impl;
  explicit TlsContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace micromongo::wire
