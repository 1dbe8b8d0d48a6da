#pragma once

#include <deque>
#include <future>
#include <optional>
#include <string>

#include "bridge_impl.h"
#include "document_buffer.h"
#include "micromongo/document.h"

namespace micromongo::internal {

// A cursor's client side: the documents fetched and not yet read, and the next batch being
// fetched. While the application reads one batch, the next one is already requested
// (prefetch), so that the worker produces it meanwhile instead of after.
struct CursorState {
  std::shared_ptr<WorkerBridge> bridge;  // keeps the channel alive for GetMore
  int64_t cursor_id = 0;
  int32_t batch_size = 0;
  int64_t await_ms = 0;  // a tailable awaitData cursor's GetMore wait (0: the worker's 1 s)
  // Fetch the next batch while the application reads this one. Off for tailable cursors:
  // their GetMores wait for inserts, and a prefetch would hold the cursor's destruction
  // (which waits for it) for that long; they fetch when read instead.
  bool prefetch = true;
  // The session of a cursor opened in one: its GetMores run in it (and in its transaction).
  std::optional<v1::Session> session;
  DocumentBuffer buffer;  // raw BSON of fetched, unread documents
  std::optional<Document> current;
  std::future<v1::CursorReply> next;  // the prefetching GetMore, if one is under way

  ~CursorState() {
    // The cursor may not be released while a GetMore still uses it.
    if (next.valid()) next.wait();
  }

  // Moves a reply's documents into the buffer and prefetches the next batch.
  void Take(v1::CursorReply* reply) {
    cursor_id = reply->cursor_id();
    for (v1::Doc& d : *reply->mutable_documents()) buffer.Add(std::move(*d.mutable_bson()));
    buffer.AddSequence(std::move(*reply->mutable_document_sequence()));
    if (cursor_id != 0 && prefetch) Prefetch();
  }

  // Makes the next batch available, if there may be one: the prefetched one, or (for a
  // cursor that does not prefetch) one fetched now.
  void Refill() {
    if (!buffer.empty()) return;
    if (!next.valid() && cursor_id != 0 && !prefetch) Prefetch();
    if (next.valid()) TakeNext();
  }

  // Waits for the prefetched batch (rethrowing its error) and takes it.
  void TakeNext() {
    v1::CursorReply reply = next.get();
    Take(&reply);
  }

 private:
  void Prefetch() {
    std::shared_ptr<WorkerBridge> keep = bridge;
    int64_t id = cursor_id;
    int32_t size = batch_size;
    int64_t await = await_ms;
    std::optional<v1::Session> in_session = session;
    next = std::async(std::launch::async, [keep, id, size, await, in_session] {
      auto& rpc = BridgeAccess::Get(*keep);
      v1::GetMoreRequest request;
      request.set_cursor_id(id);
      request.set_batch_size(size);
      request.set_max_time_ms(await);
      request.set_document_sequence(true);
      if (in_session) *request.mutable_session() = *in_session;
      v1::CursorReply reply;
      rpc.Unary(&v1::DataService::Stub::AsyncGetMore, request, &reply);
      return reply;
    });
  }
};

}  // namespace micromongo::internal
