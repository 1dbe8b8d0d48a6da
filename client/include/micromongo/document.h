#pragma once

// Document and Value: an ordered BSON document as a C++ value type.
//
// Documents keep field order (MongoDB's equality and sort specs depend on it) and hold
// every BSON type. They are plain values: copyable, movable, not synchronized (share
// const instances between threads freely; guard mutation yourself).

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "micromongo/bson_types.h"

namespace micromongo {

class Value;

class Document {
 public:
  using Field = std::pair<std::string, Value>;
  using const_iterator = std::vector<Field>::const_iterator;
  using iterator = std::vector<Field>::iterator;

  Document();
  // Document{{"name", "Alice"}, {"age", 30}, {"address", Document{{"city", "Oslo"}}}}.
  // Keys keep the order given; a repeated key is kept twice, as BSON allows.
  Document(std::initializer_list<Field> fields);
  Document(const Document&);
  Document(Document&&) noexcept;
  Document& operator=(const Document&);
  Document& operator=(Document&&) noexcept;
  ~Document();

  // Parses MongoDB Extended JSON v2 (canonical or relaxed, and the shell's legacy forms that
  // libbson accepts). Throws Error (code 9, FailedToParse) on malformed input.
  static Document FromJson(std::string_view json);
  // Decodes and validates BSON bytes. Throws Error (code 22, InvalidBSON).
  static Document FromBson(std::string_view bson);

  // Relaxed Extended JSON, e.g. {"_id": {"$oid": "..."}, "n": 1}.
  std::string ToJson() const;
  // Canonical Extended JSON: every number keeps its BSON type.
  std::string ToCanonicalJson() const;
  std::string ToBson() const;
  // Relaxed (or canonical) Extended JSON of BSON bytes, as FromBson(bson).ToJson() but
  // without building the Document. Throws Error (code 22, InvalidBSON) on invalid bytes.
  static std::string BsonToJson(std::string_view bson, bool canonical = false);
  // The BSON bytes of Extended JSON, as FromJson(json).ToBson() but without building the
  // Document. Throws Error (code 9, FailedToParse) on malformed input.
  static std::string JsonToBson(std::string_view json);

  size_t size() const;
  bool empty() const;
  // Room for `n` fields without reallocating (as std::vector::reserve; contents unchanged).
  void reserve(size_t n);
  const_iterator begin() const;
  const_iterator end() const;
  iterator begin();
  iterator end();

  bool Has(std::string_view key) const;
  // The first field named `key`, or nullptr.
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  // The value of `key`; throws Error (code 13111, NoSuchKey semantics) if it is absent.
  const Value& Get(std::string_view key) const;
  const Value& operator[](std::string_view key) const { return Get(key); }

  // Typed reads; each throws Error if the key is absent or holds another type
  // (GetInt64/GetDouble accept any numeric type and convert).
  const std::string& GetString(std::string_view key) const;
  int32_t GetInt32(std::string_view key) const;
  int64_t GetInt64(std::string_view key) const;
  double GetDouble(std::string_view key) const;
  bool GetBool(std::string_view key) const;
  const Document& GetDocument(std::string_view key) const;
  const std::vector<Value>& GetArray(std::string_view key) const;
  const ObjectId& GetObjectId(std::string_view key) const;

  // Replaces the first field named `key`, or appends it.
  Document& Set(std::string_view key, Value value);
  // Appends without looking for an existing field.
  Document& Append(std::string key, Value value);
  // Removes every field named `key`; returns whether one existed.
  bool Remove(std::string_view key);
  // Puts `key` first (used for _id), inserting `value` if absent.
  void MoveToFront(std::string_view key);
  void Insert(const_iterator pos, Field field);

  // Structural equality: same keys in the same order with equal types and values
  // (1 and 1.0 differ here; MongoDB's query equality is the server's business).
  friend bool operator==(const Document& a, const Document& b);

 private:
  std::vector<Field> fields_;
};

using Array = std::vector<Value>;

// Deprecated: JavaScript code with a scope document.
struct CodeWithScope {
  std::string code;
  Document scope;
  friend bool operator==(const CodeWithScope& a, const CodeWithScope& b) {
    return a.code == b.code && a.scope == b.scope;
  }
};

class Value {
 public:
  using Variant =
      std::variant<std::nullptr_t, double, std::string, Document, Array, Binary, Undefined,
                   ObjectId, bool, DateTime, Regex, JavaScript, Symbol, int32_t, Timestamp,
                   int64_t, Decimal128, MinKey, MaxKey, DbPointer, CodeWithScope>;

  Value() : v_(nullptr) {}
  Value(std::nullptr_t) : v_(nullptr) {}
  Value(double d) : v_(d) {}
  Value(float f) : v_(static_cast<double>(f)) {}
  Value(bool b) : v_(b) {}
  // Integers of 32 bits or less become int32, wider ones int64.
  template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  Value(T n) {
    if constexpr (sizeof(T) < 4 || (sizeof(T) == 4 && std::is_signed_v<T>)) {
      v_ = static_cast<int32_t>(n);
    } else {
      v_ = static_cast<int64_t>(n);
    }
  }
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(Document d) : v_(std::move(d)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Binary b) : v_(std::move(b)) {}
  Value(Undefined u) : v_(u) {}
  Value(ObjectId o) : v_(o) {}
  Value(DateTime d) : v_(d) {}
  Value(Regex r) : v_(std::move(r)) {}
  Value(JavaScript j) : v_(std::move(j)) {}
  Value(Symbol s) : v_(std::move(s)) {}
  Value(Timestamp t) : v_(t) {}
  Value(Decimal128 d) : v_(d) {}
  Value(MinKey m) : v_(m) {}
  Value(MaxKey m) : v_(m) {}
  Value(DbPointer p) : v_(std::move(p)) {}
  Value(CodeWithScope c) : v_(std::move(c)) {}

  BsonType type() const;
  bool IsNull() const { return std::holds_alternative<std::nullptr_t>(v_); }
  bool IsNumber() const;

  // Typed reads; each throws Error (code 14, TypeMismatch) on another type.
  double AsDouble() const { return As<double>(); }
  int32_t AsInt32() const { return As<int32_t>(); }
  int64_t AsInt64() const { return As<int64_t>(); }
  bool AsBool() const { return As<bool>(); }
  const std::string& AsString() const { return As<std::string>(); }
  const Document& AsDocument() const { return As<Document>(); }
  Document& AsDocument() { return As<Document>(); }
  const Array& AsArray() const { return As<Array>(); }
  Array& AsArray() { return As<Array>(); }
  const ObjectId& AsObjectId() const { return As<ObjectId>(); }
  DateTime AsDate() const { return As<DateTime>(); }
  const Binary& AsBinary() const { return As<Binary>(); }
  const Regex& AsRegex() const { return As<Regex>(); }
  Timestamp AsTimestamp() const { return As<Timestamp>(); }
  Decimal128 AsDecimal128() const { return As<Decimal128>(); }

  // Any numeric type, converted. Throws Error (code 14) on non-numbers.
  double ToDouble() const;
  int64_t ToInt64() const;

  // Relaxed Extended JSON of this value alone (e.g. 1, "x", {"$oid": "..."}).
  std::string ToJson() const;

  const Variant& variant() const { return v_; }
  Variant& variant() { return v_; }

  template <typename T>
  const T* GetIf() const {
    return std::get_if<T>(&v_);
  }

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

 private:
  template <typename T>
  const T& As() const {
    if (const T* p = std::get_if<T>(&v_)) return *p;
    ThrowTypeMismatch(BsonTypeOf<T>());
  }
  template <typename T>
  T& As() {
    if (T* p = std::get_if<T>(&v_)) return *p;
    ThrowTypeMismatch(BsonTypeOf<T>());
  }
  template <typename T, typename... Ts>
  static constexpr size_t IndexIn(const std::variant<Ts...>*) {
    constexpr bool same[] = {std::is_same_v<T, Ts>...};
    size_t i = 0;
    while (i < sizeof...(Ts) && !same[i]) ++i;
    return i;
  }
  template <typename T>
  static constexpr BsonType BsonTypeOf() {
    return kTypes[IndexIn<T>(static_cast<const Variant*>(nullptr))];
  }
  [[noreturn]] void ThrowTypeMismatch(BsonType wanted) const;

  static constexpr BsonType kTypes[] = {
      BsonType::kNull,      BsonType::kDouble,     BsonType::kString,  BsonType::kDocument,
      BsonType::kArray,     BsonType::kBinary,     BsonType::kUndefined, BsonType::kObjectId,
      BsonType::kBool,      BsonType::kDate,       BsonType::kRegex,   BsonType::kJavaScript,
      BsonType::kSymbol,    BsonType::kInt32,      BsonType::kTimestamp, BsonType::kInt64,
      BsonType::kDecimal128, BsonType::kMinKey,    BsonType::kMaxKey, BsonType::kDbPointer,
      BsonType::kCodeWithScope};

  Variant v_;
};

}  // namespace micromongo
