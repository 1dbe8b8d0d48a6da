#pragma once

// Typed handlers as the raw handlers of rpc_calls.h: each parses the request, observes the
// call (request_observer.h), runs the handler and serializes its reply. A request that does
// not parse is the client's bad input: INVALID_ARGUMENT, "[2 BadValue] ...".

#include <grpcpp/impl/codegen/proto_utils.h>

#include <string>
#include <utility>

#include "service/request_observer.h"
#include "service/rpc_calls.h"
#include "service/stream_writer.h"

namespace micromongo::service {

// The status of a request to `method` that protobuf could not parse.
grpc::Status UnparsableRequest(std::string_view method);

// `fn`: grpc::Status(grpc::ServerContext*, const Req*, Reply*).
template <class Req, class Reply, class Fn>
UnaryHandler TypedUnary(std::string method, Fn fn) {
  return [method = std::move(method), fn = std::move(fn)](grpc::ServerContext* context, grpc::ByteBuffer* in,
                                                          grpc::ByteBuffer* out) -> grpc::Status {
    Req request;
    if (!grpc::SerializationTraits<Req>::Deserialize(in, &request).ok()) {
      RequestObservation counted(method, nullptr);
      return UnparsableRequest(method);
    }
    RequestObservation observation(method, &request);
    Reply reply;
    grpc::Status status = fn(context, &request, &reply);
    observation.Finish(status);
    if (!status.ok()) return status;
    bool own = false;
    return grpc::SerializationTraits<Reply>::Serialize(reply, out, &own);
  };
}

// `fn`: grpc::Status(grpc::ServerContext*, const Req*, StreamWriter<Msg>*).
template <class Req, class Msg, class Fn>
ServerStreamHandler TypedServerStream(std::string method, Fn fn) {
  return [method = std::move(method), fn = std::move(fn)](grpc::ServerContext* context, grpc::ByteBuffer* in,
                                                          StreamSink* sink) -> grpc::Status {
    Req request;
    if (!grpc::SerializationTraits<Req>::Deserialize(in, &request).ok()) {
      RequestObservation counted(method, nullptr);
      return UnparsableRequest(method);
    }
    RequestObservation observation(method, &request);
    StreamWriter<Msg> writer(sink);
    grpc::Status status = fn(context, &request, &writer);
    observation.Finish(status);
    return status;
  };
}

}  // namespace micromongo::service
