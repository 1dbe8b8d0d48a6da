#include "service/rpc_calls.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/server_builder.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace micromongo::service {

struct RpcServices::Method {
  RawRequester* service;
  int index;
  UnaryHandler unary;
  ServerStreamHandler server_stream;
  BidiHandler bidi;
  grpc::ServerCompletionQueue* cq = nullptr;
  RpcThreads* threads = nullptr;
  RunningCalls* calls = nullptr;
};

namespace {

using Method = RpcServices::Method;

grpc::Status Overloaded() {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      "too many requests are executing at once (--max-concurrent-requests)");
}

// An operation that a thread waits for: Proceed (on a pool thread) wakes it.
class Completion final : public RpcEvent {
 public:
  void Proceed(bool ok) override {
    std::lock_guard<std::mutex> l(mu_);
    ok_ = ok;
    done_ = true;
    cv_.notify_one();
  }
  // The operation's `ok`; ready for the next operation afterwards.
  bool Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return done_; });
    done_ = false;
    return ok_;
  }
  bool happened() const {
    std::lock_guard<std::mutex> l(mu_);
    return done_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool ok_ = false;
};

class UnaryCall final : public RpcEvent {
 public:
  static void Arm(const Method* m) {
    auto* call = new UnaryCall(m);
    PublishTag(call);
    m->service->RequestUnary(m->index, &call->context_, &call->request_, &call->writer_, m->cq, call);
  }

  void Proceed(bool ok) override {
    if (finishing_ || !ok) {  // the reply went out, or the server is shutting down
      delete this;
      return;
    }
    Arm(method_);  // ready for the method's next call at once
    method_->threads->HandOff();
    RunningCalls* calls = method_->calls;
    grpc::Status status = calls->Enter() ? method_->unary(&context_, &request_, &reply_) : Overloaded();
    finishing_ = true;
    PublishTag(this);
    writer_.Finish(reply_, status, this);  // another thread may delete `this` from here on
    calls->Exit();
  }

 private:
  explicit UnaryCall(const Method* m) : method_(m), writer_(&context_) {}

  const Method* method_;
  grpc::ServerContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer reply_;
  grpc::ServerAsyncResponseWriter<grpc::ByteBuffer> writer_;
  bool finishing_ = false;
};

// A streaming call: its handler runs on a thread of its own, which ends the call and
// deletes it once gRPC has delivered the call's last event.
class StreamCall : public RpcEvent {
 public:
  void Proceed(bool ok) override {
    if (!ok) {  // never started (server shutting down): no done event follows
      delete this;
      return;
    }
    Arm(method_);
    overloaded_ = !method_->calls->Enter();  // counted either way until Run ends
    std::thread([this] { Run(); }).detach();
  }

  static void Arm(const Method* m);

 protected:
  explicit StreamCall(const Method* m) : method_(m) {}

  virtual grpc::Status Handle() = 0;
  virtual void Finish(const grpc::Status& status, void* tag) = 0;
  // Asks gRPC for the method's next call, tagged `this`.
  virtual void RequestCall() = 0;

  void Request() {
    PublishTag(this);
    PublishTag(&done_);
    context_.AsyncNotifyWhenDone(&done_);
    RequestCall();
  }

  void Run() {
    grpc::Status status = overloaded_ ? Overloaded() : Handle();
    PublishTag(&finish_);
    Finish(status, &finish_);
    finish_.Wait();
    done_.Wait();  // gRPC delivers it once the call is over either way
    RunningCalls* calls = method_->calls;
    delete this;
    calls->Exit();
  }

  bool cancelled() const { return done_.happened() && context_.IsCancelled(); }

  const Method* method_;
  grpc::ServerContext context_;
  Completion finish_;
  Completion done_;
  Completion op_;  // the read or write in progress
  bool overloaded_ = false;
};

class ServerStreamCall final : public StreamCall, private StreamSink {
 public:
  explicit ServerStreamCall(const Method* m) : StreamCall(m), writer_(&context_) {}

  using StreamCall::Request;

 private:
  void RequestCall() override {
    method_->service->RequestServerStream(method_->index, &context_, &request_, &writer_, method_->cq, this);
  }
  grpc::Status Handle() override { return method_->server_stream(&context_, &request_, this); }
  void Finish(const grpc::Status& status, void* tag) override { writer_.Finish(status, tag); }
  bool Write(grpc::ByteBuffer* message) override {
    PublishTag(&op_);
    writer_.Write(*message, &op_);
    return op_.Wait();
  }
  bool IsCancelled() const override { return cancelled(); }

  grpc::ByteBuffer request_;
  grpc::ServerAsyncWriter<grpc::ByteBuffer> writer_;
};

class BidiCall final : public StreamCall, private BidiStream {
 public:
  explicit BidiCall(const Method* m) : StreamCall(m), stream_(&context_) {}

  using StreamCall::Request;

 private:
  void RequestCall() override { method_->service->RequestBidi(method_->index, &context_, &stream_, method_->cq, this); }
  grpc::Status Handle() override { return method_->bidi(&context_, this); }
  void Finish(const grpc::Status& status, void* tag) override { stream_.Finish(status, tag); }
  bool Read(grpc::ByteBuffer* message) override {
    PublishTag(&op_);
    stream_.Read(message, &op_);
    return op_.Wait();
  }
  bool Write(grpc::ByteBuffer* message) override {
    PublishTag(&op_);
    stream_.Write(*message, &op_);
    return op_.Wait();
  }

  grpc::ServerAsyncReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer> stream_;
};

void StreamCall::Arm(const Method* m) {
  if (m->server_stream) {
    (new ServerStreamCall(m))->Request();
  } else {
    (new BidiCall(m))->Request();
  }
}

}  // namespace

bool RunningCalls::Enter() {
  std::lock_guard<std::mutex> l(mu_);
  ++running_;
  return max_ <= 0 || running_ <= max_;
}

void RunningCalls::Exit() {
  std::lock_guard<std::mutex> l(mu_);
  if (--running_ == 0) idle_.notify_all();
}

void RunningCalls::WaitIdle() {
  std::unique_lock<std::mutex> l(mu_);
  idle_.wait(l, [&] { return running_ == 0; });
}

int MethodCount(const std::string& full_name) {
  const auto* d = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(full_name);
  return d == nullptr ? 0 : d->method_count();
}

RpcServices::RpcServices() = default;
RpcServices::~RpcServices() = default;

void RpcServices::AddRaw(grpc::ServerBuilder* builder, std::unique_ptr<RawRequester> service,
                         ServiceHandlers handlers) {
  const auto* d = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(handlers.full_name);
  auto missing = [&](const std::string& what) {
    std::fprintf(stderr, "micromongo-server: no handler for %s.%s\n", handlers.full_name.c_str(), what.c_str());
    std::abort();
  };
  if (d == nullptr) missing("(service)");
  for (int i = 0; i < d->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* md = d->method(i);
    auto m = std::make_unique<Method>();
    m->service = service.get();
    m->index = i;
    auto find = [&](auto& list) {
      for (auto& [name, h] : list) {
        if (name == md->name()) return std::move(h);
      }
      missing(md->name());
      return std::move(list.front().second);
    };
    if (md->client_streaming() && md->server_streaming()) {
      m->bidi = find(handlers.bidi);
    } else if (md->server_streaming()) {
      m->server_stream = find(handlers.server_stream);
    } else if (!md->client_streaming()) {
      m->unary = find(handlers.unary);
    } else {
      missing(md->name());
    }
    methods_.push_back(std::move(m));
  }
  builder->RegisterService(service->service());
  services_.push_back(std::move(service));
}

void RpcServices::Start(grpc::ServerCompletionQueue* cq, RpcThreads* threads, RunningCalls* calls) {
  for (auto& m : methods_) {
    m->cq = cq;
    m->threads = threads;
    m->calls = calls;
    if (m->unary) {
      UnaryCall::Arm(m.get());
    } else {
      StreamCall::Arm(m.get());
    }
  }
}

}  // namespace micromongo::service
