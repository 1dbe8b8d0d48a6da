#include "wire/transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "document/status.h"

namespace micromongo::wire {
namespace {

bool SocketReadable(int fd) {
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  return poll(&p, 1, 0) > 0;
}

// Reads through a buffer: a request's header and body (read one after the other) usually
// arrive together and cost one read() instead of two.
class Plain final : public Transport {
 public:
  explicit Plain(int fd) : fd_(fd) {}

  bool ReadFull(char* p, size_t n) override {
    size_t buffered = std::min(n, end_ - start_);
    std::memcpy(p, buffer_ + start_, buffered);
    start_ += buffered;
    p += buffered;
    n -= buffered;
    while (n > 0) {
      // Large remainders go straight to the caller; small ones refill the buffer.
      bool direct = n >= sizeof buffer_;
      ssize_t got = read(fd_, direct ? p : buffer_, direct ? n : sizeof buffer_);
      if (got == 0) return false;
      if (got < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      size_t used = static_cast<size_t>(got);
      if (!direct) {
        start_ = 0;
        end_ = used;
        used = std::min(n, end_);
        std::memcpy(p, buffer_, used);
        start_ = used;
      }
      p += used;
      n -= used;
    }
    return true;
  }

  bool WriteFull(std::string_view bytes) override {
    while (!bytes.empty()) {
      ssize_t put = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (put < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      bytes.remove_prefix(static_cast<size_t>(put));
    }
    return true;
  }

  bool InputReady() override { return start_ < end_ || SocketReadable(fd_); }

 private:
  int fd_;
  char buffer_[16 << 10];
  size_t start_ = 0, end_ = 0;  // the unread bytes of buffer_
};

class Tls final : public Transport {
 public:
  explicit Tls(SSL* ssl) : ssl_(ssl) {}
  ~Tls() override {
    // close_notify, so that the client sees an orderly end; failures do not matter here.
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }

  bool ReadFull(char* p, size_t n) override {
    while (n > 0) {
      size_t got = 0;
      if (SSL_read_ex(ssl_, p, n, &got) != 1) return false;
      p += got;
      n -= got;
    }
    return true;
  }

  bool WriteFull(std::string_view bytes) override {
    while (!bytes.empty()) {
      size_t put = 0;
      if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &put) != 1) return false;
      bytes.remove_prefix(put);
    }
    return true;
  }

  bool InputReady() override { return SSL_pending(ssl_) > 0 || SocketReadable(SSL_get_fd(ssl_)); }

 private:
  SSL* ssl_;
};

// OpenSSL's queued errors as one line ("error:0A000086:SSL routines::certificate verify
// failed; ..."), clearing the queue.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

void SetReceiveTimeout(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

}  // namespace

std::unique_ptr<Transport> PlainTransport(int fd) { return std::make_unique<Plain>(fd); }

struct TlsContext::Impl {
  SSL_CTX* ctx = nullptr;
  ~Impl() { SSL_CTX_free(ctx); }
};

TlsContext::TlsContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsContext::~TlsContext() = default;

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::Create(const std::string& cert_file,
                                                               const std::string& key_file,
                                                               const std::string& client_ca_file) {
  ERR_clear_error();
  auto impl = std::make_unique<Impl>();
  impl->ctx = SSL_CTX_new(TLS_server_method());
  if (impl->ctx == nullptr) return MongoError(kInternalError, StrCat("TLS: ", OpenSslErrors()));
  SSL_CTX* ctx = impl->ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return MongoError(kBadValue, StrCat("cannot load the TLS certificate ", cert_file, ": ", OpenSslErrors()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return MongoError(kBadValue, StrCat("cannot load the TLS private key ", key_file, ": ", OpenSslErrors()));
  }
  if (!client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, client_ca_file.c_str(), nullptr) != 1) {
      return MongoError(kBadValue,
                        StrCat("cannot load the TLS client CA ", client_ca_file, ": ", OpenSslErrors()));
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return std::unique_ptr<TlsContext>(new TlsContext(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Transport>> TlsContext::Accept(int fd, int timeout_ms) const {
  ERR_clear_error();
  SSL* ssl = SSL_new(impl_->ctx);
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return MongoError(kInternalError, StrCat("TLS: ", OpenSslErrors()));
  }
  // A client that connects and says nothing must not hold its thread forever.
  SetReceiveTimeout(fd, timeout_ms);
  int rc = SSL_accept(ssl);
  SetReceiveTimeout(fd, 0);
  if (rc != 1) {
    int reason = SSL_get_error(ssl, rc);
    std::string why = reason == SSL_ERROR_SYSCALL || reason == SSL_ERROR_ZERO_RETURN
                          ? std::string("the client closed the connection or timed out")
                          : OpenSslErrors();
    SSL_free(ssl);
    return MongoError(kProtocolError, StrCat("TLS handshake failed: ", why));
  }
  return std::unique_ptr<Transport>(new Tls(ssl));
}

}  // namespace micromongo::wire
