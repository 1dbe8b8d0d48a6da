#include "util/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include <string>

namespace micromongo {

bool IsUnixAddress(std::string_view listen) {
  return listen.rfind("unix:", 0) == 0 || listen.rfind("unix-abstract:", 0) == 0;
}

bool IsLoopbackAddress(std::string_view listen) {
  if (IsUnixAddress(listen)) return false;
  for (std::string_view scheme : {"ipv4:", "ipv6:", "dns:"}) {
    if (listen.rfind(scheme, 0) == 0) listen.remove_prefix(scheme.size());
  }
  std::string host;
  if (!listen.empty() && listen.front() == '[') {
    size_t close = listen.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(listen.substr(1, close - 1));
  } else {
    size_t colon = listen.rfind(':');
    host = std::string(colon == std::string_view::npos ? listen : listen.substr(0, colon));
  }
  if (strcasecmp(host.c_str(), "localhost") == 0) return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace micromongo
