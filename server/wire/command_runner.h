#pragma once

// Runs MongoDB database commands over the worker's operations: each command is read into
// the request message of the same operation the gRPC services run
// (service::DataOperations, service::AdminOperations) and its reply written in MongoDB's
// reply shape. So the wire protocol has no implementation of its own of any operation.
// Thread-safe.

#include <cstdint>
#include <string>

#include "service/admin_operations.h"
#include "service/data_operations.h"
#include "wire/command.h"

namespace micromongo::wire {

// The connection a command arrived on (hello's connectionId, whatsmyuri).
struct ConnectionInfo {
  int64_t id = 0;
  std::string peer;  // "host:port", or the socket path
};

class CommandRunner {
 public:
  // Both must outlive the runner.
  CommandRunner(service::DataOperations* data, service::AdminOperations* admin)
      : data_(data), admin_(admin) {}

  // The reply body: {..., ok: 1} or MongoDB's error shape {ok: 0, errmsg, code,
  // codeName, ...}. Never fails otherwise.
  std::string Run(const Command& command, const ConnectionInfo& connection) const;

  // The answer to a legacy OP_QUERY command: only the handshake (hello, isMaster,
  // ismaster) is served that way; anything else gets 352 UnsupportedOpQueryCommand.
  std::string RunLegacy(bson::DocView query, const ConnectionInfo& connection) const;

 private:
  service::DataOperations* data_;
  service::AdminOperations* admin_;
};

}  // namespace micromongo::wire
