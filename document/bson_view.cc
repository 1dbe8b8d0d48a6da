#include "document/bson_view.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "document/status.h"
#include "document/decimal.h"

namespace micromongo::bson {
namespace {

constexpr char kEmptyDoc[5] = {5, 0, 0, 0, 0};

}  // namespace

DocView::DocView() : data_(kEmptyDoc), size_(5) {}

DocView ValueView::Doc() const { return DocView(data); }

double ValueView::AsDouble() const {
  switch (type) {
    case BsonType::kDouble: return Double();
    case BsonType::kInt32: return Int32();
    case BsonType::kInt64: return static_cast<double>(Int64());
    case BsonType::kDecimal128: return static_cast<double>(DecimalToLongDouble(data));
    default: return 0;
  }
}

bool DocView::Find(std::string_view key, ValueView* out) const {
  for (const ElementView& e : *this) {
    if (e.key == key) {
      *out = e.value;
      return true;
    }
  }
  return false;
}

size_t DocView::CountElements() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

namespace {

absl::Status Invalid(std::string_view what) {
  return MongoError(kInvalidBSON, StrCat("invalid BSON: ", what));
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool ValidUtf8(const unsigned char* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

// Validates a length-prefixed string (string, code, symbol) at [p, end).
absl::Status CheckString(const char* p, const char* end, uint32_t* size) {
  if (end - p < 5) return Invalid("truncated string");
  int32_t len = ReadInt32(p);
  if (len < 1 || len > end - p - 4) return Invalid("bad string length");
  if (p[4 + len - 1] != 0) return Invalid("string not NUL-terminated");
  if (!ValidUtf8(reinterpret_cast<const unsigned char*>(p + 4), static_cast<size_t>(len - 1))) {
    return Invalid("string is not valid UTF-8");
  }
  *size = 4 + static_cast<uint32_t>(len);
  return absl::OkStatus();
}

absl::Status CheckCString(const char* p, const char* end, size_t* len) {
  const void* nul = std::memchr(p, 0, end - p);
  if (nul == nullptr) return Invalid("unterminated key or C string");
  *len = static_cast<const char*>(nul) - p;
  // Keys and regular expressions are UTF-8 like strings (Extended JSON must print them).
  if (!ValidUtf8(reinterpret_cast<const unsigned char*>(p), *len)) return Invalid("key or C string is not valid UTF-8");
  return absl::OkStatus();
}

absl::Status CheckDocument(const char* p, const char* end, int depth, uint32_t* size);

absl::Status CheckValue(BsonType type, const char* p, const char* end, int depth,
                        uint32_t* size) {
  auto fixed = [&](uint32_t n) -> absl::Status {
    if (end - p < static_cast<ptrdiff_t>(n)) return Invalid("truncated value");
    *size = n;
    return absl::OkStatus();
  };
  switch (type) {
    case BsonType::kDouble:
    case BsonType::kDate:
    case BsonType::kTimestamp:
    case BsonType::kInt64:
      return fixed(8);
    case BsonType::kInt32:
      return fixed(4);
    case BsonType::kDecimal128:
      return fixed(16);
    case BsonType::kObjectId:
      return fixed(12);
    case BsonType::kUndefined:
    case BsonType::kNull:
    case BsonType::kMinKey:
    case BsonType::kMaxKey:
      return fixed(0);
    case BsonType::kBool:
      if (auto s = fixed(1); !s.ok()) return s;
      if (static_cast<uint8_t>(*p) > 1) return Invalid("boolean not 0 or 1");
      return absl::OkStatus();
    case BsonType::kString:
    case BsonType::kJavaScript:
    case BsonType::kSymbol:
      return CheckString(p, end, size);
    case BsonType::kDocument:
    case BsonType::kArray:
      return CheckDocument(p, end, depth - 1, size);
    case BsonType::kBinary: {
      if (end - p < 5) return Invalid("truncated binary");
      int32_t len = ReadInt32(p);
      if (len < 0 || len > end - p - 5) return Invalid("bad binary length");
      if (static_cast<uint8_t>(p[4]) == 2) {  // old binary: inner length must agree
        if (len < 4 || ReadInt32(p + 5) != len - 4) return Invalid("bad old binary length");
      }
      *size = 5 + static_cast<uint32_t>(len);
      return absl::OkStatus();
    }
    case BsonType::kRegex: {
      size_t a = 0, b = 0;
      if (auto s = CheckCString(p, end, &a); !s.ok()) return s;
      if (auto s = CheckCString(p + a + 1, end, &b); !s.ok()) return s;
      *size = static_cast<uint32_t>(a + b + 2);
      return absl::OkStatus();
    }
    case BsonType::kDbPointer: {
      uint32_t n;
      if (auto s = CheckString(p, end, &n); !s.ok()) return s;
      if (end - p - n < 12) return Invalid("truncated DBPointer");
      *size = n + 12;
      return absl::OkStatus();
    }
    case BsonType::kCodeWithScope: {
      if (end - p < 4) return Invalid("truncated code with scope");
      int32_t total = ReadInt32(p);
      if (total < 14 || total > end - p) return Invalid("bad code-with-scope length");
      const char* inner_end = p + total;
      uint32_t code_size, scope_size;
      if (auto s = CheckString(p + 4, inner_end, &code_size); !s.ok()) return s;
      if (auto s = CheckDocument(p + 4 + code_size, inner_end, depth - 1, &scope_size);
          !s.ok()) {
        return s;
      }
      if (4 + code_size + scope_size != static_cast<uint32_t>(total)) {
        return Invalid("code-with-scope length mismatch");
      }
      *size = static_cast<uint32_t>(total);
      return absl::OkStatus();
    }
  }
  return Invalid(StrCat("unknown element type 0x",
                              absl::Hex(static_cast<uint8_t>(type))));
}

// `depth`: how many more levels of nesting are allowed, this document's included.
absl::Status CheckDocument(const char* p, const char* end, int depth, uint32_t* size) {
  if (depth <= 0) {
    return MongoError(kOverflow, StrCat("BSONObj exceeded maximum nested object depth: ",
                                        kMaxBsonDepth));
  }
  if (end - p < 5) return Invalid("document shorter than 5 bytes");
  int32_t len = ReadInt32(p);
  if (len < 5 || len > end - p) return Invalid("bad document length");
  const char* doc_end = p + len;
  if (doc_end[-1] != 0) return Invalid("document not NUL-terminated");
  const char* q = p + 4;
  while (q < doc_end - 1) {
    auto type = static_cast<BsonType>(static_cast<uint8_t>(*q));
    size_t key_len = 0;
    if (auto s = CheckCString(q + 1, doc_end - 1, &key_len); !s.ok()) return s;
    const char* v = q + 2 + key_len;
    uint32_t vsize = 0;
    if (auto s = CheckValue(type, v, doc_end - 1, depth, &vsize); !s.ok()) return s;
    q = v + vsize;
  }
  if (q != doc_end - 1) return Invalid("element overruns document");
  *size = static_cast<uint32_t>(len);
  return absl::OkStatus();
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  return ValidUtf8(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

absl::Status Validate(std::string_view bytes, int max_depth) {
  uint32_t size = 0;
  if (auto s = CheckDocument(bytes.data(), bytes.data() + bytes.size(), max_depth, &size);
      !s.ok()) {
    return s;
  }
  if (size != bytes.size()) return Invalid("trailing bytes after document");
  return absl::OkStatus();
}

}  // namespace micromongo::bson
