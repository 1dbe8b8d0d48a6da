#pragma once

// The client's buffer of fetched, unread cursor documents.

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>

namespace micromongo::internal {

// A cursor's fetched, unread documents, kept as the batches they came in: each batch's
// documents are BSON back to back (the reply's document_sequence), read in place, so a
// document costs no allocation until it is decoded.
class DocumentBuffer {
 public:
  bool empty() const { return batches_.empty(); }

  // A batch of documents back to back; lengths are checked as they are read. An empty
  // batch holds no document.
  void AddSequence(std::string bytes) {
    if (!bytes.empty()) batches_.push_back(std::move(bytes));
  }
  // One document (a reply's `documents` entry), kept even when empty: an empty entry is a
  // damaged reply, for BSON validation to refuse where it is decoded, not to drop.
  void Add(std::string document) { batches_.push_back(std::move(document)); }

  // The next document's bytes; not empty(). A malformed length (a damaged reply) yields
  // the rest of its batch, which fails BSON validation where it is decoded.
  std::string_view Front() const {
    std::string_view rest = std::string_view(batches_.front()).substr(offset_);
    return rest.substr(0, NextLength(rest));
  }
  void PopFront() {
    std::string_view rest = std::string_view(batches_.front()).substr(offset_);
    offset_ += NextLength(rest);
    if (offset_ >= batches_.front().size()) {
      batches_.pop_front();
      offset_ = 0;
    }
  }

 private:
  static size_t NextLength(std::string_view rest) {
    if (rest.size() < 5) return rest.size();
    uint32_t length = static_cast<uint8_t>(rest[0]) | static_cast<uint8_t>(rest[1]) << 8 |
                      static_cast<uint8_t>(rest[2]) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(rest[3])) << 24;
    return length >= 5 && length <= rest.size() ? length : rest.size();
  }

  std::deque<std::string> batches_;
  size_t offset_ = 0;  // into batches_.front()
};

}  // namespace micromongo::internal
