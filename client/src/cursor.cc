#include "client_core.h"
#include "cursor_state.h"
#include "document/builder.h"
#include "document/status.h"

namespace micromongo {

Cursor::Cursor(std::unique_ptr<internal::CursorState> state) : state_(std::move(state)) {}
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;

Cursor::~Cursor() {
  if (state_ == nullptr) return;
  if (state_->next.valid()) {
    // Let the prefetch finish: it may end the cursor, or tell which id to release.
    try {
      state_->cursor_id = state_->next.get().cursor_id();
    } catch (...) {
      state_->cursor_id = 0;  // the worker is gone or the cursor failed: nothing to release
    }
  }
  if (state_->cursor_id == 0) return;
  // Release the server-side cursor; a dead worker has nothing left to release.
  try {
    auto& rpc = internal::BridgeAccess::Get(*state_->bridge);
    v1::KillCursorsRequest request;
    request.add_cursor_ids(state_->cursor_id);
    v1::Empty reply;
    rpc.Unary(&v1::DataService::Stub::AsyncKillCursors, request, &reply);
  } catch (...) {
  }
}

bool Cursor::Fill() {
  if (state_ == nullptr) return false;
  if (state_->current) return true;
  state_->Refill();
  if (state_->buffer.empty()) return false;
  auto doc = bson::DecodeChecked(state_->buffer.Front());
  state_->buffer.PopFront();
  if (!doc.ok()) {
    internal::ThrowMongo(MongoCodeOf(doc.status()), "", std::string(doc.status().message()));
  }
  state_->current = *std::move(doc);
  return true;
}

std::optional<Document> Cursor::Next() {
  if (!Fill()) return std::nullopt;
  std::optional<Document> out = std::move(state_->current);
  state_->current.reset();
  return out;
}

bool Cursor::NextBson(std::string* bson) {
  if (state_ == nullptr) return false;
  if (state_->current) {  // decoded already (an iterator looked at it)
    *bson = state_->current->ToBson();
    state_->current.reset();
    return true;
  }
  state_->Refill();
  if (state_->buffer.empty()) return false;
  bson->assign(state_->buffer.Front());
  state_->buffer.PopFront();
  return true;
}

bool Cursor::closed() const {
  if (state_ == nullptr) return true;
  return !state_->current && state_->buffer.empty() && !state_->next.valid() && state_->cursor_id == 0;
}

std::vector<Document> Cursor::ToVector() {
  std::vector<Document> out;
  while (auto d = Next()) out.push_back(*std::move(d));
  return out;
}

Cursor::iterator Cursor::begin() {
  Fill();
  return iterator(this);
}

Cursor::iterator::reference Cursor::iterator::operator*() const {
  return *cursor_->state_->current;
}

Cursor::iterator& Cursor::iterator::operator++() {
  cursor_->state_->current.reset();
  cursor_->Fill();
  return *this;
}

bool Cursor::iterator::AtEnd() const {
  return cursor_ == nullptr || cursor_->state_ == nullptr || !cursor_->state_->current;
}

}  // namespace micromongo
