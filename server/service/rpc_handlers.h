#pragma once

// The worker's gRPC services as handlers of rpc_calls.h: DataService, AdminService, the
// health service and server reflection.

#include "service/health_service.h"
#include "service/rpc_calls.h"
#include "service/services.h"

namespace micromongo::service {

void AddServices(grpc::ServerBuilder* builder, DataServiceImpl* data, AdminServiceImpl* admin,
                 HealthService* health, RpcServices* services);

}  // namespace micromongo::service
