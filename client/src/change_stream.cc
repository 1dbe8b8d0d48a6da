// ChangeStream: a Watch call's replies read by a thread of the stream into a bounded queue,
// from which Next() and TryNext() take events. The queue's bound leaves a slow reader's
// events in the worker's log (gRPC flow control stops the worker's writes to the stream,
// never its other clients' writes).

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "bridge_impl.h"
#include "client_core.h"
#include "document/bson_view.h"
#include "document/builder.h"
#include "document/status.h"
#include "micromongo/change_stream.h"

namespace micromongo {
namespace internal {

struct ChangeStreamState {
  // Replies queued beyond this many events make the reading thread wait.
  static constexpr size_t kMaxQueuedEvents = 1000;

  struct Item {
    std::optional<std::string> event;  // BSON; none: only a newer resume token
    std::string token;                 // BSON: the token after this item
  };

  std::shared_ptr<WorkerBridge> bridge;
  std::shared_ptr<const WorkerBridge::Impl::Connection> connection;
  std::unique_ptr<grpc::ClientContext> context = std::make_unique<grpc::ClientContext>();
  std::unique_ptr<grpc::ClientReader<v1::WatchReply>> reader;
  std::thread thread;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> queue;
  size_t queued_events = 0;
  bool started = false;  // the first reply (or the end) arrived
  bool done = false;     // the call ended; `status` says how
  bool closed = false;
  grpc::Status status;
  std::string token;  // after the last item taken

  void ReadAll() {
    v1::WatchReply reply;
    while (reader->Read(&reply)) {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return closed || queued_events < kMaxQueuedEvents; });
      if (closed) break;
      for (v1::Doc& d : *reply.mutable_events()) {
        Item item;
        bson::ValueView id;
        bson::DocView view(d.bson());
        if (view.Find("_id", &id) && id.type == BsonType::kDocument) item.token = std::string(id.Doc().bytes());
        item.event = std::move(*d.mutable_bson());
        queue.push_back(std::move(item));
        ++queued_events;
      }
      queue.push_back({std::nullopt, std::move(*reply.mutable_resume_token()->mutable_bson())});
      started = true;
      cv.notify_all();
    }
    grpc::Status s = reader->Finish();
    std::lock_guard<std::mutex> l(mu);
    status = s;
    started = done = true;
    cv.notify_all();
  }

  // The next event; nullopt when none is queued (`wait`: until one comes or the end).
  std::optional<Document> Take(bool wait) {
    std::unique_lock<std::mutex> l(mu);
    while (true) {
      while (!queue.empty()) {
        Item item = std::move(queue.front());
        queue.pop_front();
        if (!item.token.empty()) token = std::move(item.token);
        if (!item.event) continue;
        --queued_events;
        cv.notify_all();
        auto doc = bson::DecodeChecked(*item.event);
        if (!doc.ok()) ThrowMongo(MongoCodeOf(doc.status()), "", std::string(doc.status().message()));
        return *std::move(doc);
      }
      if (done) {
        if (!status.ok() && !closed) {
          grpc::Status s = status;
          l.unlock();
          BridgeAccess::Get(*bridge).ThrowForStatus(s);
        }
        return std::nullopt;
      }
      if (!wait || closed) return std::nullopt;
      cv.wait(l);
    }
  }

  static ChangeStream Wrap(std::unique_ptr<ChangeStreamState> state) { return ChangeStream(std::move(state)); }

  void Close() {
    {
      std::lock_guard<std::mutex> l(mu);
      if (closed && !thread.joinable()) return;
      closed = true;
      cv.notify_all();
    }
    if (context != nullptr) context->TryCancel();
    if (thread.joinable()) thread.join();
    // A closed stream holds no connection (the context holds the channel too): a
    // terminated bridge's channel closes at once.
    reader.reset();
    context.reset();
    connection.reset();
  }
};

// Opens the stream and waits for its first reply, so that errors of the request (a bad
// option, a lost resume point) throw here as MongoDB's watch() does.
ChangeStream OpenChangeStream(ClientCore* core, v1::WatchRequest request, const std::vector<Document>& pipeline,
                              const ChangeStreamOptions& options);

}  // namespace internal

ChangeStream::ChangeStream(std::unique_ptr<internal::ChangeStreamState> state) : state_(std::move(state)) {}
ChangeStream::ChangeStream(ChangeStream&&) noexcept = default;
ChangeStream& ChangeStream::operator=(ChangeStream&& other) noexcept {
  if (this != &other) {
    Close();
    state_ = std::move(other.state_);
    current_ = std::move(other.current_);
  }
  return *this;
}
ChangeStream::~ChangeStream() { Close(); }

std::optional<Document> ChangeStream::Next() { return state_ == nullptr ? std::nullopt : state_->Take(true); }
std::optional<Document> ChangeStream::TryNext() { return state_ == nullptr ? std::nullopt : state_->Take(false); }

ChangeStream::iterator ChangeStream::begin() {
  current_ = Next();
  return iterator(this);
}

ChangeStream::iterator& ChangeStream::iterator::operator++() {
  stream_->current_ = stream_->Next();
  return *this;
}

Document ChangeStream::resume_token() const {
  if (state_ == nullptr) return Document();
  std::lock_guard<std::mutex> l(state_->mu);
  // Tokens of replies already read but not yet taken are ahead of the last event taken:
  // only those after it with no event in between count.
  std::string token = state_->token;
  for (const auto& item : state_->queue) {
    if (item.event) break;
    token = item.token;
  }
  return token.empty() ? Document() : bson::Decode(bson::DocView(token));
}

bool ChangeStream::alive() const {
  if (state_ == nullptr) return false;
  std::lock_guard<std::mutex> l(state_->mu);
  return !(state_->done || state_->closed) || state_->queued_events > 0;
}

void ChangeStream::Close() {
  if (state_ != nullptr) state_->Close();
}

namespace internal {

ChangeStream OpenChangeStream(ClientCore* core, v1::WatchRequest request, const std::vector<Document>& pipeline,
                              const ChangeStreamOptions& options) {
  for (const Document& stage : pipeline) SetBson(request.add_pipeline(), stage);
  using FD = ChangeStreamOptions::FullDocument;
  using BC = ChangeStreamOptions::BeforeChange;
  switch (options.full_document) {
    case FD::kDefault: break;
    case FD::kUpdateLookup: request.set_full_document("updateLookup"); break;
    case FD::kWhenAvailable: request.set_full_document("whenAvailable"); break;
    case FD::kRequired: request.set_full_document("required"); break;
  }
  switch (options.full_document_before_change) {
    case BC::kOff: break;
    case BC::kWhenAvailable: request.set_full_document_before_change("whenAvailable"); break;
    case BC::kRequired: request.set_full_document_before_change("required"); break;
  }
  if (options.resume_after) SetBson(request.mutable_resume_after(), *options.resume_after);
  if (options.start_after) SetBson(request.mutable_start_after(), *options.start_after);
  if (options.start_at_operation_time) {
    request.mutable_start_at_operation_time()->set_t(options.start_at_operation_time->t);
    request.mutable_start_at_operation_time()->set_i(options.start_at_operation_time->i);
  }
  request.set_max_await_time_ms(options.max_await_time.count());
  request.set_batch_size(options.batch_size);
  request.set_show_expanded_events(options.show_expanded_events);
  if (options.collation) SetBson(request.mutable_collation(), *options.collation);
  request.set_comment(options.comment);

  auto state = std::make_unique<ChangeStreamState>();
  state->bridge = core->Bridge();
  auto& rpc = BridgeAccess::Get(*state->bridge);
  state->connection = rpc.AcquireForStream();
  state->reader = state->connection->data->Watch(state->context.get(), request);
  ChangeStreamState* s = state.get();
  state->thread = std::thread([s] { s->ReadAll(); });
  {
    std::unique_lock<std::mutex> l(s->mu);
    s->cv.wait(l, [&] { return s->started; });
    if (s->done && !s->status.ok()) {
      grpc::Status status = s->status;
      l.unlock();
      s->Close();
      rpc.ThrowForStatus(status);
    }
  }
  return ChangeStreamState::Wrap(std::move(state));
}

}  // namespace internal

ChangeStream Collection::Watch(const std::vector<Document>& pipeline, const ChangeStreamOptions& options) const {
  v1::WatchRequest request;
  request.set_database(db_);
  request.set_collection(name_);
  return internal::OpenChangeStream(core_.get(), std::move(request), pipeline, options);
}

ChangeStream Database::Watch(const std::vector<Document>& pipeline, const ChangeStreamOptions& options) const {
  v1::WatchRequest request;
  request.set_database(name_);
  return internal::OpenChangeStream(core_.get(), std::move(request), pipeline, options);
}

ChangeStream MongoClient::Watch(const std::vector<Document>& pipeline, const ChangeStreamOptions& options) const {
  return internal::OpenChangeStream(core_.get(), v1::WatchRequest(), pipeline, options);
}

}  // namespace micromongo
