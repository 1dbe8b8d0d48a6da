#pragma once

// What a server-streaming handler writes its messages to (Watch, Backup, health Watch).

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include "service/rpc_calls.h"

namespace micromongo::service {

template <class Msg>
class StreamWriter {
 public:
  explicit StreamWriter(StreamSink* sink) : sink_(sink) {}

  // Sends `message` and waits until it is written; false when the call is gone (the client
  // cancelled or disconnected).
  bool Write(const Msg& message) {
    grpc::ByteBuffer bytes;
    bool own = false;
    if (!grpc::SerializationTraits<Msg>::Serialize(message, &bytes, &own).ok()) return false;
    return sink_->Write(&bytes);
  }

  // Whether the client cancelled the call.
  bool IsCancelled() const { return sink_->IsCancelled(); }

 private:
  StreamSink* sink_;
};

}  // namespace micromongo::service
