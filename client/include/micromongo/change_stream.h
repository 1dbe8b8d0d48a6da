#pragma once

// Change streams, after MongoDB's driver API: Collection::Watch, Database::Watch and
// MongoClient::Watch return a ChangeStream of MongoDB change events
// ({_id: <resume token>, operationType, clusterTime, wallTime, ns, documentKey,
// fullDocument, updateDescription, ...}) in commit order.
//
//   micromongo::ChangeStream stream = coll.Watch();
//   for (const Document& event : stream) ...          // waits for each event
//   std::optional<Document> e = stream.TryNext();      // returns at once
//   Document token = stream.resume_token();            // store it; resume with it later
//
// Thread safety: one thread reads a stream at a time; Close() (and the destructor) may be
// called from another. Errors throw micromongo::Error with MongoDB's code: 286
// (ChangeStreamHistoryLost) when the resume point is older than the worker's change log,
// 260 (InvalidResumeToken), 280 (the pipeline changed an event's _id), 47 (a required pre-
// or post-image is missing), 20 (a stage not allowed in a change stream).

#include <chrono>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "micromongo/document.h"

namespace micromongo {

namespace internal {
struct ChangeStreamState;
}  // namespace internal

struct ChangeStreamOptions {
  // What update events carry as fullDocument: nothing (kDefault), the document as it is
  // when the event is read (kUpdateLookup; null if it is gone), or as the update left it
  // (kWhenAvailable: null unless the collection keeps change stream images; kRequired:
  // error 47 instead).
  enum class FullDocument { kDefault, kUpdateLookup, kWhenAvailable, kRequired };
  FullDocument full_document = FullDocument::kDefault;
  // fullDocumentBeforeChange of update, replace and delete events: the document before the
  // change, from a collection with CollectionOptions::change_stream_pre_and_post_images.
  enum class BeforeChange { kOff, kWhenAvailable, kRequired };
  BeforeChange full_document_before_change = BeforeChange::kOff;
  // Where the stream starts (at most one; default: after what is committed when it
  // opens). resume_after and start_after take a resume token (an event's _id or
  // resume_token()); only start_after may follow an invalidate event.
  std::optional<Document> resume_after;
  std::optional<Document> start_after;
  // The first event with this cluster time or later.
  std::optional<Timestamp> start_at_operation_time;
  // How long the worker holds an empty batch before it sends the latest resume token
  // (0: one second). Bounds how stale resume_token() can be while no event comes.
  std::chrono::milliseconds max_await_time{0};
  int32_t batch_size = 0;  // events per batch at most (0: 101)
  // Adds updateDescription.disambiguatedPaths to update events.
  bool show_expanded_events = false;
  // For string comparisons in the stream's $match stages.
  std::optional<Document> collation;
  std::string comment;
};

class ChangeStream {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Document;
    using difference_type = std::ptrdiff_t;
    using pointer = const Document*;
    using reference = const Document&;
    iterator() = default;
    reference operator*() const { return *stream_->current_; }
    pointer operator->() const { return &*stream_->current_; }
    iterator& operator++();
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.AtEnd() == b.AtEnd(); }

   private:
    friend class ChangeStream;
    explicit iterator(ChangeStream* s) : stream_(s) {}
    bool AtEnd() const { return stream_ == nullptr || !stream_->current_; }
    ChangeStream* stream_ = nullptr;
  };

  ChangeStream(ChangeStream&&) noexcept;
  ChangeStream& operator=(ChangeStream&&) noexcept;
  // Closes the stream.
  ~ChangeStream();

  // Waits for the next event. nullopt once the stream has ended: after its invalidate
  // event, or after Close().
  std::optional<Document> Next();
  // The next event if one has arrived, else nullopt at once.
  std::optional<Document> TryNext();
  // Events as they come (the range ends where Next() returns nullopt).
  iterator begin();
  iterator end() { return iterator(); }

  // False once the stream has ended and every event it received has been returned (after
  // its invalidate, an error or Close()): Next() and TryNext() return nullopt (or throw the
  // stream's error) from then on.
  bool alive() const;

  // The token to resume after the last event returned (or, when none came, after what the
  // worker has read meanwhile).
  Document resume_token() const;
  // Ends the stream (the worker stops at once).
  void Close();

 private:
  friend struct internal::ChangeStreamState;
  explicit ChangeStream(std::unique_ptr<internal::ChangeStreamState> state);
  std::unique_ptr<internal::ChangeStreamState> state_;
  std::optional<Document> current_;  // the iterator's event
};

}  // namespace micromongo
