#pragma once

// Appends BSON elements into a growing buffer; Finish() yields the document's bytes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"

namespace micromongo {
class Value;
class Document;
}  // namespace micromongo

namespace micromongo::bson {

class Builder {
 public:
  Builder() { buf_.append(4, '\0'); }
  // Builds into `buffer`, reusing its capacity (its contents are discarded).
  explicit Builder(std::string buffer) : buf_(std::move(buffer)) {
    buf_.clear();
    buf_.append(4, '\0');
  }
  // Appends one document to the end of `*out` (documents back to back, as in a BSON
  // document sequence), building in its buffer: no allocation when it has room. `*out` is
  // unusable until Finish(out) hands it back.
  struct AppendTo {
    std::string* out;
  };
  explicit Builder(AppendTo target) : buf_(std::move(*target.out)), base_(buf_.size()) {
    buf_.append(4, '\0');
  }
  void Reserve(size_t bytes) { buf_.reserve(base_ + bytes); }

  void AppendView(std::string_view key, const ValueView& v) {
    Key(v.type, key);
    buf_.append(v.data, v.size);
  }
  void AppendDouble(std::string_view key, double d) { Fixed(BsonType::kDouble, key, &d, 8); }
  void AppendInt32(std::string_view key, int32_t n) { Fixed(BsonType::kInt32, key, &n, 4); }
  void AppendInt64(std::string_view key, int64_t n) { Fixed(BsonType::kInt64, key, &n, 8); }
  void AppendBool(std::string_view key, bool b) {
    char c = b ? 1 : 0;
    Fixed(BsonType::kBool, key, &c, 1);
  }
  void AppendNull(std::string_view key) { Key(BsonType::kNull, key); }
  void AppendString(std::string_view key, std::string_view s);
  void AppendDocument(std::string_view key, DocView d) {
    Key(BsonType::kDocument, key);
    buf_.append(d.data(), d.size());
  }
  void AppendArray(std::string_view key, DocView d) {
    Key(BsonType::kArray, key);
    buf_.append(d.data(), d.size());
  }
  void AppendValue(std::string_view key, const Value& v);

  // Nested documents and arrays written in place: Start...() returns a token for End().
  size_t StartDocument(std::string_view key) { return Start(BsonType::kDocument, key); }
  size_t StartArray(std::string_view key) { return Start(BsonType::kArray, key); }
  void End(size_t token);

  size_t size() const { return buf_.size() - base_ + 1; }
  std::string Finish() &&;
  // Ends an AppendTo build: `*out` holds what it held before, then the document.
  void Finish(AppendTo target) &&;

 private:
  void Key(BsonType type, std::string_view key) {
    buf_.push_back(static_cast<char>(type));
    buf_.append(key.data(), key.size());
    buf_.push_back('\0');
  }
  void Fixed(BsonType type, std::string_view key, const void* p, size_t n) {
    Key(type, key);
    buf_.append(static_cast<const char*>(p), n);
  }
  size_t Start(BsonType type, std::string_view key) {
    Key(type, key);
    size_t pos = buf_.size();
    buf_.append(4, '\0');
    return pos;
  }

  std::string buf_;
  size_t base_ = 0;  // where the document starts in buf_
};

// Array keys "0", "1", ... without allocation for the common small indexes.
std::string_view ArrayKey(size_t index, char (&scratch)[24]);

// Tree <-> bytes.
std::string Encode(const Document& doc);
// Appends the document's bytes to `*out`.
void EncodeAppend(const Document& doc, std::string* out);
// Bytes must be validated (bson::Validate) first.
Document Decode(DocView view);
Value ToValue(const ValueView& view);
// Validates, then decodes.
absl::StatusOr<Document> DecodeChecked(std::string_view bytes);

}  // namespace micromongo::bson
