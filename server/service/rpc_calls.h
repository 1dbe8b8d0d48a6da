#pragma once

// The worker's gRPC methods on the asynchronous API: every method of a service is marked
// raw (request and reply as serialized bytes) and served by a handler of one of three
// kinds; the calls run on RpcThreads (rpc_threads.h).
//
// - Unary: the handler runs on the pool thread that took the request, after it handed the
//   queue to another thread.
// - Server streaming and bidirectional streaming (Watch, Backup, health Watch, reflection):
//   the handler runs on a thread of its own and writes (reads) through blocking calls, as
//   on the synchronous API; such calls are few and long.
//
// Raw methods let the worker answer a request that protobuf cannot parse (invalid UTF-8 in
// a string field, a corrupt message) as the client's bad input, "[2 BadValue] ...": gRPC's
// typed asynchronous methods cancel such calls INTERNAL before any code of ours runs.
//
// Shutdown: grpc::Server::Shutdown, then RunningCalls::WaitIdle (no handler runs or
// writes any more), then the completion queue's Shutdown and RpcThreads::Join.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/impl/service_type.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/async_stream.h>
#include <grpcpp/support/async_unary_call.h>
#include <grpcpp/support/byte_buffer.h>

#include "service/rpc_threads.h"

namespace grpc {
class ServerBuilder;
}  // namespace grpc

namespace micromongo::service {

// Handlers running (or about to run); refuses beyond a limit and lets shutdown wait.
class RunningCalls {
 public:
  explicit RunningCalls(int max) : max_(max) {}
  // Counts the call; false if it is over the limit (the caller still calls Exit).
  bool Enter();
  void Exit();
  // Blocks until no call is counted.
  void WaitIdle();

 private:
  const int max_;  // 0: no limit
  std::mutex mu_;
  std::condition_variable idle_;
  int running_ = 0;
};

// The writes of a server-streaming call, for its handler.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Sends one message and waits until it is written; false when the call is gone.
  virtual bool Write(grpc::ByteBuffer* message) = 0;
  // Whether the client cancelled the call (or it failed otherwise).
  virtual bool IsCancelled() const = 0;
};

// Reads and writes of a bidirectional call, for its handler.
class BidiStream {
 public:
  virtual ~BidiStream() = default;
  // The client's next message; false when it has no more.
  virtual bool Read(grpc::ByteBuffer* message) = 0;
  virtual bool Write(grpc::ByteBuffer* message) = 0;
};

using UnaryHandler = std::function<grpc::Status(grpc::ServerContext*, grpc::ByteBuffer* request,
                                                grpc::ByteBuffer* reply)>;
using ServerStreamHandler = std::function<grpc::Status(grpc::ServerContext*, grpc::ByteBuffer* request,
                                                       StreamSink* sink)>;
using BidiHandler = std::function<grpc::Status(grpc::ServerContext*, BidiStream* stream)>;

// Requests calls of a service's raw methods.
class RawRequester {
 public:
  virtual ~RawRequester() = default;
  virtual grpc::Service* service() = 0;
  virtual void RequestUnary(int method, grpc::ServerContext* context, grpc::ByteBuffer* request,
                            grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>* writer,
                            grpc::ServerCompletionQueue* cq, void* tag) = 0;
  virtual void RequestServerStream(int method, grpc::ServerContext* context, grpc::ByteBuffer* request,
                                   grpc::ServerAsyncWriter<grpc::ByteBuffer>* writer,
                                   grpc::ServerCompletionQueue* cq, void* tag) = 0;
  virtual void RequestBidi(int method, grpc::ServerContext* context,
                           grpc::ServerAsyncReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* stream,
                           grpc::ServerCompletionQueue* cq, void* tag) = 0;
};

// A generated service (`Generated` is its `Service` class) with every method raw.
template <class Generated>
class RawService final : public Generated, public RawRequester {
 public:
  explicit RawService(int methods) {
    for (int i = 0; i < methods; ++i) this->MarkMethodRaw(i);
  }
  grpc::Service* service() override { return this; }
  void RequestUnary(int method, grpc::ServerContext* context, grpc::ByteBuffer* request,
                    grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>* writer, grpc::ServerCompletionQueue* cq,
                    void* tag) override {
    this->RequestAsyncUnary(method, context, request, writer, cq, cq, tag);
  }
  void RequestServerStream(int method, grpc::ServerContext* context, grpc::ByteBuffer* request,
                           grpc::ServerAsyncWriter<grpc::ByteBuffer>* writer, grpc::ServerCompletionQueue* cq,
                           void* tag) override {
    this->RequestAsyncServerStreaming(method, context, request, writer, cq, cq, tag);
  }
  void RequestBidi(int method, grpc::ServerContext* context,
                   grpc::ServerAsyncReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* stream,
                   grpc::ServerCompletionQueue* cq, void* tag) override {
    this->RequestAsyncBidiStreaming(method, context, stream, cq, cq, tag);
  }
};

// The handlers of one service's methods, by name ("Find"), one of the three kinds.
struct ServiceHandlers {
  std::string full_name;  // "micromongo.v1.DataService"
  std::vector<std::pair<std::string, UnaryHandler>> unary;
  std::vector<std::pair<std::string, ServerStreamHandler>> server_stream;
  std::vector<std::pair<std::string, BidiHandler>> bidi;
};

// Every service of the server with its handlers. Add services before the server is built,
// Start after, and keep it until the completion queue is drained.
class RpcServices {
 public:
  RpcServices();
  ~RpcServices();

  // Registers `handlers` for the generated service `Generated` on `builder`. Every method
  // of the service needs a handler of its kind; a missing one aborts (a programming error).
  template <class Generated>
  void Add(grpc::ServerBuilder* builder, ServiceHandlers handlers);

  // Requests the first call of every method on `cq`, served by `threads`, counted in
  // `calls`.
  void Start(grpc::ServerCompletionQueue* cq, RpcThreads* threads, RunningCalls* calls);

  struct Method;

 private:
  void AddRaw(grpc::ServerBuilder* builder, std::unique_ptr<RawRequester> service, ServiceHandlers handlers);

  std::vector<std::unique_ptr<RawRequester>> services_;
  std::vector<std::unique_ptr<Method>> methods_;
};

// The number of methods of the service named `full_name` (by its descriptor).
int MethodCount(const std::string& full_name);

template <class Generated>
void RpcServices::Add(grpc::ServerBuilder* builder, ServiceHandlers handlers) {
  auto service = std::make_unique<RawService<Generated>>(MethodCount(handlers.full_name));
  AddRaw(builder, std::move(service), std::move(handlers));
}

}  // namespace micromongo::service
