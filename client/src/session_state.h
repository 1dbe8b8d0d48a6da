#pragma once

// A ClientSession's state: its id, its transaction number and where its transaction stands
// (the state machine of MongoDB's driver transactions specification), and how operations
// put the session into their requests.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "micromongo/session.h"
#include "micromongo/v1/micromongo.pb.h"

namespace micromongo::internal {

struct ClientCore;

struct SessionState {
  enum class Txn { kNone, kStarting, kInProgress, kCommitted, kCommittedEmpty, kAborted };
  std::shared_ptr<ClientCore> core;
  std::string id;  // a random UUID's 16 bytes
  int64_t txn_number = 0;
  Txn txn = Txn::kNone;
  bool ended = false;
  // A snapshot session (SessionOptions::snapshot): its reads' cluster time, 0 until the
  // first read answered one.
  bool snapshot = false;
  uint64_t snapshot_time = 0;
};

class SessionAccess {
 public:
  // Puts `session` (may be null: then nothing) into a request of `core`'s operation: its id
  // and, inside a transaction, the transaction fields; the transaction's first operation
  // starts it on the worker. An operation after a commit or abort runs outside any
  // transaction. Throws Error 20 (IllegalOperation) for an ended session or one of another
  // MongoClient.
  template <typename Request>
  static void Attach(ClientSession* session, const ClientCore* core, Request* request) {
    if (session != nullptr) Fill(session, core, request->mutable_session());
  }
  // The Session an operation run in `session` sends, as Attach puts it in a request
  // (nullopt for none): for commands, which carry it as fields of their own.
  static std::optional<v1::Session> Fields(ClientSession* session, const ClientCore* core) {
    if (session == nullptr) return std::nullopt;
    v1::Session out;
    Fill(session, core, &out);
    return out;
  }
  // The Session a cursor's GetMore and KillCursors carry: the request's, without
  // start_transaction; nullopt when the request had none.
  static std::optional<v1::Session> ForCursor(const v1::Session* request_session);
  // After a read's reply: a snapshot session's first read sets the time its later reads
  // read at.
  template <typename Reply>
  static void Observe(ClientSession* session, const Reply& reply) {
    ObserveTime(session, reply.at_cluster_time());
  }
  static void ObserveTime(ClientSession* session, uint64_t at_cluster_time) {
    if (session == nullptr || session->state_ == nullptr) return;
    SessionState& s = *session->state_;
    if (s.snapshot && s.snapshot_time == 0) s.snapshot_time = at_cluster_time;
  }

 private:
  static void Fill(ClientSession* session, const ClientCore* core, v1::Session* out);
};

}  // namespace micromongo::internal
