#pragma once

// `micromongo-server --health-check ADDRESS`: asks a running worker's gRPC health service
// (grpc.health.v1.Health/Check, the overall server) whether it is SERVING. Container
// health checks run it, so images need no other gRPC client.

#include <chrono>
#include <string>

namespace micromongo::service {

// 0 when the server at `address` ("host:port" or "unix:/path") answers SERVING within
// `timeout`; otherwise prints the reason to stderr and returns 1. A non-empty `token` is
// sent as "authorization: Bearer <token>" (for servers whose --auth-exempt protects health).
int ProbeHealth(const std::string& address, std::chrono::milliseconds timeout,
                const std::string& token = "");

}  // namespace micromongo::service
