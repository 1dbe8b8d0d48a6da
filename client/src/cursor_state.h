#pragma once

#include <deque>
#include <optional>
#include <string>

#include "bridge_impl.h"
#include "micromongo/document.h"

namespace micromongo::internal {

struct CursorState {
  std::shared_ptr<WorkerBridge> bridge;  // keeps the channel alive for GetMore
  int64_t cursor_id = 0;
  int32_t batch_size = 0;
  std::deque<std::string> buffer;  // raw BSON of fetched, unread documents
  std::optional<Document> current;

  // Moves a reply's documents into the buffer.
  void Take(v1::CursorReply* reply) {
    cursor_id = reply->cursor_id();
    for (v1::Doc& d : *reply->mutable_documents()) buffer.push_back(std::move(*d.mutable_bson()));
  }
};

}  // namespace micromongo::internal
