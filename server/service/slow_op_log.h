#pragma once

// MongoDB's "Slow query" log line, shared by both protocols: an operation that took at
// least the threshold (--slow-ms, MongoDB's slowms) is logged with its namespace, command,
// filter, plan summary, keys and documents examined, documents returned, outcome and
// duration, and counted in serverStatus.

#include <chrono>
#include <string_view>

#include "absl/status/status.h"
#include "util/op_debug.h"

namespace micromongo::service {

// The threshold (100 ms by default).
void SetSlowOpThreshold(std::chrono::milliseconds threshold);
std::chrono::milliseconds SlowOpThreshold();

// Logs `op` as a slow operation. `filter` is BSON (empty: none); `protocol` is
// "grpc" or "op_msg" (MongoDB names the wire protocol's that way).
void LogSlowOperation(const OpDebug& op, std::string_view protocol, std::string_view command,
                      std::string_view ns, std::string_view filter, bool returns_documents,
                      const absl::Status& status);

}  // namespace micromongo::service
