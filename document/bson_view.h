#pragma once

// Zero-copy views over BSON bytes. The server matches, sorts and projects documents on
// these views, never building a tree per scanned document.
//
// Views do not own memory: the bytes must outlive them. Accessors assume bytes that passed
// Validate() (or were produced by BsonBuilder); they do no bounds checks of their own.

#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/status/status.h"
#include "document/status.h"
#include "micromongo/bson_types.h"

namespace micromongo::bson {

class DocView;

inline int32_t ReadInt32(const char* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline int64_t ReadInt64(const char* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline double ReadDouble(const char* p) {
  double v;
  std::memcpy(&v, p, 8);
  return v;
}

// Size in bytes of a value of `type` starting at `p` (validated data). Inline: every
// step of a walk over a document's elements takes it.
inline uint32_t ValueSize(BsonType type, const char* p) {
  switch (type) {
    case BsonType::kDouble:
    case BsonType::kDate:
    case BsonType::kTimestamp:
    case BsonType::kInt64:
      return 8;
    case BsonType::kString:
    case BsonType::kJavaScript:
    case BsonType::kSymbol:
      return 4 + static_cast<uint32_t>(ReadInt32(p));
    case BsonType::kDocument:
    case BsonType::kArray:
    case BsonType::kCodeWithScope:
      return static_cast<uint32_t>(ReadInt32(p));
    case BsonType::kBinary:
      return 5 + static_cast<uint32_t>(ReadInt32(p));
    case BsonType::kObjectId:
      return 12;
    case BsonType::kBool:
      return 1;
    case BsonType::kInt32:
      return 4;
    case BsonType::kDecimal128:
      return 16;
    case BsonType::kRegex: {
      size_t a = std::strlen(p);
      size_t b = std::strlen(p + a + 1);
      return static_cast<uint32_t>(a + b + 2);
    }
    case BsonType::kDbPointer:
      return 4 + static_cast<uint32_t>(ReadInt32(p)) + 12;
    default:  // undefined, null, minkey, maxkey
      return 0;
  }
}

// One BSON value: its type and the bytes after its key.
struct ValueView {
  BsonType type = BsonType::kNull;
  const char* data = nullptr;
  uint32_t size = 0;

  bool IsNumber() const {
    return type == BsonType::kDouble || type == BsonType::kInt32 ||
           type == BsonType::kInt64 || type == BsonType::kDecimal128;
  }
  bool IsDocumentLike() const {
    return type == BsonType::kDocument || type == BsonType::kArray;
  }
  double Double() const { return ReadDouble(data); }
  int32_t Int32() const { return ReadInt32(data); }
  int64_t Int64() const { return ReadInt64(data); }
  bool Bool() const { return data[0] != 0; }
  // For string, JavaScript and symbol: the text without its terminating NUL.
  std::string_view String() const {
    return std::string_view(data + 4, static_cast<size_t>(ReadInt32(data)) - 1);
  }
  // For document and array.
  DocView Doc() const;
  // Any numeric type as double (decimal128 approximated).
  double AsDouble() const;
  // Raw bytes of the value as stored.
  std::string_view bytes() const { return std::string_view(data, size); }
};

// A null value (what a missing field sorts and indexes as).
inline constexpr ValueView kNullValue{BsonType::kNull, "", 0};

struct ElementView {
  std::string_view key;
  ValueView value;
};

// A validated BSON document (or array: an array is a document keyed "0", "1", ...).
class DocView {
 public:
  DocView();
  // `data` points at a document's int32 length prefix.
  explicit DocView(const char* data) : data_(data), size_(ReadInt32(data)) {}
  explicit DocView(std::string_view bytes) : DocView(bytes.data()) {}

  const char* data() const { return data_; }
  uint32_t size() const { return size_; }
  std::string_view bytes() const { return std::string_view(data_, size_); }
  bool empty() const { return size_ <= 5; }

  class Iterator {
   public:
    Iterator(const char* p) : p_(p) { Load(); }
    const ElementView& operator*() const { return element_; }
    const ElementView* operator->() const { return &element_; }
    Iterator& operator++() {
      p_ = element_.value.data + element_.value.size;
      Load();
      return *this;
    }
    bool operator==(const Iterator& o) const { return p_ == o.p_; }
    bool operator!=(const Iterator& o) const { return p_ != o.p_; }

   private:
    // Reads the element at p_ (none at the document's terminator). Inline, with the key's
    // length found by a loop rather than a call to strlen: keys are short, and this is the
    // step of every walk over a document (matching, projecting, grouping).
    void Load() {
      if (*p_ == 0) return;  // end of document
      element_.value.type = static_cast<BsonType>(static_cast<uint8_t>(*p_));
      const char* key = p_ + 1;
      const char* key_end = key;
      while (*key_end != 0) ++key_end;
      element_.key = std::string_view(key, static_cast<size_t>(key_end - key));
      element_.value.data = key_end + 1;
      element_.value.size = ValueSize(element_.value.type, element_.value.data);
    }
    const char* p_;
    ElementView element_;
  };

  Iterator begin() const { return Iterator(data_ + 4); }
  Iterator end() const { return Iterator(data_ + size_ - 1); }

  // The first element named `key`.
  bool Find(std::string_view key, ValueView* out) const;
  // Number of elements (linear).
  size_t CountElements() const;

 private:
  const char* data_;
  uint32_t size_;
};

// Checks that `bytes` is exactly one well-formed BSON document: lengths, terminators,
// known types, booleans 0/1, strings NUL-terminated and UTF-8. Errors carry code 22
// (InvalidBSON), or 15 (Overflow) for documents nested more than `max_depth` levels (the
// top-level document is the first; MongoDB accepts kMaxBsonDepth).
absl::Status Validate(std::string_view bytes, int max_depth = kMaxBsonDepth);
// Well-formed UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool IsValidUtf8(std::string_view s);

}  // namespace micromongo::bson
