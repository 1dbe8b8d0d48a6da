#include "document/builder.h"

#include <charconv>
#include <cstring>

#include "document/status.h"
#include "micromongo/document.h"

namespace micromongo::bson {

void Builder::AppendString(std::string_view key, std::string_view s) {
  Key(BsonType::kString, key);
  int32_t len = static_cast<int32_t>(s.size() + 1);
  buf_.append(reinterpret_cast<const char*>(&len), 4);
  buf_.append(s.data(), s.size());
  buf_.push_back('\0');
}

void Builder::End(size_t token) {
  buf_.push_back('\0');
  int32_t len = static_cast<int32_t>(buf_.size() - token);
  std::memcpy(buf_.data() + token, &len, 4);
}

std::string Builder::Finish() && {
  buf_.push_back('\0');
  int32_t len = static_cast<int32_t>(buf_.size() - base_);
  std::memcpy(buf_.data() + base_, &len, 4);
  return std::move(buf_);
}

void Builder::Finish(AppendTo target) && { *target.out = std::move(*this).Finish(); }

std::string_view ArrayKey(size_t index, char (&scratch)[24]) {
  auto r = std::to_chars(scratch, scratch + sizeof(scratch), index);
  return std::string_view(scratch, r.ptr - scratch);
}

namespace {

void AppendLenString(std::string& out, std::string_view s) {
  int32_t len = static_cast<int32_t>(s.size() + 1);
  out.append(reinterpret_cast<const char*>(&len), 4);
  out.append(s.data(), s.size());
  out.push_back('\0');
}

}  // namespace

void Builder::AppendValue(std::string_view key, const Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          Key(BsonType::kNull, key);
        } else if constexpr (std::is_same_v<T, double>) {
          AppendDouble(key, v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          AppendString(key, v);
        } else if constexpr (std::is_same_v<T, Document>) {
          size_t t = StartDocument(key);
          for (const auto& [k, fv] : v) AppendValue(k, fv);
          End(t);
        } else if constexpr (std::is_same_v<T, Array>) {
          size_t t = StartArray(key);
          char scratch[24];
          for (size_t i = 0; i < v.size(); ++i) AppendValue(ArrayKey(i, scratch), v[i]);
          End(t);
        } else if constexpr (std::is_same_v<T, Binary>) {
          Key(BsonType::kBinary, key);
          int32_t len = static_cast<int32_t>(v.data.size());
          buf_.append(reinterpret_cast<const char*>(&len), 4);
          buf_.push_back(static_cast<char>(v.subtype));
          buf_.append(v.data);
        } else if constexpr (std::is_same_v<T, Undefined>) {
          Key(BsonType::kUndefined, key);
        } else if constexpr (std::is_same_v<T, ObjectId>) {
          Fixed(BsonType::kObjectId, key, v.bytes.data(), 12);
        } else if constexpr (std::is_same_v<T, bool>) {
          AppendBool(key, v);
        } else if constexpr (std::is_same_v<T, DateTime>) {
          Fixed(BsonType::kDate, key, &v.millis, 8);
        } else if constexpr (std::is_same_v<T, Regex>) {
          Key(BsonType::kRegex, key);
          buf_.append(v.pattern.c_str(), v.pattern.size() + 1);
          buf_.append(v.options.c_str(), v.options.size() + 1);
        } else if constexpr (std::is_same_v<T, JavaScript>) {
          Key(BsonType::kJavaScript, key);
          AppendLenString(buf_, v.code);
        } else if constexpr (std::is_same_v<T, Symbol>) {
          Key(BsonType::kSymbol, key);
          AppendLenString(buf_, v.symbol);
        } else if constexpr (std::is_same_v<T, int32_t>) {
          AppendInt32(key, v);
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          Key(BsonType::kTimestamp, key);
          buf_.append(reinterpret_cast<const char*>(&v.i), 4);
          buf_.append(reinterpret_cast<const char*>(&v.t), 4);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          AppendInt64(key, v);
        } else if constexpr (std::is_same_v<T, Decimal128>) {
          Key(BsonType::kDecimal128, key);
          buf_.append(reinterpret_cast<const char*>(&v.low), 8);
          buf_.append(reinterpret_cast<const char*>(&v.high), 8);
        } else if constexpr (std::is_same_v<T, MinKey>) {
          Key(BsonType::kMinKey, key);
        } else if constexpr (std::is_same_v<T, MaxKey>) {
          Key(BsonType::kMaxKey, key);
        } else if constexpr (std::is_same_v<T, DbPointer>) {
          Key(BsonType::kDbPointer, key);
          AppendLenString(buf_, v.ns);
          buf_.append(reinterpret_cast<const char*>(v.id.bytes.data()), 12);
        } else if constexpr (std::is_same_v<T, CodeWithScope>) {
          Key(BsonType::kCodeWithScope, key);
          std::string scope = Encode(v.scope);
          int32_t total = static_cast<int32_t>(4 + 4 + v.code.size() + 1 + scope.size());
          buf_.append(reinterpret_cast<const char*>(&total), 4);
          AppendLenString(buf_, v.code);
          buf_.append(scope);
        }
      },
      value.variant());
}

std::string Encode(const Document& doc) {
  Builder b;
  for (const auto& [k, v] : doc) b.AppendValue(k, v);
  return std::move(b).Finish();
}

void EncodeAppend(const Document& doc, std::string* out) {
  Builder b(Builder::AppendTo{out});
  for (const auto& [k, v] : doc) b.AppendValue(k, v);
  std::move(b).Finish(Builder::AppendTo{out});
}

namespace {

// Counting first lets a decoded document or array allocate once: walking the elements
// costs less than growing the vector (most of a client's per-document time, by perf).
size_t CountElements(DocView view) {
  size_t n = 0;
  for (auto it = view.begin(); it != view.end(); ++it) ++n;
  return n;
}

}  // namespace

Value ToValue(const ValueView& v) {
  switch (v.type) {
    case BsonType::kDouble: return v.Double();
    case BsonType::kString: return std::string(v.String());
    case BsonType::kDocument: return Decode(v.Doc());
    case BsonType::kArray: {
      Array a;
      a.reserve(CountElements(v.Doc()));
      for (const ElementView& e : v.Doc()) a.push_back(ToValue(e.value));
      return a;
    }
    case BsonType::kBinary: {
      Binary b;
      b.subtype = static_cast<uint8_t>(v.data[4]);
      b.data.assign(v.data + 5, ReadInt32(v.data));
      return b;
    }
    case BsonType::kUndefined: return Undefined{};
    case BsonType::kObjectId: {
      ObjectId o;
      std::memcpy(o.bytes.data(), v.data, 12);
      return o;
    }
    case BsonType::kBool: return v.Bool();
    case BsonType::kDate: return DateTime{v.Int64()};
    case BsonType::kNull: return nullptr;
    case BsonType::kRegex: {
      std::string pattern(v.data);
      return Regex{pattern, std::string(v.data + pattern.size() + 1)};
    }
    case BsonType::kJavaScript: return JavaScript{std::string(v.String())};
    case BsonType::kSymbol: return Symbol{std::string(v.String())};
    case BsonType::kInt32: return v.Int32();
    case BsonType::kTimestamp: {
      Timestamp t;
      std::memcpy(&t.i, v.data, 4);
      std::memcpy(&t.t, v.data + 4, 4);
      return t;
    }
    case BsonType::kInt64: return v.Int64();
    case BsonType::kDecimal128: {
      Decimal128 d;
      std::memcpy(&d.low, v.data, 8);
      std::memcpy(&d.high, v.data + 8, 8);
      return d;
    }
    case BsonType::kMinKey: return MinKey{};
    case BsonType::kMaxKey: return MaxKey{};
    case BsonType::kDbPointer: {
      int32_t len = ReadInt32(v.data);
      DbPointer p;
      p.ns.assign(v.data + 4, static_cast<size_t>(len - 1));
      std::memcpy(p.id.bytes.data(), v.data + 4 + len, 12);
      return p;
    }
    case BsonType::kCodeWithScope: {
      int32_t code_len = ReadInt32(v.data + 4);
      CodeWithScope c;
      c.code.assign(v.data + 8, static_cast<size_t>(code_len - 1));
      c.scope = Decode(DocView(v.data + 8 + code_len));
      return c;
    }
    default:
      return nullptr;
  }
}

Document Decode(DocView view) {
  Document doc;
  doc.reserve(CountElements(view));
  for (const ElementView& e : view) doc.Append(std::string(e.key), ToValue(e.value));
  return doc;
}

absl::StatusOr<Document> DecodeChecked(std::string_view bytes) {
  if (auto s = Validate(bytes); !s.ok()) return s;
  return Decode(DocView(bytes));
}

}  // namespace micromongo::bson
