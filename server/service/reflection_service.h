#pragma once

// gRPC server reflection (grpc.reflection.v1alpha.ServerReflection, the version grpcurl and
// gRPC 1.51's plugin speak), over the worker's own asynchronous serving (rpc_calls.h):
// gRPC's plugin is a synchronous service, whose polling threads would keep the serving
// threads from polling (rpc_threads.h).
//
// Contract, as gRPC's implementation answers: list_services names `services`; a file by
// name or by a symbol it declares comes with every file it imports, each file sent at most
// once per stream; extensions by containing type and number, and a type's extension
// numbers; unknown names answer NOT_FOUND in an error_response.

#include <string>
#include <vector>

#include "service/rpc_calls.h"

namespace micromongo::service {

// The handler of ServerReflectionInfo, listing `services` (full names).
BidiHandler ReflectionHandler(std::vector<std::string> services);

}  // namespace micromongo::service
