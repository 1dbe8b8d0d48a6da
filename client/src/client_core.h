#pragma once

// State shared by a MongoClient and every Database/Collection/Cursor handle made from it.

#include <memory>
#include <mutex>

#include "bridge_impl.h"
#include "micromongo/client.h"
#include "uri.h"

namespace micromongo::internal {

struct ClientCore {
  ParsedUri uri;
  ClientOptions options;
  std::mutex mu;
  std::shared_ptr<WorkerBridge> bridge;  // set by Connect()
  bool owns_bridge = false;              // useWorker=true or attached by host:port
  bool closed = false;

  // The connected bridge, connecting first if needed. Throws after Close().
  std::shared_ptr<WorkerBridge> Bridge();
  WorkerBridge::Impl& Rpc(std::shared_ptr<WorkerBridge>* keep) {
    *keep = Bridge();
    return BridgeAccess::Get(**keep);
  }
};

// Encodes a Document into a request's Doc field.
void SetBson(v1::Doc* out, const Document& doc);
// Fills a request's Hint.
void SetHint(v1::Hint* out, const std::optional<Hint>& hint);
// Decodes a reply's Doc (BSON) into a Document.
Document FromDoc(const v1::Doc& doc);

}  // namespace micromongo::internal
