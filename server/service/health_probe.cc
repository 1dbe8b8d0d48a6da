#include "service/health_probe.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdio>

#include "grpc/health/v1/health.grpc.pb.h"

namespace micromongo::service {

int ProbeHealth(const std::string& address, std::chrono::milliseconds timeout,
                const std::string& token) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  ctx.set_wait_for_ready(true);
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);  // a server still starting up gets the whole timeout
  grpc::health::v1::HealthCheckRequest request;  // empty service name: the whole server
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&ctx, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "micromongo-server: health check of %s failed: %s\n", address.c_str(),
                 status.error_message().c_str());
    return 1;
  }
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    std::fprintf(stderr, "micromongo-server: %s is not serving (status %d)\n", address.c_str(),
                 static_cast<int>(response.status()));
    return 1;
  }
  return 0;
}

}  // namespace micromongo::service
