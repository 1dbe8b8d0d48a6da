#include "service/health_service.h"

#include <chrono>

namespace micromongo::service {
namespace {

using grpc::health::v1::HealthCheckResponse;

// How often a watch looks whether its client cancelled.
constexpr auto kCancelPoll = std::chrono::milliseconds(100);

}  // namespace

grpc::Status HealthService::Check(grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  if (!request->service().empty()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "service name unknown");
  std::lock_guard<std::mutex> l(mu_);
  response->set_status(shut_down_ ? HealthCheckResponse::NOT_SERVING : HealthCheckResponse::SERVING);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest* request,
                                  StreamWriter<HealthCheckResponse>* writer) {
  const bool known = request->service().empty();
  HealthCheckResponse status;
  std::unique_lock<std::mutex> l(mu_);
  status.set_status(!known ? HealthCheckResponse::SERVICE_UNKNOWN
                    : shut_down_ ? HealthCheckResponse::NOT_SERVING
                                 : HealthCheckResponse::SERVING);
  l.unlock();
  if (!writer->Write(status)) return grpc::Status::OK;  // the client went away
  l.lock();
  while (!shut_down_) {
    changed_.wait_for(l, kCancelPoll);
    if (writer->IsCancelled()) return grpc::Status::CANCELLED;
  }
  l.unlock();
  if (known) {
    status.set_status(HealthCheckResponse::NOT_SERVING);
    writer->Write(status);
  }
  return grpc::Status::OK;
}

void HealthService::Shutdown() {
  std::lock_guard<std::mutex> l(mu_);
  shut_down_ = true;
  changed_.notify_all();
}

}  // namespace micromongo::service
