// The Watch RPC: a change stream (server/changes) served as a stream of batches.

#include <algorithm>
#include <chrono>

#include "changes/change_stream.h"
#include "document/builder.h"
#include "document/status.h"
#include "service/change_stream_cursor.h"
#include "service/grpc_status.h"
#include "service/request_parsing.h"
#include "service/services.h"
#include "storage/namespace.h"

namespace micromongo::service {
namespace {

// How often a waiting stream looks whether its call was cancelled.
constexpr std::chrono::milliseconds kCancelCheck{100};

}  // namespace

grpc::Status DataServiceImpl::Watch(grpc::ServerContext*, const v1::WatchRequest* req,
                                    StreamWriter<v1::WatchReply>* writer) {
  bool json = req->json() || (req->has_resume_after() && req->resume_after().kind_case() == v1::Doc::kJson) ||
              (req->has_start_after() && req->start_after().kind_case() == v1::Doc::kJson) ||
              std::any_of(req->pipeline().begin(), req->pipeline().end(),
                          [](const v1::Doc& d) { return d.kind_case() == v1::Doc::kJson; });
  if (req->max_await_time_ms() < 0) return ToGrpc(MongoError(kBadValue, "maxAwaitTimeMS must be non-negative"));
  if (req->batch_size() < 0) return ToGrpc(MongoError(kBadValue, "batchSize must be non-negative"));
  MM_ASSIGN_OR_RETURN_GRPC(spec, ChangeStreamSpecOf(*req));
  MM_ASSIGN_OR_RETURN_GRPC(stream, changes::ChangeStream::Open(engine_, std::move(spec)));
  size_t batch = req->batch_size() > 0 ? static_cast<size_t>(req->batch_size()) : 101;
  std::chrono::milliseconds await(req->max_await_time_ms() > 0 ? req->max_await_time_ms() : 1000);
  // The first reply goes out at once with the start's token: the watcher knows the stream
  // is open (or why not) and can resume from there even if no event ever comes.
  bool first = true;
  while (!writer->IsCancelled()) {
    // Waits in slices so that a cancelled call ends within kCancelCheck.
    std::vector<std::string> events;
    auto until = first ? std::chrono::steady_clock::now() : std::chrono::steady_clock::now() + await;
    first = false;
    while (events.empty() && !stream->invalidated() && !writer->IsCancelled()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      if (auto s = stream->Next(batch, std::min(left, kCancelCheck), &events); !s.ok()) return ToGrpc(s);
    }
    v1::WatchReply reply;
    for (std::string& e : events) SetDoc(reply.add_events(), std::move(e), json);
    SetDoc(reply.mutable_resume_token(), stream->ResumeTokenBson(), json);
    reply.set_invalidated(stream->invalidated());
    if (!writer->Write(reply)) break;  // the watcher is gone
    if (stream->invalidated()) break;
  }
  return grpc::Status::OK;
}

}  // namespace micromongo::service
