#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace micromongo::bench {

// A minimal MongoDB wire protocol client for the benchmark: one unix-socket connection,
// one OP_MSG at a time (as a driver's connection is used), no handshake beyond what the
// server requires (none). The floor a real driver adds its own work on.
class WireClient {
 public:
  // Connects to the listener's socket; throws std::runtime_error on failure.
  explicit WireClient(const std::string& socket_path);
  ~WireClient();
  WireClient(const WireClient&) = delete;
  WireClient& operator=(const WireClient&) = delete;

  // Sends `body` (a BSON command with its "$db") and, when `documents` is given, a
  // document sequence named `sequence_id`; returns the reply's body (BSON). Throws
  // std::runtime_error when the connection fails.
  std::string Run(const std::string& body, std::string_view sequence_id = {},
                  const std::vector<std::string>* documents = nullptr);

 private:
  int fd_ = -1;
  int32_t next_request_id_ = 1;
  std::string out_;
};

}  // namespace micromongo::bench
