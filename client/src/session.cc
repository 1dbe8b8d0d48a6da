// ClientSession: logical sessions and transactions (session.h), after MongoDB's driver
// sessions and transactions specifications.

#include <chrono>
#include <random>

#include "client_core.h"
#include "document/status.h"
#include "micromongo/error.h"
#include "session_state.h"

namespace micromongo {
namespace internal {
namespace {

[[noreturn]] void Illegal(const std::string& message) {
  throw Error(kIllegalOperation, ErrorCodeName(kIllegalOperation), message);
}

// A version 4 (random) UUID, as drivers make session ids. Every bit comes from the
// kernel's randomness (std::random_device): the applications sharing a worker must never
// pick one id, which a generator seeded with 32 bits would do one time in 2^32.
std::string RandomUuid() {
  std::random_device device;
  std::string id(16, '\0');
  for (size_t i = 0; i < 16; i += 4) {
    uint32_t r = device();
    for (size_t j = 0; j < 4; ++j) id[i + j] = static_cast<char>(r >> (8 * j));
  }
  id[6] = static_cast<char>((id[6] & 0x0f) | 0x40);
  id[8] = static_cast<char>((id[8] & 0x3f) | 0x80);
  return id;
}

// Sends commitTransaction (`commit`) or abortTransaction for the session's transaction.
void EndTransaction(const SessionState& s, bool commit) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = s.core->Rpc(&keep);
  v1::TransactionRequest request;
  v1::Session* session = request.mutable_session();
  session->set_id(s.id);
  session->set_txn_number(s.txn_number);
  session->set_autocommit(false);
  v1::Empty reply;
  rpc.Unary(commit ? &v1::DataService::Stub::AsyncCommitTransaction : &v1::DataService::Stub::AsyncAbortTransaction,
            request, &reply);
}

}  // namespace

void SessionAccess::Fill(ClientSession* session, const ClientCore* core, v1::Session* out) {
  if (session->state_ == nullptr) Illegal("the session was moved from");
  SessionState& s = *session->state_;
  if (s.ended) Illegal("the session was ended");
  if (s.core.get() != core) Illegal("the session belongs to another MongoClient");
  out->set_id(s.id);
  if (s.snapshot) {
    out->set_snapshot(true);
    out->set_at_cluster_time(s.snapshot_time);
  }
  switch (s.txn) {
    case SessionState::Txn::kStarting:
      out->set_start_transaction(true);
      s.txn = SessionState::Txn::kInProgress;
      [[fallthrough]];
    case SessionState::Txn::kInProgress:
      out->set_txn_number(s.txn_number);
      out->set_autocommit(false);
      break;
    case SessionState::Txn::kCommitted:
    case SessionState::Txn::kCommittedEmpty:
    case SessionState::Txn::kAborted:
      s.txn = SessionState::Txn::kNone;  // the transaction is over: this runs outside one
      break;
    case SessionState::Txn::kNone:
      break;
  }
}

std::optional<v1::Session> SessionAccess::ForCursor(const v1::Session* request_session) {
  if (request_session == nullptr || request_session->id().empty()) return std::nullopt;
  v1::Session session = *request_session;
  session.clear_start_transaction();
  return session;
}

}  // namespace internal

using internal::SessionState;

ClientSession::ClientSession(std::unique_ptr<internal::SessionState> state) : state_(std::move(state)) {}
ClientSession::ClientSession(ClientSession&&) noexcept = default;
ClientSession& ClientSession::operator=(ClientSession&& other) noexcept {
  if (this != &other) {
    try {
      EndSession();
    } catch (...) {
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

ClientSession::~ClientSession() {
  try {
    EndSession();
  } catch (...) {
  }
}

Document ClientSession::id() const {
  if (state_ == nullptr) return Document();  // moved from
  return Document{{"id", Binary{4, state_->id}}};
}

bool ClientSession::in_transaction() const {
  return state_ != nullptr &&
         (state_->txn == SessionState::Txn::kStarting || state_->txn == SessionState::Txn::kInProgress);
}

void ClientSession::StartTransaction() {
  if (state_ == nullptr || state_->ended) internal::Illegal("the session was ended");
  if (state_->snapshot) internal::Illegal("Transactions are not supported in snapshot sessions");
  if (in_transaction()) internal::Illegal("Transaction already in progress");
  ++state_->txn_number;
  state_->txn = SessionState::Txn::kStarting;
}

void ClientSession::CommitTransaction() {
  if (state_ == nullptr || state_->ended) internal::Illegal("the session was ended");
  SessionState& s = *state_;
  switch (s.txn) {
    case SessionState::Txn::kNone:
      internal::Illegal("No transaction started");
    case SessionState::Txn::kAborted:
      internal::Illegal("Cannot call commitTransaction after calling abortTransaction");
    case SessionState::Txn::kStarting:
    case SessionState::Txn::kCommittedEmpty:
      s.txn = SessionState::Txn::kCommittedEmpty;  // nothing ran: nothing to commit
      return;
    case SessionState::Txn::kInProgress:
    case SessionState::Txn::kCommitted:
      break;
  }
  // A commit sent is committed as far as the session is concerned: it may be sent again,
  // not aborted (the drivers' rule).
  s.txn = SessionState::Txn::kCommitted;
  try {
    internal::EndTransaction(s, /*commit=*/true);
  } catch (WorkerError& e) {
    // The worker may have committed before it went away.
    e.AddErrorLabel("UnknownTransactionCommitResult");
    throw;
  }
}

void ClientSession::AbortTransaction() {
  if (state_ == nullptr || state_->ended) internal::Illegal("the session was ended");
  SessionState& s = *state_;
  switch (s.txn) {
    case SessionState::Txn::kNone:
      internal::Illegal("No transaction started");
    case SessionState::Txn::kCommitted:
    case SessionState::Txn::kCommittedEmpty:
      internal::Illegal("Cannot call abortTransaction after calling commitTransaction");
    case SessionState::Txn::kAborted:
      internal::Illegal("Cannot call abortTransaction twice");
    case SessionState::Txn::kStarting:
      s.txn = SessionState::Txn::kAborted;
      return;
    case SessionState::Txn::kInProgress:
      break;
  }
  s.txn = SessionState::Txn::kAborted;
  try {
    internal::EndTransaction(s, /*commit=*/false);
  } catch (const Error&) {
    // The worker's transaction may be gone already (expired, aborted by an error): the
    // outcome is the same.
  }
}

void ClientSession::WithTransaction(const std::function<void(ClientSession&)>& callback) {
  // The convenient API's limit on retries (MongoDB's drivers: 120 seconds).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto time_left = [&] { return std::chrono::steady_clock::now() < deadline; };
  for (;;) {
    StartTransaction();
    try {
      callback(*this);
    } catch (const Error& e) {
      if (in_transaction()) AbortTransaction();
      if (e.HasErrorLabel("TransientTransactionError") && time_left()) continue;
      throw;
    } catch (...) {
      if (in_transaction()) AbortTransaction();
      throw;
    }
    // The callback committed or aborted itself: that stands.
    if (!in_transaction()) return;
    for (;;) {
      try {
        CommitTransaction();
        return;
      } catch (const Error& e) {
        if (e.HasErrorLabel("UnknownTransactionCommitResult") && e.code() != kMaxTimeMSExpired && time_left()) {
          continue;
        }
        if (e.HasErrorLabel("TransientTransactionError") && time_left()) break;  // run it all again
        throw;
      }
    }
  }
}

void ClientSession::EndSession() {
  if (state_ == nullptr || state_->ended) return;
  SessionState& s = *state_;
  if (s.txn == SessionState::Txn::kInProgress) AbortTransaction();
  s.ended = true;
  // The worker forgets idle sessions anyway; a closed client or a gone worker is no error.
  try {
    std::shared_ptr<WorkerBridge> keep;
    auto& rpc = s.core->Rpc(&keep);
    v1::EndSessionsRequest request;
    request.add_ids(s.id);
    v1::Empty reply;
    rpc.Unary(&v1::DataService::Stub::AsyncEndSessions, request, &reply);
  } catch (const Error&) {
  }
}

ClientSession MongoClient::StartSession(const SessionOptions& options) {
  core_->Bridge();  // throws once closed
  auto state = std::make_unique<SessionState>();
  state->core = core_;
  state->id = internal::RandomUuid();
  state->snapshot = options.snapshot;
  if (options.snapshot && options.snapshot_time) {
    state->snapshot_time = static_cast<uint64_t>(options.snapshot_time->t) << 32 | options.snapshot_time->i;
  }
  return ClientSession(std::move(state));
}

std::optional<Timestamp> ClientSession::snapshot_time() const {
  if (state_ == nullptr || state_->snapshot_time == 0) return std::nullopt;
  return Timestamp{static_cast<uint32_t>(state_->snapshot_time >> 32), static_cast<uint32_t>(state_->snapshot_time)};
}

}  // namespace micromongo
