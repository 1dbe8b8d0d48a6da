#pragma once

// absl::Status (with MongoDB's codes) to grpc::Status, for the gRPC services.

#include <grpcpp/support/status.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace micromongo::service {

// gRPC status for an absl status: canonical code kept, message prefixed with
// "[<code> <CodeName>] ", an ErrorInfo in the binary details with MongoDB's error `labels`
// (none given: those the code alone implies).
grpc::Status ToGrpc(const absl::Status& status, const std::vector<std::string>& labels = {});

#define MM_ASSIGN_OR_RETURN_GRPC(lhs, expr) \
  auto lhs##_or = (expr);                   \
  if (!lhs##_or.ok()) return ToGrpc(lhs##_or.status()); \
  auto lhs = *std::move(lhs##_or)

}  // namespace micromongo::service
