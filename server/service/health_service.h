#pragma once

// The gRPC health service (grpc.health.v1.Health) of the worker, served like the others
// (rpc_calls.h), in place of gRPC's built-in one. The built-in one (gRPC 1.51) ended open
// watches at shutdown without telling them NOT_SERVING, so a client or load balancer
// watching the worker could not tell a stopping server from a broken connection; and it is
// built on the callback API, which brings a completion queue served by threads of its own.
//
// Contract (the gRPC health checking protocol): Check of the whole server ("") answers
// SERVING until Shutdown(), then NOT_SERVING; other service names answer NOT_FOUND. Watch
// sends the status at once (SERVICE_UNKNOWN for other names), then NOT_SERVING at
// Shutdown(), when the stream ends; a client that cancels ends it earlier.

#include <condition_variable>
#include <mutex>

#include "grpc/health/v1/health.pb.h"
#include "service/stream_writer.h"

namespace micromongo::service {

class HealthService final {
 public:
  grpc::Status Check(grpc::ServerContext* context, const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response);
  grpc::Status Watch(grpc::ServerContext* context, const grpc::health::v1::HealthCheckRequest* request,
                     StreamWriter<grpc::health::v1::HealthCheckResponse>* writer);

  // The server is stopping: call before grpc::Server::Shutdown, so that watches hear
  // NOT_SERVING and end rather than holding the shutdown up.
  void Shutdown();

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool shut_down_ = false;  // under mu_
};

}  // namespace micromongo::service
