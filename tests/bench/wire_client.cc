#include "wire_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace micromongo::bench {
namespace {

void Put32(std::string* out, int32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

void ReadFull(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t got = read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw std::runtime_error("wire client: connection closed");
    p += got;
    n -= static_cast<size_t>(got);
  }
}

}  // namespace

WireClient::WireClient(const std::string& socket_path) {
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) throw std::runtime_error("wire client: path too long");
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("wire client: cannot connect to " + socket_path + ": " + std::strerror(errno));
  }
}

WireClient::~WireClient() {
  if (fd_ >= 0) close(fd_);
}

std::string WireClient::Run(const std::string& body, std::string_view sequence_id,
                            const std::vector<std::string>* documents) {
  out_.clear();
  Put32(&out_, 0);
  Put32(&out_, next_request_id_++);
  Put32(&out_, 0);
  Put32(&out_, 2013);  // OP_MSG
  Put32(&out_, 0);     // flags
  out_.push_back(0);   // body section
  out_ += body;
  if (documents != nullptr) {
    size_t at = out_.size();
    out_.push_back(1);  // document sequence section
    Put32(&out_, 0);
    out_.append(sequence_id);
    out_.push_back('\0');
    for (const std::string& d : *documents) out_ += d;
    int32_t size = static_cast<int32_t>(out_.size() - at - 1);
    std::memcpy(out_.data() + at + 1, &size, 4);
  }
  int32_t length = static_cast<int32_t>(out_.size());
  std::memcpy(out_.data(), &length, 4);
  for (std::string_view rest = out_; !rest.empty();) {
    ssize_t put = send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) throw std::runtime_error("wire client: send failed");
    rest.remove_prefix(static_cast<size_t>(put));
  }
  char header[16];
  ReadFull(fd_, header, sizeof header);
  int32_t reply_length;
  std::memcpy(&reply_length, header, 4);
  if (reply_length < 21) throw std::runtime_error("wire client: short reply");
  std::string reply(static_cast<size_t>(reply_length) - 16, '\0');
  ReadFull(fd_, reply.data(), reply.size());
  return reply.substr(5);  // flags and the body section's kind byte
}

}  // namespace micromongo::bench
