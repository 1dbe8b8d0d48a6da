#pragma once

// WorkerBridge's internals: the gRPC channel and stubs, the owned process, and the mapping
// of RPC failures onto micromongo exceptions. Client code reaches it via BridgeAccess.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <type_traits>

#include "call_queue.h"
#include "micromongo/v1/micromongo.grpc.pb.h"
#include "micromongo/worker_bridge.h"
#include "worker_process.h"

namespace micromongo {

class WorkerBridge::Impl {
 public:
  Impl(std::string address, std::unique_ptr<internal::WorkerProcess> process,
       const ConnectOptions& connect = {});

  // The channel and its stubs. Calls hold a reference for their duration; Terminate()
  // drops the bridge's, so the connection closes as soon as in-flight calls end (a server
  // shuts down promptly only once its clients have disconnected).
  struct Connection {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::DataService::Stub> data;
    std::unique_ptr<v1::AdminService::Stub> admin;
  };

  // Runs one unary RPC: `start` is a stub's AsyncX method (DataService's or
  // AdminService's); the reply is waited for on the calling thread's completion queue
  // (call_queue.h). Throws WorkerError at once if the bridge was terminated, and the
  // matching micromongo::Error if the call fails.
  template <typename Stub, typename Request, typename Reply>
  void Unary(std::unique_ptr<grpc::ClientAsyncResponseReader<Reply>> (Stub::*start)(
                 grpc::ClientContext*, const Request&, grpc::CompletionQueue*),
             const Request& request, Reply* reply) {
    static_assert(std::is_same_v<Stub, v1::DataService::Stub> || std::is_same_v<Stub, v1::AdminService::Stub>);
    std::shared_ptr<const Connection> connection = Acquire();
    Stub* stub;
    if constexpr (std::is_same_v<Stub, v1::DataService::Stub>) {
      stub = connection->data.get();
    } else {
      stub = connection->admin.get();
    }
    grpc::ClientContext context;
    grpc::Status status = internal::Await((stub->*start)(&context, request, internal::CallQueue()), reply);
    if (!status.ok()) ThrowFor(status);
  }

  // For streaming calls, which outlive one Unary(): the live connection (the stream keeps it
  // referenced) and the exception of a failed call's status.
  std::shared_ptr<const Connection> AcquireForStream() { return Acquire(); }
  [[noreturn]] void ThrowForStatus(const grpc::Status& status) { ThrowFor(status); }

  // Waits for the health check to report SERVING (or the process to exit).
  void WaitUntilServing(std::chrono::milliseconds timeout);
  bool HealthCheck(std::chrono::milliseconds timeout);
  // The health check's whole status (a refused token is UNAUTHENTICATED).
  grpc::Status CheckHealth(std::chrono::milliseconds timeout);
  void Terminate();
  bool IsAlive();

  const std::string& address() const { return address_; }
  internal::WorkerProcess* process() { return process_.get(); }

 private:
  // The live connection; throws WorkerError once terminated.
  std::shared_ptr<const Connection> Acquire();
  [[noreturn]] void ThrowFor(const grpc::Status& status);

  std::string address_;
  ConnectOptions connect_;
  std::unique_ptr<internal::WorkerProcess> process_;  // null when attached
  std::mutex mu_;                                      // guards connection_
  std::shared_ptr<const Connection> connection_;       // null once terminated
  std::atomic<bool> terminated_{false};
  std::mutex terminate_mu_;
};

namespace internal {
class BridgeAccess {
 public:
  static WorkerBridge::Impl& Get(WorkerBridge& b) { return *b.impl_; }
};

// Throws the micromongo::Error subclass for a MongoDB code.
[[noreturn]] void ThrowMongo(int code, const std::string& code_name, const std::string& message,
                             Document details = {}, const std::vector<std::string>& labels = {});
// The details of an ErrorInfo (empty document if none).
Document DetailsOf(const std::string& bson);
}  // namespace internal

}  // namespace micromongo
