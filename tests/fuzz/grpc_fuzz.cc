// The gRPC request handlers end to end, in-process: the first byte picks an RPC of
// DataService or AdminService, the rest is parsed as its request message and handed to the
// handler, against a temporary database. Any reply is fine; a crash or sanitizer report is
// a finding.

#include <grpcpp/server_context.h>

#include "fuzz_util.h"
#include "service/change_stream_cursor.h"
#include "service/cursor_manager.h"
#include "service/services.h"
#include "wire/command_runner.h"

using namespace micromongo;
namespace v1 = micromongo::v1;

namespace {

template <typename Service, typename Request, typename Reply>
void Call(Service* service, grpc::Status (Service::*method)(grpc::ServerContext*, const Request*, Reply*),
          std::string_view bytes) {
  Request request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  // Bound the work of one input: reads and pipelines stop after a second.
  if constexpr (requires { request.set_max_time_ms(0); }) {
    if (request.max_time_ms() <= 0 || request.max_time_ms() > 1000) request.set_max_time_ms(1000);
  }
  Reply reply;
  grpc::ServerContext context;
  (void)(service->*method)(&context, &request, &reply);
}

// What uses the shared engine; renewed with it.
struct Services {
  Services() {
    // A getMore awaiting change events would idle a second per input.
    service::SetAwaitLimitForTesting(std::chrono::milliseconds(0));
    // Retryable writes' history is stored in and read from the engine, as in a worker.
    sessions.SetHistory(fuzz::SharedEngine());
  }
  service::CursorManager cursors{std::chrono::milliseconds(60000)};
  service::SessionCatalog sessions;
  service::SnapshotHistory snapshots{fuzz::SharedEngine()};
  service::DataServiceImpl data{fuzz::SharedEngine(), &cursors, &sessions, &snapshots};
  service::DataOperations command_data{fuzz::SharedEngine(), &cursors};
  service::AdminOperations command_admin{fuzz::SharedEngine(), &cursors};
  wire::CommandRunner commands{&command_data, &command_admin};
  service::AdminServiceImpl admin{fuzz::SharedEngine(), &cursors, &sessions, &commands, [] {}};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Services* services = fuzz::ServicesOverSharedEngine<Services>();
  service::DataServiceImpl* data_service = &services->data;
  service::AdminServiceImpl* admin = &services->admin;
  if (size < 1) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  using D = service::DataServiceImpl;
  using A = service::AdminServiceImpl;
  switch (data[0] % 29) {
    case 0: Call(data_service, &D::Insert, bytes); break;
    case 1: Call(data_service, &D::Find, bytes); break;
    case 2: Call(data_service, &D::GetMore, bytes); break;
    case 3: Call(data_service, &D::KillCursors, bytes); break;
    case 4: Call(data_service, &D::Count, bytes); break;
    case 5: Call(data_service, &D::EstimatedCount, bytes); break;
    case 6: Call(data_service, &D::Update, bytes); break;
    case 7: Call(data_service, &D::Delete, bytes); break;
    case 8: Call(data_service, &D::FindAndModify, bytes); break;
    case 9: Call(data_service, &D::Distinct, bytes); break;
    case 10: Call(data_service, &D::BulkWrite, bytes); break;
    case 11: Call(data_service, &D::Aggregate, bytes); break;
    case 12: Call(data_service, &D::CreateIndexes, bytes); break;
    case 13: Call(data_service, &D::ListIndexes, bytes); break;
    case 14: Call(data_service, &D::DropIndex, bytes); break;
    case 15: Call(data_service, &D::Explain, bytes); break;
    case 16: Call(data_service, &D::Validate, bytes); break;
    case 17: Call(admin, &A::ListDatabases, bytes); break;
    case 18: Call(admin, &A::ListCollections, bytes); break;
    case 19: Call(admin, &A::CreateCollection, bytes); break;
    case 20: Call(admin, &A::ModifyCollection, bytes); break;
    case 21: Call(admin, &A::DropCollection, bytes); break;
    case 22: Call(admin, &A::RenameCollection, bytes); break;
    case 23: Call(admin, &A::ServerStatus, bytes); break;
    case 24: Call(admin, &A::DropDatabase, bytes); break;
    case 25: Call(data_service, &D::CommitTransaction, bytes); break;
    case 26: Call(data_service, &D::AbortTransaction, bytes); break;
    case 27: Call(data_service, &D::EndSessions, bytes); break;
    case 28: Call(admin, &A::RunCommand, bytes); break;
  }
  // One input's transactions must not hold locks into the next.
  services->sessions.EndAll();
  return 0;
}
